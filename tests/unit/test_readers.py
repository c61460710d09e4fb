"""Readers: lines where records start, blank lines, quoted line breaks, BOMs, encodings, truncation, XML paths."""
from __future__ import annotations

import json

import pytest

from pipelines.common.contracts import entity
from pipelines.ingest.files import UnreadableFile, decode
from pipelines.ingest.readers import read_bytes


def issues(r):
    return sorted(k for k, _ in r.issues)


def test_viis_public_multiline_field_doubled_bom_crlf_trailing_pipe():
    e = entity("viis_public", "institutions")
    head = "Nosaukums|Reģistrācijas numurs|Veids|Adrese|Tālrunis|"
    text = "\ufeff\ufeff" + "\r\n".join([head, '"A ""B"""|"1234567890"|"V"|"X"|"2"|', '"two', 'lines"|"1234567891"|"V"|""|""|',
                                          '"C"|"1234567892"|"V"|"Y"|""|']) + "\r\n"
    r = read_bytes(e, text.encode(), "f.txt")
    assert r.frame["_source_line"].to_list() == [2, 3, 5]
    assert r.frame["nosaukums"].to_list() == ['A "B"', "two\nlines", "C"]
    assert "talrunis" not in r.frame.columns  # dropped: never read into a frame
    assert sorted(r.absent) == ["deklaretais_dibinatajs", "faktiskais_dibinatajs", "filialu_skaits", "juridiskais_status",
                                "likvideta", "strukturvienibu_skaits", "tips"]
    assert "bom" not in issues(r)  # the contract expects the BOM


def test_blank_lines_wrong_field_count_and_truncation():
    e = entity("nva", "unemployed")
    text = "personas_kods,registracijas_datums,izslegsanas_datums,filiale\n\n321234-56789,2024-03-01,,R\n   \n1,2\n321234-56789,2024"
    r = read_bytes(e, text.encode(), "f.csv")
    assert r.frame["_source_line"].to_list() == [3, 5, 6]
    assert r.frame["_malformed"].to_list() == [None, "2 fields, the header has 4", "2 fields, the header has 4"]
    assert issues(r) == ["blank_lines", "truncated_file"]
    assert "line 2, 4" in dict(r.issues)["blank_lines"]


def test_unterminated_quote_at_end_is_one_malformed_record():
    e = entity("nva", "unemployed")
    text = 'personas_kods,registracijas_datums,izslegsanas_datums,filiale\n321234-56789,2024-03-01,,"Rī'
    r = read_bytes(e, text.encode(), "f.csv")
    assert r.frame["_malformed"].to_list() == ["unterminated quoted field (record runs to the end of the file)"]
    assert "truncated_file" in issues(r)


def test_alias_unexpected_and_missing_columns():
    e = entity("vendor_a", "planned_lessons")
    text = "Iestādes reģ. nr.;Pers. kods;Mēnesis;Kaut kas;Iesniegts\r\n1;2;3;4;5\r\n"
    r = read_bytes(e, text.encode("cp1257"), "f.csv")
    assert issues(r) == ["missing_column", "renamed_column", "unexpected_column"]
    assert r.absent == ["planotas_stundas"]
    assert r.frame["personas_kods"].to_list() == ["2"]


def test_encodings_and_boms():
    assert decode("Ā;B\n".encode("utf-8"), "windows-1257", "f").issues[0][0] == "wrong_encoding"
    d = decode("Ā;B\n".encode("cp1257"), "utf-8", "f")
    assert (d.text, d.issues[0][0]) == ("Ā;B\n", "wrong_encoding")
    d = decode(b"\xef\xbb\xbfa\n", "utf-8", "f")
    assert (d.text, [i for i, _ in d.issues]) == ("a\n", ["bom"])
    assert decode(b"\xef\xbb\xbf\xef\xbb\xbfa\n", "utf-8-sig", "f").issues == []
    with pytest.raises(UnreadableFile, match="binary"):
        decode(b"\x00\x01\x02garbage", "utf-8", "f")


def test_jsonl_lines_invalid_json_and_numbers():
    e = entity("vendor_b", "attendance")
    lines = [json.dumps({"school_id": "1", "student_code": "2", "date": "2024-01-01", "lessons_missed": 3,
                         "reason": "sick", "recorded_at": "2024-01-02T00:00:00", "extra": 1}), "", '{"school_id": "1", ']
    r = read_bytes(e, "\n".join(lines).encode(), "f.jsonl")
    assert r.frame["_source_line"].to_list() == [1, 3]
    assert r.frame["lessons_missed"].to_list() == ["3", None]
    assert r.frame["_malformed"].to_list() == [None, "invalid JSON"]
    assert issues(r) == ["blank_lines", "truncated_file", "unexpected_column"]


