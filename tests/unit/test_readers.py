"""Readers: lines where records start, blank lines, quoted line breaks, BOMs, encodings, truncation, XML paths."""
from __future__ import annotations

import json

import polars as pl
import pytest

from pipelines.common.contracts import entity
from pipelines.ingest.files import UnreadableFile, cp1257_to_utf8, decode, is_utf8
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


def test_records_without_blank_lines_or_quotes_read_whole_as_split():
    """A file whose every line is one record (no blank line, quote or CR) is parsed by the CSV reader on its
    bytes (readers.delimited._whole); the ragged lines are malformed and the others' fields are as split."""
    from pipelines.ingest.readers import delimited

    e = entity("nva", "unemployed")
    text = ("personas_kods,registracijas_datums,izslegsanas_datums,filiale\n321234-56789,2024-03-01,,R\n"
            "1,2\n a ,2024-04-01,2024-05-01,Rīga\n1,2,3,4,5\n,,,\n")
    r = read_bytes(e, text.encode(), "f.csv")
    assert r.frame["_source_line"].to_list() == [2, 3, 4, 5, 6]
    assert r.frame["_malformed"].to_list() == [None, "2 fields, the header has 4", None, "5 fields, the header has 4", None]
    good = r.frame.filter(r.frame["_malformed"].is_null())
    assert good.select("personas_kods", "izslegsanas_datums", "filiale").rows() == [
        ("321234-56789", None, "R"), (" a ", "2024-05-01", "Rīga"), (None, None, None)]
    whole = delimited._whole(text.encode(), ",", pl.Series([True, False, True, False, True]))
    split = delimited._split(pl.Series(text.splitlines()[1:]).gather([0, 2, 4]), ",", 4)
    assert whole.rows() == split.rows()
    assert issues(r) == []


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
    d = decode("Ā;B\n".encode("cp1257"), "utf-8", "f")  # the readers get UTF-8 whatever the file's encoding
    assert (d.data, d.encoding, d.issues[0][0]) == ("Ā;B\n".encode("utf-8"), "cp1257", "wrong_encoding")
    d = decode("Ā;B\n".encode("utf-8"), "windows-1257", "f")
    assert (d.data, d.encoding) == ("Ā;B\n".encode("utf-8"), "utf-8")
    d = decode("Ā;B\n".encode("cp1257"), "windows-1257", "f")
    assert (d.data, d.encoding, d.issues) == ("Ā;B\n".encode("utf-8"), "cp1257", [])
    d = decode(b"\xef\xbb\xbfa\n", "utf-8", "f")
    assert (d.data, [i for i, _ in d.issues]) == (b"a\n", ["bom"])
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


def _lines_by_split(data: bytes) -> list[tuple[int, str]]:
    """The definition of physical lines: split at LF, one trailing CR removed, a final LF ends the last line."""
    text = data.decode("utf-8")
    body = text[:-1] if text.endswith("\n") else text
    return [(i, t[:-1] if t.endswith("\r") else t) for i, t in enumerate(body.split("\n"), start=1)]


@pytest.mark.parametrize("data", [
    b"", b"\n", b"\n\n", b"a", b"a\n", b"a\n\n", b"\na", b"a\n\nb", b"a\n \n\t\nb\n", b'"q\nr"\n#c\n',
    "ā;ž\n€\n".encode(), b"a\r\nb\r\n", b"a\r\r\nb", b"a\rb\nc\r", b"a\x01b\nc\n", b"x\x00y\nz",
])
def test_physical_lines_are_the_lines_split_at_lf(data):
    from pipelines.ingest.readers.delimited import physical_lines

    got = physical_lines(data)
    assert got.columns == ["line", "t"] and got.schema["line"] == pl.Int64
    assert list(got.iter_rows()) == _lines_by_split(data)


