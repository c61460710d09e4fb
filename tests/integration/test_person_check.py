"""Bulk person check through the real path: the issue-3 hand country's raw rows, with every person's pseudonym
computed by the ingest's HMAC from a real-format personal code (legacy codes from the birth dates, some
post-2017 codes), built by dbt into the marts, then `ikms person-check` (the CLI) on CSV and XLSX inputs.

Who (from tests/integration/hand_country.py): P02 transfers I1 -> I2 (left I1 on 12 Jan 2024, at I2 from 15 Jan);
P04 completes grade 9 at I1 on 14 Jun 2023 and is in grade 10 at I1 from September (one continuous stay);
P06 completes grade 12 at I1 on 20 Jun 2023 and studies at the university U from September; P09 drops out on
10 Mar 2023; P14 moves abroad on 1 Feb 2023; P17 changes programme inside I3 in January 2024 (one stay);
P21 first enrolled in September 2023. Added here: V01 (VET at I3) also studies at U from 1 Sep 2023.
"""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import openpyxl
import polars as pl
import pytest

from pipelines import cli
from pipelines.common import personal_codes as pc
from pipelines.common.contracts import all_entities
from pipelines.common.pseudonymise import pseudonym
from pipelines.ingest.load import raw_columns
from tests.conftest import TEST_KEY_HEX, set_data_dir
from tests.integration import hand_country as hc
from tests.integration.hand_country import I1, I2, I3, U

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("dbt_persons")]

REPO = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).parent / "dbt"
KEY = bytes.fromhex(TEST_KEY_HEX)
NEW_FORMAT = ("P02", "P06", "V01")   # these persons get post-2017 codes; everyone else a legacy code
D = dt.date


def _codes() -> dict[str, str]:
    rng = np.random.default_rng(7)
    keys = sorted(hc.LEARNERS)
    legacy = pc.make_legacy_codes(np.array([hc.LEARNERS[k][1] for k in keys], dtype="datetime64[D]"), rng)
    new = pc.make_new_codes(len(keys), rng)
    return {k: str(new[i] if k in NEW_FORMAT else legacy[i]) for i, k in enumerate(keys)}


CODES = _codes()


