"""The open datasets' unsuppressed cells (open_data_cells.cells_*) on the hand country of hand_country.py, plus one
school added here: I4 (Jelgavas 4. sākumskola, municipality A, 2023 only) with one pupil P30 (S, grade 3) and no
data from its school system (no marks, no planned lessons, no absences): its rows in datasets 11 and 12 are
'not available'. Every expected number below is worked out BY HAND from the rows of hand_country.py and the
definitions in open_data/datasets/ (not from the SQL). Then the cross-dataset agreements: datasets over one
population (2/5, 3/6, 4/7) publish the same institution, municipality and country totals, and every count and
sum column of every dataset adds up along every hierarchy (institutions -> municipality -> country, and each
breakdown's members -> 'Kopā').

Notation: I1, I2, U, I4 in municipality A = Jelgava 0003000; I3 in B = Ludzas novads 0037000; N = country.
Sex: V male, S female. Programmes: BAS 21011111, SEC 31011011, PRE 01011111, VET 35481021.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.open_data import catalogue
from tests.conftest import set_data_dir
from tests.integration import hand_country as hc
from tests.integration.hand_country import I1, I2, I3, MUNI_A, MUNI_B, U, pid

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("dbt_hand_open_data")]

REPO = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).parent / "dbt"
I4 = "4313900005"
BAS, SEC, PRE, VET = "21011111", "31011011", "01011111", "35481021"
CAT = catalogue.load()
UNITS = {"I1": ("iestāde", MUNI_A, I1), "I2": ("iestāde", MUNI_A, I2), "I3": ("iestāde", MUNI_B, I3),
         "I4": ("iestāde", MUNI_A, I4), "U": ("iestāde", MUNI_A, U),
         "A": ("pašvaldība", MUNI_A, None), "B": ("pašvaldība", MUNI_B, None), "N": ("valsts", None, None)}
Y22, Y23 = "2022/2023", "2023/2024"


def _add_school_without_data(db: Path) -> None:
    """I4: a copy of I2 (vendor B, municipality A) in 2023 with one pupil, P30, and nothing from its system."""
    con = duckdb.connect(str(db))
    try:
        con.execute(f"""insert into raw.viis_institutions select * replace ('{I4}' as reg_nr,
            'Jelgavas 4. sākumskola' as nosaukums, '{I4}@iestades.example' as iestades_epasts)
            from raw.viis_institutions where reg_nr = '{I2}' and _school_year = 2023""")
        con.execute(f"""insert into raw.viis_programmes select * replace ('{I4}' as iestades_reg_nr)
            from raw.viis_programmes where iestades_reg_nr = '{I2}' and _school_year = 2023""")
        con.execute(f"""insert into raw.viis_learners select * replace ('{pid("P30")}' as personas_kods,
            'S' as dzimums, date '2015-03-01' as dzimsanas_datums)
            from raw.viis_learners where personas_kods = '{pid("P12")}' and _school_year = 2023""")
        con.execute(f"""insert into raw.viis_enrolments select * replace ('{pid("P30")}' as personas_kods,
            '{I4}' as iestades_reg_nr, 3 as klase, null as klases_id)
            from raw.viis_enrolments where personas_kods = '{pid("P12")}' and _school_year = 2023""")
    finally:
        con.close()


def _correct_a_birth_date(db: Path) -> None:
    """K01's 2023 VIIS record corrects the birth date to 1 Mar 2019 (2022's record says 1 Mar 2018): 2023 counts
    K01 at 4, 2022 keeps the age its own record gives (a later record never changes a published year)."""
    con = duckdb.connect(str(db))
    try:
        n = con.execute(f"""update raw.viis_learners set dzimsanas_datums = date '2019-03-01'
            where personas_kods = '{pid("K01")}' and _school_year = 2023""").fetchone()[0]
        assert n == 1
    finally:
        con.close()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """Hand country raw tables (+ I4) -> dbt build (seeds and models only) of the cells models and everything
    upstream -> dbt test of the cells models. Yields the warehouse path and the two dbt results."""
    from pipelines.indicators.generator import generate

    data = tmp_path_factory.mktemp("hand_open_data")
    old = os.environ.get("IKMS_DATA_DIR")
    set_data_dir(data)
    try:
        hc.build_raw(data / "warehouse.duckdb")
        _add_school_without_data(data / "warehouse.duckdb")
        _correct_a_birth_date(data / "warehouse.duckdb")
        generate()  # the project must parse: the indicator models are generated files
        env = {**os.environ, "IKMS_DATA_DIR": str(data), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        common = ["--profiles-dir", ".", "--target-path", str(data / "target"), "--log-path", str(data / "logs")]
        started = time.perf_counter()
        seeds_and_models = ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]
        select = ["--select", "+path:models/open_data/cells"]
        run = subprocess.run([str(DBT), "build", *select, *seeds_and_models, *common],
                             cwd=REPO / "dbt_project", env=env, capture_output=True, text=True)
        test = subprocess.run([str(DBT), "test", "--select", "path:models/open_data/cells", *common],
                              cwd=REPO / "dbt_project", env=env, capture_output=True, text=True)
        (data / "dbt.log").write_text(run.stdout + run.stderr + test.stdout + test.stderr, encoding="utf-8")
        print(f"dbt run + test: {time.perf_counter() - started:.1f}s (log {data / 'dbt.log'})")
        yield data / "warehouse.duckdb", run, test
    finally:
        if old is None:
            os.environ.pop("IKMS_DATA_DIR", None)
        else:
            os.environ["IKMS_DATA_DIR"] = old


@pytest.fixture(scope="module")
def con(warehouse):
    db, run, _ = warehouse
    assert run.returncode == 0, f"dbt run failed:\n{run.stdout[-3000:]}"
    c = duckdb.connect(str(db), read_only=True)
    yield c
    c.close()


def rows(con, number: int) -> list[dict]:
    d = CAT.dataset(number)
    cur = con.execute(f"select * from open_data_cells.{d.cells_model}")
    names = [x[0] for x in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def cell(con, number: int, year: str, unit: str, **dims) -> dict:
    """The one row of a dataset at a school year, unit (I1 .. N) and breakdown (missing dimensions = Kopā)."""
    d = CAT.dataset(number)
    level, muni, inst = UNITS[unit]
    want = {c.name: dims.get(c.name, catalogue.TOTAL) for c in d.columns if c.role == "dimension"}
    found = [r for r in rows(con, number)
             if r["macibu_gads"] == year and r["limenis"] == level and r["pasvaldibas_kods"] == muni
             and r["iestades_kods"] == inst and all(r[k] == v for k, v in want.items())]
    assert len(found) == 1, f"dataset {number} {year} {unit} {dims}: {len(found)} rows"
    return found[0]


def absent(con, number: int, year: str, unit: str, **dims) -> bool:
    d = CAT.dataset(number)
    level, muni, inst = UNITS[unit]
    want = {c.name: dims.get(c.name, catalogue.TOTAL) for c in d.columns if c.role == "dimension"}
    return not [r for r in rows(con, number)
                if r["macibu_gads"] == year and r["limenis"] == level and r["pasvaldibas_kods"] == muni
                and r["iestades_kods"] == inst and all(r[k] == v for k, v in want.items())]


def test_dbt_tests_of_the_cells_models_pass(warehouse):
    _, run, test = warehouse
    assert run.returncode == 0, run.stdout[-3000:]
    assert test.returncode == 0, test.stdout[-3000:]


# ---------------------------------------------------------------------------------- 3 / 6: general education
# On 1 Sep 2022: I1 P01 g1 S, P02 g3 V, P03 g5 S, P04 g9 V, P05 g9 S, P08 g7 V, P09 g8 V (BAS), P06 g12 V, P07 g12 S
# (SEC) = 9 (V 5, S 4); I2 P10 g2 S, P11 g4 V, P12 g6 S, P13 g9 V, P14 g9 S, P15 g1 V (BAS) = 6 (V 3, S 3);
# I3 P16 g1 V, P17 g4 S, P25 g9 V (BAS), P18 g10 V, P19 g11 S, P20 g12 V (SEC) = 6 (V 4, S 2).
# On 1 Sep 2023: I1 P01 g2 S, P02 g4 V (leaves in January), P03 g6 S, P08 g8 V, K02 g1 V, P21 g1 S (BAS), P04 g10 V
# (SEC) = 7; I2 P10 g3 S, P11 g5 V, P12 g7 S, P15 g1 V, P22 g1 V = 5 (P02 arrives in January); I3 P16 g2 V, P17 g5 S
# (BAS on 1 Sep; special programme from January), P23 g1 S (BAS), P18 g11 V, P19 g12 S, P13 g10 V (SEC) = 6;
# I4 P30 g3 S = 1.
LEARNERS_GENERAL = [  # (year, unit, dims, count)
    (Y22, "I1", {}, 9), (Y22, "I1", {"dzimums": "V"}, 5), (Y22, "I1", {"dzimums": "S"}, 4),
    (Y22, "I1", {"klase": "9"}, 2), (Y22, "I1", {"klase": "9", "dzimums": "S"}, 1), (Y22, "I1", {"klase": "12"}, 2),
    (Y22, "I2", {}, 6), (Y22, "I2", {"dzimums": "S"}, 3), (Y22, "I2", {"klase": "9"}, 2),
    (Y22, "I3", {}, 6), (Y22, "I3", {"dzimums": "V"}, 4), (Y22, "I3", {"klase": "12", "dzimums": "V"}, 1),
    (Y22, "A", {}, 15), (Y22, "A", {"klase": "9"}, 4), (Y22, "A", {"klase": "1"}, 2), (Y22, "A", {"dzimums": "V"}, 8),
    (Y22, "B", {}, 6), (Y22, "N", {}, 21), (Y22, "N", {"klase": "9"}, 5), (Y22, "N", {"klase": "12"}, 3),
    (Y22, "N", {"dzimums": "S"}, 9), (Y22, "N", {"klase": "1", "dzimums": "V"}, 2),
    (Y23, "I1", {}, 7), (Y23, "I1", {"klase": "1"}, 2), (Y23, "I1", {"klase": "1", "dzimums": "S"}, 1),
    (Y23, "I2", {}, 5), (Y23, "I2", {"klase": "1", "dzimums": "V"}, 2), (Y23, "I3", {}, 6),
    (Y23, "I4", {}, 1), (Y23, "I4", {"klase": "3", "dzimums": "S"}, 1),
    (Y23, "A", {}, 13), (Y23, "A", {"klase": "3"}, 2), (Y23, "B", {}, 6), (Y23, "N", {}, 19),
    (Y23, "N", {"klase": "1"}, 5), (Y23, "N", {"dzimums": "S"}, 9), (Y23, "N", {"dzimums": "V"}, 10),
]
GENERAL_PROGRAMMES = [
    (Y22, "I1", {}, 9), (Y22, "I1", {"programmas_kods": BAS}, 7), (Y22, "I1", {"programmas_kods": SEC}, 2),
    (Y22, "I2", {"programmas_kods": BAS}, 6), (Y22, "I3", {"programmas_kods": BAS}, 3),
    (Y22, "I3", {"programmas_kods": SEC}, 3), (Y22, "A", {"programmas_kods": BAS}, 13),
    (Y22, "N", {"programmas_kods": SEC}, 5), (Y22, "N", {}, 21),
    (Y23, "I1", {"programmas_kods": BAS}, 6), (Y23, "I1", {"programmas_kods": SEC}, 1),
    (Y23, "I3", {"programmas_kods": BAS}, 3), (Y23, "I3", {"programmas_kods": SEC}, 3),
    (Y23, "I4", {"programmas_kods": BAS}, 1), (Y23, "N", {"programmas_kods": BAS}, 15),
    (Y23, "N", {"programmas_kods": SEC}, 4), (Y23, "N", {}, 19),
]


@pytest.mark.parametrize("year, unit, dims, n", LEARNERS_GENERAL)
def test_learners_general(con, year, unit, dims, n):
    assert cell(con, 3, year, unit, **dims)["izglitojamo_skaits"] == n


@pytest.mark.parametrize("year, unit, dims, n", GENERAL_PROGRAMMES)
def test_general_programmes(con, year, unit, dims, n):
    r = cell(con, 6, year, unit, **dims)
    assert r["izglitojamo_skaits"] == n
    code = dims.get("programmas_kods")
    assert r["programma"] == {None: None, BAS: "Pamatizglītības programma",
                              SEC: "Vispārējās vidējās izglītības programma"}[code]


def test_no_cells_for_what_is_not_there(con):
    assert absent(con, 3, Y22, "U")                                   # the university has no pupils
    assert absent(con, 3, Y22, "I4")                                  # I4 exists only in 2023
    assert absent(con, 3, Y22, "I1", klase="2")                       # nobody in grade 2 at I1 in 2022
    assert absent(con, 6, Y23, "I3", programmas_kods="21015611")      # P17's special programme starts in January
    assert absent(con, 3, Y23, "I1", dzimums="N")                     # every learner's sex is known


def test_geography_columns(con):
    r = cell(con, 3, Y22, "I3")
    assert (r["pasvaldibas_kods"], r["pasvaldiba"], r["iestade"]) == (MUNI_B, "Ludzas novads", "Ludzas vidusskola")
    assert r["_row_key"] == f"{Y22}|iestāde|{MUNI_B}|{I3}|Kopā|Kopā"
    r = cell(con, 3, Y22, "A")
    assert (r["iestades_kods"], r["iestade"]) == (None, None)
    assert r["_row_key"] == f"{Y22}|pašvaldība|{MUNI_A}||Kopā|Kopā"
    r = cell(con, 3, Y23, "N", klase="1")
    assert (r["pasvaldibas_kods"], r["pasvaldiba"], r["_row_key"]) == (None, None, f"{Y23}|valsts|||1|Kopā")


# ------------------------------------------------------------------------------- 2 / 5, 4 / 7: pre-school, VET
def test_preschool(con):
    # 2022: K01 (S, born 1 Mar 2018: 4 on 1 Sep 2022), K02 (V, born 1 Mar 2016: 6) at I1; 2023: K01, whose 2023
    # record says born 1 Mar 2019 (_correct_a_birth_date): 4 on 1 Sep 2023; K02 in grade 1
    assert cell(con, 2, Y22, "I1")["izglitojamo_skaits"] == 2
    assert cell(con, 2, Y22, "I1", vecums="4", dzimums="S")["izglitojamo_skaits"] == 1
    assert cell(con, 2, Y22, "N", vecums="6")["izglitojamo_skaits"] == 1
    assert absent(con, 2, Y22, "I1", vecums="5") and absent(con, 2, Y22, "I1", vecums="3")
    assert cell(con, 2, Y23, "A", vecums="4")["izglitojamo_skaits"] == 1
    assert absent(con, 2, Y23, "A", vecums="5")
    assert cell(con, 2, Y23, "N")["izglitojamo_skaits"] == 1
    assert cell(con, 5, Y22, "I1", programmas_kods=PRE)["izglitojamo_skaits"] == 2
    assert cell(con, 5, Y23, "N", programmas_kods=PRE)["izglitojamo_skaits"] == 1
    assert absent(con, 2, Y22, "I2") and absent(con, 5, Y22, "B")


def test_vocational(con):
    # 2022: V01 (S) course 1 at I3; 2023: P05 (S, completed grade 9 at I1) course 1, V01 course 2
    assert cell(con, 4, Y22, "I3", kurss="1")["izglitojamo_skaits"] == 1
    assert cell(con, 4, Y23, "I3")["izglitojamo_skaits"] == 2
    assert cell(con, 4, Y23, "B", kurss="2", dzimums="S")["izglitojamo_skaits"] == 1
    assert absent(con, 4, Y23, "I3", dzimums="V")
    assert cell(con, 7, Y23, "N", programmas_kods=VET)["izglitojamo_skaits"] == 2
    assert absent(con, 4, Y23, "A")


# ------------------------------------------------------------------------------------------------ 8 / 9: staff
def test_academic_staff(con):
    # U on 1 Sep 2022: A01 PROFESORS V 1.0, A02 LEKTORS S 0.5, A03 DOCENTS S 1.0 (leaves in June 2023);
    # 2023: A01, A02, A04 ASISTENTS V 1.0
    r = cell(con, 8, Y22, "U")
    assert (r["personu_skaits"], r["slodzes"]) == (3, 2.5)
    r = cell(con, 8, Y22, "N", dzimums="S")
    assert (r["personu_skaits"], r["slodzes"]) == (2, 1.5)
    r = cell(con, 8, Y23, "A", amats="ASISTENTS", dzimums="V")
    assert (r["personu_skaits"], r["slodzes"]) == (1, 1.0)
    r = cell(con, 8, Y23, "N", dzimums="V")
    assert (r["personu_skaits"], r["slodzes"]) == (2, 2.0)
    assert absent(con, 8, Y23, "U", amats="DOCENTS")


def test_teaching_staff(con):
    # 1 Sep 2022: I1 T01 PEDAGOGS S (MAT 0.5 + FIZ 0.25), T02 PEDAGOGS V 1.0, T03 PEDAGOGS S 1.0, T07 DIREKTORS S
    # 1.0, T08 PIRMSSKOLAS_SKOLOTAJS S 1.0 = 5 persons, 4.75 FTE; I2 T01 0.5, T04 1.2 = 2, 1.7; I3 T05 V 1.0, T06 S
    # 0.8 (T09 starts 1 Oct) = 2, 1.8. A = 7 persons (T01 in I1 and in I2), 6.45. 2023: I1 T01 0.75, T02 1.0,
    # T10 1.0, T07 1.0, T08 1.0 = 5, 4.75; I2 2, 1.7; I3 T05, T06, T09 V 0.5 = 3, 2.3; N = 10, 8.75.
    def get(year, unit, **dims):
        r = cell(con, 9, year, unit, **dims)
        return r["personu_skaits"], round(r["slodzes"], 10)
    assert get(Y22, "I1") == (5, 4.75)
    assert get(Y22, "I1", amats="PEDAGOGS") == (3, 2.75)
    assert get(Y22, "I1", amats="PEDAGOGS", dzimums="S") == (2, 1.75)
    assert get(Y22, "I2") == (2, 1.7)
    assert get(Y22, "I3", dzimums="V") == (1, 1.0)
    assert get(Y22, "A") == (7, 6.45)
    assert get(Y22, "N") == (9, 8.25)
    assert get(Y22, "N", amats="DIREKTORS") == (1, 1.0)
    assert get(Y23, "I3") == (3, 2.3)
    assert get(Y23, "N") == (10, 8.75)
    assert get(Y23, "N", dzimums="V") == (3, 2.5)
    assert absent(con, 9, Y22, "U")   # university staff are not teaching staff


# ------------------------------------------------------------------------------------------- 11: year-end marks
# Numeric YEAR marks per learner-year (nv, i, levels, semester/term marks ignored). 2022: I1 P03 S 7 8, P04 V 9 10,
# P05 S 6, P08 V 4 5 (BAS), P06 V 5 6, P07 S 3 7 (SEC) -> 6 learners, 11 marks, sum 70, below 4: P07; I2 P11 V 8 9,
# P12 S 2, P13 V 6 7 (BAS) -> 3, 5 marks, sum 32, below 4: P12; I3 P17 S 10 9, P25 V 6 7 (BAS), P18 V 5 4, P19 S 8 8,
# P20 V 1 (SEC) -> 5, 9 marks, sum 58, below 4: P20. 2023: I1 P03 S 6 7, P08 V 3 (BAS), P04 V 8 9 (SEC) -> 3, 5, 33,
# below: P08; I2 P11 V 7 7, P12 S 4 5, P02 V 10 8 -> 3, 6, 41, none below; I3 P17 S 9 9 (BAS on 1 Sep), P19 S 7 6,
# P18 V 2 3, P13 V 5 (SEC) -> 4, 7, 41, below: P18.
GRADES = [  # (year, unit, dims, learners, marks sum, marks, insufficient)
    (Y22, "I1", {}, 6, 70, 11, 1), (Y22, "I1", {"programmas_kods": SEC}, 2, 21, 4, 1),
    (Y22, "I1", {"programmas_kods": BAS, "dzimums": "V"}, 2, 28, 4, 0), (Y22, "I2", {}, 3, 32, 5, 1),
    (Y22, "I3", {}, 5, 58, 9, 1), (Y22, "I3", {"dzimums": "S"}, 2, 35, 4, 0),
    (Y22, "A", {}, 9, 102, 16, 2), (Y22, "N", {}, 14, 160, 25, 3), (Y22, "N", {"programmas_kods": SEC}, 5, 47, 9, 2),
    (Y23, "I1", {}, 3, 33, 5, 1), (Y23, "I2", {}, 3, 41, 6, 0), (Y23, "I3", {}, 4, 41, 7, 1),
    (Y23, "I3", {"programmas_kods": BAS}, 1, 18, 2, 0), (Y23, "A", {}, 6, 74, 11, 1),
    (Y23, "N", {}, 10, 115, 18, 2), (Y23, "N", {"dzimums": "S"}, 4, 53, 8, 0),
]


@pytest.mark.parametrize("year, unit, dims, n, total, marks, insufficient", GRADES)
def test_grades(con, year, unit, dims, n, total, marks, insufficient):
    r = cell(con, 11, year, unit, **dims)
    assert r["izglitojamo_skaits"] == n and r["nepietiekami"] == insufficient and r["_not_available"] is False
    assert r["videjais_vertejums"] == pytest.approx(total / marks, rel=1e-12)
    assert r["nepietiekamo_ipatsvars"] == pytest.approx(100 * insufficient / n, rel=1e-12)


def test_grades_not_available(con):
    """I4 sent no marks: one institution row, every value NULL and _not_available; A's totals do not include it."""
    r = cell(con, 11, Y23, "I4")
    assert r["_not_available"] is True
    values = ("izglitojamo_skaits", "videjais_vertejums", "nepietiekami", "nepietiekamo_ipatsvars")
    assert [r[c] for c in values] == [None] * 4
    assert absent(con, 11, Y23, "I4", dzimums="S")
    flagged = [r for r in rows(con, 11) if r["_not_available"]]
    assert [(r["macibu_gads"], r["iestades_kods"]) for r in flagged] == [(Y23, I4)]


