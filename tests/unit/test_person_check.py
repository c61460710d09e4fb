"""Bulk person check on a hand-written warehouse (the three marts tables the check reads, written directly):
every status, both code formats, every code check, a transfer between two schools, two places at once,
a stay continued across a completion, the CSV and XLSX paths and the template round trip.
The same check through ingest-level rows and dbt is in tests/integration/test_person_check.py."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import duckdb
import openpyxl
import polars as pl
import pytest

from pipelines.common import personal_codes as pc
from pipelines.persons import check, io as pio, xlsx
from pipelines.persons.template import CODE_SHEET, write_template
from tests.conftest import TEST_KEY_HEX

D = dt.date
KEY = bytes.fromhex(TEST_KEY_HEX)
G1, G2, M1, V1 = "4313900001", "4313900002", "4313900005", "4312900003"   # two schools, music school, VET
BAS, SEC, MUS, VET = "21011111", "31011011", "20V21201", "35481021"

# persons: the code (legacy codes have valid check digits: checked below) and their spells
A = "120308-21220"    # legacy: transfers G1 -> G2 in January 2024
B = "321234-56789"    # new format: completes grade 9 in June 2023 and continues in grade 10 at the same school
C = "010110-20010"    # legacy: drops out in March 2023, after completing pre-school earlier
E = "320000-11111"    # new format: general school + music school at the same time
F = "050515-23470"    # first enrolment only in September 2024
UNKNOWN = "329999-00001"
BAD_CHECKSUM = A[:-1] + str((int(A[-1]) + 1) % 10)
BAD_DATE = "310208-21290"   # 31 February
MALFORMED = "12-0308"
SPELLS = [  # code, year, institution, programme, kind, grade, course, start, end, reason
    (A, 2022, G1, BAS, "PAMATIZGLITIBA", 3, None, D(2022, 9, 1), D(2023, 8, 31), "PAREJA"),
    (A, 2023, G1, BAS, "PAMATIZGLITIBA", 4, None, D(2023, 9, 1), D(2024, 1, 12), "PARCELTS"),
    (A, 2023, G2, BAS, "PAMATIZGLITIBA", 4, None, D(2024, 1, 15), None, None),
    (B, 2022, G1, BAS, "PAMATIZGLITIBA", 9, None, D(2022, 9, 1), D(2023, 6, 14), "PABEIGTS"),
    (B, 2023, G1, SEC, "VIDEJA", 10, None, D(2023, 9, 1), None, None),
    (C, 2021, G2, "01011111", "PIRMSSKOLA", None, None, D(2021, 9, 1), D(2022, 8, 31), "PABEIGTS"),
    (C, 2022, G2, BAS, "PAMATIZGLITIBA", 1, None, D(2022, 9, 1), D(2023, 3, 10), "ATSKAITITS_NESEKMIBA"),
    (E, 2023, M1, MUS, "INTERESU", None, None, D(2023, 9, 1), None, None),
    (E, 2023, G2, BAS, "PAMATIZGLITIBA", 6, None, D(2023, 9, 4), None, None),
    (F, 2024, G1, BAS, "PAMATIZGLITIBA", 1, None, D(2024, 9, 1), None, None),
]
NAMES = {G1: "Jelgavas 1. vidusskola", G2: "Jelgavas 2. pamatskola", M1: "Jelgavas Mūzikas skola",
         V1: "Ludzas tehnikums"}
PROGRAMMES = {BAS: "Pamatizglītības programma", SEC: "Vispārējās vidējās izglītības programma",
              MUS: "Taustiņinstrumentu spēle", VET: "Profesionālā programma", "01011111": "Pirmsskola"}


def pseudonym(code: str) -> str:
    return hmac.new(KEY, code.encode(), hashlib.sha256).hexdigest()[:16]  # the ingest's 64-bit pseudonym


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE TABLE marts.fct_enrolment_spells (school_year INTEGER, learner_id VARCHAR, "
                "institution_id VARCHAR, programme_code VARCHAR, programme_kind VARCHAR, grade INTEGER, "
                "course INTEGER, class_id VARCHAR, start_date DATE, end_date DATE, end_reason VARCHAR)")
    con.executemany("INSERT INTO marts.fct_enrolment_spells VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)",
                    [(y, pseudonym(c), i, p, k, g, cr, s, e, r) for (c, y, i, p, k, g, cr, s, e, r) in SPELLS])
    con.execute("CREATE TABLE marts.dim_institutions (school_year INTEGER, institution_id VARCHAR, "
                "institution_name VARCHAR)")
    con.executemany("INSERT INTO marts.dim_institutions VALUES (?, ?, ?)",
                    [(y, i, n) for y in range(2021, 2025) for i, n in NAMES.items()])
    con.execute("CREATE TABLE marts.dim_programmes (programme_code VARCHAR, programme_name VARCHAR)")
    con.executemany("INSERT INTO marts.dim_programmes VALUES (?, ?)", list(PROGRAMMES.items()))
    con.close()
    return path


def run(codes: list[str | None], date: dt.date, warehouse) -> list[dict]:
    frame = pl.DataFrame({"row": list(range(2, len(codes) + 2)), "code_given": codes},
                         schema={"row": pl.Int64, "code_given": pl.Utf8})
    out, _ = check.statuses(frame, date, warehouse=warehouse, key=KEY)
    return out.to_dicts()


def test_the_hand_codes_are_what_they_claim():
    errors = pc.check([A, B, C, E, F, UNKNOWN, BAD_CHECKSUM, BAD_DATE, MALFORMED])
    assert errors == [None] * 6 + [pc.RULE_CHECKSUM, pc.RULE_DATE, pc.RULE_FORMAT]


def test_code_checks_and_formats():
    frame = pl.DataFrame({"code_given": [A, A.replace("-", ""), f"  {B} ", B.replace("-", ""), BAD_CHECKSUM,
                                         BAD_DATE, MALFORMED, "", None, "0" + A.replace("-", "")[1:]]})
    got = check.validate(frame)
    assert got["code_error"].to_list() == [None, None, None, None, pc.RULE_CHECKSUM, pc.RULE_DATE,
                                           pc.RULE_FORMAT, check.RULE_EMPTY, check.RULE_EMPTY, pc.RULE_CHECKSUM]
    assert got["code_format"].to_list()[:4] == ["legacy", "legacy", "new", "new"]
    assert got["code"].to_list()[:4] == [A, A, B, B]
    # a legacy code whose leading zero a spreadsheet dropped (10 digits) is read with the zero put back
    assert check.validate(pl.DataFrame({"code_given": [C.replace("-", "")[1:]]}))["code"].item() == C


def test_pseudonyms_are_the_ingests(warehouse):
    con = check.connect(warehouse)
    try:
        check.pseudonymise_into(con, pl.DataFrame({"i": [0, 1], "code": [A, B]}), KEY)
        got = dict(con.execute("SELECT i, learner_id FROM inp").fetchall())
    finally:
        con.close()
    assert got == {0: pseudonym(A), 1: pseudonym(B)}
    with pytest.raises(ValueError):  # nothing but validated codes reaches the SQL text
        check.pseudonymise_into(duckdb.connect(), pl.DataFrame({"i": [0], "code": ["1'; DROP"]}), KEY)


def test_transfer_between_two_schools(warehouse):
    before, gap, after = (run([A], d, warehouse)[0] for d in (D(2023, 12, 1), D(2024, 1, 13), D(2024, 2, 1)))
    assert before["statusa_kods"] == "enrolled" and before["iestades_reg_nr"] == G1
    assert before["macas_kops"] == D(2022, 9, 1)          # the stay at G1 runs across the summer
    assert (before["klase"], before["programmas_kods"], before["iestades_nosaukums"]) == (4, BAS, NAMES[G1])
    assert gap["statusa_kods"] == "left" and gap["beigu_iemesla_kods"] == "PARCELTS"
    assert gap["beigu_datums"] == D(2024, 1, 12) and gap["beigu_iestades_reg_nr"] == G1
    assert gap["nakamo_macibu_sakums"] == D(2024, 1, 15)
    assert gap["beigu_iemesls"] == "Pārcelts uz citu izglītības iestādi"
    assert after["statusa_kods"] == "enrolled" and after["iestades_reg_nr"] == G2
    assert after["macas_kops"] == D(2024, 1, 15) and after["macibu_vietu_skaits"] == 1


def test_completer_and_continuing_stay(warehouse):
    summer, autumn = run([B], D(2023, 7, 1), warehouse)[0], run([B], D(2023, 10, 1), warehouse)[0]
    assert summer["statusa_kods"] == "completed" and summer["statuss"] == "pabeidzis"
    assert (summer["pabeigta_programma_kods"], summer["pabeigsanas_datums"]) == (BAS, D(2023, 6, 14))
    assert summer["pabeigsanas_iestades_reg_nr"] == G1 and summer["nakamo_macibu_sakums"] == D(2023, 9, 1)
    assert autumn["statusa_kods"] == "enrolled" and autumn["programmas_kods"] == SEC and autumn["klase"] == 10
    assert autumn["macas_kops"] == D(2022, 9, 1)          # completion + next stage at the same school: one stay
    assert autumn["pabeigta_programma_kods"] == BAS       # the latest completion is shown whatever the status
    assert autumn["beigu_iemesla_kods"] is None


def test_leaver_keeps_earlier_completion(warehouse):
    r = run([C], D(2023, 5, 1), warehouse)[0]
    assert r["statusa_kods"] == "left" and r["beigu_iemesla_kods"] == "ATSKAITITS_NESEKMIBA"
    assert r["beigu_datums"] == D(2023, 3, 10)
    assert (r["pabeigta_programma_kods"], r["pabeigsanas_datums"]) == ("01011111", D(2022, 8, 31))


def test_two_places_at_once(warehouse):
    r = run([E], D(2023, 10, 1), warehouse)[0]
    assert r["statusa_kods"] == "enrolled" and r["macibu_vietu_skaits"] == 2
    assert r["iestades_reg_nr"] == G2 and r["klase"] == 6   # formal education is the main enrolment
    assert r["citas_macibu_vietas"] == f"{M1} {NAMES[M1]}; {MUS} {PROGRAMMES[MUS]}; kopš 2023-09-01"
    only_music = run([E], D(2023, 9, 2), warehouse)[0]       # before the general school started
    assert only_music["iestades_reg_nr"] == M1 and only_music["citas_macibu_vietas"] is None


def test_not_found_and_invalid_in_input_order(warehouse):
    rows = run([UNKNOWN, F, BAD_CHECKSUM, BAD_DATE, MALFORMED, None, A.replace("-", "")], D(2023, 10, 1), warehouse)
    assert [r["statusa_kods"] for r in rows] == ["not_found", "not_found", "invalid_code", "invalid_code",
                                                 "invalid_code", "invalid_code", "enrolled"]
    assert rows[1]["nakamo_macibu_sakums"] == D(2024, 9, 1)
    assert [r["koda_kluda"] for r in rows[2:6]] == [check.CODE_ERRORS[k][0] for k in
                                                    (pc.RULE_CHECKSUM, pc.RULE_DATE, pc.RULE_FORMAT, check.RULE_EMPTY)]
    assert [r["rinda"] for r in rows] == list(range(2, 9))
    assert rows[6]["personas_kods"] == A.replace("-", "")    # echoed as given


def test_csv_in_and_out(warehouse, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text(f"Vārds;Personas_Kods\nx;{A}\n\ny; {B.replace('-', '')} \nz;{BAD_CHECKSUM}\n", encoding="utf-8")
    r = check.run_check(src, D(2023, 10, 1), tmp_path / "out.csv", warehouse=warehouse, key=KEY)
    out = pl.read_csv(tmp_path / "out.csv", infer_schema=False)
    assert out["rinda"].to_list() == ["2", "4", "5"]          # the file's own line numbers; the blank line skipped
    assert out["personas_kods"].to_list() == [A, f" {B.replace('-', '')} ", BAD_CHECKSUM]
    assert out["statusa_kods"].to_list() == ["enrolled", "enrolled", "invalid_code"]
    assert out["macas_kops"].to_list()[:2] == ["2022-09-01", "2022-09-01"]
    assert r.counts == {"enrolled": 2, "completed": 0, "left": 0, "not_found": 0, "invalid_code": 1}
    legend = pl.read_csv(check.legend_path(tmp_path / "out.csv"), infer_schema=False)
    assert set(check.OUTPUT_COLUMNS) <= set(legend["kolonna"].to_list())


def test_input_without_header_and_first_column(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text(f"{A},foo\n{B},bar\n", encoding="utf-8")
    got = pio.read_codes(src)
    assert got.to_dicts() == [{"row": 1, "code_given": A}, {"row": 2, "code_given": B}]
    src.write_text(f"nr,kods\n1,{A}\n", encoding="cp1257")
    assert pio.read_codes(src)["code_given"].to_list() == [A]


def test_template_round_trip(warehouse, tmp_path):
    tpl = write_template(tmp_path / "template.xlsx")
    wb = openpyxl.load_workbook(tpl)
    assert wb.sheetnames == [CODE_SHEET, "Instrukcija (Instructions)"]
    ws = wb[CODE_SHEET]
    assert ws["A1"].value == "personas_kods"
    instructions = " ".join(str(c.value) for row in wb.worksheets[1].iter_rows() for c in row if c.value)
    assert "personas kodus" in instructions and "personal codes" in instructions
    # the requester fills it in (as Excel would: strings, one number cell that lost its leading zero)
    ws["A2"], ws["A3"], ws["A4"], ws["A5"] = A, f" {B} ", int(C.replace("-", "")), UNKNOWN
    ws["B1"], ws["B2"] = "piezīmes", "any note"
    wb.save(tmp_path / "filled.xlsx")
    result = check.run_check(tmp_path / "filled.xlsx", D(2023, 5, 1), tmp_path / "result.xlsx",
                             warehouse=warehouse, key=KEY)
    out = openpyxl.load_workbook(tmp_path / "result.xlsx")
    assert out.sheetnames == ["Rezultāts", "Leģenda (Legend)"]
    rows = list(out["Rezultāts"].iter_rows(values_only=True))
    header = rows[0]
    assert list(header) == check.OUTPUT_COLUMNS
    got = [dict(zip(header, r)) for r in rows[1:]]
    assert [g["rinda"] for g in got] == [2, 3, 4, 5]
    assert [g["personas_kods"] for g in got] == [A, f" {B} ", C.replace("-", "")[1:], UNKNOWN]
    assert [g["statusa_kods"] for g in got] == ["enrolled", "enrolled", "left", "not_found"]
    assert got[0]["macas_kops"].date() == D(2022, 9, 1) and got[0]["iestades_nosaukums"] == NAMES[G1]
    legend = [r[0] for r in out["Leģenda (Legend)"].iter_rows(values_only=True)]
    assert "statusa_kods" in legend and "parbaudes_datums" in legend
    assert result.counts["left"] == 1


def test_xlsx_writer_reader_round_trip(tmp_path):
    df = pl.DataFrame({"s": ["a&b<c>", None, "ā ē ū", "x"], "n": [1, None, 3, 40],
                       "d": [D(2024, 1, 2), None, None, D(1999, 12, 31)]})
    path = xlsx.write_xlsx(tmp_path / "t.xlsx", [xlsx.Sheet("Lapa 1", df, autofilter=True)])
    ws = openpyxl.load_workbook(path)["Lapa 1"]
    assert [c.value for c in ws[2]][:2] == ["a&b<c>", 1] and ws["C2"].value.date() == D(2024, 1, 2)
    assert ws["A4"].value == "ā ē ū" and ws["B3"].value is None
    cells = xlsx.read_cells(path)["Lapa 1"]
    wide = xlsx.cells_to_rows(cells)
    assert wide["row"].to_list() == [1, 2, 4, 5]   # row 3 is empty: no cells
    assert wide["c0"].to_list() == ["s", "a&b<c>", "ā ē ū", "x"]
    assert wide["c1"].to_list() == ["n", "1", "3", "40"]
