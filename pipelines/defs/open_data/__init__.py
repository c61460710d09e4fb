"""Open-data stage: the asset open_data/exports (CSV, Parquet, datapackage.json, DCAT-AP of the open datasets),
downstream of the disclosure-controlled open_data/od_* dbt models."""
from __future__ import annotations

import dagster as dg

from pipelines.defs.open_data.assets import exports, exports_job

defs = dg.Definitions(assets=[exports], jobs=[exports_job])
