"""The generator's planted import-vs-registry discrepancies (pipelines/generator/discrepancies.py): in the
manifest with level 'discrepancy' and no rule; a line points at the learner's FIRST row at that school in that
file, which carries the class the detail names; the country (the registry's truth) agrees with each kind;
missing learners have no row at all; row defects never land on a planted learner's rows; rate 0 plants none."""
from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from pipelines.generator import discrepancies
from pipelines.generator.main import generate
from tests.fixtures.tiny_country import tiny_country

KINDS = {"feed_not_enrolled", "feed_missing_learner", "feed_grade_mismatch"}


def _run(tmp_path, monkeypatch, name: str, **kw):
    monkeypatch.setenv("IKMS_DATA_DIR", str(tmp_path / name))
    monkeypatch.setenv("IKMS_PSEUDONYM_KEY", "ab" * 32)
    landing = tmp_path / name / "landing"
    generate(11, 0.0001, [2020, 2021], landing, country=tiny_country(), progress=lambda s: None, **kw)
    return landing, pl.read_csv(landing / "_manifest" / "defects.csv", infer_schema=False)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    landing, m = _run(tmp_path_factory.mktemp("cmp"), mp, "a", defect_rate=0.01, discrepancy_rate=0.01)
    yield landing, m
    mp.undo()


def _records(path) -> list[tuple[int, str, str, str]]:
    """(line, reg_nr, code, class) of every record of a grade file (1-based physical lines)."""
    data = path.read_bytes().lstrip(b"\xef\xbb\xbf")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("windows-1257")
    out = []
    for i, line in enumerate(text.split("\n"), start=1):
        if path.suffix == ".jsonl":
            if line.strip():
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                out.append((i, r.get("school_id"), r.get("student_code"), r.get("class_name")))
        elif i > 1 and line.strip():
            f = line.split(";")
            if len(f) >= 4:
                out.append((i, f[0], f[1], f[3]))
    return out


def _planted(m: pl.DataFrame) -> pl.DataFrame:
    d = m.filter(pl.col("level") == "discrepancy")
    tok = d["detail"].str.split(" ")
    return d.with_columns(tok.list.get(0).alias("reg"), tok.list.get(1).alias("shown"), tok.list.get(2).alias("code"),
                          tok.list.get(4).alias("klass"),
                          pl.col("detail").str.extract(r"registry grade (\d+)").cast(pl.Int64).alias("reg_grade"),
                          pl.col("file").str.split("/").list.get(1).cast(pl.Int32).alias("year"))


def _spells():
    c = tiny_country()
    codes = c.persons.select("person_key", pl.col("personal_code").alias("code"))
    return c.enrolments.join(codes, on="person_key").select("code", "reg_nr", "grade", "start_date", "end_date",
                                                             pl.col("year_started").alias("year"))


def test_manifest_rows(generated):
    _, m = generated
    d = _planted(m)
    assert set(d["kind"]) == KINDS
    assert (d["entity"] == "grades").all() and d["rule"].is_null().all()
    assert set(d["feed"]) == {"vendor_a", "vendor_b"}
    assert d["line"].is_null().to_list() == (d["kind"] == "feed_missing_learner").to_list()
    assert m["defect_id"].n_unique() == m.height


def test_lines_point_at_the_learners_first_row_with_the_named_class(generated):
    landing, m = generated
    d = _planted(m).filter(pl.col("line").is_not_null())
    for r in d.iter_rows(named=True):  # a handful of planted rows
        recs = _records(landing / r["file"])
        mine = [x for x in recs if x[1] == r["reg"] and x[2] == r["code"]]
        assert mine, r
        assert mine[0][0] == int(r["line"]), r
        assert {x[3] for x in mine} == {r["klass"]}, r


def test_the_registry_agrees_with_each_kind(generated):
    landing, m = generated
    sp = _spells()
    for r in _planted(m).iter_rows(named=True):
        period = {"T1": "1_SEM", "T2": "2_SEM", "FINAL": "GADA"}.get(r["shown"], r["shown"])
        ws, we = discrepancies.windows(r["year"])[period]
        census = dt.date(r["year"], 12, 20) if period == "1_SEM" else dt.date(r["year"] + 1, 5, 25)
        here = sp.filter((pl.col("code") == r["code"]) & (pl.col("reg_nr") == r["reg"]) & (pl.col("year") == r["year"]))
        overlapping = here.filter((pl.col("start_date") <= we) & (pl.col("end_date").fill_null(we) >= ws))
        on_roll = here.filter((pl.col("start_date") <= census) & (pl.col("end_date").fill_null(census) >= census))
        if r["kind"] == "feed_not_enrolled":
            assert overlapping.height == 0, r
        else:
            assert on_roll.height == 1 and on_roll["grade"][0] == r["reg_grade"], r
        if r["kind"] == "feed_grade_mismatch":
            shown = int(r["klass"].split(".")[0].rstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))
            assert abs(shown - r["reg_grade"]) == 1 and (shown <= 3) == (r["reg_grade"] <= 3), r
        if r["kind"] == "feed_missing_learner":
            recs = _records(landing / r["file"])
            assert not [x for x in recs if x[1] == r["reg"] and x[2] == r["code"]], r


def test_row_defects_stay_off_planted_learners(generated):
    landing, m = generated
    rows = m.filter((pl.col("level") == "row") & pl.col("feed").is_in(["vendor_a", "vendor_b"])
                    & (pl.col("entity") == "grades"))
    d = _planted(m).filter(pl.col("line").is_not_null())
    for r in d.iter_rows(named=True):
        mine = {x[0] for x in _records(landing / r["file"]) if x[1] == r["reg"] and x[2] == r["code"]}
        hit = rows.filter(pl.col("file") == r["file"])["line"].cast(pl.Int64).to_list()
        assert not mine & set(hit), r


def test_rate_zero_plants_nothing(tmp_path, monkeypatch):
    _, m = _run(tmp_path, monkeypatch, "z", discrepancy_rate=0.0)
    assert m.filter(pl.col("level") == "discrepancy").height == 0