# ---------------------------------------------------------------------------------------------- 12: absences
# Learner-years with at least one missed lesson (illness, other justified, unexcused). 2022: I1 P03 S 12/0/0,
# P04 V 0/0/2, P08 V 30/0/25, P09 V 0/10/0 (all BAS) -> 4 learners, 79 = 42 + 10 + 27; I2 P10 S 12/0/0, P12 S 0/4/5,
# P14 S 0/0/6 -> 3, 27 = 12 + 4 + 11; I3 P16 V 0/3/0 (BAS), P18 V 0/0/21, P20 V 5/0/0 (SEC) -> 3, 29 = 5 + 3 + 21.
# 2023: I1 P02 V 0/0/6, P08 V 11/0/0, P21 S 0/4/0 -> 3, 21; I2 P02 V 6/0/0, P22 V 0/0/21, P10 S 0/5/0 -> 3, 32;
# I3 P19 S 50/0/0, P13 V 0/0/20 (SEC) -> 2, 70. N 2023: 8 learner-years (P02 at I1 and at I2), 123.
ABSENCES = [  # (year, unit, dims, learners, total, illness, other, unexcused)
    (Y22, "I1", {}, 4, 79, 42, 10, 27), (Y22, "I1", {"dzimums": "V"}, 3, 67, 30, 10, 27),
    (Y22, "I2", {}, 3, 27, 12, 4, 11), (Y22, "I3", {}, 3, 29, 5, 3, 21),
    (Y22, "I3", {"programmas_kods": SEC}, 2, 26, 5, 0, 21), (Y22, "A", {}, 7, 106, 54, 14, 38),
    (Y22, "N", {}, 10, 135, 59, 17, 59), (Y22, "N", {"programmas_kods": BAS, "dzimums": "S"}, 4, 39, 24, 4, 11),
    (Y23, "I1", {}, 3, 21, 11, 4, 6), (Y23, "I2", {}, 3, 32, 6, 5, 21), (Y23, "I3", {}, 2, 70, 50, 0, 20),
    (Y23, "A", {}, 6, 53, 17, 9, 27), (Y23, "N", {}, 8, 123, 67, 9, 47),
    (Y23, "N", {"dzimums": "V"}, 5, 64, 17, 0, 47),
]


