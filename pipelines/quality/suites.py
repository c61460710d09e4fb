"""The quality-gate suites: declarative expectations read from expectations/*.yaml, plus the raw-table
expectations DERIVED from the feed contracts (models/contracts/*.yaml via pipelines.common.contracts), so the
contracts stay the single source of keys, required columns, code lists, ranges, patterns and references.

A suite is one table (raw tables: validated per school year; marts and indicators: whole). Each expectation
has a kind (translated by pipelines.quality.translate into a DuckDB aggregation -> a small pandas frame -> a
Great Expectations expectation), a severity ('error' blocks what is downstream, 'warning' reports) and its
parameters.
"""
from __future__ import annotations

import csv
import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipelines import settings

SEVERITIES = ("error", "warning")
# kinds and the parameters each one needs (validated when the YAML is loaded: errors name file and entry)
KINDS: dict[str, tuple[str, ...]] = {
    "unique": ("columns",),
    "not_null": ("column",),
    "in_set": ("column", "values"),
    "between": ("column",),
    "regex": ("column", "pattern"),
    "row_count": (),
    "condition": ("where",),
    "row_change": ("max_change_pct",),
    "exists_in": ("column", "ref_table", "ref_column"),
    "institution_change": ("institution_column", "count", "max_change_pct"),
    "institution_has_rows": ("institution_column", "institutions_where"),
    "sql": ("key", "value", "from"),
}
# kinds whose failing keys are institutions (reg nr): each one is written to gates.failures
PER_INSTITUTION = {"institution_change", "institution_has_rows"}


@dataclass(frozen=True)
class Expectation:
    id: str
    kind: str
    severity: str = "error"
    column: str | None = None
    params: dict = field(default_factory=dict, hash=False, compare=True)
    description: str = ""
    source: str = ""  # where it was declared: 'contract viis.yaml' or 'expectations/raw.yaml'

    def param(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)


@dataclass(frozen=True)
class Suite:
    name: str                 # = the table, e.g. 'raw.viis_enrolments'
    asset_key: str            # 'raw/viis_enrolments'
    table: str                # 'raw.viis_enrolments'
    year_column: str | None   # '_school_year' (raw: validated per school year) / 'school_year'
    per_year: bool            # True: one validation per school year; False: the whole table at once
    expectations: tuple[Expectation, ...]

    def expectation(self, eid: str) -> Expectation:
        for e in self.expectations:
            if e.id == eid:
                return e
        raise KeyError(f"{self.name} has no expectation {eid!r}")


def expectations_dir() -> Path:
    """expectations/ of the repository; IKMS_EXPECTATIONS_DIR points elsewhere (tests)."""
    return Path(os.environ.get("IKMS_EXPECTATIONS_DIR", settings.PROJECT_ROOT / "expectations")).resolve()


