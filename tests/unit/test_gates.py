"""Quality gates: suites derived from the contracts, the YAML loader, the translation of every expectation kind
(DuckDB aggregate -> small frame -> GE expectation) on tiny hand-built tables, and the severity mapping onto
Dagster check results. Seconds (GE is imported once, ~3 s)."""
from __future__ import annotations

import duckdb
import pytest

from pipelines.common.contracts import entity
from pipelines.quality import suites as S


def test_contract_derivation_viis_institutions():
    exps = {e.id: e for e in S.contract_expectations(entity("viis", "institutions"))}
    assert exps["unique__reg_nr"].kind == "unique" and exps["unique__reg_nr"].param("columns") == ["reg_nr"]
    assert {"not_null__reg_nr", "not_null__nosaukums", "not_null__veids", "not_null__tips",
            "not_null__dibinataja_tips", "not_null__atvk"} <= set(exps)
    assert "not_null__adrese" not in exps  # not required in the contract
    assert exps["in_set__dibinataja_tips"].param("values") == ["PASVALDIBA", "VALSTS", "PRIVATS"]
    assert exps["in_set__sistema"].param("values") == ["A", "B"]
    assert exps["regex__atvk"].param("pattern") == "^[0-9]{7}$"
    # a classifier column takes its codes from seeds/viis_classifiers.csv
    assert len(exps["in_set__veids"].param("values")) > 1
    assert all(e.severity == "error" for e in exps.values())
    assert all(e.source == "models/contracts/viis.yaml" for e in exps.values())


def test_contract_derivation_references_ranges_and_personal_codes():
    exps = {e.id: e for e in S.contract_expectations(entity("viis", "enrolments"))}
    ref = exps["exists_in__iestades_reg_nr"]
    assert (ref.kind, ref.param("ref_table"), ref.param("ref_column")) == ("exists_in", "raw.viis_institutions", "reg_nr")
    assert exps["between__klase"].params == {"min": 1, "max": 12}
    assert exps["unique__personas_kods__iestades_reg_nr__programmas_kods__sakuma_datums"].kind == "unique"
    assert not any(e.kind == "regex" and e.column == "personas_kods" for e in exps.values())


def test_raw_suites_cover_every_table_with_yaml_additions():
    suites = {s.name: s for s in S.raw_suites()}
    from pipelines.common.contracts import all_entities

    assert len(suites) == len(all_entities()) and all(s.per_year and s.year_column == "_school_year" for s in suites.values())
    enr = suites["raw.viis_enrolments"]
    assert enr.expectation("row_change_error").severity == "error"
    assert enr.expectation("row_change_error").param("max_change_pct") == 60
    assert enr.expectation("row_change_warning").severity == "warning"
    assert enr.expectation("school_enrolment_change").kind == "institution_change"
    assert enr.expectation("enrolled_learner_known_mostly").param("max_pct") == 2
    assert suites["raw.vendor_a_grades"].expectation("vendor_school_has_grades").severity == "warning"
    whole = [s for s in S.all_suites() if not s.per_year]
    assert {"marts/fct_enrolments", "indicators/indicator_values"} <= {s.asset_key for s in whole}


def test_yaml_errors_name_file_and_entry(tmp_path, monkeypatch):
    (tmp_path / "raw.yaml").write_text("tables:\n  raw.viis_learners:\n    - {kind: no_such_kind}\n")
    monkeypatch.setenv("IKMS_EXPECTATIONS_DIR", str(tmp_path))
    with pytest.raises(ValueError, match=r"expectations/raw.yaml: raw.viis_learners\[0\]: unknown kind"):
        S.raw_suites()
    (tmp_path / "raw.yaml").write_text("tables:\n  raw.viis_learners:\n    - {kind: row_count, min: 1, severity: fatal}\n")
    with pytest.raises(ValueError, match="severity 'fatal'"):
        S.raw_suites()
    (tmp_path / "raw.yaml").write_text("tables:\n  raw.viis_learners:\n    - {kind: in_set, column: x}\n")
    with pytest.raises(ValueError, match=r"needs \['values'\]"):
        S.raw_suites()


# ---------------------------------------------------------------------------------------------- translation
def _e(kind, eid, severity="error", column=None, **params):
    return S.Expectation(id=eid, kind=kind, severity=severity, column=column, params=params)


@pytest.fixture(scope="module")
def tiny():
    """raw.t: 2022 has 5 rows, 2023 has 3 rows (a -40 % change); institutions 'A' (4 -> 1 pupils) and 'B'."""
    con = duckdb.connect()
    con.execute("CREATE SCHEMA raw")
    con.execute("""CREATE TABLE raw.t AS SELECT * FROM (VALUES
        (2022, 'A', 'p1', 'x', 3, '1234'), (2022, 'A', 'p2', 'y', 5, '1235'), (2022, 'A', 'p3', 'x', 5, '1236'),
        (2022, 'A', 'p4', 'x', 5, '1237'), (2022, 'B', 'p5', 'y', 5, '1238'),
        (2023, 'A', 'p1', 'x', 2, '1234'), (2023, 'B', 'p2', 'z', 14, '12a4'), (2023, 'B', 'p2', NULL, 5, '1235')
        ) v(_school_year, inst, person, code, grade, reg)""")
    con.execute("""CREATE TABLE raw.viis_institutions AS SELECT * FROM (VALUES
        (2023, 'A', 'A'), (2023, 'B', 'A'), (2023, 'C', 'A'), (2023, 'D', 'B')) v(_school_year, reg_nr, sistema)""")
    con.execute("CREATE TABLE raw.people AS SELECT * FROM (VALUES (2023, 'p1')) v(_school_year, person)")
    yield con
    con.close()


