"""Contract rules: first broken rule wins, all are listed, duplicates and overlaps quarantine the later row."""
from __future__ import annotations

import polars as pl

from pipelines.common.contracts import entity
from pipelines.common.pseudonymise import pseudonym
from pipelines.ingest.readers.base import LINE, MALFORMED
from pipelines.ingest.validate import FILE, MISSING_COLUMN, ORD, validate

KEY = bytes(range(32))


def frame(e, rows: list[dict]) -> pl.DataFrame:
    names = [c.name for c in e.stored_columns]
    df = pl.DataFrame([{n: r.get(n) for n in names} for r in rows], schema={n: pl.Utf8 for n in names})
    return df.with_columns(
        pl.Series(LINE, [r.get("_line", i + 2) for i, r in enumerate(rows)], dtype=pl.Int64),
        pl.Series(MALFORMED, [r.get("_malformed") for r in rows], dtype=pl.Utf8),
        pl.lit("f.csv").alias(FILE), pl.lit(None, pl.Utf8).alias(MISSING_COLUMN),
        pl.int_range(pl.len(), dtype=pl.Int64).alias(ORD))


ABS = {"iestades_reg_nr": "4212902579", "personas_kods": "321234-56789", "datums": "2024-10-02", "stunda": "3",
       "iemesls": "S", "ievadits": "2024-10-31 12:00:00"}


def run(rows, year=2024, institutions=("4212902579",), e=None):
    e = e or entity("vendor_a", "absences")
    return validate(e, frame(e, rows), year, KEY, list(institutions), {})


def test_each_rule_and_first_wins():
    rows = [
        ABS,
        {**ABS, "datums": "2024-10-03", "stunda": "x"},
        {**ABS, "datums": "2024-02-30"},
        {**ABS, "datums": "2024-10-04", "personas_kods": "010203-20008"},
        {**ABS, "datums": "2024-10-05", "iemesls": "Z", "stunda": "11"},
        {**ABS, "datums": "2025-10-01"},
        {**ABS, "datums": "2024-10-06", "iestades_reg_nr": "1111111111"},
        {**ABS, "datums": "2024-10-07", "personas_kods": " "},
        {**ABS, "_malformed": "3 fields, the header has 6", "stunda": "x"},
        dict(ABS),
        {**ABS, "iemesls": "N"},
        {**ABS, "datums": "2025-09-30", "ievadits": "2025-09-30T23:59:59"},
    ]
    v = run(rows)
    q = {r["_source_line"]: (r["rule"], r["rules"]) for r in v.quarantined.to_dicts()}
    assert q == {
        3: ("type_mismatch", "type_mismatch"), 4: ("invalid_date", "invalid_date"),
        5: ("personal_code_checksum", "personal_code_checksum"),
        6: ("unknown_code", "unknown_code,value_out_of_range"), 7: ("future_date", "future_date"),
        8: ("unknown_institution", "unknown_institution"), 9: ("missing_value", "missing_value"),
        10: ("malformed_record", "malformed_record"), 11: ("duplicate_row", "duplicate_row"),
        12: ("duplicate_key", "duplicate_key"),
    }
    assert v.loaded["_source_line"].to_list() == [2, 13]
    assert v.loaded.schema["stunda"] == pl.Int64 and v.loaded.schema["datums"] == pl.Date
    assert v.loaded.schema["ievadits"] == pl.Datetime("us")
    assert v.loaded["personas_kods"][0] == pseudonym("321234-56789", KEY)
    details = dict(zip(v.quarantined["_source_line"], v.quarantined["detail"]))
    assert details[6] == 'column iemesls: value "Z" is not in the code list'
    assert "010203" not in details[5]  # a personal code is never repeated in a detail


def test_quarantine_record_pseudonymises_raw_code_as_read_and_drops_names():
    e = entity("vendor_a", "grades")
    row = {"iestades_reg_nr": "4212902579", "personas_kods": " 01020320007", "klase": "5a", "prieksmets": "XXX",
           "periods": "GADA", "vertejums": "7", "ievadits": "2024-05-01 10:00"}
    v = validate(e, frame(e, [row]), 2023, KEY, ["4212902579"], {})
    rec = v.quarantined["record"][0]
    assert '"Personas kods":"' + pseudonym(" 01020320007", KEY) + '"' in rec
    assert "Vārds" not in rec and "01020320007" not in rec
    assert rec.startswith('{"Iestādes reģ. nr.":"4212902579"')


def test_types_decimal_comma_booleans_and_timestamps():
    e = entity("csp", "graduate_outcomes")
    rows = [{"personas_kods": "321234-56789", "absolvesanas_gads": "2023", "nodarbinats": "Jā", "ienakumi_gada": "1 200",
             "turpina_macities": "0", "emigrejis": "false"},
            {"personas_kods": "321234-56788", "absolvesanas_gads": "2023", "nodarbinats": "nē", "ienakumi_gada": "1200,5",
             "turpina_macities": "1", "emigrejis": "TRUE"}]
    v = validate(e, frame(e, rows), 2023, KEY, None, {})
    assert v.quarantined["rule"].to_list() == ["type_mismatch"]
    assert v.loaded.select("nodarbinats", "ienakumi_gada", "turpina_macities", "emigrejis").row(0) == (False, 1200.5, True, True)


def test_date_order_and_overlapping_enrolment():
    e = entity("viis", "enrolments")
    base = {"personas_kods": "321234-56789", "programmas_kods": "21011111", "klase": "5"}
    rows = [
        {**base, "iestades_reg_nr": "1000000001", "sakuma_datums": "2023-09-01", "beigu_datums": "2024-01-31"},
        {**base, "iestades_reg_nr": "1000000002", "sakuma_datums": "2024-02-01"},  # transfer next day: fine
        {**base, "iestades_reg_nr": "1000000003", "sakuma_datums": "2024-03-01", "beigu_datums": "2024-04-01"},
        {**base, "iestades_reg_nr": "1000000004", "sakuma_datums": "2023-09-01", "beigu_datums": "2023-08-01"},
        {**base, "iestades_reg_nr": "1000000005", "klase": None, "kurss": "1", "sakuma_datums": "2023-09-01"},
    ]
    v = validate(e, frame(e, rows), 2023, KEY, [f"100000000{i}" for i in range(1, 6)], {"BEIGU_IEMESLS": []})
    q = dict(zip(v.quarantined["_source_line"], v.quarantined["rule"]))
    assert q == {4: "overlapping_enrolment", 5: "date_order"}
    assert "1000000002" in v.quarantined.filter(pl.col("_source_line") == 4)["detail"][0]


def test_missing_column_quarantines_every_row_of_the_file():
    e = entity("vendor_a", "absences")
    f = frame(e, [ABS, {**ABS, "datums": "2024-10-03"}]).with_columns(pl.lit("the file has no column Stunda").alias(MISSING_COLUMN))
    v = validate(e, f, 2024, KEY, ["4212902579"], {})
    assert v.loaded.height == 0 and v.quarantined["rule"].to_list() == ["missing_column"] * 2
