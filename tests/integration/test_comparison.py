"""Import-vs-registry comparison on a generated country: quality.cmp_discrepancies holds exactly the
discrepancies the generator planted in the school systems' grade feeds (manifest level 'discrepancy'), per
kind, with the learner, period and the source file/line of the learner's first feed row; and the
per-institution report adds them up. Absences are compared too (kind not_enrolled only, per calendar month:
period 'YYYY-MM'); the generator plants none there, so the grade periods are matched against the manifest and
the month rows must all be explained (see below). Reuses the shared dbt warehouse (tests/integration/dbt_warehouse.py:
generated, ingested and built once per worker through Dagster).

The one allowed difference: a learner whose registry enrolment row the ingest rejected (quarantine) is not
enrolled anywhere the warehouse knows of, so the feed's marks for him are rightly not_enrolled, whatever was
planted for him; and so are his absences (the only absence discrepancies a generated country has)."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines import settings
from pipelines.common import personal_codes
from pipelines.common.pseudonymise import pseudonymise_columns
from tests.integration import dbt_warehouse as wh

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("dbt")]

KIND = {"feed_not_enrolled": "not_enrolled", "feed_missing_learner": "missing_from_feed",
        "feed_grade_mismatch": "grade_mismatch"}
PERIOD = {"1_SEM": "S1", "T1": "S1", "2_SEM": "S2", "T2": "S2", "GADA": "YEAR", "FINAL": "YEAR"}
COLUMNS = ["reg_nr", "school_year", "period", "vendor", "kind", "learner_id", "source_file", "source_line"]


def planted_discrepancies(landing: Path, key: bytes) -> pl.DataFrame:
    """The manifest's planted discrepancies in cmp_discrepancies' terms (learner_id = the code's pseudonym;
    source_file/line null for missing learners)."""
    with open(landing / "_manifest" / "defects.csv", encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["level"] == "discrepancy"]
    if not rows:
        return pl.DataFrame(schema={c: (pl.Int64 if c in ("school_year", "source_line") else pl.Utf8) for c in COLUMNS})
    m = pl.DataFrame(rows)
    tok = m["detail"].str.split(" ")
    m = m.with_columns(
        tok.list.get(0).alias("reg_nr"),
        tok.list.get(1).replace_strict(PERIOD).alias("period"),
        personal_codes.normalise(tok.list.get(2)).alias("learner_id"),
        pl.col("file").str.split("/").list.get(1).cast(pl.Int64).alias("school_year"),
        pl.col("feed").replace_strict({"vendor_a": "A", "vendor_b": "B"}).alias("vendor"),
        pl.col("kind").replace_strict(KIND),
        pl.when(pl.col("kind") == "feed_missing_learner").then(None).otherwise(pl.col("file")).alias("source_file"),
        pl.col("line").replace("", None).cast(pl.Int64).alias("source_line"))
    return pseudonymise_columns(m, ["learner_id"], key).select(COLUMNS)


def found_discrepancies(warehouse: Path) -> pl.DataFrame:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(f"select {', '.join(COLUMNS)} from quality.cmp_discrepancies").pl().with_columns(
            pl.col("school_year").cast(pl.Int64), pl.col("source_line").cast(pl.Int64))
    finally:
        con.close()


def rejected_spells(warehouse: Path) -> pl.DataFrame:
    """(school_year, reg_nr, learner_id) of registry enrolment rows the ingest quarantined, where the learner
    has no loaded spell at that institution in that school year."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        q = con.execute("select _school_year, record from quarantine.rows where target_table = 'viis_enrolments'").fetchall()
        loaded = con.execute("select distinct school_year, institution_id, learner_id from marts.fct_enrolment_spells").pl()
    finally:
        con.close()
    recs = [(y, json.loads(r).get("iestadesRegNr"), json.loads(r).get("personas_kods")) for y, r in q]
    frame = pl.DataFrame(recs, schema={"school_year": pl.Int64, "reg_nr": pl.Utf8, "learner_id": pl.Utf8}, orient="row")
    loaded = loaded.select(pl.col("school_year").cast(pl.Int64), pl.col("institution_id").alias("reg_nr"), "learner_id")
    return frame.drop_nulls().unique().join(loaded, on=["school_year", "reg_nr", "learner_id"], how="anti")


KEY = ["reg_nr", "school_year", "period", "kind", "learner_id"]
MONTH = r"^\d{4}-\d{2}$"  # the period of an absence-based discrepancy


@pytest.fixture(scope="module")
def comparison():
    data = wh.use()
    warehouse = data / "warehouse.duckdb"
    years = [r[0] for r in wh.query("select distinct school_year from quality.cmp_learner_periods")]
    planted = planted_discrepancies(data / "landing", settings.pseudonym_key()).filter(pl.col("school_year").is_in(years))
    found_all = found_discrepancies(warehouse)
    is_month = pl.col("period").str.contains(MONTH)
    rejected = rejected_spells(warehouse).select("school_year", "learner_id").unique()
    return {"years": years, "planted": planted, "found": found_all.filter(~is_month),
            "absences": found_all.filter(is_month), "found_all": found_all, "rejected": rejected}


