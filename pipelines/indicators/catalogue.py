"""The indicator catalogue: one YAML file per indicator under models/indicators/<domain folder>/, plus
dimensions.yaml. Loading validates every entry and names the file and field of the first problem, so that
someone adding an indicator (not a programmer) gets an error they can act on."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipelines.settings import PROJECT_ROOT

CATALOGUE_DIR = PROJECT_ROOT / "models" / "indicators"
DOMAIN_FOLDERS = {1: "1_results", 2: "2_teaching", 3: "3_environment", 4: "4_governance"}
UNITS = ("percent", "count", "ratio", "points", "km", "eur", "lessons")
DIRECTIONS = ("higher_better", "lower_better", "neutral")
LEVELS = ("institution", "municipality", "national")
GRAINS = ("institution", "municipality")
AGGREGATIONS = ("ratio", "count", "median", "distinct")
# Columns the finest-grain SELECT yields besides school_year, the unit column and the dimensions.
MEASURES = {
    "ratio": ("numerator", "denominator"),
    "count": ("numerator",),
    "median": ("value",),
    "distinct": ("person_id", "is_numerator"),
}
UNIT_COLUMN = {"institution": "institution_id", "municipality": "municipality_code"}
REQUIRED = ("id", "name_lv", "name_en", "domain", "definition", "unit", "direction", "reference", "grain",
            "aggregation", "sql", "unit_test")
OPTIONAL = ("scale", "levels", "dimensions", "min_denominator")
ID_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]{1,39}$")
# libyaml's C loader when present (10x faster than the pure-Python one).
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
REF_PATTERN = re.compile(r"""ref\(\s*['"]([A-Za-z0-9_]+)['"]\s*\)""")


class CatalogueError(ValueError):
    """A catalogue file is wrong: the message names the file and the field."""

    def __init__(self, path: Path | str, field_name: str | None, message: str):
        self.path, self.field = str(path), field_name
        where = f"{path}" + (f", field '{field_name}'" if field_name else "")
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Dimension:
    name: str
    label_lv: str
    label_en: str
    values: dict[str, dict[str, str]]
    open: bool = False


@dataclass(frozen=True)
class Indicator:
    id: str
    name_lv: str
    name_en: str
    domain: int
    definition: str
    unit: str
    scale: float
    direction: str
    reference: str
    levels: tuple[str, ...]
    grain: str
    dimensions: tuple[str, ...]
    aggregation: str
    min_denominator: int
    sql: str
    unit_test: dict[str, Any]
    path: Path = field(compare=False)

    @property
    def model_name(self) -> str:
        return f"ind_{self.id.lower()}"

    @property
    def finest_model_name(self) -> str:
        return f"ind_{self.id.lower()}__finest"

    @property
    def refs(self) -> list[str]:
        return sorted(set(REF_PATTERN.findall(self.sql)))


def load_dimensions(catalogue_dir: Path | str | None = None) -> dict[str, Dimension]:
    path = Path(catalogue_dir or CATALOGUE_DIR) / "dimensions.yaml"
    if not path.exists():
        raise CatalogueError(path, None, "dimensions.yaml is missing")
    doc = _read_yaml(path)
    dims = doc.get("dimensions") if isinstance(doc, dict) else None
    if not isinstance(dims, dict) or not dims:
        raise CatalogueError(path, "dimensions", "must map each dimension name to its labels and values")
    out: dict[str, Dimension] = {}
    for name, spec in dims.items():
        where = f"dimensions.{name}"
        if not isinstance(spec, dict):
            raise CatalogueError(path, where, "must be a mapping with label_lv, label_en, values")
        for key in ("label_lv", "label_en", "values"):
            if key not in spec:
                raise CatalogueError(path, f"{where}.{key}", "is missing")
        if not isinstance(spec["values"], dict) or not spec["values"]:
            raise CatalogueError(path, f"{where}.values", "must map codes to labels")
        values = {str(code): dict(labels or {}) for code, labels in spec["values"].items()}
        out[name] = Dimension(name, str(spec["label_lv"]), str(spec["label_en"]), values, bool(spec.get("open")))
    return out


def entry_files(catalogue_dir: Path | str | None = None) -> list[Path]:
    root = Path(catalogue_dir or CATALOGUE_DIR)
    return sorted(p for folder in DOMAIN_FOLDERS.values() for p in (root / folder).glob("*.y*ml"))


def load_catalogue(catalogue_dir: Path | str | None = None) -> list[Indicator]:
    """Every entry of the catalogue, validated, sorted by id. Raises CatalogueError on the first problem."""
    root = Path(catalogue_dir or CATALOGUE_DIR)
    dimensions = load_dimensions(root)
    entries: list[Indicator] = []
    seen: dict[str, Path] = {}
    for path in entry_files(root):
        entry = parse_entry(path, _read_yaml(path), dimensions)
        if entry.id in seen:
            raise CatalogueError(path, "id", f"{entry.id} is already defined in {seen[entry.id]}")
        seen[entry.id] = path
        entries.append(entry)
    if not entries:
        raise CatalogueError(root, None, "no indicator entries found in the domain folders "
                             + ", ".join(DOMAIN_FOLDERS.values()))
    return sorted(entries, key=lambda e: e.id)


def parse_entry(path: Path, doc: Any, dimensions: dict[str, Dimension]) -> Indicator:
    if not isinstance(doc, dict):
        raise CatalogueError(path, None, "must be a YAML mapping of the entry's fields")
    for key in REQUIRED:
        if doc.get(key) in (None, ""):
            raise CatalogueError(path, key, "is required")
    unknown = sorted(set(doc) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise CatalogueError(path, unknown[0], f"is not a catalogue field (allowed: {', '.join(REQUIRED + OPTIONAL)})")

    ind_id = _text(path, doc, "id")
    if not ID_PATTERN.match(ind_id):
        raise CatalogueError(path, "id", f"'{ind_id}' must be upper-case letters, digits and _ (e.g. ABS_RATE)")
    if path.stem != ind_id:
        raise CatalogueError(path, "id", f"'{ind_id}' must equal the file name ({path.stem})")
    domain = doc["domain"]
    if not isinstance(domain, int) or domain not in DOMAIN_FOLDERS:
        raise CatalogueError(path, "domain", f"must be 1, 2, 3 or 4, got {domain!r}")
    if path.parent.name != DOMAIN_FOLDERS[domain]:
        raise CatalogueError(path, "domain", f"domain {domain} entries belong in folder {DOMAIN_FOLDERS[domain]}/")
    unit = _choice(path, doc, "unit", UNITS)
    direction = _choice(path, doc, "direction", DIRECTIONS)
    grain = _choice(path, doc, "grain", GRAINS)
    aggregation = _choice(path, doc, "aggregation", AGGREGATIONS)
    scale = doc.get("scale", 100 if unit == "percent" else 1)
    if scale not in (1, 100) or isinstance(scale, bool):
        raise CatalogueError(path, "scale", f"must be 1 or 100, got {scale!r}")
    if scale == 100 and unit != "percent":
        raise CatalogueError(path, "scale", "100 is only for unit percent")
    if aggregation in ("count", "median") and scale != 1:
        raise CatalogueError(path, "scale", f"must be 1 for aggregation {aggregation}")

    default_levels = list(LEVELS) if grain == "institution" else ["municipality", "national"]
    levels = doc.get("levels", default_levels)
    if not isinstance(levels, list) or not levels or any(lv not in LEVELS for lv in levels):
        raise CatalogueError(path, "levels", f"must be a non-empty list drawn from {list(LEVELS)}, got {levels!r}")
    if len(set(levels)) != len(levels):
        raise CatalogueError(path, "levels", "lists a level twice")
    if grain == "municipality" and "institution" in levels:
        raise CatalogueError(path, "levels", "an indicator of grain municipality cannot publish institution values")

    dims = doc.get("dimensions", []) or []
    if not isinstance(dims, list) or any(not isinstance(d, str) for d in dims):
        raise CatalogueError(path, "dimensions", "must be a list of dimension names")
    for d in dims:
        if d not in dimensions:
            raise CatalogueError(path, "dimensions", f"'{d}' is not in dimensions.yaml ({', '.join(sorted(dimensions))})")
    if len(set(dims)) != len(dims):
        raise CatalogueError(path, "dimensions", "lists a dimension twice")

    min_den = doc.get("min_denominator", 5)
    if not isinstance(min_den, int) or isinstance(min_den, bool) or min_den < 0:
        raise CatalogueError(path, "min_denominator", f"must be a whole number >= 0, got {min_den!r}")

    sql = _text(path, doc, "sql").strip().rstrip(";").strip()
    if not re.match(r"^(with|select)\b", sql, re.IGNORECASE):
        raise CatalogueError(path, "sql", "must be a single SELECT (it may start with WITH)")
    if ";" in sql:
        raise CatalogueError(path, "sql", "must be one statement (no ';')")
    if not REF_PATTERN.search(sql):
        raise CatalogueError(path, "sql", "must read the warehouse models with {{ ref('...') }}")
    # Every column the rollup needs must be named in the SELECT (a cheap textual check; dbt checks the rest).
    for col in ("school_year", UNIT_COLUMN[grain], *dims, *MEASURES[aggregation]):
        if not re.search(rf"\b{col}\b", sql):
            raise CatalogueError(path, "sql", f"must yield a column '{col}' (grain {grain}, aggregation "
                                 f"{aggregation}, dimensions {dims})")

    unit_test = _unit_test(path, doc["unit_test"], sql, grain, dims, aggregation)
    return Indicator(
        id=ind_id, name_lv=_text(path, doc, "name_lv"), name_en=_text(path, doc, "name_en"), domain=domain,
        definition=" ".join(_text(path, doc, "definition").split()), unit=unit, scale=float(scale),
        direction=direction, reference=" ".join(_text(path, doc, "reference").split()), levels=tuple(levels),
        grain=grain, dimensions=tuple(dims), aggregation=aggregation, min_denominator=min_den, sql=sql,
        unit_test=unit_test, path=path,
    )


def _unit_test(path: Path, ut: Any, sql: str, grain: str, dims: list[str], aggregation: str) -> dict[str, Any]:
    if not isinstance(ut, dict):
        raise CatalogueError(path, "unit_test", "must be a mapping with 'given' and 'expect'")
    given, expect = ut.get("given"), ut.get("expect")
    if not isinstance(given, list) or not given:
        raise CatalogueError(path, "unit_test.given", "must list the mocked inputs ({input: ref('...'), rows: [...]})")
    inputs = []
    for i, g in enumerate(given):
        if not isinstance(g, dict) or "input" not in g or not isinstance(g.get("rows", []), list):
            raise CatalogueError(path, f"unit_test.given[{i}]", "must have 'input' and a list 'rows'")
        m = REF_PATTERN.fullmatch(str(g["input"]).strip())
        if not m:
            raise CatalogueError(path, f"unit_test.given[{i}].input", f"must be ref('<model>'), got {g['input']!r}")
        inputs.append(m.group(1))
    missing = sorted(set(REF_PATTERN.findall(sql)) - set(inputs))
    if missing:
        raise CatalogueError(path, "unit_test.given", f"no mocked rows for ref('{missing[0]}') used by the sql")
    if not isinstance(expect, dict) or not isinstance(expect.get("rows"), list) or not expect["rows"]:
        raise CatalogueError(path, "unit_test.expect", "must have a non-empty list 'rows'")
    for i, row in enumerate(expect["rows"]):
        if not isinstance(row, dict):
            raise CatalogueError(path, f"unit_test.expect.rows[{i}]", "must be a mapping of column to value")
        needed = ("school_year", UNIT_COLUMN[grain])
        for col in needed:
            if col not in row:
                raise CatalogueError(path, f"unit_test.expect.rows[{i}]", f"must give '{col}'")
    return {"given": given, "expect": expect}


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except yaml.YAMLError as exc:
        raise CatalogueError(path, None, f"is not valid YAML: {exc}") from exc


def _text(path: Path, doc: dict, key: str) -> str:
    value = doc.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CatalogueError(path, key, "must be non-empty text")
    if key != "sql" and ("{{" in value or "{%" in value):
        raise CatalogueError(path, key, "must not contain Jinja ('{{' or '{%'); only the sql may")
    return value


def _choice(path: Path, doc: dict, key: str, allowed: tuple[str, ...]) -> str:
    value = doc.get(key)
    if value not in allowed:
        raise CatalogueError(path, key, f"must be one of {', '.join(allowed)}; got {value!r}")
    return value
