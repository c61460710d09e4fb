"""The registry's public institution export (landing/viis_public/<Y>/iestades_<Y>-12.txt), byte-for-byte in
the style of reference/viis_institutions_export_2020-12.txt: a doubled UTF-8 BOM, pipe-separated, a header
and every record ending in a pipe, text double-quoted with "" escapes, counts and 'Jā'/'Nē' bare, CRLF line
ends, person-contact columns empty."""
from __future__ import annotations

import datetime as dt

import polars as pl

from pipelines.generator.country import Country
from pipelines.generator.writers.base import Doc, Part
from pipelines.generator.writers.common import pre_reform

BOM = "\ufeff".encode("utf-8")
STATUS = {"PASVALDIBA": "Pastarpinātās pārvaldes iestāde", "VALSTS": "Valsts tiešās pārvaldes iestāde",
          "PRIVATS": "Komercsabiedrība"}
COLUMNS = ["Nosaukums", "Reģistrācijas numurs", "Juridiskais status", "Vadītājs", "Filiāļu skaits",
           "Strukturvienību skaits", "Veids", "Tips", "Faktiskais dibinātājs", "Deklarētais dibinātājs", "Likvidēta",
           "Adrese", "Tālrunis", "E-pasts"]


def build(country: Country, year: int) -> Doc:
    """Institutions registered by December of `year` and not liquidated before the school year began."""
    dec = dt.date(year, 12, 31)
    inst = country.institutions.filter(
        (pl.col("opened").is_null() | (pl.col("opened") <= dec))
        & (pl.col("closed").is_null() | (pl.col("closed") >= dt.date(year, 9, 1)))
    ).sort("name", "reg_nr")
    frame = inst.select(
        pl.col("name").alias("Nosaukums"), pl.col("reg_nr").alias("Reģistrācijas numurs"),
        pl.col("founder_type").replace_strict(STATUS, default="Juridiskā vai fiziskā persona ").alias("Juridiskais status"),
        pl.lit("").alias("Vadītājs"), pl.lit("0").alias("Filiāļu skaits"), pl.lit("0").alias("Strukturvienību skaits"),
        pl.col("kind").alias("Veids"), pl.col("type").alias("Tips"),
        pl.col("founder").fill_null("").alias("Faktiskais dibinātājs"),
        pl.col("founder").fill_null("").alias("Deklarētais dibinātājs"),
        pl.when(pl.col("closed").is_not_null() & (pl.col("closed") <= dec)).then(pl.lit("Jā")).otherwise(pl.lit("Nē")).alias("Likvidēta"),
        pl.col("address_old" if pre_reform(year) else "address_new").fill_null("").alias("Adrese"),
        pl.lit("").alias("Tālrunis"), pl.lit("").alias("E-pasts"),
    )
    mode = {c: "always" for c in COLUMNS}
    mode.update({"Filiāļu skaits": "never", "Strukturvienību skaits": "never", "Likvidēta": "never"})
    return Doc(feed="viis_public", path=f"viis_public/{year}/iestades_{year}-12.txt", fmt="csv",
               parts=[Part("institutions", frame)], year=year, delimiter="|", quote_mode=mode,
               trailing_delimiter=True, line_end="\r\n", prefix=BOM + BOM)
