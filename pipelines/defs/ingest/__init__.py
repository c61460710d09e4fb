"""Ingest stage: landing files -> raw.* / quarantine.* (assets, checks, the landing sensor)."""
from __future__ import annotations

import dagster as dg

from pipelines.defs.ingest.assets import ingest_assets
from pipelines.defs.ingest.jobs import ingest_job
from pipelines.defs.ingest.sensors import landing_sensor

defs = dg.Definitions(assets=ingest_assets, jobs=[ingest_job], sensors=[landing_sensor])