@functools.cache
def _classifiers() -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    with open(settings.SEEDS_DIR / "viis_classifiers.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            out.setdefault(row["classifier"], []).append(row["code"])
    return {k: tuple(v) for k, v in out.items()}


def _make(raw: dict, where: str, default_severity: str = "error") -> Expectation:
    if not isinstance(raw, dict) or "kind" not in raw:
        raise ValueError(f"{where}: an expectation needs a `kind` (one of {sorted(KINDS)}), got {raw!r}")
    kind = raw["kind"]
    if kind not in KINDS:
        raise ValueError(f"{where}: unknown kind {kind!r} (one of {sorted(KINDS)})")
    missing = [p for p in KINDS[kind] if p not in raw]
    if missing:
        raise ValueError(f"{where}: kind {kind} needs {missing}")
    if kind == "between" and "min" not in raw and "max" not in raw:
        raise ValueError(f"{where}: kind between needs min and/or max")
    severity = raw.get("severity", default_severity)
    if severity not in SEVERITIES:
        raise ValueError(f"{where}: severity {severity!r} is not one of {SEVERITIES}")
    column = raw.get("column")
    eid = raw.get("id") or (f"{kind}__{'__'.join(raw['columns'])}" if kind == "unique" else
                            f"{kind}__{column}" if column else kind)
    params = {k: v for k, v in raw.items() if k not in ("kind", "id", "severity", "column", "description")}
    return Expectation(id=str(eid), kind=kind, severity=severity, column=column, params=params,
                       description=" ".join(str(raw.get("description", "")).split()), source=where)


def contract_expectations(entity) -> list[Expectation]:
    """The expectations a contract entity implies (all severity error: the ingest quarantines rows that break
    them, so a failure here means raw data was changed or loaded around the ingest)."""
    src = f"models/contracts/{entity.feed}.yaml"
    out: list[Expectation] = []
    if entity.key:
        out.append(Expectation(id=f"unique__{'__'.join(entity.key)}", kind="unique", params={"columns": list(entity.key)},
                               description=f"key ({', '.join(entity.key)}) is unique", source=src))
    for c in entity.stored_columns:
        if c.required:
            out.append(Expectation(id=f"not_null__{c.name}", kind="not_null", column=c.name,
                                   description=f"{c.name} is required", source=src))
        codes = c.codes if c.codes is not None else (_classifiers().get(c.classifier) if c.classifier else None)
        if codes is not None:
            what = f"classifier {c.classifier}" if c.classifier else "the contract's code list"
            out.append(Expectation(id=f"in_set__{c.name}", kind="in_set", column=c.name,
                                   params={"values": list(codes)}, description=f"{c.name} is in {what}", source=src))
        if (c.min is not None or c.max is not None) and c.type in ("integer", "double"):
            params = {k: v for k, v in (("min", c.min), ("max", c.max)) if v is not None}
            out.append(Expectation(id=f"between__{c.name}", kind="between", column=c.name, params=params,
                                   description=f"{c.name} within [{c.min}, {c.max}]", source=src))
        if c.pattern and c.type == "varchar" and not c.personal_code:
            out.append(Expectation(id=f"regex__{c.name}", kind="regex", column=c.name, params={"pattern": c.pattern},
                                   description=f"{c.name} matches {c.pattern}", source=src))
        if c.references:
            feed, ent, col = c.references.split(".")
            out.append(Expectation(id=f"exists_in__{c.name}", kind="exists_in", column=c.name,
                                   params={"ref_table": f"raw.{feed}_{ent}", "ref_column": col, "show_examples": True},
                                   description=f"every {c.name} exists in raw.{feed}_{ent}.{col} of the same school year",
                                   source=src))
    return out


def _load_yaml(name: str) -> dict:
    path = expectations_dir() / name
    if not path.exists():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def _merge(suite_name: str, base: list[Expectation], extra: list[Expectation]) -> tuple[Expectation, ...]:
    """Later entries with the same id replace earlier ones (a YAML entry may override a derived one)."""
    out: dict[str, Expectation] = {}
    for e in base + extra:
        out[e.id] = e
    return tuple(out.values())


def raw_suites() -> list[Suite]:
    from pipelines.common.contracts import all_entities

    doc = _load_yaml("raw.yaml")
    where = "expectations/raw.yaml"
    common = [_make(r, f"{where}: all_tables[{i}]") for i, r in enumerate(doc.get("all_tables") or [])]
    tables = doc.get("tables") or {}
    known = {f"raw.{e.table}" for e in all_entities()}
    unknown = set(tables) - known
    if unknown:
        raise ValueError(f"{where}: unknown raw table(s) {sorted(unknown)}")
    suites = []
    for e in all_entities():
        name = f"raw.{e.table}"
        extra = [_make(r, f"{where}: {name}[{i}]") for i, r in enumerate(tables.get(name) or [])]
        suites.append(Suite(name=name, asset_key=f"raw/{e.table}", table=name, year_column="_school_year",
                            per_year=True, expectations=_merge(name, contract_expectations(e) + common, extra)))
    return suites


def _table_suites(file: str) -> list[Suite]:
    doc = _load_yaml(file)
    where = f"expectations/{file}"
    yearly_defaults = [_make(r, f"{where}: defaults.yearly[{i}]") for i, r in enumerate((doc.get("defaults") or {}).get("yearly") or [])]
    suites = []
    for name, body in (doc.get("tables") or {}).items():
        body = body or {}
        exps = [_make(r, f"{where}: {name}[{i}]") for i, r in enumerate(body.get("expectations") or [])]
        if body.get("yearly"):
            exps = yearly_defaults + exps
        schema, table = name.split(".", 1)
        suites.append(Suite(name=name, asset_key=f"{schema}/{table}", table=name, year_column="school_year",
                            per_year=False, expectations=_merge(name, [], exps)))
    return suites


def all_suites() -> list[Suite]:
    """Every suite: raw (per school year), marts and indicators (whole tables)."""
    return raw_suites() + _table_suites("marts.yaml") + _table_suites("indicators.yaml")


def suite(name: str) -> Suite:
    for s in all_suites():
        if s.name == name:
            return s
    raise KeyError(f"no suite {name!r}")