@pytest.mark.parametrize("year, unit, dims, n, total, illness, other, unexcused", ABSENCES)
def test_absences(con, year, unit, dims, n, total, illness, other, unexcused):
    r = cell(con, 12, year, unit, **dims)
    assert (r["izglitojamo_skaits"], r["kavetas_stundas"], r["kavetas_stundas_slimiba"],
            r["kavetas_stundas_citi_attaisnoti"], r["kavetas_stundas_neattaisnoti"]) == \
        (n, total, illness, other, unexcused)
    assert r["kavetas_stundas_uz_izglitojamo"] == pytest.approx(total / n, rel=1e-12)
    assert r["_not_available"] is False


def test_absences_not_available(con):
    r = cell(con, 12, Y23, "I4")
    assert r["_not_available"] is True and r["izglitojamo_skaits"] is None and r["kavetas_stundas"] is None
    assert [(r["macibu_gads"], r["iestades_kods"]) for r in rows(con, 12) if r["_not_available"]] == [(Y23, I4)]


# ------------------------------------------------------------------------------------ 1 / 10: classifiers, register
def test_institutions(con):
    got = {(r["macibu_gads"], r["iestades_kods"]): r for r in rows(con, 10)}
    assert set(got) == {(y, i) for y in (Y22, Y23) for i in (I1, I2, I3, U)} | {(Y23, I4)}
    r = got[(Y22, I3)]  # pre-2021 ATVK 0680200 harmonised to Ludzas novads
    assert (r["iestade"], r["veids"], r["pasvaldibas_kods"], r["pasvaldiba"]) == \
        ("Ludzas vidusskola", "Vispārējās izglītības iestāde", MUNI_B, "Ludzas novads")
    assert (r["adrese"], r["platums"], r["garums"], r["likvidacijas_datums"]) == \
        ("RAIŅA IELA 3, LUDZA, LUDZAS NOVADS, LV-5701", 56.55, 27.72, None)
    assert got[(Y23, I3)]["pasvaldibas_kods"] == MUNI_B          # current sub-unit code 0037201 -> its unit
    assert got[(Y23, U)]["veids"] == "Augstākās izglītības iestāde" and got[(Y23, U)]["tips"] == "Augstskola"
    assert got[(Y22, I1)]["dibinatajs"] == "Jelgavas valstspilsētas pašvaldība"
    assert got[(Y22, I1)]["_row_key"] == f"{Y22}|{I1}"


