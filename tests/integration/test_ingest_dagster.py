"""The hand-written small landing dir materialized through Dagster (runner.materialize): row counts, the
quarantined rows with their rules and lines, passed reconcile checks, byte-identical re-runs, and an unreadable
file that fails only its own asset."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines import settings

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("ingest_small")]
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "landing_small"

COUNTS = {  # table: (read, loaded, quarantined)
    "viis_classifiers": (3, 2, 1), "viis_institutions": (4, 2, 2), "viis_programmes": (2, 1, 1),
    "viis_classes": (2, 1, 1), "viis_learners": (3, 2, 1), "viis_enrolments": (3, 1, 2),
    "viis_staff_posts": (2, 1, 1), "viis_academic_staff": (1, 1, 0), "viis_public_institutions": (3, 2, 1),
    "viis_confirmations": (0, 0, 0),
    "izm_general_schools": (2, 1, 1), "vendor_a_grades": (8, 2, 6), "vendor_a_absences": (4, 1, 3),
    "vendor_a_planned_lessons": (2, 0, 2), "vendor_b_grades": (5, 3, 2), "vendor_b_attendance": (3, 1, 2),
    "vendor_b_planned_lessons": (2, 1, 1), "exams_results": (2, 1, 1), "csp_population": (4, 3, 1),
    "csp_wages": (2, 1, 1), "csp_graduate_outcomes": (2, 1, 1), "nva_unemployed": (2, 1, 1), "vzd_addresses": (2, 1, 1),
}
QUARANTINED = {  # (table, line): (rule, rules)
    ("vendor_a_grades", 5): ("personal_code_format", "personal_code_format"),
    ("vendor_a_grades", 6): ("malformed_record", "malformed_record"),
    ("vendor_a_grades", 7): ("future_date", "future_date"),
    ("vendor_a_grades", 8): ("duplicate_row", "duplicate_row"),
    ("vendor_a_grades", 9): ("duplicate_key", "duplicate_key"),
    ("vendor_a_grades", 10): ("value_out_of_range", "value_out_of_range,unknown_institution"),
    ("vendor_a_absences", 3): ("type_mismatch", "type_mismatch"),
    ("vendor_a_absences", 4): ("invalid_date", "invalid_date"),
    ("vendor_a_absences", 5): ("missing_value", "missing_value"),
    ("vendor_a_planned_lessons", 2): ("missing_column", "missing_column,missing_value"),
    ("vendor_a_planned_lessons", 3): ("malformed_record", "malformed_record"),
    ("vendor_b_grades", 4): ("unknown_code", "unknown_code"),
    ("vendor_b_grades", 5): ("malformed_record", "malformed_record"),
    ("viis_classifiers", 7): ("duplicate_row", "duplicate_row"),
    ("viis_institutions", 13): ("value_out_of_range", "value_out_of_range"),
    ("viis_institutions", 14): ("unknown_code", "unknown_code,future_date"),
    ("viis_programmes", 18): ("unknown_institution", "unknown_institution"),
    ("viis_learners", 32): ("invalid_date", "invalid_date,personal_code_checksum,unknown_code"),
    ("viis_enrolments", 27): ("overlapping_enrolment", "overlapping_enrolment"),
    ("viis_enrolments", 30): ("date_order", "date_order"),
    ("viis_staff_posts", 37): ("unknown_code", "unknown_code,value_out_of_range"),
    ("viis_public_institutions", 5): ("missing_value", "missing_value,unknown_code"),
    ("nva_unemployed", 3): ("date_order", "date_order"),
}
FILE_ISSUES = {
    ("vendor_a_grades", "renamed_column"), ("vendor_a_grades", "blank_lines"), ("vendor_a_absences", "bom"),
    ("vendor_a_absences", "wrong_encoding"), ("vendor_a_planned_lessons", "missing_column"),
    ("vendor_a_planned_lessons", "unexpected_column"), ("vendor_a_planned_lessons", "truncated_file"),
    ("vendor_b_grades", "blank_lines"), ("vendor_b_grades", "unexpected_column"),
    ("vendor_b_attendance", "truncated_file"), ("exams_results", "unexpected_column"),
}


def query(sql):
    con = duckdb.connect(str(settings.warehouse_path()), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def fingerprint() -> str:
    h = hashlib.sha256()
    for t in sorted(COUNTS):
        h.update(repr(query(f"SELECT * FROM raw.{t} ORDER BY ALL")).encode())
    h.update(repr(query("SELECT * FROM quarantine.rows ORDER BY ALL")).encode())
    h.update(repr(query("SELECT * FROM quarantine.file_issues ORDER BY ALL")).encode())
    return h.hexdigest()


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    from pipelines.ingest.runner import materialize
    from tests.conftest import set_data_dir

    data = tmp_path_factory.mktemp("ingest_small")
    set_data_dir(data)
    shutil.copytree(FIXTURES, settings.landing_dir())
    summary = materialize(progress=lambda m: None)
    return summary


def test_counts_per_table(ingested):
    got = {t: (v["rows_read"], v["rows_loaded"], v["rows_quarantined"]) for t, v in ingested.items()}
    assert got == COUNTS
    for t, (_, loaded, _) in COUNTS.items():
        assert query(f"SELECT count(*) FROM raw.{t}")[0][0] == loaded


def test_quarantined_rows_rules_and_lines(ingested):
    rows = query("SELECT target_table, _source_line, rule, rules FROM quarantine.rows")
    got = {(t, line): (rule, rules) for t, line, rule, rules in rows}
    for k, v in QUARANTINED.items():
        assert got.get(k) == v, k
    assert len(rows) == sum(q for _, _, q in COUNTS.values())
    assert {(t, i) for t, i in query("SELECT target_table, issue FROM quarantine.file_issues")} == FILE_ISSUES


def test_derived_municipality_and_pseudonyms(ingested):
    assert query("SELECT count(*) FROM raw.viis_public_institutions WHERE municipality_atvk = '0001000'")[0][0] == 2
    codes = [r[0] for r in query("SELECT personas_kods FROM raw.viis_learners")]
    assert all(len(c) == 16 for c in codes) and not any("-" in c for c in codes)


def test_reconcile_checks_passed(ingested):
    import dagster as dg

    from pipelines.ingest.runner import dagster_home

    instance = dg.DagsterInstance.from_config(str(dagster_home()))
    from pipelines.defs.ingest.assets import ingest_assets

    for a in ingest_assets:
        for check_key in a.check_keys:
            ev = instance.event_log_storage.get_latest_asset_check_execution_by_key([check_key])[check_key]
            assert ev is not None and ev.evaluation.passed, check_key


def test_parallel_step_processes_load_the_same_tables(ingested, monkeypatch):
    """The ingest job with two step processes (the national default; the small landing dir runs in one):
    the same tables, byte for byte, every asset materialized with its reconcile check and gate."""
    import dagster as dg

    from pipelines.defs.ingest.jobs import processes
    from pipelines.ingest.runner import dagster_home, materialize

    assert processes(1000) == 1 and processes(10**10) >= 1
    before = fingerprint()
    monkeypatch.setenv("IKMS_INGEST_PROCESSES", "2")
    lines: list[str] = []
    materialize(years=[2023], progress=lines.append)
    assert "2 process(es)" in lines[0]
    assert fingerprint() == before
    instance = dg.DagsterInstance.from_config(str(dagster_home()))
    run = instance.get_runs(limit=1)[0]
    events = [r.dagster_event for r in instance.all_logs(run.run_id) if r.dagster_event]
    pids = {e.pid for e in events if e.event_type_value == "STEP_START"}
    assert len(pids) > 2  # steps ran in their own processes, not in the run's
    materialized = {e.asset_key.to_user_string() for e in events if e.event_type_value == "ASSET_MATERIALIZATION"}
    assert materialized == {f"raw/{t}" for t in COUNTS}
    checks = {(e.event_specific_data.asset_key.to_user_string(), e.event_specific_data.check_name)
              for e in events if e.event_type_value == "ASSET_CHECK_EVALUATION"}
    assert {c for _, c in checks} == {"reconciles", "ge_gates"} and len(checks) == 2 * len(COUNTS)


def test_rerun_is_byte_identical_and_unreadable_file_fails_only_its_asset(ingested):
    from pipelines.ingest.runner import IngestFailed, materialize

    before = fingerprint()
    materialize(years=[2023], progress=lambda m: None)
    assert fingerprint() == before
    # binary garbage replaces the population file: only raw/csp_population fails, the rest still loads
    (settings.landing_dir() / "csp" / "2023" / "iedzivotaji_2024.json").write_bytes(bytes(range(256)) * 4)
    with pytest.raises(IngestFailed) as err:
        materialize(years=[2023], feeds=["csp"], progress=lambda m: None)
    assert len(err.value.failures) == 1 and "raw__csp_population" in err.value.failures[0]
    assert "csp/2023/iedzivotaji_2024.json" in err.value.failures[0]
    assert err.value.summary["csp_wages"]["rows_read"] == 2
    assert fingerprint() == before  # the failed asset wrote nothing