def _padded(rows: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """Contract columns added after the hand country was written (appended before the lineage) stay NULL."""
    widths = {e.table: len(raw_columns(e)) - 3 for e in all_entities()}
    return {t: [(*r[:-1], *([None] * (widths[t] + 1 - len(r))), r[-1]) for r in rs] for t, rs in rows.items()}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """hand raw rows (pseudonyms = HMAC of the codes) -> dbt build of the marts the check reads."""
    d = tmp_path_factory.mktemp("persons_hand")
    old = os.environ.get("IKMS_DATA_DIR")
    set_data_dir(d)
    original_pid, original_rows = hc.pid, hc.raw_rows
    hc.pid = lambda key: pseudonym(CODES[key], KEY) if key in CODES else original_pid(key)
    hc.raw_rows = lambda: _padded(original_rows())
    try:
        hc.build_raw(d / "warehouse.duckdb")
    finally:
        hc.pid, hc.raw_rows = original_pid, original_rows
    with duckdb.connect(str(d / "warehouse.duckdb")) as con:  # V01 also at the university from 1 Sep 2023
        con.execute(f"""INSERT INTO raw.viis_enrolments SELECT * REPLACE ('{U}' AS iestades_reg_nr,
            '{hc.BSC}' AS programmas_kods, 1 AS kurss, DATE '2024-08-31' AS beigu_datums, 'PAREJA' AS beigu_iemesls,
            _source_line + 1000 AS _source_line)
            FROM raw.viis_enrolments WHERE personas_kods = '{pseudonym(CODES["V01"], KEY)}' AND _school_year = 2023""")
    env = {**os.environ, "IKMS_DATA_DIR": str(d), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    started = time.perf_counter()
    build = subprocess.run(
        [str(DBT), "build", "--profiles-dir", ".", "--target-path", str(d / "target"), "--log-path", str(d / "logs"),
         "--select", "+fct_enrolment_spells", "+dim_institutions", "+dim_programmes",
         "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"],
        cwd=REPO / "dbt_project", env=env, capture_output=True, text=True)
    print(f"dbt build: {time.perf_counter() - started:.1f} s")
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-2000:]
    yield d
    if old is None:
        os.environ.pop("IKMS_DATA_DIR", None)
    else:
        os.environ["IKMS_DATA_DIR"] = old


def _check(data: Path, rows: list[str], date: str, suffix: str = ".csv") -> list[dict]:
    src = data / f"in_{date}{suffix}"
    if suffix == ".csv":
        pl.DataFrame({"personal_code": rows}).write_csv(src)
    else:
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.append(["kods"])
        for r in rows:
            ws.append([r])
        wb.save(src)
    out = data / f"out_{date}{suffix}"
    assert cli.main(["person-check", str(src), "--date", date, "--out", str(out)]) == 0
    if suffix == ".csv":
        return pl.read_csv(out, infer_schema=False).to_dicts()
    sheet = openpyxl.load_workbook(out).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    return [{k: (v.date().isoformat() if isinstance(v, dt.datetime) else None if v is None else str(v))
             for k, v in zip(values[0], r)} for r in values[1:]]


def test_statuses_through_the_real_path(data, capsys):
    c = CODES
    bad_checksum = c["P04"][:-1] + str((int(c["P04"][-1]) + 1) % 10)
    assert pc.check([bad_checksum]) == [pc.RULE_CHECKSUM]
    ask = [c["P02"], c["P04"].replace("-", ""), c["P06"], c["P09"], c["P14"], c["P17"], c["P21"], c["V01"],
           "329999-99999", bad_checksum, "310299-10000", "abc"]
    by_date = {d: _check(data, ask, d) for d in ("2023-07-01", "2023-12-01", "2024-01-13")}
    by_date["2024-02-01"] = _check(data, ask, "2024-02-01", ".xlsx")
    printed = capsys.readouterr().out
    assert "codes checked" in printed and not any(code in printed for code in c.values())  # no code in the log

    def status(d: str, who: int) -> dict:
        return by_date[d][who]

    for d, rows in by_date.items():
        assert [r["personas_kods"] for r in rows] == ask, d        # echoed as given, input order
        assert [r["statusa_kods"] for r in rows][8:] == ["not_found", "invalid_code", "invalid_code",
                                                          "invalid_code"]
        assert [r["koda_kluda"] for r in rows][9:] == ["nepareizs kontrolcipars",
                                                       "neiespējams dzimšanas datums kodā",
                                                       "nepareizs formāts (jābūt DDMMGG-CNNNK vai 32NNNN-NNNNN)"]
    # P02 (new-format code): in I1 since 2022 -> between schools -> in I2 since 15 January
    p = status("2023-12-01", 0)
    assert (p["statusa_kods"], p["iestades_reg_nr"], p["iestades_nosaukums"], p["klase"], p["macas_kops"]) == \
        ("enrolled", I1, "Jelgavas 1. vidusskola", "4", "2022-09-01")
    assert p["koda_formats"] == "32NNNN-NNNNN"
    p = status("2024-01-13", 0)
    assert (p["statusa_kods"], p["beigu_iemesla_kods"], p["beigu_datums"], p["beigu_iestades_reg_nr"],
            p["nakamo_macibu_sakums"]) == ("left", "PARCELTS", "2024-01-12", I1, "2024-01-15")
    p = status("2024-02-01", 0)
    assert (p["statusa_kods"], p["iestades_reg_nr"], p["iestades_nosaukums"], p["macas_kops"], p["klase"]) == \
        ("enrolled", I2, "Jelgavas 2. pamatskola", "2024-01-15", "4")
    # P04 (legacy code given without the hyphen): completed basic school, then grade 10 at the same school
    p = status("2023-07-01", 1)
    assert (p["statusa_kods"], p["pabeigta_programma_kods"], p["pabeigsanas_datums"],
            p["pabeigsanas_iestades_reg_nr"]) == ("completed", hc.BAS, "2023-06-14", I1)
    assert p["pabeigta_programma_nosaukums"] == "Pamatizglītības programma" and p["koda_formats"] == "DDMMGG-CNNNK"
    p = status("2023-12-01", 1)
    assert (p["statusa_kods"], p["programmas_kods"], p["klase"], p["macas_kops"], p["pabeigta_programma_kods"]) == \
        ("enrolled", hc.SEC, "10", "2022-09-01", hc.BAS)
    # P06: completed secondary -> university (course 1, since September)
    assert (status("2023-07-01", 2)["statusa_kods"], status("2023-07-01", 2)["pabeigta_programma_kods"]) == \
        ("completed", hc.SEC)
    p = status("2023-12-01", 2)
    assert (p["statusa_kods"], p["iestades_reg_nr"], p["kurss"], p["macas_kops"], p["programmas_veids"]) == \
        ("enrolled", U, "1", "2023-09-01", "AUGSTAKA")
    # P09 dropped out, P14 moved abroad
    p = status("2023-07-01", 3)
    assert (p["statusa_kods"], p["beigu_iemesla_kods"], p["beigu_datums"]) == \
        ("left", "ATSKAITITS_NESEKMIBA", "2023-03-10")
    p = status("2023-07-01", 4)
    assert (p["statusa_kods"], p["beigu_iemesla_kods"], p["beigu_iemesls"]) == \
        ("left", "IZBRAUCIS", "Izbraucis uz ārvalstīm")
    # P17: programme change inside I3 keeps the stay
    p = status("2024-02-01", 5)
    assert (p["statusa_kods"], p["iestades_reg_nr"], p["programmas_kods"], p["macas_kops"]) == \
        ("enrolled", I3, "21015611", "2022-09-01")
    # P21: first enrolled in September 2023
    p = _check(data, [c["P21"]], "2023-05-01")[0]
    assert (p["statusa_kods"], p["nakamo_macibu_sakums"]) == ("not_found", "2023-09-01")
    assert status("2023-12-01", 6)["statusa_kods"] == "enrolled"
    # V01: VET at I3 and the university at once: one row, HE as the main enrolment, VET in the other column
    p = status("2023-12-01", 7)
    assert (p["statusa_kods"], p["macibu_vietu_skaits"], p["iestades_reg_nr"]) == ("enrolled", "2", U)
    assert p["citas_macibu_vietas"] == (f"{I3} Ludzas vidusskola; {hc.VET} Profesionālās vidējās izglītības "
                                        "programma; 2. kurss; kopš 2022-09-01")


def test_the_check_writes_nothing_to_the_warehouse(data):
    before = (data / "warehouse.duckdb").stat().st_mtime_ns
    _check(data, [CODES["P02"]], "2023-12-01")
    assert (data / "warehouse.duckdb").stat().st_mtime_ns == before
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        tables = con.execute("SELECT table_schema || '.' || table_name FROM information_schema.tables").fetchall()
        hits = []
        for (t,) in tables:   # no raw code in any text column of any table
            cols = [r[0] for r in con.execute(f"SELECT column_name FROM information_schema.columns WHERE "
                                              f"table_schema || '.' || table_name = '{t}' AND data_type = 'VARCHAR'")
                    .fetchall()]
            for col in cols:
                n = con.execute(f'SELECT count(*) FROM {t.split(".")[0]}."{t.split(".")[1]}" WHERE "{col}" IN '
                                f"({', '.join(repr(v) for v in CODES.values())})").fetchone()[0]
                hits += [(t, col)] * bool(n)
    assert hits == []
