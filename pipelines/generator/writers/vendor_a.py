"""School system A (CSV, Windows-1257, ';', Latvian headers): landing/vendor_a/<Y>/
vertejumi_<Y>_<1_SEM|2_SEM|GADA>.csv (marks), kavejumi_<Y>_<YYYY-MM>.csv (one row per missed lesson),
stundas_<Y>_<YYYY-MM>.csv (planned lessons per pupil and month)."""
from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from pipelines.generator.country import Country
from pipelines.generator.writers import batches
from pipelines.generator.writers.base import DEFECT, Doc, Part
from pipelines.generator.writers.common import people, sort_by

ENC = "windows-1257"
PERIODS = ["1_SEM", "2_SEM", "GADA"]
SUBJECT_ORDER = ["LAT", "LIT", "MAT", "ANG", "KRV", "VAC", "DAB", "BIO", "FIZ", "KIM", "GEO", "VES", "SOC", "INF",
                 "SPO", "MUZ", "VIZ", "TEH"]


def _doc(year: int, name: str, entity: str, frame: pl.DataFrame) -> Doc:
    return Doc(feed="vendor_a", path=f"vendor_a/{year}/{name}", fmt="csv", parts=[Part(entity, frame)], year=year,
               encoding=ENC, delimiter=";")


def build(country: Country, year: int, grades: pl.DataFrame, planned: pl.DataFrame, absences: pl.DataFrame,
          subs: pl.DataFrame) -> tuple[Iterator[Doc], pl.DataFrame]:
    """The late/missing batch events, and the Docs in a fixed order, built lazily: each Doc's frame exists only
    while it is written, and the period/month partitions are freed as they are used (peak memory at scale 1.0)."""
    ppl = people(country)
    g = grades.filter(pl.col("vendor") == "A")
    pa = planned.filter(pl.col("vendor") == "A")
    ab = absences.filter(pl.col("vendor") == "A").with_columns(pl.col("date").dt.strftime("%Y-%m").alias("month"))
    del grades, planned, absences
    months = sorted(set(pa["month"].to_list()))
    file_of = {p: f"vendor_a/{year}/vertejumi_{year}_{p}.csv" for p in PERIODS}
    kav_of = {m: f"vendor_a/{year}/kavejumi_{year}_{m}.csv" for m in months}
    stu_of = {m: f"vendor_a/{year}/stundas_{year}_{m}.csv" for m in months}
    evs = pl.concat([batches.events(g, subs, "period", "vendor_a", "grades", file_of),
                     batches.events(ab, subs, "month", "vendor_a", "absences", kav_of),
                     batches.events(pa, subs, "month", "vendor_a", "planned_lessons", stu_of)])
    return _docs(year, ppl, g, pa, ab, subs, months), evs


def _docs(year: int, ppl: pl.DataFrame, g: pl.DataFrame, pa: pl.DataFrame, ab: pl.DataFrame, subs: pl.DataFrame,
          months: list[str]) -> Iterator[Doc]:
    g = batches.attach(g.join(ppl, on="person_key"), subs, "period").with_columns(
        pl.col("subject").replace_strict({s: i for i, s in enumerate(SUBJECT_ORDER)}, default=99).alias("so"))
    by_period = sort_by(g, ["period", "reg_nr", "grade", "letter", "person_key", "so"]).partition_by("period", as_dict=True)
    meta = [pl.col(DEFECT)] if DEFECT in g.columns else []  # planted discrepancies' marks (discrepancies.py)
    g = g.clear()  # frees the rows (the partitions hold them)
    for p in PERIODS:
        f = by_period.pop((p,), g).select(
            pl.col("reg_nr").alias("Iestādes reģ. nr."), pl.col("code").alias("Personas kods"),
            pl.col("name").alias("Vārds Uzvārds"),
            pl.concat_str([pl.col("grade").cast(pl.Utf8), pl.lit("."), pl.col("letter")]).alias("Klase"),
            pl.col("subject").alias("Priekšmets"), pl.col("period").alias("Periods"), pl.col("mark").alias("Vērtējums"),
            pl.col("submitted").alias("Iesniegts"), *meta)
        if f.height:
            yield _doc(year, f"vertejumi_{year}_{p}.csv", "grades", f)
        del f
    del by_period
    codes = ppl.select("person_key", "code")
    pa = batches.attach(pa.join(ppl, on="person_key"), subs, "month")
    # absence days are exploded to lessons one month at a time (the whole year's lessons would double the peak)
    ab = batches.attach(ab, subs, "month")
    ab_m = ab.partition_by("month", as_dict=True)
    pa_m = sort_by(pa, ["month", "reg_nr", "person_key"]).partition_by("month", as_dict=True)
    ab, pa = ab.clear(), pa.clear()
    for m in months:
        k = ab_m.pop((m,), ab)
        k = sort_by(k.join(codes, on="person_key").with_columns(
            pl.int_ranges(pl.col("first_lesson"), pl.col("first_lesson") + pl.col("lessons")).alias("lesson"))
            .explode("lesson"), ["date", "reg_nr", "person_key", "lesson"])
        k = k.select(
            pl.col("reg_nr").alias("Iestādes reģ. nr."), pl.col("code").alias("Personas kods"),
            pl.col("date").cast(pl.Utf8).alias("Datums"), pl.col("lesson").cast(pl.Utf8).alias("Stunda"),
            pl.col("reason").alias("Iemesls"), pl.col("submitted").alias("Iesniegts"))
        if k.height:
            yield _doc(year, f"kavejumi_{year}_{m}.csv", "absences", k)
        del k
        s = pa_m.pop((m,), pa).select(
            pl.col("reg_nr").alias("Iestādes reģ. nr."), pl.col("code").alias("Personas kods"),
            pl.col("month").alias("Mēnesis"), pl.col("planned").cast(pl.Utf8).alias("Plānotās stundas"),
            pl.col("submitted").alias("Iesniegts"))
        if s.height:
            yield _doc(year, f"stundas_{year}_{m}.csv", "planned_lessons", s)
        del s
