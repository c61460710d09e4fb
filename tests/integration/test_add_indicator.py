"""Adding an indicator needs no Python change: in a temporary copy of the repository's dbt project, seeds and
catalogue, add one YAML entry with its SELECT, generate, run dbt on a tiny warehouse written here, and find the
new indicator's values (hand-computed) at institution, municipality and national level."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.common.contracts import all_entities
from pipelines.indicators import generate
from pipelines.ingest.load import QUARANTINE_DDL, ensure_tables
from pipelines.settings import PROJECT_ROOT

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("dbt_add")]

DBT = Path(sys.executable).parent / "dbt"

NEW_ENTRY = """\
id: EARLY_GRADES_SHARE
name_lv: Sākumskolas (1.–3. klase) skolēnu īpatsvars
name_en: Share of pupils in grades 1-3
domain: 4
definition: >
  Pupils in grades 1-3 on the reference date of school year t divided by all pupils (grades 1-12) on that
  date, x 100.
unit: percent
direction: neutral
reference: test entry (added by tests/integration/test_add_indicator.py)
grain: institution
dimensions: [sex]
aggregation: ratio
min_denominator: 1
sql: |
  select
      school_year, institution_id, sex,
      count(*) filter (where grade <= 3) as numerator,
      count(*) as denominator
  from {{ ref('fct_enrolments') }}
  where grade between 1 and 12
  group by all
unit_test:
  given:
    - input: ref('fct_enrolments')
      rows:
        - {school_year: 2023, institution_id: 'X', learner_id: a, sex: F, grade: 1}
        - {school_year: 2023, institution_id: 'X', learner_id: b, sex: F, grade: 8}
  expect:
    rows:
      - {school_year: 2023, institution_id: 'X', sex: F, numerator: 1, denominator: 2}
