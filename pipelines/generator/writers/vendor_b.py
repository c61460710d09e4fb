"""School system B (JSON Lines, UTF-8, English fields and codes): landing/vendor_b/<Y>/
grades_<Y>_<T1|T2|FINAL>.jsonl, attendance_<Y>_<YYYY-MM>.jsonl (one record per pupil, day and reason),
lessons_<Y>_<YYYY-MM>.jsonl."""
from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from pipelines.generator.country import Country
from pipelines.generator.writers import batches
from pipelines.generator.writers.base import DEFECT, Doc, Part
from pipelines.generator.writers.common import people, sort_by

TERMS = {"1_SEM": "T1", "2_SEM": "T2", "GADA": "FINAL"}
SUBJECTS = {"LAT": "latvian", "LIT": "lithuanian", "MAT": "math", "ANG": "english", "KRV": "russian",
            "VAC": "german", "DAB": "science", "BIO": "biology", "FIZ": "physics", "KIM": "chemistry",
            "GEO": "geography", "VES": "history", "SOC": "social", "INF": "computing", "SPO": "sports",
            "MUZ": "music", "VIZ": "arts", "TEH": "design"}
MARKS = {"nv": "NA", "i": "PASS", "ni": "FAIL", "S": "STARTED", "T": "CONTINUING", "A": "ACHIEVED", "P": "PROFICIENT"}
REASONS = {"S": "sick", "C": "excused", "N": "unexcused"}


def _doc(year: int, name: str, entity: str, frame: pl.DataFrame, kinds: dict) -> Doc:
    return Doc(feed="vendor_b", path=f"vendor_b/{year}/{name}", fmt="jsonl", parts=[Part(entity, frame, kinds=kinds)],
               year=year)


def build(country: Country, year: int, grades: pl.DataFrame, planned: pl.DataFrame, absences: pl.DataFrame,
          subs: pl.DataFrame) -> tuple[Iterator[Doc], pl.DataFrame]:
    """The late/missing batch events, and the Docs built lazily (as vendor_a.build: bounded peak memory)."""
    ppl = people(country)
    g = grades.filter(pl.col("vendor") == "B")
    pb = planned.filter(pl.col("vendor") == "B")
    ab = absences.filter(pl.col("vendor") == "B").with_columns(pl.col("date").dt.strftime("%Y-%m").alias("month"))
    del grades, planned, absences
    months = sorted(set(pb["month"].to_list()))
    file_of = {p: f"vendor_b/{year}/grades_{year}_{t}.jsonl" for p, t in TERMS.items()}
    evs = pl.concat([
        batches.events(g, subs, "period", "vendor_b", "grades", file_of, label=TERMS),
        batches.events(ab, subs, "month", "vendor_b", "attendance",
                       {m: f"vendor_b/{year}/attendance_{year}_{m}.jsonl" for m in months}),
        batches.events(pb, subs, "month", "vendor_b", "planned_lessons",
                       {m: f"vendor_b/{year}/lessons_{year}_{m}.jsonl" for m in months})])
    return _docs(year, ppl, g, pb, ab, subs, months), evs


def _docs(year: int, ppl: pl.DataFrame, g: pl.DataFrame, pb: pl.DataFrame, ab: pl.DataFrame, subs: pl.DataFrame,
          months: list[str]) -> Iterator[Doc]:
    g = batches.attach(g.join(ppl, on="person_key"), subs, "period", "T")
    by_period = sort_by(g, ["period", "reg_nr", "grade", "letter", "person_key", "subject"]).partition_by("period", as_dict=True)
    meta = [pl.col(DEFECT)] if DEFECT in g.columns else []  # planted discrepancies' marks (discrepancies.py)
    g = g.clear()  # frees the rows (the partitions hold them)
    for p, t in TERMS.items():
        f = by_period.pop((p,), g).select(
            pl.col("reg_nr").alias("school_id"), pl.col("code").alias("student_code"), pl.col("name").alias("student_name"),
            pl.concat_str([pl.col("grade").cast(pl.Utf8), pl.col("letter")]).alias("class_name"),
            pl.col("subject").replace_strict(SUBJECTS, default=None).alias("subject"), pl.lit(t).alias("term"),
            pl.col("mark").replace(MARKS).alias("mark"), pl.col("submitted").alias("recorded_at"), *meta)
        if f.height:
            yield _doc(year, f"grades_{year}_{t}.jsonl", "grades", f, {})
        del f
    del by_period
    ab = batches.attach(ab, subs, "month", "T").join(ppl.select("person_key", "code"), on="person_key")
    pb = batches.attach(pb.join(ppl.select("person_key", "code"), on="person_key"), subs, "month", "T")
    ab_m = sort_by(ab, ["date", "reg_nr", "person_key"]).partition_by("month", as_dict=True)
    pb_m = sort_by(pb, ["month", "reg_nr", "person_key"]).partition_by("month", as_dict=True)
    ab, pb = ab.clear(), pb.clear()
    for m in months:
        a = ab_m.pop((m,), ab).select(
            pl.col("reg_nr").alias("school_id"), pl.col("code").alias("student_code"),
            pl.col("date").cast(pl.Utf8).alias("date"), pl.col("lessons").cast(pl.Utf8).alias("lessons_missed"),
            pl.col("reason").replace_strict(REASONS).alias("reason"), pl.col("submitted").alias("recorded_at"))
        if a.height:
            yield _doc(year, f"attendance_{year}_{m}.jsonl", "attendance", a, {"lessons_missed": "num"})
        del a
        s = pb_m.pop((m,), pb).select(
            pl.col("reg_nr").alias("school_id"), pl.col("code").alias("student_code"), pl.col("month"),
            pl.col("planned").cast(pl.Utf8).alias("lessons_planned"), pl.col("submitted").alias("recorded_at"))
        if s.height:
            yield _doc(year, f"lessons_{year}_{m}.jsonl", "planned_lessons", s, {"lessons_planned": "num"})
        del s
