"""The definitions of the open datasets: open_data/catalogue.yaml (what every dataset shares: publisher, portal
organization, licence, URI base) and one YAML per dataset in open_data/datasets/. Loading validates every
entry and names the file and field of the first problem. Everything downstream (the dbt cells models' columns,
disclosure control, exports, DCAT, the publisher) reads the definitions through this module."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipelines.settings import PROJECT_ROOT

OPEN_DATA_DIR = PROJECT_ROOT / "open_data"
DATASETS_DIR = OPEN_DATA_DIR / "datasets"

# Column roles. Keys of a row: period, level, municipality, institution, dimension. Values: count (persons,
# the unit of disclosure control), sum (an additive amount over persons, e.g. FTE: published only where its
# persons count is), rate (numerator / denominator, both columns of the dataset), mean (over the persons of
# its denominator column). attribute: a label carried along (institution name, programme name).
KEY_ROLES = ("period", "level", "municipality", "institution", "dimension")
VALUE_ROLES = ("count", "sum", "rate", "mean")
ROLES = KEY_ROLES + VALUE_ROLES + ("attribute",)
TYPES = ("string", "integer", "number", "date")
LEVELS = ("iestāde", "pašvaldība", "valsts")  # values of the level column: institution, municipality, nation
TOTAL = "Kopā"  # the member of a breakdown dimension that totals the others
SYMBOLS = {"c": "suppressed (confidential)", "z": "not applicable", "x": "not available"}
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{2,99}$")  # CKAN package names
COLUMN_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
MODEL_PATTERN = re.compile(r"^od_[a-z0-9_]+$")
FREQUENCIES = ("ANNUAL", "ANNUAL_2", "QUARTERLY", "MONTHLY", "IRREG", "UNKNOWN")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DefinitionError(ValueError):
    """A definition file is wrong: the message names the file and the field."""

    def __init__(self, path: Path | str, field_name: str | None, message: str):
        where = f"{path}" + (f", field '{field_name}'" if field_name else "")
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Column:
    name: str  # Latvian column name, as in the exports
    label_lv: str
    label_en: str
    type: str
    role: str
    description_lv: str = ""
    description_en: str = ""
    dimension: str | None = None  # canonical dimension name shared across datasets (role dimension)
    measure: str | None = None  # canonical measure of the population (role count/sum), e.g. learners, fte
    numerator: str | None = None  # role rate: column names
    denominator: str | None = None  # role rate / mean
    persons: str | None = None  # role sum: the count column whose status it follows
    decimals: int | None = None  # number/rate/mean: rounding in the exports
    publish: bool = True  # False: used by disclosure control (e.g. a denominator) but not exported


@dataclass(frozen=True)
class Disclosure:
    threshold: int
    population: str | None  # cells of datasets with the same population and canonical key are the same cell
    rule_lv: str
    rule_en: str
    public: tuple[dict[str, str], ...] = ()  # patterns of cells that are public registry facts (never suppressed)


@dataclass(frozen=True)
class Dataset:
    number: int
    name: str  # stable identifier: CKAN package name and the last segment of the URI
    model: str  # dbt model in schema open_data; its cells model is cells_<model without od_>
    title_lv: str
    title_en: str
    description_lv: str
    description_en: str
    keywords_lv: tuple[str, ...]
    keywords_en: tuple[str, ...]
    update_frequency: str
    granularity: str  # finest spatial unit of the rows: institution or municipality
    columns: tuple[Column, ...]
    disclosure: Disclosure
    path: Path
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def cells_model(self) -> str:
        return "cells_" + self.model.removeprefix("od_")

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def key_columns(self) -> list[Column]:
        """The columns that identify a row, in definition order."""
        return [c for c in self.columns if c.role in KEY_ROLES]

    def value_columns(self) -> list[Column]:
        return [c for c in self.columns if c.role in VALUE_ROLES]

    def published_columns(self) -> list[Column]:
        return [c for c in self.columns if c.publish]

    def period_column(self) -> str | None:
        """The period column (the school year, '2023/2024'); a dataset with values has exactly one."""
        return next((c.name for c in self.columns if c.role == "period"), None)


@dataclass(frozen=True)
class Catalogue:
    publisher_lv: str
    publisher_en: str
    publisher_uri: str
    organization: str  # CKAN organization name
    organization_title: str
    licence: str  # CKAN licence id
    licence_uri: str
    uri_base: str  # dataset URI = uri_base + name
    contact_name: str
    contact_email: str
    datasets: tuple[Dataset, ...]

    def dataset(self, name_or_number: str | int) -> Dataset:
        for d in self.datasets:
            if d.name == name_or_number or d.number == name_or_number or d.model == name_or_number:
                return d
        raise KeyError(name_or_number)

    def uri(self, dataset: Dataset) -> str:
        return self.uri_base + dataset.name


def _req(doc: dict, key: str, path: Path, kind: type | tuple = str) -> Any:
    if key not in doc or doc[key] in (None, ""):
        raise DefinitionError(path, key, "is required")
    if not isinstance(doc[key], kind):
        raise DefinitionError(path, key, f"must be {kind}")
    return doc[key]


def _lang(doc: dict, key: str, path: Path, required: bool = True) -> tuple[str, str]:
    value = doc.get(key)
    if value is None and not required:
        return "", ""
    if not isinstance(value, dict) or not value.get("lv") or not value.get("en"):
        raise DefinitionError(path, key, "needs both 'lv' and 'en'")
    return value["lv"], value["en"]


def _column(doc: dict, path: Path, i: int) -> Column:
    where = f"columns[{i}]"
    if not isinstance(doc, dict):
        raise DefinitionError(path, where, "must be a mapping")
    name = _req(doc, "name", path)
    if not COLUMN_PATTERN.match(name):
        raise DefinitionError(path, f"{where}.name", f"{name!r}: lower-case ASCII letters, digits, _")
    label_lv, label_en = _lang(doc, "label", path)
    desc_lv, desc_en = _lang(doc, "description", path, required=False)
    role, typ = doc.get("role"), doc.get("type")
    if role not in ROLES:
        raise DefinitionError(path, f"{where}.role", f"{role!r} is not one of {ROLES}")
    if typ not in TYPES:
        raise DefinitionError(path, f"{where}.type", f"{typ!r} is not one of {TYPES}")
    return Column(
        name=name, label_lv=label_lv, label_en=label_en, type=typ, role=role,
        description_lv=desc_lv, description_en=desc_en,
        dimension=doc.get("dimension"), measure=doc.get("measure"), numerator=doc.get("numerator"),
        denominator=doc.get("denominator"), persons=doc.get("persons"), decimals=doc.get("decimals"),
        publish=bool(doc.get("publish", True)),
    )


def _check_references(ds: Dataset) -> None:
    names = [c.name for c in ds.columns]
    if len(set(names)) != len(names):
        raise DefinitionError(ds.path, "columns", "column names repeat")
    by_name = {c.name: c for c in ds.columns}
    for c in ds.columns:
        if c.role == "dimension" and not c.dimension:
            raise DefinitionError(ds.path, f"{c.name}.dimension", "a dimension column names its canonical dimension")
        if c.role in ("count", "sum") and not c.measure:
            raise DefinitionError(ds.path, f"{c.name}.measure", "a count/sum column names its canonical measure")
        if c.role == "sum" and (c.persons not in by_name or by_name[c.persons].role != "count"):
            raise DefinitionError(ds.path, f"{c.name}.persons", "must name a count column of the dataset")
        if c.role == "rate":
            for ref in ("numerator", "denominator"):
                target = getattr(c, ref)
                if target not in by_name or by_name[target].role not in ("count", "sum"):
                    raise DefinitionError(ds.path, f"{c.name}.{ref}", "must name a count or sum column of the dataset")
        if c.role == "mean" and (c.denominator not in by_name or by_name[c.denominator].role != "count"):
            raise DefinitionError(ds.path, f"{c.name}.denominator", "must name a count column of the dataset")
    periods = [c.name for c in ds.columns if c.role == "period"]
    if ds.value_columns() and len(periods) != 1:
        # disclosure control and a one-year rebuild work per period (sdc.cell_status, sdc_cell_status)
        raise DefinitionError(ds.path, "columns", f"a dataset with values has exactly one period column, not "
                              f"{len(periods)}")
    for pattern in ds.disclosure.public:
        for col, what in pattern.items():
            if col not in by_name or by_name[col].role != "dimension" or what not in ("total", "any"):
                raise DefinitionError(ds.path, "disclosure.public", f"{col}: {what} (dimension column: total|any)")


def load_dataset(path: Path) -> Dataset:
    doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    if not isinstance(doc, dict):
        raise DefinitionError(path, None, "must be a YAML mapping")
    name = _req(doc, "name", path)
    if not NAME_PATTERN.match(name):
        raise DefinitionError(path, "name", f"{name!r}: lower-case ASCII letters, digits and '-' (a CKAN name)")
    model = _req(doc, "model", path)
    if not MODEL_PATTERN.match(model):
        raise DefinitionError(path, "model", f"{model!r} must start with od_")
    title_lv, title_en = _lang(doc, "title", path)
    desc_lv, desc_en = _lang(doc, "description", path)
    kw = doc.get("keywords") or {}
    if not kw.get("lv") or not kw.get("en"):
        raise DefinitionError(path, "keywords", "needs 'lv' and 'en' lists")
    freq = doc.get("update_frequency", "ANNUAL")
    if freq not in FREQUENCIES:
        raise DefinitionError(path, "update_frequency", f"{freq!r} is not one of {FREQUENCIES}")
    disc = doc.get("disclosure") or {}
    rule_lv, rule_en = _lang(disc, "rule", path)
    threshold = disc.get("threshold", 5)
    if not isinstance(threshold, int) or threshold < 1:
        raise DefinitionError(path, "disclosure.threshold", "a positive integer")
    cols = doc.get("columns")
    if not isinstance(cols, list) or not cols:
        raise DefinitionError(path, "columns", "a non-empty list")
    known = {"number", "name", "model", "title", "description", "keywords", "update_frequency", "granularity",
             "disclosure", "columns"}
    ds = Dataset(
        number=_req(doc, "number", path, int), name=name, model=model,
        title_lv=title_lv, title_en=title_en, description_lv=desc_lv, description_en=desc_en,
        keywords_lv=tuple(kw["lv"]), keywords_en=tuple(kw["en"]), update_frequency=freq,
        granularity=doc.get("granularity", "institution"),
        columns=tuple(_column(c, path, i) for i, c in enumerate(cols)),
        disclosure=Disclosure(threshold=threshold, population=disc.get("population"), rule_lv=rule_lv,
                              rule_en=rule_en, public=tuple(disc.get("public") or ())),
        path=path, extra={k: v for k, v in doc.items() if k not in known},
    )
    _check_references(ds)
    return ds


def load(root: Path = OPEN_DATA_DIR) -> Catalogue:
    path = root / "catalogue.yaml"
    doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    pub_lv, pub_en = _lang(doc, "publisher", path)
    datasets = tuple(sorted((load_dataset(p) for p in sorted((root / "datasets").glob("*.yaml"))),
                            key=lambda d: d.number))
    for attr in ("number", "name", "model"):
        values = [getattr(d, attr) for d in datasets]
        if len(set(values)) != len(values):
            raise DefinitionError(root / "datasets", attr, "repeats across datasets")
    contact = doc.get("contact_point") or {}
    return Catalogue(
        publisher_lv=pub_lv, publisher_en=pub_en, publisher_uri=_req(doc, "publisher_uri", path),
        organization=_req(doc, "organization", path), organization_title=_req(doc, "organization_title", path),
        licence=_req(doc, "licence", path), licence_uri=_req(doc, "licence_uri", path),
        uri_base=_req(doc, "uri_base", path), contact_name=_req(contact, "name", path),
        contact_email=_req(contact, "email", path), datasets=datasets,
    )