def test_physical_lines_fast_path_agrees_on_random_files():
    """The fast path (Polars' CSV reader, taken when the data has no CR) and the general split agree on random
    files of short lines, blank lines, quotes, spaces and multi-byte characters."""
    import random

    from pipelines.ingest.readers.delimited import physical_lines

    rng = random.Random(7)
    alphabet = ["a", "b", " ", "\t", '"', "'", ";", ",", "ā", "€", "\n", "\n", "\n", "#", "\\"]
    for _ in range(300):
        data = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40))).encode()
        assert list(physical_lines(data).iter_rows()) == _lines_by_split(data), data


def test_is_utf8():
    assert is_utf8(b"") and is_utf8(b"plain") and is_utf8("ā€😀".encode())
    assert not is_utf8("ā".encode("cp1257")) and not is_utf8(b"a\xff") and not is_utf8(b"\xed\xa0\x80")  # surrogate
    assert not is_utf8("Ā;B\n".encode("cp1257"))
    big = b"a" * 70000  # past the 64 KiB window: the whole buffer decides
    assert is_utf8(big + "ā".encode()) and not is_utf8(big + b"\xe2") and not is_utf8(big[:-1] + "ā".encode()[:1] + big)
    assert is_utf8(big[:65535] + "ā".encode() + big)  # a character across the window's end


def test_cp1257_to_utf8_is_the_codec():
    import random

    rng = random.Random(3)
    defined = [b for b in range(256) if _cp1257_defined(b)]
    for n_high in (0, 1, 5, 5000):  # few high bytes: translated one by one; many: the codec
        data = bytearray(rng.choice(b"abc;\n") for _ in range(20000))
        for _ in range(n_high):
            data[rng.randrange(len(data))] = rng.choice([b for b in defined if b >= 0x80])
        assert cp1257_to_utf8(bytes(data)) == bytes(data).decode("cp1257").encode("utf-8")
    with pytest.raises(UnicodeDecodeError) as e:
        cp1257_to_utf8(b"abc\x81def")  # 0x81 is undefined in windows-1257
    assert e.value.start == 3


def _cp1257_defined(b: int) -> bool:
    try:
        bytes([b]).decode("cp1257")
    except UnicodeDecodeError:
        return False
    return True


def test_xml_fast_path_resolves_references_as_the_parser_does():
    """Entity and character references in some values (the fast path resolves only the values holding one):
    the same frames as lxml's, which a comment after the root forces (the fast path refuses comments)."""
    import pipelines.ingest.readers.xml as X

    body = """<?xml version="1.0" encoding="UTF-8"?>
<R>
 <Izglitojamie>
  <Izglitojamais personasKods="A&amp;B" dzimums="S" dzimsanasDatums="2010-01-01">
   <Macibas iestadesRegNr="1&lt;2" programmasKods="&#233;&#x101;" sakumaDatums="2023-09-01"/>
   <Macibas iestadesRegNr="plain" programmasKods="21011111" sakumaDatums="2024-01-01"/>
  </Izglitojamais>
  <Izglitojamais personasKods="C" dzimums="V" dzimsanasDatums="2011-02-03"/>
 </Izglitojamie>
</R>
"""
    ents = [entity("viis", "learners"), entity("viis", "enrolments")]
    specs = [X._Spec(e, tuple(e.record.strip("/").split("/")), [(c, *X._parent_spec(p)) for c, p in e.parent.items()],
                     ()) for e in ents]
    fast = X._read_lines(specs, {s.path[-1]: [s] for s in specs}, body.encode())
    slow = X.read_xml(ents, (body + "<!-- after the root -->\n").encode(), "utf-8", "v.xml")
    for e in ents:
        assert fast[e.name].frame.equals(slow[e.name].frame), e.name
    assert fast["learners"].frame["personas_kods"].to_list() == ["A&B", "C"]
    assert fast["enrolments"].frame["iestades_reg_nr"].to_list() == ["1<2", "plain"]
    assert fast["enrolments"].frame["programmas_kods"].to_list() == ["éā", "21011111"]


