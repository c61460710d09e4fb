"""Quality gates as BLOCKING Dagster asset checks (check name `ge_gates`), one per gated asset:

- raw_quality_gates_institutions, raw_quality_gates and raw_quality_gates_<feed> (per feed, the assets that
  read raw/viis_institutions; why apart: see pipelines/defs/ingest/gates.py): every raw/<feed>_<entity> ingest asset, PARTITIONED by school year like the
  assets (AssetCheckSpec.partitions_def, a preview feature of Dagster 1.13: the check runs for, and its evaluation is
  recorded against, the run's partition; without it a check on a partitioned asset is unpartitioned and runs
  once per run, not knowing which year to look at). It validates the partition's school year.
- warehouse_quality_gates: the marts (marts/<model>) and indicators/indicator_values dbt assets, unpartitioned:
  they validate whole tables (every school year; yearly marts also the change between consecutive years).

All are multi-asset checks (one step each, one DuckDB connection, subsettable: a run that selects some assets
runs only their checks). Each check's result is ERROR severity when an expectation of severity error failed
(Dagster then fails the check step and skips every step downstream of the asset in THAT run: the dbt step
below raw/*, anything below the marts), WARN when only warnings failed (reported, nothing blocked). Blocking
holds only inside one run: `ikms build` additionally refuses to start while the latest raw gate results in
gates.results hold an error (pipelines.ingest.runner.build).

Inside a dbt step (one multi-asset, one dbt invocation) a gate on a mart cannot stop the models built by the
same invocation; it blocks the steps after it (later dbt steps, publishing).
"""
from __future__ import annotations

import dagster as dg

from pipelines.defs.ingest.gates import (CHECK, DESCRIPTION, RAW_SPECS, RAW_SUITES, _key, check_result,  # noqa: F401
                                         RAW_GATE_CHECKS, raw_quality_gates, run_suites)
from pipelines.quality.suites import all_suites


def _dbt_keys() -> set[dg.AssetKey]:
    try:
        from pipelines.defs.dbt.assets import dbt_assets_defs
    except Exception:  # no dbt project: gate the raw layer only
        return set()
    return {k for a in dbt_assets_defs for k in a.keys}


_DBT = _dbt_keys()
WAREHOUSE_SUITES = [s for s in all_suites() if not s.per_year and _key(s.asset_key) in _DBT]
WAREHOUSE_SPECS = [dg.AssetCheckSpec(CHECK, asset=_key(s.asset_key), blocking=True, description=DESCRIPTION,
                                     metadata={"suite": s.name}) for s in WAREHOUSE_SUITES]


@dg.multi_asset_check(specs=WAREHOUSE_SPECS, can_subset=True, name="warehouse_quality_gates",
                      required_resource_keys={"warehouse"},
                      description="GE gates of the marts and indicators.indicator_values (whole tables)")
def warehouse_quality_gates(context):
    yield from run_suites(context, context.resources.warehouse, WAREHOUSE_SUITES, None)


quality_checks = [*RAW_GATE_CHECKS] + ([warehouse_quality_gates] if WAREHOUSE_SPECS else [])

defs = dg.Definitions(asset_checks=quality_checks)


def gate_checks(asset_keys=None) -> dg.AssetSelection:
    """Selection of the gate checks (only `ge_gates`, not the assets' own checks) of `asset_keys` (default
    all): for runs that validate without re-materializing, e.g. `AssetSelection.assets(dbt keys) |
    gate_checks(raw keys)`."""
    specs = RAW_SPECS + WAREHOUSE_SPECS
    keys = [s.key for s in specs if asset_keys is None or s.asset_key in set(map(dg.AssetKey.from_coercible, asset_keys))]
    return dg.AssetSelection.checks(*keys)