def _split(frame: pl.DataFrame, rejected: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows of learners without a rejected registry row that school year, rows of learners with one)"""
    on = ["school_year", "learner_id"]
    return frame.join(rejected, on=on, how="anti"), frame.join(rejected, on=on, how="semi")


def test_every_kind_is_planted_in_every_built_year(comparison):
    p = comparison["planted"]
    assert comparison["years"], "nothing compared"
    for year in comparison["years"]:
        kinds = set(p.filter(pl.col("school_year") == year)["kind"])
        assert kinds == {"not_enrolled", "missing_from_feed", "grade_mismatch"}, (year, kinds)
    assert set(p["vendor"]) == {"A", "B"}


@pytest.mark.parametrize("kind", ["not_enrolled", "missing_from_feed", "grade_mismatch"])
def test_discrepancies_are_exactly_the_planted_ones(comparison, kind):
    planted, found = (comparison[k].filter(pl.col("kind") == kind) for k in ("planted", "found"))
    p, p_rej = _split(planted, comparison["rejected"])
    f, f_rej = _split(found, comparison["rejected"])
    cols = COLUMNS
    extra = f.select(cols).join(p.select(cols), on=cols, how="anti", nulls_equal=True)
    lost = p.select(cols).join(f.select(cols), on=cols, how="anti", nulls_equal=True)
    assert extra.height == 0, f"{kind} found but not planted:\n{extra}"
    assert lost.height == 0, f"{kind} planted but not found (or at another file/line):\n{lost}"
    assert p.height >= 1
    # learners whose registry row was rejected: only not_enrolled can come out of them (planted or not)
    if kind != "not_enrolled":
        assert f_rej.join(p_rej, on=KEY, how="anti").height == 0
    assert p_rej.height <= max(2, p.height // 10)  # the exception stays an exception


def test_missing_learners_carry_no_line_and_the_others_their_first_row(comparison):
    f = comparison["found"]
    miss = f.filter(pl.col("kind") == "missing_from_feed")
    assert miss["source_file"].is_null().all() and miss["source_line"].is_null().all()
    other = f.filter(pl.col("kind") != "missing_from_feed")
    assert other["source_file"].is_not_null().all() and other["source_line"].is_not_null().all()
    # the line is the learner's first row in that file: no earlier row of the same learner, school and period
    rows = wh.query("""
        select count(*) from quality.cmp_discrepancies d
        join (select institution_id, learner_id, period, _source_file, _source_line from staging.stg_vendor_a__grades
              union all
              select institution_id, learner_id, period, _source_file, _source_line from staging.stg_vendor_b__grades) g
          on g.institution_id = d.reg_nr and g.learner_id = d.learner_id and g.period = d.period
         and g._source_file = d.source_file and g._source_line < d.source_line""")
    assert rows == [(0,)]


def test_report_adds_up_per_institution_and_kind(comparison):
    report = pl.DataFrame(wh.query(
        "select reg_nr, school_year, period, kind, discrepancies, feed_learners, registry_learners, municipality_code "
        "from quality.cmp_institution_report"), orient="row",
        schema=["reg_nr", "school_year", "period", "kind", "discrepancies", "feed_learners", "registry_learners",
                "municipality_code"])
    f = comparison["found_all"]
    assert report["discrepancies"].sum() == f.height
    counted = f.group_by("reg_nr", "school_year", "period", "kind").len()
    joined = counted.join(report.with_columns(pl.col("school_year").cast(pl.Int64)),
                          on=["reg_nr", "school_year", "period", "kind"], how="left")
    assert (joined["len"] == joined["discrepancies"]).all()
    # every compared batch lists the three kinds, with its municipality and both learner counts
    per_batch = report.group_by("reg_nr", "school_year", "period").len().with_columns(
        pl.col("period").str.contains(MONTH).alias("month"))
    assert (per_batch.filter(~pl.col("month"))["len"] == 3).all()
    # absences (per month) are compared for not_enrolled only
    assert (per_batch.filter(pl.col("month"))["len"] == 1).all()
    assert set(report.filter(pl.col("period").str.contains(MONTH))["kind"]) <= {"not_enrolled"}
    assert report["municipality_code"].is_not_null().all()
    assert (report["feed_learners"] > 0).all() and (report["registry_learners"] > 0).all()
    # feed learners = distinct learners of the grade feeds per institution and period
    n_feed = wh.query("""
        select count(*) from (
          select distinct school_year, institution_id, period, learner_id from staging.stg_vendor_a__grades
          union
          select distinct school_year, institution_id, period, learner_id from staging.stg_vendor_b__grades)
        where school_year in (select distinct school_year from quality.cmp_learner_periods)""")[0][0]
    assert report.filter(pl.col("kind") == "grade_mismatch")["feed_learners"].sum() == n_feed


def test_absence_discrepancies_are_not_enrolled_and_explained(comparison):
    """Absences on days without a registry spell of the learner there: not_enrolled per month, with the first
    absence row's file and line; on a generated country only learners whose registry row was quarantined."""
    a = comparison["absences"]
    assert set(a["kind"]) <= {"not_enrolled"}
    assert a["source_file"].is_not_null().all() and a["source_line"].is_not_null().all()
    assert a["source_file"].str.contains(r"^vendor_[ab]/\d{4}/(kavejumi|attendance)_").all(), a["source_file"].unique()
    unexplained = a.join(comparison["rejected"], on=["school_year", "learner_id"], how="anti")
    assert unexplained.height == 0, f"absence discrepancies of learners with no rejected registry row:\n{unexplained}"
    rows = wh.query("""
        select count(*) filter (where feed_class is not null or feed_grade is not null or registry_grade is not null
                                or detail not like 'absences on % in the feed; no registry spell here on those days'
                                or detail similar to '.*[0-9]{10}.*')
        from quality.cmp_discrepancies where regexp_full_match(period, '[0-9]{4}-[0-9]{2}')""")
    assert rows == [(0,)]
