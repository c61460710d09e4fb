"""Registry confirmations inside the VIIS extract (section Apstiprinajumi): the learner count as of 1 September
(SKAITS_0109, by every institution with learners that day) and the statistical forms VS-1 (institutions with
pupils in grades 1-12) and VSP-1 (institutions with pre-school learners), each confirmed once per school year
by the deadline of the data calendar (seeds/data_calendar.csv). ~93 % on time, ~5 % late (1-20 days), ~2 %
missing (no record); late and missing ones become manifest events like the school systems' batches."""
from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from pipelines.common import school_years
from pipelines.generator import activity
from pipelines.generator.country import Country
from pipelines.generator.writers.common import active_institutions

S_CONFIRM = 9  # activity stream id of the confirmations (its own: other feeds keep their bytes)
FORMS = ["SKAITS_0109", "VS-1", "VSP-1"]


def draw(country: Country, year: int) -> pl.DataFrame:
    """One row per institution and form it must confirm: reg_nr, form, deadline, confirmed (null = missing),
    status ('on_time' | 'late' | 'missing'), sorted by reg_nr, form."""
    ref = dt.date(year, 9, 1)
    regs = active_institutions(country, year).select("reg_nr")
    kinds = country.programmes.select("reg_nr", "programme_code", "programme_kind")
    on_ref = (country.enrolments
              .filter((pl.col("start_date") <= ref) & (pl.col("end_date").is_null() | (pl.col("end_date") >= ref)))
              .join(regs, on="reg_nr", how="semi")
              .join(kinds, on=["reg_nr", "programme_code"], how="left"))
    need = pl.concat([
        on_ref.select("reg_nr", pl.lit("SKAITS_0109").alias("form")),
        on_ref.filter(pl.col("grade").is_not_null()).select("reg_nr", pl.lit("VS-1").alias("form")),
        on_ref.filter(pl.col("programme_kind") == "PIRMSSKOLA").select("reg_nr", pl.lit("VSP-1").alias("form")),
    ]).unique().sort("reg_nr", "form")
    rng = activity.rng_for(country.seed, year, S_CONFIRM)
    n = need.height
    dl_of = {f: np.datetime64(activity.deadline(year, f), "s") for f in FORMS}
    dl = np.array([dl_of[f] for f in need["form"].to_list()], dtype="datetime64[s]")
    u = rng.random(n)
    status = np.where(u < 0.02, "missing", np.where(u < 0.07, "late", "on_time"))
    first = np.datetime64(ref, "D")
    span = (dl.astype("datetime64[D]") - first).astype(int) + 1  # days from 1 Sep to the deadline's day
    day = np.where(status == "late", dl.astype("datetime64[D]") + 1 + (rng.random(n) * 20).astype(int),
                   first + (rng.random(n) * span).astype(int))
    t = day.astype("datetime64[s]") + np.timedelta64(8 * 3600, "s") + (rng.random(n) * 11 * 3600).astype("timedelta64[s]")
    return need.with_columns(
        pl.Series("deadline", dl.astype("datetime64[us]")),
        pl.Series("confirmed", np.where(status == "missing", np.datetime64("NaT"), t).astype("datetime64[us]")),
        pl.Series("status", status),
    )


def records(drawn: pl.DataFrame, year: int) -> pl.DataFrame:
    """The XML attributes of the confirmations that exist (missing ones are absent)."""
    return drawn.filter(pl.col("status") != "missing").select(
        pl.col("reg_nr").alias("iestadesRegNr"), pl.col("form").alias("veidlapa"),
        pl.lit(f"{year}/{year + 1}").alias("macibuGads"),
        pl.col("confirmed").dt.strftime("%Y-%m-%dT%H:%M:%S").alias("apstiprinats"))


def events(drawn: pl.DataFrame, year: int) -> pl.DataFrame:
    """Manifest rows (kind late_submission / missing_submission, level 'submission', detail '<reg_nr> <form>')."""
    path = f"viis/{school_years.key(year)}/viis_izraksts_{year}.xml"
    return drawn.filter(pl.col("status") != "on_time").sort("form", "reg_nr").select(
        pl.when(pl.col("status") == "late").then(pl.lit("late_submission")).otherwise(pl.lit("missing_submission")).alias("kind"),
        pl.lit("viis").alias("feed"), pl.lit("confirmations").alias("entity"), pl.lit(path).alias("file"),
        pl.lit(None, dtype=pl.Int64).alias("line"), pl.lit("submission").alias("level"),
        pl.lit(None, dtype=pl.Utf8).alias("rule"),
        pl.concat_str([pl.col("reg_nr"), pl.col("form")], separator=" ").alias("detail"),
    )
