"""Employment agency registrations (landing/nva/<Y>/bezdarbnieki_<Y>.csv): comma-separated UTF-8."""
from __future__ import annotations

import polars as pl

from pipelines.generator.country import Country
from pipelines.generator.writers.base import Doc, Part
from pipelines.generator.writers.common import people

BRANCHES = ["Daugavpils filiāle", "Liepājas filiāle", "Jelgavas filiāle", "Ventspils filiāle", "Valmieras filiāle",
            "Rēzeknes filiāle", "Jēkabpils filiāle", "Cēsu filiāle", "Siguldas filiāle", "Ogres filiāle",
            "Tukuma filiāle", "Kuldīgas filiāle", "Madonas filiāle", "Gulbenes filiāle", "Alūksnes filiāle",
            "Balvu filiāle", "Ludzas filiāle", "Krāslavas filiāle", "Preiļu filiāle", "Aizkraukles filiāle",
            "Bauskas filiāle", "Dobeles filiāle", "Saldus filiāle", "Talsu filiāle", "Limbažu filiāle",
            "Valkas filiāle", "Jūrmalas filiāle"]
RIGA = "0010000"


def build(country: Country, year: int, regs: pl.DataFrame) -> Doc:
    """regs: person_key, registered, deregistered (activity.unemployed)."""
    addr = country.persons.select("person_key", "address_code").join(
        country.addresses.select("address_code", "atvk_new"), on="address_code", how="left")
    idx = pl.col("atvk_new").cast(pl.Int64, strict=False).fill_null(0) % len(BRANCHES)
    branch = pl.when(pl.col("atvk_new") == RIGA).then(pl.lit("Rīgas reģionālā filiāle")).otherwise(
        pl.lit(pl.Series(BRANCHES)).get(idx))
    frame = (regs.join(people(country), on="person_key", how="inner").join(addr, on="person_key", how="left")
             .sort("registered", "code")
             .select(pl.col("code").alias("personas_kods"), pl.col("registered").cast(pl.Utf8).alias("registracijas_datums"),
                     pl.col("deregistered").cast(pl.Utf8).alias("izslegsanas_datums"), branch.alias("filiale")))
    return Doc(feed="nva", path=f"nva/{year}/bezdarbnieki_{year}.csv", fmt="csv", parts=[Part("unemployed", frame)],
               year=year)
