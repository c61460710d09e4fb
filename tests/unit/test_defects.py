"""The defect manifest: its line numbers point at the defective records (read back from the final bytes),
at least 15 kinds are present, file defects are visible in the bytes, and two runs give identical bytes."""
from __future__ import annotations

import csv
import hashlib
import json

import polars as pl
import pytest

from pipelines.common import personal_codes as pc
from pipelines.generator.main import generate
from tests.fixtures.tiny_country import tiny_country

ROW_RULES = {"malformed_record", "missing_column", "missing_value", "type_mismatch", "invalid_date",
             "personal_code_format", "personal_code_date", "personal_code_checksum", "unknown_code",
             "value_out_of_range", "future_date", "date_order", "unknown_institution", "duplicate_row",
             "duplicate_key", "overlapping_enrolment"}
FILE_RULES = {"bom", "blank_lines", "wrong_encoding", "renamed_column", "unexpected_column", "missing_column",
              "truncated_file"}


def _run(tmp_path, monkeypatch, name: str, rate: float = 0.01):
    monkeypatch.setenv("IKMS_DATA_DIR", str(tmp_path / name))
    monkeypatch.setenv("IKMS_PSEUDONYM_KEY", "ab" * 32)
    landing = tmp_path / name / "landing"
    summary = generate(11, 0.0001, [2020, 2021], landing, defect_rate=rate, country=tiny_country(),
                       progress=lambda s: None)
    return landing, summary


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    tmp = tmp_path_factory.mktemp("gen")
    landing, summary = _run(tmp, mp, "a")
    yield landing, summary, pl.read_csv(landing / "_manifest" / "defects.csv", infer_schema=False)
    mp.undo()


def _lines(path, encoding_hint):
    data = path.read_bytes().lstrip(b"\xef\xbb\xbf")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode(encoding_hint)
    return text.replace("\r\n", "\n").split("\n")


def test_manifest_shape_and_kinds(generated):
    landing, summary, m = generated
    assert m.columns == ["defect_id", "kind", "feed", "entity", "file", "line", "level", "rule", "detail"]
    assert m["defect_id"].n_unique() == m.height
    kinds = set(m.filter(pl.col("level") != "submission")["kind"])
    assert len(kinds) >= 15, kinds
    for k in ("invalid_checksum", "malformed_code", "impossible_birth_date_in_code", "duplicate_row", "duplicate_key",
              "grade_out_of_range", "unknown_classifier_code", "fte_out_of_range", "percent_out_of_range",
              "future_date", "impossible_date", "end_before_start", "double_enrolment", "missing_value",
              "type_mismatch", "unknown_institution", "malformed_record", "truncated_file", "wrong_encoding", "bom",
              "blank_lines", "renamed_column", "missing_column"):
        assert k in kinds, k
    rows = m.filter(pl.col("level") == "row")
    assert set(rows["rule"]) <= ROW_RULES
    assert set(m.filter(pl.col("level") == "file")["rule"]) <= FILE_RULES
    assert rows["line"].is_not_null().all() and m.filter(pl.col("level") == "file")["line"].is_null().all()
    sub = m.filter(pl.col("level") == "submission")
    assert set(sub["kind"]) <= {"late_submission", "missing_submission"} and sub["rule"].is_null().all()
    assert sub["detail"].str.contains(r"^[0-9]{10} \S+$").all()
    gen = json.loads((landing / "_manifest" / "generation.json").read_text())
    assert gen["parameters"]["seed"] == 11 and gen["files"]
    for path, info in gen["files"].items():
        assert (landing / path).stat().st_size == info["bytes"]


def test_row_lines_point_at_the_defect(generated):
    landing, _, m = generated
    rows = m.filter(pl.col("level") == "row")
    checked = 0
    for r in rows.iter_rows(named=True):
        lines = _lines(landing / r["file"], "windows-1257")
        line = lines[int(r["line"]) - 1]
        kind, detail = r["kind"], r["detail"] or ""
        assert line.strip(), (r, line)
        if "=" in detail and kind not in ("duplicate_key",):
            col, val = detail.split("=", 1)
            if val == "(empty)":
                if r["feed"] == "viis":
                    assert f' {col}="' not in line
                elif r["file"].endswith(".jsonl"):
                    assert f'"{col}":null' in line
                else:
                    assert ";;" in line or ",," in line or line.endswith((";", ","))
            else:
                assert val in line, (r, line)
            if kind in ("invalid_checksum",):
                code = val
                assert pc.check([code]) == ["personal_code_checksum"]
            if kind == "malformed_code":
                assert pc.check([val]) == ["personal_code_format"]
            if kind == "impossible_birth_date_in_code":
                assert pc.check([val]) == ["personal_code_date"]
        elif kind == "duplicate_row":
            assert line == lines[int(r["line"]) - 2]
        elif kind == "duplicate_key":
            prev = lines[int(r["line"]) - 2]
            assert line != prev and (line.split(";")[:2] == prev.split(";")[:2] or line[:40] == prev[:40])
        elif kind == "double_enrolment":
            assert "<Macibas" in line and detail.split()[2] in line
        elif kind in ("malformed_record", "truncated_file"):
            header = lines[0]
            delim = ";" if r["feed"] == "vendor_a" else ","
            if r["file"].endswith(".csv"):
                assert len(next(csv.reader([line], delimiter=delim))) < len(next(csv.reader([header], delimiter=delim)))
            else:
                with pytest.raises(json.JSONDecodeError):
                    json.loads(line)
        elif kind == "missing_column":
            assert line
        checked += 1
    assert checked == rows.height and checked > 30


