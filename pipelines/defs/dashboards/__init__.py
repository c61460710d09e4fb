"""Dashboards stage: the asset dashboards/site (the offline Plotly static site in $IKMS_DATA_DIR/dashboards),
downstream of the indicators and the data-quality marts."""
from __future__ import annotations

import dagster as dg

from pipelines.defs.dashboards.assets import dashboards_job, site

defs = dg.Definitions(assets=[site], jobs=[dashboards_job])
