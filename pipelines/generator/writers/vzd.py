"""Address register extract (landing/vzd/<Y>/adreses_<Y>.csv) as VZD publishes it: ';'-separated UTF-8 with
'#' as the text qualifier (#KODS#;#STD#;...), coordinates bare. Every address the year's feeds refer to:
the institutions' and the learners' declared addresses. Before 2021/22 ATVK is the pre-reform code."""
from __future__ import annotations

import polars as pl

from pipelines.generator.country import Country
from pipelines.generator.writers.base import Doc, Part
from pipelines.generator.writers.common import active_institutions, pre_reform


def build(country: Country, year: int) -> Doc:
    old = pre_reform(year)
    inst = active_institutions(country, year)
    learners = country.enrolments.filter(pl.col("year_started") == year).select("person_key").unique()
    codes = pl.concat([
        inst.select("address_code"),
        country.persons.join(learners, on="person_key", how="semi").select("address_code"),
    ]).drop_nulls().unique()
    inst_text = inst.select("address_code", pl.col("address_old").alias("inst_old")).unique("address_code", keep="first")
    std = pl.coalesce("inst_old", "address") if old else pl.col("address")
    frame = (country.addresses.join(codes, on="address_code", how="semi").join(inst_text, on="address_code", how="left")
             .sort("address_code")
             .select(pl.col("address_code").alias("KODS"), std.alias("STD"),
                     pl.col("atvk_old" if old else "atvk_new").alias("ATVK"),
                     pl.col("x_lks92").round(2).cast(pl.Utf8).alias("KOORD_X"),
                     pl.col("y_lks92").round(2).cast(pl.Utf8).alias("KOORD_Y"),
                     pl.col("lat").round(6).cast(pl.Utf8).alias("DD_N"), pl.col("lon").round(6).cast(pl.Utf8).alias("DD_E")))
    mode = {"KODS": "always", "STD": "always", "ATVK": "always", "KOORD_X": "never", "KOORD_Y": "never",
            "DD_N": "never", "DD_E": "never"}
    return Doc(feed="vzd", path=f"vzd/{year}/adreses_{year}.csv", fmt="csv", parts=[Part("addresses", frame)],
               year=year, delimiter=";", quote="#", quote_mode=mode, header_quoted=True)
