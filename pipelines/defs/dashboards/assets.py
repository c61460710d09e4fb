"""dashboards/site: builds $IKMS_DATA_DIR/dashboards (dashboards.build.build_site) from the warehouse's
indicators, marts and data-quality marts. Not partitioned: every page shows every school year."""

from typing import List, Optional

import dagster as dg

from pipelines import settings
from pipelines.defs.ingest.resources import DuckDBWarehouse

KEY = dg.AssetKey(["dashboards", "site"])
_MODELS = settings.PROJECT_ROOT / "dbt_project" / "models"
_UPSTREAM = {  # dbt asset key -> the model file that must exist for the key to be in the graph
    ("indicators", "indicator_values"): None,
    ("indicators", "indicator_catalogue"): None,
    ("marts", "dim_institutions"): "marts/dim_institutions.sql",
    ("marts", "dim_municipalities"): "marts/dim_municipalities.sql",
    ("quality", "dq_completeness"): "quality/dq/dq_completeness.sql",
    ("quality", "dq_timeliness"): "quality/dq/dq_timeliness.sql",
    ("quality", "dq_institution_report"): "quality/dq/dq_institution_report.sql",
}


def _deps() -> List[dg.AssetKey]:
    # a model not in the dbt project is no dependency, so the graph never holds an unmaterializable key
    return [dg.AssetKey(list(k)) for k, f in _UPSTREAM.items() if f is None or (_MODELS / f).exists()]


class SiteConfig(dg.Config):
    edition: str = "public"  # or "internal": unsuppressed values, bannered for ministry staff
    out_dir: Optional[str] = None  # default $IKMS_DATA_DIR/dashboards (internal: dashboards-internal)
    boundaries: Optional[str] = None  # GeoJSON of the 43 municipalities; default env IKMS_MUNICIPALITY_BOUNDARIES


def default_out_dir(edition: str = "public"):
    return settings.data_dir() / ("dashboards" if edition == "public" else "dashboards-internal")


@dg.asset(key=KEY, group_name="dashboards", deps=_deps(), kinds={"html", "plotly"},
          description="The offline Plotly dashboard site (national overview, 43 municipality pages, a page per "
                      "institution, indicator explorer, maps, data quality) in $IKMS_DATA_DIR/dashboards; "
                      "disclosure-controlled values only unless edition=internal.",
          metadata={"dir": "$IKMS_DATA_DIR/dashboards", "entry": "dashboards/index.html"})
def site(context: dg.AssetExecutionContext, config: SiteConfig, warehouse: DuckDBWarehouse):
    import os
    from pathlib import Path

    from dashboards.build import build_site

    out_dir = Path(config.out_dir) if config.out_dir else default_out_dir(config.edition)
    boundaries = config.boundaries or os.environ.get("IKMS_MUNICIPALITY_BOUNDARIES") or None
    summary = build_site(warehouse.warehouse_path, out_dir, edition=config.edition,
                         boundaries=Path(boundaries) if boundaries else None, progress=context.log.info)
    return dg.MaterializeResult(metadata={
        "dir": dg.MetadataValue.path(str(out_dir)),
        "index": dg.MetadataValue.path(str(out_dir / "index.html")),
        "edition": summary["edition"],
        "pages": summary["pages"],
        "bytes": summary["bytes"],
        "seconds": summary["seconds"],
        "institution_pages": summary["institutions"],
        "max_institution_page_bytes": summary["page_types"].get("institution", {}).get("max_bytes", 0),
    })


dashboards_job = dg.define_asset_job("dashboards_site", selection=dg.AssetSelection.assets(KEY),
                                     description="Build the static dashboard site in $IKMS_DATA_DIR/dashboards.")
