"""Import-vs-registry discrepancies planted in the school systems' grade feeds (the comparison of issue 4
must find exactly these), recorded in the defect manifest with level 'discrepancy' and no rule: the rows are
VALID (the ingest loads them), they only disagree with the VIIS registry.

Kinds (per learner, institution and grading period; a learner-period gets at most one):
- feed_not_enrolled: a school sends a pupil's marks although the registry has no spell of that pupil there
  overlapping the period's window: a school where the pupil was enrolled earlier (or later) that year keeps
  reporting him (preferred when there is one), else another school of the same system reports another
  school's pupil (same grade, one of its class letters). The pupil's own school reports as usual.
- feed_missing_learner: an enrolled pupil's marks are left out of a batch that was received.
- feed_grade_mismatch: the class the system gives says grade g ± 1 where the registry says g (kept inside the
  same band, 1-3 with levels or 4-12 with numeric marks, so the marks stay valid).

Period windows (the comparison in dbt_project/models/quality/comparison/ uses the same): a school year t's
1_SEM/T1 window is 1 Sep t - 31 Dec t, 2_SEM/T2 and GADA/FINAL (year-end marks are set at the end of the second
semester) 1 Jan - 31 Aug t+1. Natural situations plant nothing: the generator's marks come from the spell active
on the period's census date (20 Dec / 25 May), which lies inside the window, so transfers and leavers agree
with the registry, and a missing batch drops the whole school's rows (a submission problem, not a learner's).

Lines: the first row (in the file's sort order) of a planted learner-period carries the manifest id in the
'__defect' meta column, the learner's other rows carry MARK (keeps row defects off them, so the learner's
first line and every row stay valid); feed_missing_learner has no line. Own random stream: the other feeds'
bytes do not move."""
from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from pipelines.generator.country import Country
from pipelines.generator.writers.base import DEFECT
from pipelines.generator.writers.common import people
from pipelines.generator.writers.vendor_a import SUBJECT_ORDER
from pipelines.generator.writers.vendor_b import TERMS

S_DISCREPANCY = 9101  # random stream id (activity.py uses 1-8, defects.py 9001)
MARK = "~"  # __defect value of a planted learner-period's other rows (not a manifest id)
KINDS = ("feed_not_enrolled", "feed_missing_learner", "feed_grade_mismatch")
FEEDS = {"A": "vendor_a", "B": "vendor_b"}


def windows(year: int) -> dict[str, tuple[dt.date, dt.date]]:
    """Period (vendor A label) -> (first day, last day) of its window in school year `year`."""
    s2 = (dt.date(year + 1, 1, 1), dt.date(year + 1, 8, 31))
    return {"1_SEM": (dt.date(year, 9, 1), dt.date(year, 12, 31)), "2_SEM": s2, "GADA": s2}


def file_of(vendor: str, year: int, period: str) -> str:
    if vendor == "A":
        return f"vendor_a/{year}/vertejumi_{year}_{period}.csv"
    return f"vendor_b/{year}/grades_{year}_{TERMS[period]}.jsonl"


def _window_frame(year: int) -> pl.DataFrame:
    w = windows(year)
    return pl.DataFrame({"period": list(w), "ws": [v[0] for v in w.values()], "we": [v[1] for v in w.values()]})


def _shifted_grade(grade: pl.Expr, up: pl.Expr) -> pl.Expr:
    """g + 1 or g - 1 (by `up`), inside the band 1-3 or 4-12."""
    lo = pl.when(grade <= 3).then(1).otherwise(4)
    hi = pl.when(grade <= 3).then(3).otherwise(12)
    return pl.when((up & (grade < hi)) | (grade == lo)).then(grade + 1).otherwise(grade - 1)