def test_classifiers(con):
    import csv

    from pipelines.settings import SEEDS_DIR
    with open(SEEDS_DIR / "viis_classifiers.csv", encoding="utf-8") as f:
        seed = {(r["classifier"], r["code"]): (r["name_lv"], r["name_en"]) for r in csv.DictReader(f)}
    got = rows(con, 1)
    for year in (Y22, Y23):
        mine = {(r["klasifikators"], r["kods"]): (r["nosaukums"], r["nosaukums_en"]) for r in got
                if r["macibu_gads"] == year}
        assert mine == seed
    assert {r["macibu_gads"] for r in got} == {Y22, Y23}


# ------------------------------------------------------------------------------------ agreements and additivity
def _key(r: dict) -> tuple:
    return r["macibu_gads"], r["limenis"], r["pasvaldibas_kods"], r["iestades_kods"]


@pytest.mark.parametrize("by_breakdown, by_programme", [(2, 5), (3, 6), (4, 7)])
def test_datasets_over_one_population_share_their_totals(con, by_breakdown, by_programme):
    """Same population, same canonical cell (every dimension Kopā) -> same value, and the same rows exist."""
    def totals(number):
        d = CAT.dataset(number)
        dims = [c.name for c in d.columns if c.role == "dimension"]
        return {_key(r): r["izglitojamo_skaits"] for r in rows(con, number)
                if all(r[x] == catalogue.TOTAL for x in dims)}
    a, b = totals(by_breakdown), totals(by_programme)
    assert a and a == b


