"""Export the open datasets from the warehouse's `open_data.od_*` tables (already disclosure-controlled) to
$IKMS_DATA_DIR/open_data/:

  <name>/<name>_<YYYY-YYYY>.csv       one per school year: UTF-8 (no BOM), ',', minimal quoting, '\\n', Latvian
                                      header, the symbol (c / z / x) in place of a value that is not published,
                                      numbers rounded to the column's `decimals`
  <name>/<name>_<YYYY-YYYY>.parquet   the same rows, typed, NULL where not published, plus <col>_pazime columns
  <name>/datapackage.json             Frictionless Data Package (pipelines.open_data.datapackage)
  <name>/dcat.jsonld                  DCAT-AP dataset (pipelines.open_data.dcat)
  catalog.jsonld                      the DCAT-AP catalogue of every exported dataset
  manifest.json                       every file: path, period, format, sha256, bytes, rows (read by the publisher)

Deterministic: the rows are ordered in SQL (level valsts, pašvaldība, iestāde; codes; dimension members with
'Kopā' first, numeric members numerically), nothing depends on the clock, and a file whose bytes did not change
is not rewritten (its mtime stays). Each file is written to a temporary name and renamed into place; files of a
dataset directory that the export did not produce (e.g. a school year no longer in the warehouse) are removed.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
from pathlib import Path

from pipelines import settings
from pipelines.open_data import catalogue as catalogue_mod
from pipelines.open_data import datapackage as dp
from pipelines.open_data import dcat
from pipelines.open_data.catalogue import LEVELS, TOTAL, VALUE_ROLES, Catalogue, Column, Dataset

SCHEMA = "open_data"
PAZIME = "_pazime"
PERIOD_PATTERN = re.compile(r"^([0-9]{4})/([0-9]{4})$")
MANIFEST = "manifest.json"
CATALOG = "catalog.jsonld"


class ExportError(RuntimeError):
    """The export cannot be made (a table missing, a column missing, a bad period)."""


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _typed(c: Column) -> str:
    """The column as published in Parquet: typed, numbers rounded to their decimals."""
    col = _q(c.name)
    if c.type == "integer":
        return f"CAST({col} AS BIGINT)"
    if c.type == "number":
        if c.decimals is not None:  # DECIMAL cast: round half away from zero, same digits as the CSV text
            return f"CAST(CAST({col} AS DECIMAL(38, {int(c.decimals)})) AS DOUBLE)"
        return f"CAST({col} AS DOUBLE)"
    if c.type == "date":
        return f"CAST({col} AS DATE)"
    return f"CAST({col} AS VARCHAR)"


def _text(c: Column) -> str:
    """The column as CSV text (NULL -> empty); a value column not published -> its symbol."""
    col = _q(c.name)
    if c.type == "number" and c.decimals is not None:
        text = f"CAST(CAST({col} AS DECIMAL(38, {int(c.decimals)})) AS VARCHAR)"
    elif c.type == "number":
        text = f"CAST(CAST({col} AS DOUBLE) AS VARCHAR)"
    elif c.type == "date":
        text = f"strftime(CAST({col} AS DATE), '%Y-%m-%d')"
    else:
        text = f"CAST({col} AS VARCHAR)"
    if c.role in VALUE_ROLES:
        return f"CASE WHEN {_q(c.name + PAZIME)} IS NOT NULL THEN {_q(c.name + PAZIME)} ELSE {text} END"
    return text


def order_by(ds: Dataset) -> list[str]:
    """Deterministic row order: period; level valsts, pašvaldība, iestāde; codes (NULL first); dimension members
    'Kopā' first, then numerically where numeric, then as text. The key columns identify a row (checked in
    _frames), so no further tie-breaker is needed."""
    keys: list[str] = []
    levels = " ".join(f"WHEN '{lvl}' THEN {i}" for i, lvl in enumerate(reversed(LEVELS)))
    for c in ds.key_columns():
        col = _q(c.name)
        if c.role == "level":
            keys.append(f"CASE {col} {levels} ELSE 9 END")
        elif c.role == "dimension":
            keys += [f"({col} = '{TOTAL}') DESC NULLS FIRST", f"TRY_CAST({col} AS BIGINT) NULLS LAST",
                     f"{col} NULLS FIRST"]
        else:
            keys.append(f"{col} NULLS FIRST")
    return keys


def dataset_query(ds: Dataset) -> str:
    """SELECT the typed columns, the flags (`<col>_pazime`) and the CSV text (`__csv_<col>`), ordered."""
    cols = ds.published_columns()
    values = [c for c in cols if c.role in VALUE_ROLES]
    period = next(c for c in cols if c.role == "period")
    select = [f"{_typed(c)} AS {_q(c.name)}" for c in cols]
    select += [f"CAST({_q(c.name + PAZIME)} AS VARCHAR) AS {_q(c.name + PAZIME)}" for c in values]
    select += [f"{_text(c)} AS {_q('__csv_' + c.name)}" for c in cols]
    return (f"SELECT {', '.join(select)} FROM {SCHEMA}.{_q(ds.model)} "
            f"ORDER BY {_q(period.name)}, {', '.join(order_by(ds))}")


def period_slug(period: str) -> str:
    """'2023/2024' -> '2023-2024'."""
    m = PERIOD_PATTERN.match(period or "")
    if not m or int(m.group(2)) != int(m.group(1)) + 1:
        raise ExportError(f"not a school year 'YYYY/YYYY': {period!r}")
    return f"{m.group(1)}-{m.group(2)}"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write(path: Path, data: bytes) -> None:
    """Write atomically; leave an identical file alone."""
    if path.exists() and path.stat().st_size == len(data) and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def json_bytes(doc) -> bytes:
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _frames(con, ds: Dataset):
    """[(period slug, csv frame, parquet frame)] in period order."""
    import polars as pl

    cols = ds.published_columns()
    values = [c for c in cols if c.role in VALUE_ROLES]
    df = con.execute(dataset_query(ds)).pl()
    keys = [c.name for c in ds.key_columns() if c.publish]
    if df.height and df.select(pl.struct(keys).is_duplicated().any()).item():
        dup = df.filter(pl.struct(keys).is_duplicated()).select(keys).head(3).rows()
        raise ExportError(f"{SCHEMA}.{ds.model}: rows repeat on the key {keys} (the order would not be "
                          f"deterministic), e.g. {dup}")
    period = next(c for c in cols if c.role == "period").name
    parquet_cols = [c.name for c in cols] + [c.name + PAZIME for c in values]
    csv_cols = [pl.col("__csv_" + c.name).alias(c.name) for c in cols]
    out = []
    if df.is_empty():
        return out
    for (label,), part in df.partition_by(period, maintain_order=True, as_dict=True).items():
        out.append((period_slug(label), part.select(csv_cols), part.select(parquet_cols)))
    return out


def _csv_bytes(frame) -> bytes:
    text = frame.write_csv(None, separator=",", line_terminator="\n", quote_style="necessary",
                           include_header=True, null_value="")
    return text.encode("utf-8")


def _parquet_bytes(frame) -> bytes:
    buf = io.BytesIO()
    frame.write_parquet(buf, compression="zstd", statistics=True)
    return buf.getvalue()


def _file_entry(name: str, filename: str, period: str | None, fmt: str, data: bytes, rows: int | None) -> dict:
    return {"path": f"{name}/{filename}", "period": period, "format": fmt, "sha256": _sha256(data),
            "bytes": len(data), "rows": rows}


def _coverage(periods: list[str]) -> tuple[tuple[str, str] | None, str | None]:
    """(first school year's start, last school year's end) and the 'modified' date = the last school year's
    reference date: dates of the data itself, never of the run."""
    if not periods:
        return None, None
    first, last = periods[0].split("-")[0], periods[-1].split("-")[0]
    return (f"{first}-09-01", f"{int(last) + 1}-08-31"), f"{last}-09-01"


def export_dataset(con, cat: Catalogue, ds: Dataset, out_dir: Path, progress=None) -> dict:
    """Write one dataset's directory; returns its manifest entry {name, number, files}."""
    target = out_dir / ds.name
    files: list[dict] = []
    written: set[str] = set()
    periods = []
    for slug, csv_frame, pq_frame in _frames(con, ds):
        periods.append(slug)
        for ext, fmt, data in (("csv", "CSV", _csv_bytes(csv_frame)), ("parquet", "Parquet", _parquet_bytes(pq_frame))):
            filename = f"{ds.name}_{slug}.{ext}"
            _write(target / filename, data)
            written.add(filename)
            files.append(_file_entry(ds.name, filename, slug, fmt, data, csv_frame.height))
    temporal, modified = _coverage(periods)
    pkg = json_bytes(dp.datapackage(cat, ds, files, temporal))
    _write(target / "datapackage.json", pkg)
    files.append(_file_entry(ds.name, "datapackage.json", None, "JSON", pkg, None))
    doc = json_bytes(dcat.dataset_document(cat, ds, files, temporal, modified))
    _write(target / "dcat.jsonld", doc)
    files.append(_file_entry(ds.name, "dcat.jsonld", None, "JSON-LD", doc, None))
    written |= {"datapackage.json", "dcat.jsonld"}
    for stale in sorted(target.iterdir()):
        if stale.is_file() and stale.name not in written:
            stale.unlink()
    if progress:
        rows = sum(f["rows"] or 0 for f in files if f["format"] == "CSV")
        progress(f"  {ds.number:>2} {ds.name}: {len(periods)} school year(s), {rows:,} rows")
    return {"name": ds.name, "number": ds.number, "files": files}