def plant(country: Country, year: int, grades: pl.DataFrame, subs: pl.DataFrame, rate: float, ids
          ) -> tuple[pl.DataFrame, dict[str, pl.DataFrame], pl.DataFrame]:
    """Plant the discrepancies of one school year into the grade rows (activity.grades' frame).

    ids: n -> list of n new manifest ids (Defects.ids). Returns (grades with a '__defect' column,
    {file: manifest rows whose line the writer fills in}, manifest rows without a line). Each kind gets
    max(1, Binomial(learner-periods, rate)) plants per school year (none when rate is 0)."""
    empty = pl.DataFrame(schema={"defect_id": pl.Utf8, "kind": pl.Utf8, "feed": pl.Utf8, "entity": pl.Utf8,
                                 "file": pl.Utf8, "line": pl.Int64, "level": pl.Utf8, "rule": pl.Utf8,
                                 "detail": pl.Utf8})
    g = grades.with_columns(pl.lit(None, dtype=pl.Utf8).alias(DEFECT))
    if rate <= 0 or g.height == 0:
        return g, {}, empty
    rng = np.random.default_rng([country.seed, year, S_DISCREPANCY])
    received = subs.filter(pl.col("status") != "missing").select("reg_nr", "period")
    lp = (g.select("person_key", "reg_nr", "vendor", "grade", "letter", "period").unique()
          .join(received, on=["reg_nr", "period"], how="semi").sort("period", "reg_nr", "person_key"))
    n = lp.height
    if n == 0:
        return g, {}, empty
    k = [max(1, int(rng.binomial(n, rate))) for _ in KINDS]
    order = rng.permutation(n)
    k_ne = min(k[0] * 4, n)  # not-enrolled candidates: some find no school to be misreported by
    cand = lp[order[:k_ne].tolist()].with_row_index("cid")
    miss = lp[order[k_ne:k_ne + k[1]].tolist()]
    mism = lp[order[k_ne + k[1]:k_ne + k[1] + k[2]].tolist()]

    # --- not enrolled: the pupil's rows copied to a school with no spell of the pupil overlapping the window
    spells = (country.enrolments.filter(pl.col("year_started") == year)
              .select("person_key", pl.col("reg_nr").alias("x"), "start_date", "end_date"))
    win = _window_frame(year)
    overlap = (cand.select("person_key", "period").join(win, on="period")
               .join(spells, on="person_key")
               .filter((pl.col("start_date") <= pl.col("we")) & (pl.col("end_date").fill_null(pl.col("we")) >= pl.col("ws")))
               .select("person_key", "period", "x").unique())
    old = spells.select("person_key", "x").unique().with_columns(pl.lit(True).alias("old"))
    classes = lp.select("vendor", "period", "grade", pl.col("reg_nr").alias("x"), pl.col("letter").alias("x_letter")).unique()
    tgt = (cand.join(classes, on=["vendor", "period", "grade"])
           .filter(pl.col("x") != pl.col("reg_nr"))
           .join(overlap, on=["person_key", "period", "x"], how="anti")
           .join(old, on=["person_key", "x"], how="left").with_columns(pl.col("old").fill_null(False))
           .sort("cid", "x", "x_letter"))
    tgt = (tgt.with_columns(pl.Series("u", rng.random(tgt.height)))
           .sort("cid", "old", "u", descending=[False, True, False]).unique("cid", keep="first", maintain_order=True)
           .head(k[0]))

    # --- the rows
    key = ["person_key", "reg_nr", "period"]
    code = people(country).select("person_key", "code")
    g = g.join(miss.select(key), on=key, how="anti")
    up = pl.Series("up", rng.random(mism.height) < 0.5)
    mism = mism.with_columns(up).with_columns(_shifted_grade(pl.col("grade"), pl.col("up")).alias("new_grade"))
    g = (g.join(mism.select(*key, "new_grade"), on=key, how="left")
         .with_columns(pl.col("new_grade").is_not_null().alias("__mism"),
                       pl.coalesce("new_grade", "grade").cast(g.schema["grade"]).alias("grade")).drop("new_grade"))
    copies = (g.join(tgt.select(*key, "x", "x_letter"), on=key, how="inner")
              .with_columns(pl.col("x").alias("reg_nr"), pl.col("x_letter").alias("letter")).drop("x", "x_letter"))
    g = pl.concat([g, copies.with_columns(pl.lit(True).alias("__ne"))], how="diagonal").with_columns(
        pl.col("__ne").fill_null(False))

    # --- manifest rows and the ids on the planted learner-periods' first rows (the writers' sort order)
    planted = (pl.concat([
        mism.select(*key, "vendor", "letter", pl.col("new_grade").alias("shown"), pl.lit("feed_grade_mismatch").alias("kind"),
                    pl.concat_str([pl.lit("registry grade "), pl.col("grade").cast(pl.Utf8)]).alias("tail")),
        tgt.select("person_key", pl.col("x").alias("reg_nr"), "period", "vendor", pl.col("x_letter").alias("letter"),
                   pl.col("grade").alias("shown"), pl.lit("feed_not_enrolled").alias("kind"),
                   pl.concat_str([pl.lit("pupil of "), pl.col("reg_nr"),
                                  pl.when(pl.col("old")).then(pl.lit(", enrolled here outside the period"))
                                  .otherwise(pl.lit(""))]).alias("tail")),
    ], how="vertical_relaxed").join(code, on="person_key").sort("kind", "period", "reg_nr", "person_key"))
    planted = planted.with_columns(pl.Series("defect_id", ids(planted.height), dtype=pl.Utf8))
    sub_rank = pl.col("subject").replace_strict({s: i for i, s in enumerate(SUBJECT_ORDER)}, default=99)
    first_key = pl.when(pl.col("vendor") == "A").then(sub_rank.cast(pl.Utf8).str.zfill(3)).otherwise(pl.col("subject"))
    flagged = g.filter(pl.col("__mism") | pl.col("__ne")).with_columns(first_key.alias("__k"))
    firsts = (flagged.sort("__k").unique(key, keep="first", maintain_order=True).select(*key, "subject")
              .join(planted.select(*key, "defect_id"), on=key))
    g = (g.join(firsts.rename({"defect_id": "__id"}), on=[*key, "subject"], how="left")
         .with_columns(pl.when(pl.col("__id").is_not_null()).then(pl.col("__id"))
                       .when(pl.col("__mism") | pl.col("__ne")).then(pl.lit(MARK))
                       .otherwise(pl.col(DEFECT)).alias(DEFECT))
         .drop("__id", "__mism", "__ne"))

    shown = pl.when(pl.col("vendor") == "A").then(pl.col("period")).otherwise(pl.col("period").replace(TERMS))
    klass = pl.when(pl.col("vendor") == "A").then(
        pl.concat_str([pl.col("shown").cast(pl.Utf8), pl.lit("."), pl.col("letter")])).otherwise(
        pl.concat_str([pl.col("shown").cast(pl.Utf8), pl.col("letter")]))
    files = pl.when(pl.col("vendor") == "A").then(pl.lit(f"vendor_a/{year}/vertejumi_{year}_") + pl.col("period") + pl.lit(".csv")).otherwise(
        pl.lit(f"vendor_b/{year}/grades_{year}_") + pl.col("period").replace(TERMS) + pl.lit(".jsonl"))
    lined = planted.select(
        "defect_id", "kind", pl.col("vendor").replace_strict(FEEDS).alias("feed"), pl.lit("grades").alias("entity"),
        files.alias("file"), pl.lit(None, dtype=pl.Int64).alias("line"), pl.lit("discrepancy").alias("level"),
        pl.lit(None, dtype=pl.Utf8).alias("rule"),
        pl.concat_str([pl.col("reg_nr"), shown, pl.col("code"), pl.lit("class"), klass, pl.col("tail")],
                      separator=" ").alias("detail"))
    waiting = {f: part for (f,), part in lined.partition_by("file", as_dict=True).items()}
    miss = miss.join(code, on="person_key").sort("period", "reg_nr", "person_key")
    miss_ids = ids(miss.height)
    missing = miss.with_columns(pl.Series("defect_id", miss_ids, dtype=pl.Utf8), pl.col("grade").alias("shown"),
                                pl.concat_str([pl.lit("registry grade "), pl.col("grade").cast(pl.Utf8)]).alias("tail")).select(
        "defect_id", pl.lit("feed_missing_learner").alias("kind"), pl.col("vendor").replace_strict(FEEDS).alias("feed"),
        pl.lit("grades").alias("entity"), files.alias("file"), pl.lit(None, dtype=pl.Int64).alias("line"),
        pl.lit("discrepancy").alias("level"), pl.lit(None, dtype=pl.Utf8).alias("rule"),
        pl.concat_str([pl.col("reg_nr"), shown, pl.col("code"), pl.lit("class"), klass, pl.col("tail")], separator=" ")
        .alias("detail"))
    return g.select(*grades.columns, DEFECT), waiting, missing.cast(empty.schema)