def test_jsonl_whole_file_reader_agrees_with_the_line_by_line_path(monkeypatch):
    """Files whose every line has the first line's shape are parsed whole by Polars' NDJSON reader; the frame,
    issues and absent columns must be those of the line path (regex groups / DuckDB), on random files with
    blank lines, CRLF, spaces around tokens, numbers, booleans, nulls and non-ASCII text."""
    import random

    from pipelines.ingest.readers import jsonl

    e = entity("vendor_b", "attendance")
    rnd = random.Random(7)
    words = ["sick", "", "a,b", "Ā ž", "x y", "0", "null", "true", "€", "q:r", "{}", "[1]"]
    tokens = [0, 7, -12, 10**17, 123456789012345678, True, False, None]
    whole_calls = []
    original = jsonl._read_whole

    def counted(*a):
        out = original(*a)
        whole_calls.append(out is not None)
        return out

    monkeypatch.setattr(jsonl, "_read_whole", counted)
    for case in range(60):
        keys = ["school_id", "student_code", "date", "lessons_missed", "reason", "recorded_at"]
        if case % 5 == 0:
            keys = keys[:3] + ["extra"] + keys[3:]  # an unexpected column
        if case % 7 == 0:
            keys.remove("reason")  # an absent one
        sep, colon = (", ", ": ") if case % 3 == 0 else (",", ":")
        lines = []
        for _ in range(rnd.randint(1, 30)):
            obj = {k: (rnd.choice(tokens) if rnd.random() < 0.4 else rnd.choice(words)) for k in keys}
            line = json.dumps(obj, ensure_ascii=False, separators=(sep, colon))
            lines.append((" " if rnd.random() < 0.1 else "") + line)
            if rnd.random() < 0.05:
                lines.append(rnd.choice(["", " ", "\t"]))
        eol = "\r\n" if case % 4 == 1 else "\n"
        data = (eol.join(lines) + ("" if case % 6 == 2 else eol)).encode()
        fast = read_bytes(e, data, "f.jsonl")
        monkeypatch.setattr(jsonl, "_read_whole", lambda *a: None)
        slow = read_bytes(e, data, "f.jsonl")
        monkeypatch.setattr(jsonl, "_read_whole", counted)
        assert fast.frame.equals(slow.frame), case
        assert fast.issues == slow.issues and fast.absent == slow.absent, case
    assert len(whole_calls) == 60 and sum(whole_calls) >= 50, whole_calls  # files of one shape: read whole


def test_xml_fast_path_builds_an_entity_frame_only_when_asked(monkeypatch):
    """The registry's institutions are a step of their own: reading them must not build the learners' frames
    (their pivot is most of the per-entity work); each frame is built once, on first access."""
    import pipelines.ingest.readers.xml as X

    body = b"""<?xml version="1.0" encoding="UTF-8"?>
<R>
 <Iestades>
  <Iestade regNr="1234567890" nosaukums="Skola"/>
 </Iestades>
 <Izglitojamie>
  <Izglitojamais personasKods="A" dzimums="S" dzimsanasDatums="2010-01-01">
   <Macibas iestadesRegNr="1234567890" programmasKods="21011111" sakumaDatums="2023-09-01"/>
  </Izglitojamais>
 </Izglitojamie>
</R>
"""
    built = []
    original = X._entity_frame
    monkeypatch.setattr(X, "_entity_frame", lambda s, *a: built.append(s.entity.name) or original(s, *a))
    ents = [entity("viis", n) for n in ("institutions", "learners", "enrolments")]
    reads = X.read_xml(ents, body, "utf-8", "v.xml")
    assert built == [] and set(reads) == {"institutions", "learners", "enrolments"}
    assert reads["institutions"].frame["reg_nr"].to_list() == ["1234567890"]
    assert built == ["institutions"]
    assert reads["institutions"] is reads["institutions"] and built == ["institutions"]
    assert reads["enrolments"].frame["personas_kods"].to_list() == ["A"] and built == ["institutions", "enrolments"]