def _suite(*exps):
    return S.Suite(name="raw.t", asset_key="raw/t", table="raw.t", year_column="_school_year", per_year=True,
                   expectations=tuple(exps))


def _outcomes(con, suite, year=2023):
    from pipelines.quality import gates

    return {o.expectation.id: o for o in gates.validate(con, suite, year).outcomes}


def test_every_kind_on_a_tiny_table(tiny):
    suite = _suite(
        _e("unique", "uniq_person", columns=["person"]),             # p2 twice in 2023 -> 1 duplicate
        _e("unique", "uniq_row", columns=["person", "code"]),        # (p2, z) / (p2, NULL) differ -> 0
        _e("not_null", "nn_code", column="code"),                    # 1 null
        _e("not_null", "nn_inst", column="inst"),                    # 0
        _e("in_set", "codes", column="code", values=["x", "y"]),     # 'z' -> 1 row
        _e("between", "grade_range", column="grade", min=1, max=12),  # 14 -> 1 row
        _e("between", "grade_ok", column="grade", min=1, max=20),
        _e("regex", "reg_digits", column="reg", pattern="^[0-9]{4}$"),  # '12a4'
        _e("condition", "no_big", where="grade > 100"),
        _e("exists_in", "known_person", column="person", ref_table="raw.people", ref_column="person"),  # p2 x2
        _e("exists_in", "known_mostly", column="person", ref_table="raw.people", ref_column="person", max_pct=80),
        _e("row_count", "rows", min=1, max=3),
        _e("row_change", "change_warn", severity="warning", max_change_pct=20),   # -40 %
        _e("row_change", "change_err", max_change_pct=60),
        _e("institution_change", "inst_change", severity="warning", institution_column="inst",
           count="count(DISTINCT person)", max_change_pct=50, min_base=2),    # A: 4 -> 1 = -75 %; B below base
        _e("institution_has_rows", "has_rows", severity="warning", institution_column="inst",
           institutions_where="sistema = 'A'"),                               # C has none
    )
    o = _outcomes(tiny, suite)
    failed = {k for k, v in o.items() if not v.success}
    assert failed == {"uniq_person", "nn_code", "codes", "grade_range", "reg_digits", "known_person", "change_warn",
                      "inst_change", "has_rows"}
    assert o["uniq_person"].observed == "1" and o["nn_code"].observed == "1" and o["known_person"].observed.startswith("2 ")
    assert "['z']" in o["codes"].details and "['12a4']" in o["reg_digits"].details and "['14']" in o["grade_range"].details
    assert o["known_mostly"].success  # 2 of 3 rows = 66.7 % <= 80 %
    assert o["change_err"].success and "-40.0 % (5 -> 3 rows)" in o["change_warn"].details
    assert o["inst_change"].failing_keys == [("A", "inst_change: -75 (previous year 4, this year 1)")]
    assert [k for k, _ in o["has_rows"].failing_keys] == ["C"]


def test_first_year_has_no_change_and_passes(tiny):
    o = _outcomes(tiny, _suite(_e("row_change", "change_err", max_change_pct=60)), year=2022)
    assert o["change_err"].success and o["change_err"].observed == "no previous school year"


def test_row_change_not_across_a_structural_break(tiny):
    # 2022 -> 2023 is -40 %: judged by default, not when 2023 is declared a break (the 2021 reform's kind)
    o = _outcomes(tiny, _suite(_e("row_change", "judged", max_change_pct=20),
                               _e("row_change", "break", max_change_pct=20, not_across=[2023]),
                               _e("row_change", "other_break", max_change_pct=20, not_across=[2021])))
    assert not o["judged"].success
    assert o["break"].success and o["break"].observed == "no previous school year"
    assert not o["other_break"].success


def test_tables_per_territorial_unit_are_not_compared_across_the_2021_reform():
    # 119 municipalities in 2020, 43 from 2021: the csp tables per unit shrink by ~60 % by design
    for name in ("raw.csp_population", "raw.csp_wages"):
        for eid in ("row_change_warning", "row_change_error"):
            assert S.suite(name).expectation(eid).param("not_across") == [2021]
    assert S.suite("raw.viis_learners").expectation("row_change_error").param("not_across") is None