@pytest.mark.parametrize("number", [d.number for d in CAT.datasets if d.disclosure.population])
def test_every_count_and_sum_adds_up(con, number):
    """Along every hierarchy: institutions -> their municipality -> country, and each breakdown's members ->
    'Kopā' (the other dimensions fixed). Rows not available are left out of the totals by definition."""
    d = CAT.dataset(number)
    dims = [c.name for c in d.columns if c.role == "dimension"]
    values = [c.name for c in d.columns if c.role in ("count", "sum")]
    data = [r for r in rows(con, number) if not r.get("_not_available")]
    assert data
    index = {(_key(r), tuple(r[x] for x in dims)): r for r in data}
    # every row with all counts zero is omitted
    assert all(any(r[v] for v in values if d.column(v).role == "count") for r in data)
    checked = 0
    # geography: the parent of an institution row is its municipality row; of a municipality row, the country
    children: dict[tuple, list[dict]] = {}
    for r in data:
        y, level, muni, _ = _key(r)
        parent = {"iestāde": (y, "pašvaldība", muni, None), "pašvaldība": (y, "valsts", None, None)}.get(level)
        if parent:
            children.setdefault((parent, tuple(r[x] for x in dims)), []).append(r)
    for k, kids in children.items():
        parent = index[k]
        for v in values:
            assert sum(x[v] for x in kids) == pytest.approx(parent[v], abs=1e-9), (k, v)
        checked += 1
    # each breakdown dimension
    for i, dim in enumerate(dims):
        groups: dict[tuple, list[dict]] = {}
        for r in data:
            if r[dim] != catalogue.TOTAL:
                rest = tuple(r[x] if j != i else catalogue.TOTAL for j, x in enumerate(dims))
                groups.setdefault((_key(r), rest), []).append(r)
        for k, kids in groups.items():
            parent = index[k]
            for v in values:
                assert sum(x[v] for x in kids) == pytest.approx(parent[v], abs=1e-9), (k, dim, v)
            checked += 1
    assert checked > 10


def test_no_person_ids_in_cells(con):
    pseudonyms = {pid(k) for k in hc.LEARNERS} | {pid(s[1]) for s in hc.STAFF}
    for d in CAT.datasets:
        for r in rows(con, d.number):
            assert not pseudonyms & {str(v) for v in r.values()}, d.cells_model