def test_file_defects_visible_in_bytes(generated):
    landing, _, m = generated
    files = m.filter(pl.col("level") == "file")
    for r in files.iter_rows(named=True):
        data = (landing / r["file"]).read_bytes()
        if r["kind"] == "bom":
            assert data.startswith(b"\xef\xbb\xbf")
        elif r["kind"] == "wrong_encoding":
            data.decode("utf-8")
            assert "Iestādes".encode() in data
        elif r["kind"] == "blank_lines":
            assert "\n\n" in data.decode("utf-8", errors="replace")
        elif r["kind"] == "truncated_file":
            assert not data.endswith(b"\n")
        elif r["kind"] == "renamed_column":
            assert "Pers. kods".encode("windows-1257") in data.split(b"\n")[0] or b"Pers. kods" in data.split(b"\n")[0]
        elif r["kind"] == "missing_column":
            field = r["detail"].split()[0]
            first = data.split(b"\n")[0].decode("utf-8", errors="replace")
            assert field not in first
            n_rows = m.filter((pl.col("file") == r["file"]) & (pl.col("level") == "row")).height
            assert n_rows == len([x for x in data.split(b"\n")[(0 if r["file"].endswith(".jsonl") else 1):] if x])


def test_double_enrolment_overlaps_a_clean_spell(generated):
    landing, _, m = generated
    from lxml import etree

    d = m.filter(pl.col("kind") == "double_enrolment").row(0, named=True)
    root = etree.parse(str(landing / d["file"])).getroot()
    spell = next(e for e in root.iter("Macibas") if e.sourceline == int(d["line"]))
    sibs = [s for s in spell.getparent() if s is not spell]
    assert len(sibs) == 1 and sibs[0].get("iestadesRegNr") != spell.get("iestadesRegNr")
    assert sibs[0].get("sakumaDatums") < spell.get("sakumaDatums") <= (sibs[0].get("beiguDatums") or "9999")


def test_deterministic_bytes(tmp_path, monkeypatch):
    a, _ = _run(tmp_path, monkeypatch, "x")
    b, _ = _run(tmp_path, monkeypatch, "y")

    def digest(root):
        return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(root.rglob("*")) if p.is_file()}

    da, db = digest(a), digest(b)
    assert da == db and len(da) > 50


def test_rate_zero_still_places_every_kind_once(tmp_path, monkeypatch):
    landing, summary = _run(tmp_path, monkeypatch, "z", rate=0.0)
    m = pl.read_csv(landing / "_manifest" / "defects.csv", infer_schema=False)
    row_kinds = m.filter(pl.col("level") == "row").group_by("kind", "feed", "entity").len()
    assert m.filter(pl.col("level") == "row")["kind"].n_unique() >= 17
    assert row_kinds.filter(pl.col("kind") != "missing_column")["len"].max() <= 2


def test_chunked_streaming_writes_the_same_bytes_and_lines(tmp_path, monkeypatch):
    """Large files are written in chunks of records; tiny chunks (3 records) must give the same files and the
    same manifest as one chunk, blank lines, truncation and encodings included."""
    from pipelines.generator.writers import base

    one, _ = _run(tmp_path, monkeypatch, "whole")
    original = base.write_fast
    monkeypatch.setattr(base, "write_fast", lambda *a, **k: original(*a, **{**k, "chunk_rows": 3}))
    many, _ = _run(tmp_path, monkeypatch, "chunked")
    files = sorted(p.relative_to(one).as_posix() for p in one.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(many).as_posix() for p in many.rglob("*") if p.is_file())
    assert len(files) > 20
    for rel in files:
        if rel.endswith("generation.json"):
            continue  # holds timings
        assert (one / rel).read_bytes() == (many / rel).read_bytes(), rel
