"""Export trees for the publisher's tests.

`write_exports`: the real exporter (pipelines.open_data.export.export_all) run over small synthetic
open_data.od_* tables with the catalogue's columns (pipelines.bench.synthetic_open_data): real CSV, Parquet,
datapackage.json, dcat.jsonld, catalog.jsonld and manifest.json, without building a country. The integration
tests against the real portal use it.

`write_tree`: a quicker placeholder tree in the same layout, for the unit tests with an in-memory portal:

  open_data/<name>/<name>_<YYYY-YYYY>.csv and .parquet per school year, <name>/datapackage.json,
  <name>/dcat.jsonld, open_data/catalog.jsonld, open_data/manifest.json

The values are placeholders (a few rows per year); `variant` changes the values of the files of `variant_period`
only, as a new export of one year's data would. Also: a warehouse whose latest quality gates passed."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl

from pipelines.open_data import catalogue as cat_mod

PERIODS = ("2021-2022", "2022-2023", "2023-2024")
_POLARS = {"string": pl.Utf8, "integer": pl.Int64, "number": pl.Float64, "date": pl.Date}


def _rows(ds: cat_mod.Dataset, period: str, variant: int) -> pl.DataFrame:
    n = 3
    data: dict[str, list] = {}
    for i, c in enumerate(ds.published_columns()):
        if c.role == "period":
            vals = [period.replace("-", "/")] * n
        elif c.role == "level":
            vals = ["valsts", "pašvaldība", "iestāde"]
        elif c.type == "string":
            vals = [cat_mod.TOTAL if c.role == "dimension" else f"{c.name} {k} ā{variant or ''}" for k in range(n)]
        elif c.type == "integer":
            vals = [100 * (k + 1) + i + variant + int(period[:4]) % 100 for k in range(n)]
        elif c.type == "number":
            vals = [round(1.5 * (k + 1) + i + variant, 2) for k in range(n)]
        else:
            vals = [None] * n
        data[c.name] = vals
    return pl.DataFrame(data, schema={c.name: _POLARS[c.type] for c in ds.published_columns()})


def _entry(root: Path, path: Path, period: str | None, fmt: str, rows: int | None) -> dict:
    b = path.read_bytes()
    return {"path": path.relative_to(root).as_posix(), "period": period, "format": fmt,
            "sha256": hashlib.sha256(b).hexdigest(), "bytes": len(b), "rows": rows}


def write_tree(data_dir: Path, datasets: list[str] | None = None, periods: tuple[str, ...] = PERIODS,
               variant: int = 0, variant_period: str | None = None) -> dict:
    """Write the tree under data_dir/open_data; return the manifest."""
    cat = cat_mod.load()
    root = data_dir / "open_data"
    manifest: dict = {"datasets": []}
    for ds in cat.datasets:
        if datasets and ds.name not in datasets:
            continue
        d = root / ds.name
        d.mkdir(parents=True, exist_ok=True)
        files = []
        for period in periods:
            df = _rows(ds, period, variant if period == variant_period else 0)
            csv, parquet = d / f"{ds.name}_{period}.csv", d / f"{ds.name}_{period}.parquet"
            csv.write_bytes(df.write_csv(line_terminator="\n").encode("utf-8"))
            df.write_parquet(parquet, statistics=False)
            files += [_entry(root, csv, period, "CSV", df.height), _entry(root, parquet, period, "Parquet", df.height)]
        (d / "datapackage.json").write_text(json.dumps(
            {"name": ds.name, "resources": [{"path": Path(f["path"]).name} for f in files]}, indent=2) + "\n",
            encoding="utf-8")
        (d / "dcat.jsonld").write_text(json.dumps(
            {"@id": cat.uri(ds), "@type": "dcat:Dataset", "dct:title": [{"@value": ds.title_lv, "@language": "lv"}]},
            ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        files += [_entry(root, d / "datapackage.json", None, "JSON", None),
                  _entry(root, d / "dcat.jsonld", None, "JSON-LD", None)]
        manifest["datasets"].append({"name": ds.name, "number": ds.number, "files": files})
    (root / "catalog.jsonld").write_text(json.dumps({"@type": "dcat:Catalog"}) + "\n", encoding="utf-8")
    (root / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return manifest


def write_exports(data_dir: Path, datasets: list[str] | None = None, years: tuple[int, ...] = (2021, 2022, 2023),
                  rows_per_year: int = 8) -> dict:
    """The real exports of synthetic od_* tables under data_dir/open_data; returns the manifest."""
    from pipelines.bench import synthetic_open_data
    from pipelines.open_data.export import export_all

    source = data_dir / "od_synthetic.duckdb"
    data_dir.mkdir(parents=True, exist_ok=True)
    synthetic_open_data(source, list(years), rows_per_year)
    return export_all(warehouse=source, out_dir=data_dir / "open_data", datasets=datasets, progress=lambda m: None)


def write_gate_results(warehouse: Path, *, failing: bool = False) -> None:
    """gates.results with one passing (or failing, error-severity) result for a mart and an indicator suite."""
    import duckdb

    from pipelines.quality.gates import RESULTS_DDL

    warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS gates")
        con.execute(RESULTS_DDL)
        for key in ("marts/fct_enrolments", "indicators/indicator_values"):
            con.execute("INSERT INTO gates.results VALUES ('r1', now()::TIMESTAMP, 's', ?, NULL, 'e1', NULL, 'error', "
                        "?, 'obs', 'details')", [key, not failing])
    finally:
        con.close()


def replace_file(data_dir: Path, relpath: str, content: bytes) -> None:
    """Give one exported file new content and update its manifest entry (as a re-export of one year would)."""
    root = data_dir / "open_data"
    (root / relpath).write_bytes(content)
    path = root / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for d in manifest["datasets"]:
        for f in d["files"]:
            if f["path"] == relpath:
                f.update(sha256=hashlib.sha256(content).hexdigest(), bytes=len(content))
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