"""

# Three general schools: A and B in Rīga (0001000), C in Daugavpils (0002000).
INSTITUTIONS = {"4300000001": "0001000", "4300000002": "0001000", "4300000003": "0002000"}
# (year, learner, institution, grade, sex) — every spell open on 1 September.
PUPILS = [
    (2023, 1, "4300000001", 1, "S"), (2023, 2, "4300000001", 5, "V"), (2023, 3, "4300000001", 7, "S"),
    (2023, 4, "4300000001", 9, "V"),
    (2023, 5, "4300000002", 3, "S"),
    (2023, 6, "4300000003", 2, "V"), (2023, 7, "4300000003", 4, "V"),
    (2022, 1, "4300000001", 1, "S"), (2022, 8, "4300000003", 6, "S"),
]


def _pid(n: int) -> str:
    return f"{n:064x}"


def _write_warehouse(path: Path, years=(2022, 2023), pupils=PUPILS) -> None:
    con = duckdb.connect(str(path))
    con.execute(QUARANTINE_DDL)
    for entity in all_entities():
        ensure_tables(con, entity)
    for year in years:
        for reg_nr, atvk in INSTITUTIONS.items():
            con.execute(
                "insert into raw.viis_institutions (reg_nr, nosaukums, veids, tips, dibinataja_tips, dibinatajs, "
                "atvk, adreses_kods, darbibas_sakums, _school_year, _source_file, _source_line) values "
                "(?, ?, 'Vispārējās izglītības iestāde', 'Pamatskola', 'Pašvaldība', 'Pašvaldība', ?, NULL, "
                "DATE '2000-01-01', ?, 'test', 1)", [reg_nr, f"Skola {reg_nr[-1]}", atvk, year])
            con.execute(
                "insert into raw.viis_programmes (iestades_reg_nr, kods, nosaukums, programmas_veids, _school_year, "
                "_source_file, _source_line) values (?, '21011111', 'Pamatizglītība', 'PAMATIZGLITIBA', ?, 'test', 1)",
                [reg_nr, year])
    for year, learner, reg_nr, grade, sex in pupils:
        con.execute(
            "insert into raw.viis_learners (personas_kods, dzimums, dzimsanas_datums, _school_year, _source_file, "
            "_source_line) values (?, ?, ?, ?, 'test', 1)",
            [_pid(learner), sex, f"{year - grade - 6}-03-01", year])
        con.execute(
            "insert into raw.viis_enrolments (personas_kods, iestades_reg_nr, programmas_kods, klase, klases_id, "
            "sakuma_datums, beigu_datums, beigu_iemesls, _school_year, _source_file, _source_line) values "
            "(?, ?, '21011111', ?, ?, ?, NULL, NULL, ?, 'test', 1)",
            [_pid(learner), reg_nr, grade, f"{reg_nr}-{grade}", f"{year}-09-01", year])
    con.close()


def _dbt(project: Path, data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "IKMS_DATA_DIR": str(data_dir), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    result = subprocess.run([str(DBT), *args, "--profiles-dir", ".", "--log-path", str(project / "logs")],
                            cwd=project, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    return result


def test_new_catalogue_entry_builds_at_three_levels(tmp_path):
    # A copy laid out like the repository: <root>/dbt_project (seed-paths ../seeds), <root>/seeds, the catalogue.
    root = tmp_path / "repo"
    shutil.copytree(PROJECT_ROOT / "dbt_project", root / "dbt_project", ignore=shutil.ignore_patterns(
        "target*", "logs", "dbt_packages", "generated", ".user.yml"))
    shutil.copytree(PROJECT_ROOT / "seeds", root / "seeds")
    catalogue = root / "models" / "indicators"
    shutil.copytree(PROJECT_ROOT / "models" / "indicators", catalogue)
    (catalogue / "4_governance" / "EARLY_GRADES_SHARE.yaml").write_text(NEW_ENTRY, encoding="utf-8")

    files = generate(catalogue, root / "dbt_project" / "models" / "indicators" / "generated")
    assert any(f.endswith("ind_early_grades_share.sql") for f in files)

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    _write_warehouse(data_dir / "warehouse.duckdb")
    project = root / "dbt_project"
    # Upstream of the new indicator (seeds, staging, marts) without their data tests, which a 9-pupil country
    # is not meant to satisfy; then the new indicator with its unit test and data tests.
    _dbt(project, data_dir, "build", "--select", "+ind_early_grades_share", "--exclude", "ind_early_grades_share",
         "ind_early_grades_share__finest", "--exclude-resource-type", "test", "unit_test")
    out = _dbt(project, data_dir, "build", "--select", "ind_early_grades_share__finest", "ind_early_grades_share")
    assert "test_ind_early_grades_share__finest" in out.stdout  # the entry's dbt unit test ran

    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    rows = con.execute(
        "select level, unit_code, school_year, sex, numerator, denominator, value "
        "from indicators.ind_early_grades_share where grade = '_Z' and subject = '_Z'").fetchall()
    con.close()
    got = {(lv, unit, year, sex): (num, den, val) for lv, unit, year, sex, num, den, val in rows}
    expect = {
        ("institution", "4300000001", 2023, "_T"): (1, 4, 25.0),
        ("institution", "4300000002", 2023, "_T"): (1, 1, 100.0),
        ("institution", "4300000003", 2023, "_T"): (1, 2, 50.0),
        # Rīga = (1 + 1) / (4 + 1) = 40 %, not the mean of its schools' 25 % and 100 %
        ("municipality", "0001000", 2023, "_T"): (2, 5, 40.0),
        ("municipality", "0002000", 2023, "_T"): (1, 2, 50.0),
        ("national", "LV", 2023, "_T"): (3, 7, 300 / 7),
        ("national", "LV", 2023, "F"): (2, 3, 200 / 3),
        ("national", "LV", 2023, "M"): (1, 4, 25.0),
        ("institution", "4300000001", 2023, "F"): (1, 2, 50.0),
        ("national", "LV", 2022, "_T"): (1, 2, 50.0),
        ("municipality", "0002000", 2022, "_T"): (0, 1, 0.0),
    }
    for key, (num, den, val) in expect.items():
        assert key in got, (key, sorted(got))
        assert got[key][:2] == (num, den), key
        assert got[key][2] == pytest.approx(val), key
    assert {k[0] for k in got} == {"institution", "municipality", "national"}

    # Materializing a new school year (incremental, var school_years) adds it and leaves earlier years unchanged.
    _write_warehouse(data_dir / "warehouse.duckdb", years=(2024,), pupils=[(2024, 9, "4300000002", 2, "V")])
    _dbt(project, data_dir, "build", "--select", "+ind_early_grades_share", "--exclude-resource-type", "test",
         "unit_test", "--vars", "{school_years: [2024]}")
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    after = con.execute(
        "select level, unit_code, school_year, sex, numerator, denominator, value "
        "from indicators.ind_early_grades_share where grade = '_Z' and subject = '_Z'").fetchall()
    con.close()
    after = {(lv, unit, year, sex): (num, den, val) for lv, unit, year, sex, num, den, val in after}
    assert {k: v for k, v in after.items() if k[2] < 2024} == got
    assert after[("national", "LV", 2024, "_T")] == (1, 1, 100.0)
