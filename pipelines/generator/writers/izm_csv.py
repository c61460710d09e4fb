"""The ministry's yearly extract of general-education schools (landing/izm/<Y>/vispareja_izglitiba_<Y>.csv) in
the format of reference/izm_general_schools_2020-21.csv: comma-separated UTF-8, quoted only where needed,
contact columns empty; the municipality as it was that year (pre-reform names upper case before 2021/22,
current names after), counts of pre-school children and of pupils in grades 1-12 on 1 September."""
from __future__ import annotations

import polars as pl

from pipelines.generator.country import Country
from pipelines.generator.writers.base import Doc, Part
from pipelines.generator.writers.common import pre_reform, title_names, unit_names, year_start

SUBORDINATION = {"PASVALDIBA": "Pašvaldība ", "PRIVATS": "Juridiska vai fiziska persona",
                 "VALSTS": "Izglītības un zinātnes ministrija"}


def build(country: Country, year: int) -> Doc:
    day = year_start(year)
    old = pre_reform(year)
    inst = country.institutions.filter(
        (pl.col("sector") == "general") & (pl.col("opened").is_null() | (pl.col("opened") <= day))
        & (pl.col("closed").is_null() | (pl.col("closed") >= day)))
    names = unit_names(country, old)
    if not old:
        names = title_names(names)
    atvk = "atvk_old" if old else "atvk_new"
    on_day = (pl.col("start_date") <= day) & (pl.col("end_date").is_null() | (pl.col("end_date") >= day))
    pupils = (country.learner_years.filter((pl.col("year") == year) & on_day)
              .group_by("reg_nr").agg(pl.len().alias("pupils")))
    pre_codes = country.programmes.filter(pl.col("programme_kind") == "PIRMSSKOLA").select("reg_nr", "programme_code")
    pre = (country.enrolments.filter((pl.col("year_started") == year) & on_day)
           .join(pre_codes, on=["reg_nr", "programme_code"], how="semi")
           .group_by("reg_nr").agg(pl.len().alias("pre")))
    rows = (inst.join(names.rename({"atvk": atvk, "name": "novads"}), on=atvk, how="left")
            .join(pupils, on="reg_nr", how="left").join(pre, on="reg_nr", how="left")
            .sort("novads", "reg_nr").with_row_index("nr", offset=1))
    frame = rows.select(
        pl.col("nr").cast(pl.Utf8).alias("Nr. p. k."), pl.col("novads").alias("Novads/republikas pilsēta"),
        pl.col("reg_nr").alias("Iestādes reģistrācijas Nr."), pl.col("name").alias("Iestādes nosaukums"),
        pl.col("founder_type").replace_strict(SUBORDINATION, default="Juridiska vai fiziska persona").alias("Pakļautība"),
        pl.col("kind").alias("Iestādes veids"), pl.col("type").alias("Iestādes tips"),
        pl.col("address_old" if old else "address_new").alias("Adrese"),
        pl.lit(None, dtype=pl.Utf8).alias("Epasts"), pl.lit(None, dtype=pl.Utf8).alias("Tālrunis"),
        pl.lit(None, dtype=pl.Utf8).alias("Direktors"),
        pl.col("pre").fill_null(0).cast(pl.Utf8).alias("Bērnu skaits pirmsskolas programmās"),
        pl.col("pupils").fill_null(0).cast(pl.Utf8).alias("Izglītojamo skaits 1. - 12. klasē"),
    )
    return Doc(feed="izm", path=f"izm/{year}/vispareja_izglitiba_{year}.csv", fmt="csv",
               parts=[Part("general_schools", frame)], year=year)