def test_xml_paths_parents_lines_and_names_never_read():
    xml = b"""<?xml version="1.0" encoding="UTF-8"?>
<R>
 <Izglitojamie>
  <Izglitojamais personasKods="321234-56789" vards="Anna" uzvards="Ozola" dzimums="S" dzimsanasDatums="2010-01-01">
   <Macibas iestadesRegNr="1234567890" programmasKods="21011111" sakumaDatums="2023-09-01"/>
   <Macibas iestadesRegNr="1234567891" programmasKods="21011111" sakumaDatums="2024-01-01"/>
  </Izglitojamais>
 </Izglitojamie>
 <Darbinieki><Darbinieks personasKods="x"><Amats iestadesRegNr="1"/></Darbinieks></Darbinieki>
</R>
"""
    learners = read_bytes(entity("viis", "learners"), xml, "v.xml", "sha-a")
    assert learners.frame["_source_line"].to_list() == [4]
    assert "vards" not in learners.frame.columns and learners.issues == []
    enr = read_bytes(entity("viis", "enrolments"), xml, "v.xml", "sha-a")
    assert enr.frame["_source_line"].to_list() == [5, 6]
    assert enr.frame["personas_kods"].to_list() == ["321234-56789"] * 2
    # Amats under AkademiskaisPersonals/Persona only: the Darbinieki one is another entity's
    assert read_bytes(entity("viis", "academic_staff"), xml, "v.xml", "sha-a").frame.height == 0
    with pytest.raises(UnreadableFile, match="not well-formed"):
        read_bytes(entity("viis", "learners"), xml[:-10], "v.xml", "sha-b")


def test_jsonstat_unrolls_row_major():
    doc = {"version": "2.0", "class": "dataset", "id": ["ATVK", "SEX", "AGE", "TIME"], "size": [2, 2, 1, 1],
           "dimension": {"ATVK": {"category": {"index": {"LV0001000": 0, "LV0002000": 1}}},
                         "SEX": {"category": {"index": ["M", "F"]}}, "AGE": {"category": {"index": ["Y7"]}},
                         "TIME": {"category": {"index": ["2024"]}}},
           "value": [1, 2.0, None, 4]}
    r = read_bytes(entity("csp", "population"), json.dumps(doc).encode(), "p.json")
    assert r.frame.select("area", "sex", "value").rows() == [
        ("LV0001000", "M", "1"), ("LV0001000", "F", "2"), ("LV0002000", "M", None), ("LV0002000", "F", "4")]
    with pytest.raises(UnreadableFile, match="not valid JSON"):
        read_bytes(entity("csp", "population"), b"{not json", "p.json")


def test_xml_line_numbers_beyond_65535_are_exact():
    """libxml2 keeps element line numbers in 16 bits: past line 65,535 lxml's sourceline is wrong. The reader
    must still name the exact line of every record (the quarantine and the defect manifest rely on it)."""
    from pipelines.common.contracts import entity as contract_entity
    from pipelines.ingest.readers import read_bytes

    n = 70_000
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<VIISIzraksts macibuGads="2023/24">', ' <Izglitojamie>']
    for i in range(n):  # generated test input: each learner with one enrolment, every element on its own line
        lines.append(f'  <Izglitojamais personasKods="K{i:06d}" vards="V" uzvards="U" dzimums="S" dzimsanasDatums="2010-01-01">')
        lines.append(f'   <Macibas iestadesRegNr="4212902579" programmasKods="21011111" klase="5" sakumaDatums="2023-09-01"/>')
        lines.append('  </Izglitojamais>')
    lines += [' </Izglitojamie>', '</VIISIzraksts>', '']
    data = "\n".join(lines).encode()
    learners = read_bytes(contract_entity("viis", "learners"), data, "viis/2023/big.xml").frame
    enrolments = read_bytes(contract_entity("viis", "enrolments"), data, "viis/2023/big.xml").frame
    assert learners.height == enrolments.height == n
    # learner i starts on line 4 + 3i, its enrolment on the next line
    last = learners.filter(learners["personas_kods"] == f"K{n - 1:06d}")
    assert last["_source_line"].to_list() == [4 + 3 * (n - 1)]
    assert enrolments["_source_line"].to_list()[-1] == 5 + 3 * (n - 1)
    assert enrolments["personas_kods"].to_list()[-1] == f"K{n - 1:06d}"


def test_jsonl_values_are_json_extract_strings_on_both_paths():
    # the first line's shape takes the regex path; tokens whose text DuckDB would change take the DuckDB path
    e = entity("vendor_b", "attendance")
    base = {"school_id": "1", "student_code": "2", "date": "2024-01-01", "lessons_missed": 3, "reason": "sick",
            "recorded_at": "2024-01-02T00:00:00"}
    missed = [3, None, 1.50, 10**20, True, "null", ""]
    lines = [json.dumps({**base, "lessons_missed": m}) for m in missed]
    lines.append(json.dumps(base).replace('"lessons_missed": 3', '"lessons_missed": -0'))
    lines.append(json.dumps({**base, "reason": 'a"b\\c'}))
    lines.append(json.dumps({**base, "reason": "Ā ž"}, ensure_ascii=False))
    r = read_bytes(e, ("\n".join(lines) + "\n").encode(), "f.jsonl")
    assert r.frame["_source_line"].to_list() == list(range(1, 11))
    assert r.frame["lessons_missed"].to_list() == ["3", None, "1.5", "100000000000000000000", "true", "null", "", "0",
                                                    "3", "3"]
    assert r.frame["reason"].to_list()[-2:] == ['a"b\\c', "Ā ž"]
    assert r.frame["_malformed"].null_count() == 10 and r.issues == []
