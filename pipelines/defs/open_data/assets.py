"""open_data/exports: writes $IKMS_DATA_DIR/open_data/ from the warehouse's open_data.od_* tables
(pipelines.open_data.export). Not partitioned: every export holds every school year, and re-exporting the same
warehouse rewrites nothing (identical files are left alone)."""

from typing import List, Optional

import dagster as dg

from pipelines import settings
from pipelines.defs.ingest.resources import DuckDBWarehouse

KEY = dg.AssetKey(["open_data", "exports"])
_MODELS = settings.PROJECT_ROOT / "dbt_project" / "models" / "open_data"


def _od_deps() -> List[dg.AssetKey]:
    """The dbt assets open_data/od_<x> of the catalogue's datasets whose model exists in the dbt project (a model
    not written yet is not a dependency, so the graph never holds an unmaterializable key)."""
    from pipelines.open_data import catalogue

    try:
        models = [d.model for d in catalogue.load().datasets]
    except Exception:  # a broken definition must not break loading every other asset; the export itself raises
        return []
    return [dg.AssetKey(["open_data", m]) for m in models if any(_MODELS.glob(f"{m}.sql"))]


class ExportConfig(dg.Config):
    datasets: Optional[List[str]] = None  # names, numbers or models; default every dataset
    out_dir: Optional[str] = None  # default $IKMS_DATA_DIR/open_data


@dg.asset(key=KEY, group_name="open_data", deps=_od_deps(), kinds={"csv", "parquet", "json"},
          description="The open datasets as files: per school year CSV (UTF-8, symbols c/z/x) and Parquet, a "
                      "Frictionless datapackage.json and DCAT-AP dcat.jsonld per dataset, catalog.jsonld and "
                      "manifest.json (sha256 of every file) in $IKMS_DATA_DIR/open_data.",
          metadata={"dir": "$IKMS_DATA_DIR/open_data", "manifest": "open_data/manifest.json"})
def exports(context: dg.AssetExecutionContext, config: ExportConfig, warehouse: DuckDBWarehouse):
    from pipelines.open_data.export import export_all

    out_dir = config.out_dir or str(settings.data_dir() / "open_data")
    manifest = export_all(warehouse=warehouse.warehouse_path, out_dir=out_dir, datasets=config.datasets,
                          progress=context.log.info)
    files = [f for d in manifest["datasets"] for f in d["files"]]
    rows = {d["name"]: sum(f["rows"] or 0 for f in d["files"] if f["format"] == "CSV") for d in manifest["datasets"]}
    return dg.MaterializeResult(metadata={
        "dir": dg.MetadataValue.path(out_dir),
        "datasets": len(manifest["datasets"]),
        "files": len(files),
        "bytes": sum(f["bytes"] for f in files),
        "rows_per_dataset": dg.MetadataValue.json(rows),
        "catalog_sha256": manifest["catalog"]["sha256"],
    })


exports_job = dg.define_asset_job("open_data_exports", selection=dg.AssetSelection.assets(KEY),
                                  description="Export the open datasets to $IKMS_DATA_DIR/open_data.")
