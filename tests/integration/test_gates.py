"""Quality gates on a real generated, ingested and dbt-built warehouse (the shared one of dbt_warehouse, copied:
these tests plant defects): every gate passes on the clean country; a planted defect fails an error-severity
expectation and, in THAT Dagster run, the downstream dbt assets are not materialized; a warning-severity
failure does not block. Assertions are on the run's materializations and check evaluations, not on the
run's success."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tests.conftest import set_data_dir
from tests.integration import dbt_warehouse as wh

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("dbt")]

YEAR = 2023  # the last built school year of dbt_warehouse (2022 is its previous year)
STG_INSTITUTIONS = dg.AssetKey(["staging", "stg_viis__institutions"])
STG_CLASSES = dg.AssetKey(["staging", "stg_viis__classes"])


@pytest.fixture()
def copy(tmp_path):
    """A private copy of the shared built warehouse (landing files are not needed: no ingest here)."""
    # IKMS_GATES_TEST_DATA: an already built data dir (school years 2022 and 2023 at least) to skip the shared
    # build while developing; by default the shared warehouse of dbt_warehouse
    src = Path(os.environ["IKMS_GATES_TEST_DATA"]) if os.environ.get("IKMS_GATES_TEST_DATA") else wh.built()["data_dir"]
    dst = tmp_path / "data"
    dst.mkdir()
    shutil.copy2(src / "warehouse.duckdb", dst / "warehouse.duckdb")
    set_data_dir(dst)
    yield dst
    if not os.environ.get("IKMS_GATES_TEST_DATA"):
        wh.use()


def _run(selection, instance) -> dg.ExecuteInProcessResult:
    """One Dagster run (partition YEAR) of the selected gate checks and dbt assets, as the pipeline defines them."""
    from pipelines.definitions import defs as all_defs
    from pipelines.defs.ingest.partitions import SCHOOL_YEAR

    if str(YEAR) not in instance.get_dynamic_partitions(SCHOOL_YEAR):
        instance.add_dynamic_partitions(SCHOOL_YEAR, [str(YEAR)])
    job = dg.define_asset_job("gates_test", selection=selection)
    defs = dg.Definitions.merge(all_defs, dg.Definitions(jobs=[job]))
    # a checks-only selection has no partitioned asset to infer the partitions from: pass the partition as a tag
    return defs.resolve_job_def("gates_test").execute_in_process(
        instance=instance, raise_on_error=False, tags={"dagster/partition": str(YEAR)})


def _evaluations(result) -> dict:
    return {ev.event_specific_data.asset_key.to_user_string(): ev.event_specific_data
            for ev in result.all_events if ev.event_type_value == "ASSET_CHECK_EVALUATION"
            and ev.event_specific_data.check_name == "ge_gates"}


def _materialized(result, instance) -> set[str]:
    from_result = {ev.event_specific_data.materialization.asset_key.to_user_string()
                   for ev in result.get_asset_materialization_events()}
    records = instance.get_records_for_run(result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
    from_instance = {r.event_log_entry.dagster_event.asset_key.to_user_string() for r in records}
    assert from_result == from_instance
    return from_instance


def test_every_gate_passes_on_the_clean_country(copy):
    from pipelines.quality import gates

    con = duckdb.connect(str(copy / "warehouse.duckdb"), read_only=True)
    # the shared warehouse already holds the results of the gates its ingest and build ran
    before = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'gates' "
                         "AND table_name = 'results'").fetchone()[0] and \
        con.execute("SELECT count(*) FROM gates.results").fetchone()[0]
    con.close()
    results = gates.run_gates(gates.select_suites(), years=[2022, YEAR])
    assert {r.suite.asset_key for r in results} >= {"raw/viis_enrolments", "marts/fct_enrolments",
                                                     "indicators/indicator_values"}
    assert [f"{r.label}: {[o.expectation.id for o in r.errors]}" for r in results if r.errors] == []
    con = duckdb.connect(str(copy / "warehouse.duckdb"), read_only=True)
    n, errors = con.execute("SELECT count(*), count(*) FILTER (WHERE NOT success AND severity = 'error') "
                            "FROM gates.results").fetchone()
    con.close()
    assert n - before == sum(len(r.outcomes) for r in results) and errors == 0
    docs = gates.build_data_docs()
    assert docs.exists() and "raw.viis_enrolments" in docs.read_text(encoding="utf-8")


def test_planted_defect_blocks_downstream_in_the_same_run(copy):
    from pipelines.defs.quality import gate_checks

    con = duckdb.connect(str(copy / "warehouse.duckdb"))
    before = con.execute(f"SELECT count(*) FROM raw.viis_institutions WHERE _school_year = {YEAR}").fetchone()[0]
    # plant: 80 % of the school year's institutions vanish (a truncated registry extract)
    con.execute(f"""DELETE FROM raw.viis_institutions WHERE _school_year = {YEAR} AND reg_nr NOT IN (
        SELECT reg_nr FROM raw.viis_institutions WHERE _school_year = {YEAR} ORDER BY reg_nr
        LIMIT {before // 5})""")
    con.close()
    instance = dg.DagsterInstance.ephemeral()
    raw = [dg.AssetKey(["raw", "viis_institutions"])]
    result = _run(gate_checks(raw) | dg.AssetSelection.assets(STG_INSTITUTIONS), instance)

    ev = _evaluations(result)["raw/viis_institutions"]
    assert not ev.passed and ev.severity == dg.AssetCheckSeverity.ERROR
    assert "row_change_error" in ev.metadata["failed_errors"].value
    assert "row_change_warning" in ev.metadata["failed_warnings"].value
    # the dbt step below it never ran: nothing was materialized in this run
    assert _materialized(result, instance) == set()
    assert not result.success
    failed = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert [e.step_key for e in failed] == ["raw_quality_gates_institutions"]
    assert failed[0].event_specific_data.error.cls_name == "DagsterAssetCheckFailedError"
    started = {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}
    assert started == {"raw_quality_gates_institutions"}  # the dbt step never started ("dependencies failed")
    # the failure is in gates.results, and `ikms build` refuses on it
    from pipelines.ingest.runner import GatesFailed, build
    from pipelines.quality.gates import latest_blocking_failures

    blocked = latest_blocking_failures("raw/", [YEAR])
    assert any(b.startswith(f"raw/viis_institutions [{YEAR}] row_change_error") for b in blocked)
    with pytest.raises(GatesFailed, match="row_change_error"):
        build(years=[YEAR], progress=lambda m: None)


def test_warning_failure_does_not_block(copy):
    from pipelines.defs.quality import gate_checks

    con = duckdb.connect(str(copy / "warehouse.duckdb"))
    before = con.execute(f"SELECT count(*) FROM raw.viis_classes WHERE _school_year = {YEAR}").fetchone()[0]
    # plant: a third of the classes missing: beyond the +-20 % warning, within the +-60 % error bound
    con.execute(f"""DELETE FROM raw.viis_classes WHERE _school_year = {YEAR} AND klases_id IN (
        SELECT klases_id FROM raw.viis_classes WHERE _school_year = {YEAR} ORDER BY klases_id LIMIT {before // 3})""")
    con.close()
    instance = dg.DagsterInstance.ephemeral()
    result = _run(gate_checks([dg.AssetKey(["raw", "viis_classes"])]) | dg.AssetSelection.assets(STG_CLASSES), instance)

    ev = _evaluations(result)["raw/viis_classes"]
    assert not ev.passed and ev.severity == dg.AssetCheckSeverity.WARN
    assert ev.metadata["failed_warnings"].value == ["row_change_warning"] and ev.metadata["failed_errors"].value == []
    assert STG_CLASSES.to_user_string() in _materialized(result, instance)
