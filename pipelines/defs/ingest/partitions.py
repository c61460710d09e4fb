"""School-year partitions (key '2024' = 2024/25).

Dynamic, not a static range: the landing folders decide which school years exist (a historical backfill may
bring 2010, next autumn brings 2025), so the runner and the sensor add a key when its folder appears and the
UI never shows years that have no data."""
from __future__ import annotations

import dagster as dg

SCHOOL_YEAR = "school_year"
school_years = dg.DynamicPartitionsDefinition(name=SCHOOL_YEAR)
