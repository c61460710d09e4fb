"""The Frictionless Data Package (v1) of one exported dataset: `<name>/datapackage.json`, one resource per
exported file (CSV and Parquet per school year) with its table schema, hash and size. Pure functions of the
definitions and the file facts, so the same export gives the same bytes."""
from __future__ import annotations

from pipelines.open_data.catalogue import KEY_ROLES, SYMBOLS, VALUE_ROLES, Catalogue, Column, Dataset

MISSING_VALUES = ["", *SYMBOLS]  # '' = not applicable to the row (e.g. no institution at national level)
FIELD_TYPES = {"string": "string", "integer": "integer", "number": "number", "date": "date"}
FORMATS = {  # export format -> (Frictionless format, media type)
    "CSV": ("csv", "text/csv"),
    "Parquet": ("parquet", "application/vnd.apache.parquet"),
}
LICENCES = {"cc-by": ("CC-BY-4.0", "Creative Commons Attribution 4.0")}
PAZIME = "_pazime"


def _field(c: Column) -> dict:
    out = {"name": c.name, "title": c.label_lv, "description": c.label_en, "type": FIELD_TYPES[c.type]}
    if c.description_lv:
        out["description_lv"] = c.description_lv
    if c.description_en:
        out["description_en"] = c.description_en
    out["role"] = c.role  # key / value / attribute (project vocabulary; extra properties are allowed)
    if c.role in ("count", "sum"):
        out["constraints"] = {"minimum": 0}
    if c.decimals is not None and c.type == "number":
        out["decimals"] = c.decimals
    return out


def _pazime_field(c: Column) -> dict:
    return {"name": c.name + PAZIME, "title": f"{c.label_lv}: pazīme", "description": f"{c.label_en}: flag",
            "type": "string", "constraints": {"enum": list(SYMBOLS)},
            "description_en": "Why the value is missing: " + "; ".join(f"{k} {v}" for k, v in SYMBOLS.items()),
            "role": "flag"}


def schema(ds: Dataset, with_flags: bool) -> dict:
    """Table schema of the CSV (with_flags False: the symbols stand in the value columns) or of the Parquet
    files (with_flags True: typed values, NULL where not published, plus the <col>_pazime columns)."""
    cols = ds.published_columns()
    fields = [_field(c) for c in cols]
    if with_flags:
        fields += [_pazime_field(c) for c in cols if c.role in VALUE_ROLES]
    return {
        "fields": fields,
        "missingValues": list(MISSING_VALUES),
        "primaryKey": [c.name for c in cols if c.role in KEY_ROLES],
    }


def resource(ds: Dataset, file: dict) -> dict:
    """One resource; `file` is the manifest entry (path relative to open_data/, period, format, sha256, bytes)."""
    fmt, mediatype = FORMATS[file["format"]]
    filename = file["path"].rsplit("/", 1)[-1]
    out = {
        "name": filename.lower().replace(".", "-"),
        "path": filename,
        "title": f"{ds.title_lv}, {file['period'].replace('-', '/')}",
        "profile": "tabular-data-resource" if fmt == "csv" else "data-resource",
        "format": fmt,
        "mediatype": mediatype,
    }
    if fmt == "csv":
        out["encoding"] = "utf-8"
        out["dialect"] = {"delimiter": ",", "lineTerminator": "\n", "quoteChar": '"', "doubleQuote": True,
                          "header": True}
    out.update({"hash": "sha256:" + file["sha256"], "bytes": file["bytes"], "rows": file["rows"],
                "schema": schema(ds, with_flags=fmt != "csv")})
    return out


def datapackage(cat: Catalogue, ds: Dataset, files: list[dict], temporal: tuple[str, str] | None) -> dict:
    licence_id, licence_title = LICENCES.get(cat.licence, (cat.licence, cat.licence))
    pkg = {
        "profile": "tabular-data-package",
        "name": ds.name,
        "id": cat.uri(ds),
        "title": ds.title_lv,
        "title_en": ds.title_en,
        "description": ds.description_lv,
        "description_en": ds.description_en,
        "homepage": cat.uri(ds),
        "licenses": [{"name": licence_id, "path": cat.licence_uri, "title": licence_title}],
        "contributors": [
            {"title": cat.publisher_lv, "path": cat.publisher_uri, "role": "publisher",
             "organization": cat.publisher_en},
            {"title": cat.contact_name, "email": cat.contact_email, "role": "maintainer"},
        ],
        "keywords": [*ds.keywords_lv, *ds.keywords_en],
        "disclosure_control": {"threshold": ds.disclosure.threshold, "rule_lv": ds.disclosure.rule_lv,
                               "rule_en": ds.disclosure.rule_en, "symbols": dict(SYMBOLS)},
    }
    if temporal:
        pkg["temporal"] = {"start": temporal[0], "end": temporal[1]}
    pkg["resources"] = [resource(ds, f) for f in files if f["format"] in FORMATS]
    return pkg
