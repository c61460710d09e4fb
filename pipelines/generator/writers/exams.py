"""Centralised exam results (landing/exams/<Y>/ce_rezultati_<Y>.csv): comma-separated UTF-8, no BOM."""
from __future__ import annotations

import polars as pl

from pipelines.generator.country import Country
from pipelines.generator.writers.base import Doc, Part
from pipelines.generator.writers.common import people


def build(country: Country, year: int, results: pl.DataFrame) -> Doc:
    frame = results.join(people(country), on="person_key", how="inner").sort("reg_nr", "code", "exam").select(
        pl.col("code").alias("personas_kods"), pl.col("reg_nr").alias("iestades_reg_nr"),
        pl.col("exam").alias("eksamens"), pl.col("level").alias("limenis"), pl.col("date").cast(pl.Utf8).alias("datums"),
        pl.col("result").round(1).cast(pl.Utf8).alias("rezultats_procenti"))
    return Doc(feed="exams", path=f"exams/{year}/ce_rezultati_{year}.csv", fmt="csv", parts=[Part("results", frame)],
               year=year)
