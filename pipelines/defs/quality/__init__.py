"""Quality gates as BLOCKING Dagster asset checks (check name `ge_gates`), one per gated asset:

- raw_quality_gates: every raw/<feed>_<entity> ingest asset, PARTITIONED by school year like the assets
  (AssetCheckSpec.partitions_def, a preview feature of Dagster 1.13: the check runs for, and its evaluation is
  recorded against, the run's partition; without it a check on a partitioned asset is unpartitioned and runs
  once per run, not knowing which year to look at). It validates the partition's school year.
- warehouse_quality_gates: the marts (marts/<model>) and indicators/indicator_values dbt assets, unpartitioned:
  they validate whole tables (every school year; yearly marts also the change between consecutive years).

Both are multi-asset checks (one step each, one DuckDB connection, subsettable: a run that selects some assets
runs only their checks). Each check's result is ERROR severity when an expectation of severity error failed
(Dagster then fails the check step and skips every step downstream of the asset in THAT run: the dbt step
below raw/*, anything below the marts), WARN when only warnings failed (reported, nothing blocked). Blocking
holds only inside one run: `ikms build` additionally refuses to start while the latest raw gate results in
gates.results hold an error (pipelines.ingest.runner.build).

Inside a dbt step (one multi-asset, one dbt invocation) a gate on a mart cannot stop the models built by the
same invocation; it blocks the steps after it (later dbt steps, publishing).
"""
from __future__ import annotations

import warnings

import dagster as dg

from pipelines.defs.ingest.partitions import school_years
from pipelines.quality.suites import all_suites

CHECK = "ge_gates"
DESCRIPTION = ("Great Expectations quality gate (expectations/*.yaml and the contract): fails with ERROR and "
               "blocks downstream when an error-severity expectation fails, WARN for warnings only")


def _key(asset_key: str) -> dg.AssetKey:
    return dg.AssetKey(asset_key.split("/"))


def _dbt_keys() -> set[dg.AssetKey]:
    try:
        from pipelines.defs.dbt.assets import dbt_assets_defs
    except Exception:  # no dbt project: gate the raw layer only
        return set()
    return {k for a in dbt_assets_defs for k in a.keys}


_SUITES = all_suites()
RAW_SUITES = [s for s in _SUITES if s.per_year]
_DBT = _dbt_keys()
WAREHOUSE_SUITES = [s for s in _SUITES if not s.per_year and _key(s.asset_key) in _DBT]

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # "Specifying a partitions_def on an AssetCheckSpec" is a preview feature
    RAW_SPECS = [dg.AssetCheckSpec(CHECK, asset=_key(s.asset_key), blocking=True, partitions_def=school_years,
                                   description=DESCRIPTION, metadata={"suite": s.name}) for s in RAW_SUITES]
WAREHOUSE_SPECS = [dg.AssetCheckSpec(CHECK, asset=_key(s.asset_key), blocking=True, description=DESCRIPTION,
                                     metadata={"suite": s.name}) for s in WAREHOUSE_SUITES]


def check_result(result) -> dg.AssetCheckResult:
    """A suite run -> the Dagster check result: passed only when every expectation passed; severity ERROR
    when an error-severity expectation failed (blocks), else WARN."""
    errors, warns = result.errors, result.warnings
    failed = [f"{o.expectation.id}: {(o.details or o.observed)[:300]}" for o in errors + warns]
    return dg.AssetCheckResult(
        asset_key=_key(result.suite.asset_key),
        check_name=CHECK,
        passed=not errors and not warns,
        severity=dg.AssetCheckSeverity.ERROR if errors else dg.AssetCheckSeverity.WARN,
        description=("; ".join(failed)[:1000] if failed else f"{len(result.outcomes)} expectations passed"),
        metadata={
            "suite": result.suite.name,
            "school_year": result.school_year if result.school_year is not None else "all",
            "expectations": len(result.outcomes),
            "failed_errors": [o.expectation.id for o in errors],
            "failed_warnings": [o.expectation.id for o in warns],
            "failures": dg.MetadataValue.md("\n".join(f"- {f}" for f in failed) or "none"),
            "seconds": round(result.seconds, 2),
            "results_table": "gates.results (run_id = this run)",
        },
    )


def _missing_table(key: dg.AssetKey, suite_name: str, year) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(asset_key=key, check_name=CHECK, passed=False, severity=dg.AssetCheckSeverity.WARN,
                               description=f"{suite_name} does not exist in the warehouse: nothing to validate",
                               metadata={"school_year": year if year is not None else "all"})


def _run(context, warehouse, suites, years):
    from pipelines.quality import gates

    selected = {k.asset_key for k in context.selected_asset_check_keys}
    suites = [s for s in suites if _key(s.asset_key) in selected]
    results = gates.run_gates(suites, years=years, warehouse=warehouse.warehouse_path, run_id=context.run.run_id)
    done = set()
    for r in results:
        done.add(r.suite.asset_key)
        if r.errors or r.warnings:
            context.log.info(f"quality gate {r.label}: " + "; ".join(
                f"{'ERROR' if o.expectation.severity == 'error' else 'warning'} {o.expectation.id}: {o.details}"
                for o in r.errors + r.warnings)[:2000])
        yield check_result(r)
    for s in suites:  # a table that does not exist (never ingested / built): say so, do not block
        if s.asset_key not in done:
            yield _missing_table(_key(s.asset_key), s.name, years[0] if years else None)


@dg.multi_asset_check(specs=RAW_SPECS, can_subset=True, name="raw_quality_gates", required_resource_keys={"warehouse"},
                      description="GE gates of the raw tables, for the run's school-year partition")
def raw_quality_gates(context):
    keys = context.partition_keys if context.has_partition_key_range else [context.partition_key]
    yield from _run(context, context.resources.warehouse, RAW_SUITES, sorted(int(k) for k in keys))


@dg.multi_asset_check(specs=WAREHOUSE_SPECS, can_subset=True, name="warehouse_quality_gates",
                      required_resource_keys={"warehouse"},
                      description="GE gates of the marts and indicators.indicator_values (whole tables)")
def warehouse_quality_gates(context):
    yield from _run(context, context.resources.warehouse, WAREHOUSE_SUITES, None)


quality_checks = [raw_quality_gates] + ([warehouse_quality_gates] if WAREHOUSE_SPECS else [])

defs = dg.Definitions(asset_checks=quality_checks)


def gate_checks(asset_keys=None) -> dg.AssetSelection:
    """Selection of the gate checks (only `ge_gates`, not the assets' own checks) of `asset_keys` (default
    all): for runs that validate without re-materializing, e.g. `AssetSelection.assets(dbt keys) |
    gate_checks(raw keys)`."""
    specs = RAW_SPECS + WAREHOUSE_SPECS
    keys = [s.key for s in specs if asset_keys is None or s.asset_key in set(map(dg.AssetKey.from_coercible, asset_keys))]
    return dg.AssetSelection.checks(*keys)
