"""The raw quality gates: the BLOCKING `ge_gates` asset checks of the ingest assets, partitioned by school year
(see pipelines/defs/quality for the whole story), and what they share with the warehouse gates. Kept apart from
the dbt assets so that an ingest step process does not import dbt."""
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


RAW_SUITES = [s for s in all_suites() if s.per_year]


def _dependent_keys() -> list[dg.AssetKey]:
    """The ingest assets that depend on raw/viis_institutions."""
    from pipelines.defs.ingest.assets import _deps, asset_key
    from pipelines.common.contracts import all_entities

    return [asset_key(e) for e in all_entities() if _deps(e)]

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # "Specifying a partitions_def on an AssetCheckSpec" is a preview feature
    RAW_SPECS = [dg.AssetCheckSpec(CHECK, asset=_key(s.asset_key), blocking=True, partitions_def=school_years,
                                   description=DESCRIPTION, metadata={"suite": s.name}) for s in RAW_SUITES]


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


def run_suites(context, warehouse, suites, years):
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


def _gate_op(specs: list[dg.AssetCheckSpec], name: str, description: str, priority: int = 0):
    @dg.multi_asset_check(specs=specs, can_subset=True, name=name, required_resource_keys={"warehouse"},
                          description=description, op_tags={"dagster/priority": str(priority)})
    def _gates(context):
        keys = context.partition_keys if context.has_partition_key_range else [context.partition_key]
        yield from run_suites(context, context.resources.warehouse, RAW_SUITES, sorted(int(k) for k in keys))

    return _gates


def _feed(spec: dg.AssetCheckSpec) -> str:
    from pipelines.common.contracts import all_entities

    return {f"raw/{e.table}": e.feed for e in all_entities()}[spec.asset_key.to_user_string()]


# Explicit ops, split where Dagster would split one: the gate of raw/viis_institutions blocks the assets that
# read it (their contract references its reg_nr), whose own gates can only run after them. Dagster names the
# parts of a split op in an order that differs between processes (set order), so a step process of the ingest
# job could run the other part's checks: explicit ops have fixed names.
# - raw_quality_gates_institutions: raw/viis_institutions alone, first (priority): every asset that reads it
#   (the school-system files, most of the registry extract) waits for this gate, not for the small feeds'
# - raw_quality_gates: the other tables that reference no other (the small feeds, the registry's classifiers
#   and learners), whenever they are loaded
# - raw_quality_gates_<feed>: per feed, the tables that reference raw/viis_institutions, each as soon as its
#   feed is loaded (priority over the ingest steps: a few seconds each), beside the other feeds' steps (one op
#   for all of them ran ~5 s after the last step, alone)
_DEPENDENT = {s.asset_key for s in RAW_SPECS if s.asset_key in set(_dependent_keys())}
_REFERENCED = {dg.AssetKey(["raw", "viis_institutions"])}
raw_quality_gates_institutions = _gate_op(
    [s for s in RAW_SPECS if s.asset_key in _REFERENCED], "raw_quality_gates_institutions",
    "GE gate of raw/viis_institutions, for the run's school-year partition: every asset that reads it waits for it",
    priority=6)
raw_quality_gates = _gate_op([s for s in RAW_SPECS if s.asset_key not in _DEPENDENT | _REFERENCED], "raw_quality_gates",
                             "GE gates of the raw tables, for the run's school-year partition", priority=3)
_FEEDS = sorted({_feed(s) for s in RAW_SPECS if s.asset_key in _DEPENDENT})
RAW_GATE_CHECKS = [raw_quality_gates_institutions, raw_quality_gates] + [
    _gate_op([s for s in RAW_SPECS if s.asset_key in _DEPENDENT and _feed(s) == feed], f"raw_quality_gates_{feed}",
             f"GE gates of the {feed} raw tables that reference raw/viis_institutions, for the run's school-year "
             "partition", priority=5)
    for feed in _FEEDS]
