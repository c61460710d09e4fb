"""dbt stage: the dbt models and seeds of dbt_project/ as assets below raw/*, dbt tests as asset checks."""
from __future__ import annotations

import dagster as dg

from pipelines.defs.dbt.assets import dbt_assets_defs, dbt_resource

defs = dg.Definitions(assets=dbt_assets_defs, resources={"dbt": dbt_resource()})