def test_sql_kind_whole_table(tiny):
    suite = S.Suite(name="raw.t_all", asset_key="raw/t", table="raw.t", year_column="_school_year", per_year=False,
                    expectations=(_e("sql", "rows_per_year", key="_school_year", value="count(*)", **{"from": "raw.t"},
                                     group_by="_school_year", min=4),))
    from pipelines.quality import gates

    r = gates.validate(tiny, suite, None)
    assert r.school_year is None
    (o,) = r.outcomes
    assert not o.success and [k for k, _ in o.failing_keys] == ["2023"]


# ---------------------------------------------------------------------------------------------- severity
def _result(*outcomes):
    from pipelines.quality.gates import ExpectationOutcome, SuiteResult

    suite = _suite(*[e for e, _ in outcomes])
    return SuiteResult(suite=suite, school_year=2023,
                       outcomes=[ExpectationOutcome(e, ok, "1", "" if ok else "bad") for e, ok in outcomes])


def test_severity_mapping_to_dagster_check_results():
    import dagster as dg

    from pipelines.defs.quality import check_result

    err, warn = _e("not_null", "a"), _e("row_change", "b", severity="warning", max_change_pct=20)
    ok = check_result(_result((err, True), (warn, True)))
    assert ok.passed and ok.check_name == "ge_gates" and ok.asset_key == dg.AssetKey(["raw", "t"])
    w = check_result(_result((err, True), (warn, False)))
    assert not w.passed and w.severity == dg.AssetCheckSeverity.WARN  # reported, does not block
    assert w.metadata["failed_warnings"].value == ["b"]
    e = check_result(_result((err, False), (warn, False)))
    assert not e.passed and e.severity == dg.AssetCheckSeverity.ERROR  # blocks downstream
    assert e.metadata["failed_errors"].value == ["a"]


def test_gate_checks_are_blocking_and_partitioned_like_their_assets():
    from pipelines.defs.quality import RAW_SPECS, WAREHOUSE_SPECS
    from pipelines.defs.ingest.partitions import school_years

    from pipelines.common.contracts import all_entities

    assert len(RAW_SPECS) == len(all_entities()) and all(s.blocking for s in RAW_SPECS + WAREHOUSE_SPECS)
    assert all(s.partitions_def == school_years for s in RAW_SPECS)
    assert all(s.partitions_def is None for s in WAREHOUSE_SPECS)


def test_each_raw_gate_runs_in_one_op_and_institutions_before_the_tables_that_reference_it():
    import dagster as dg

    from pipelines.defs.ingest.gates import RAW_GATE_CHECKS, RAW_SPECS

    ops = {spec.asset_key: c.node_def.name for c in RAW_GATE_CHECKS for spec in c.check_specs}
    assert len(ops) == len(RAW_SPECS)  # every gate in exactly one op
    assert ops[dg.AssetKey(["raw", "viis_institutions"])] == "raw_quality_gates_institutions"
    assert ops[dg.AssetKey(["raw", "viis_enrolments"])] == "raw_quality_gates_viis"
    assert ops[dg.AssetKey(["raw", "vendor_a_absences"])] == "raw_quality_gates_vendor_a"
    assert ops[dg.AssetKey(["raw", "vendor_b_grades"])] == "raw_quality_gates_vendor_b"
    assert ops[dg.AssetKey(["raw", "csp_wages"])] == "raw_quality_gates"
    assert ops[dg.AssetKey(["raw", "viis_learners"])] == "raw_quality_gates"


def test_the_school_system_files_wait_for_the_institutions_step_and_gate_not_for_the_whole_extract():
    """The ingest job's plan: raw/viis_institutions is a step of its own; the school-system files and the rest
    of the registry extract start after it and its gate (they check against it), not after each other."""
    from dagster._core.execution.api import create_execution_plan

    from pipelines.defs.ingest.jobs import resolved_job

    plan = create_execution_plan(resolved_job(), run_config={"execution": {"config": {"in_process": {}}}},
                                 tags={"dagster/partition": "2023"})
    order = plan.get_all_step_deps()
    assert order["raw_quality_gates_institutions"] == {"raw__viis_institutions"}
    for step in ("raw__vendor_a_absences", "raw__vendor_b_grades", "raw__viis__viis_izraksts"):
        assert order[step] == {"raw__viis_institutions", "raw_quality_gates_institutions"}, (step, order[step])
    assert order["raw__csp_wages"] == set() and order["raw__viis_institutions"] == set()


def test_the_ingest_path_does_not_import_dbt():
    """`ikms ingest` (the runner and the raw gates) must not pay dbt's import (~5 s per process): the raw gates
    live in pipelines.defs.ingest.gates, apart from the warehouse gates over the dbt assets."""
    import subprocess
    import sys

    code = ("import sys, pipelines.ingest.runner, pipelines.defs.ingest.gates, pipelines.defs.ingest.assets; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dbt', 'dagster_dbt')))")
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    from pipelines.defs.ingest.gates import RAW_SPECS, raw_quality_gates
    from pipelines.defs.quality import quality_checks

    assert raw_quality_gates in quality_checks and len(RAW_SPECS) > 0  # the same check, defined once