def _tables(con) -> set[str]:
    return {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [SCHEMA]).fetchall()}


def _check_columns(con, ds: Dataset) -> None:
    have = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?",
        [SCHEMA, ds.model]).fetchall()}
    want = [c.name for c in ds.published_columns()] + [c.name + PAZIME for c in ds.published_columns()
                                                        if c.role in VALUE_ROLES]
    missing = [w for w in want if w not in have]
    if missing:
        raise ExportError(f"{SCHEMA}.{ds.model} lacks column(s) {missing} of {ds.path.name}")


def _catalog_entry(cat: Catalogue, entry: dict) -> tuple[dict, str | None]:
    ds = cat.dataset(entry["name"])
    periods = sorted({f["period"] for f in entry["files"] if f["period"]})
    temporal, modified = _coverage(periods)
    files = [f for f in entry["files"] if f["format"] != "JSON-LD"]
    return dcat.dataset_node(cat, ds, files, temporal, modified, base=ds.name + "/"), modified


def export_all(warehouse: Path | None = None, out_dir: Path | None = None, datasets: list[str] | None = None,
               progress=None, cat: Catalogue | None = None) -> dict:
    """Export `datasets` (names, numbers or models; default every dataset of the catalogue) from the
    warehouse's open_data.od_* tables to `out_dir` (default $IKMS_DATA_DIR/open_data); returns the manifest,
    also written to out_dir/manifest.json. With a subset, the manifest keeps the other datasets' entries
    whose files are still there. Raises ExportError naming every missing table."""
    from pipelines.ingest.load import connect

    cat = cat or catalogue_mod.load()
    warehouse = Path(warehouse) if warehouse else settings.warehouse_path()
    out_dir = Path(out_dir) if out_dir else settings.data_dir() / "open_data"
    chosen = [cat.dataset(int(d) if str(d).isdigit() else d) for d in datasets] if datasets else list(cat.datasets)
    if not warehouse.exists():
        raise ExportError(f"no warehouse at {warehouse}: run `ikms run` (or ingest and build) first")
    out_dir.mkdir(parents=True, exist_ok=True)
    entries: dict[str, dict] = {}
    with connect(warehouse, read_only=True) as con:
        have = _tables(con)
        missing = [f"{SCHEMA}.{d.model}" for d in chosen if d.model not in have]
        if missing:
            raise ExportError(f"not in the warehouse (build the open_data models first): {', '.join(missing)}")
        for ds in chosen:
            _check_columns(con, ds)
        for ds in chosen:
            entries[ds.name] = export_dataset(con, cat, ds, out_dir, progress)
    old = out_dir / MANIFEST
    if datasets and old.exists():  # a partial export keeps what it did not touch
        for e in json.loads(old.read_text(encoding="utf-8")).get("datasets", []):
            if e["name"] not in entries and all((out_dir / f["path"]).exists() for f in e["files"]):
                entries[e["name"]] = e
    ordered = sorted(entries.values(), key=lambda e: e["number"])
    nodes, dates = [], []
    for e in ordered:
        node, modified = _catalog_entry(cat, e)
        nodes.append(node)
        dates.append(modified)
    catalog = json_bytes(dcat.catalog_document(cat, nodes, max((d for d in dates if d), default=None)))
    _write(out_dir / CATALOG, catalog)
    manifest = {"datasets": ordered,
                "catalog": {"path": CATALOG, "format": "JSON-LD", "sha256": _sha256(catalog), "bytes": len(catalog)}}
    _write(out_dir / MANIFEST, json_bytes(manifest))
    return manifest
