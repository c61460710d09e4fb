"""Statistics office (CSP) files in landing/csp/<Y>/: iedzivotaji_<Y>.json (JSON-stat 2.0: population on
1 January of calendar year Y+1 by ATVK x SEX x AGE x TIME, values flat in row-major order), darba_samaksa_<Y>.csv
(PxWeb CSV: quoted title row, blank row, quoted header; wages and employment rate of Y+1 by unit) and
absolventu_monitorings_<Y>.csv (graduate outcomes, person level). Units are the pre-reform ones before 2021/22."""
from __future__ import annotations

import json

import numpy as np
import polars as pl

from pipelines.generator.country import Country
from pipelines.generator.writers.base import Doc, Part
from pipelines.generator.writers.common import people, pre_reform, title_names, unit_names

# national average monthly gross wage by calendar year (EUR; CSP figures, rounded; 2025 extrapolated)
NATIONAL_WAGE = {2015: 818, 2016: 859, 2017: 926, 2018: 1004, 2019: 1076, 2020: 1143, 2021: 1277, 2022: 1373,
                 2023: 1537, 2024: 1685, 2025: 1790}
RIGA = "0010000"
AGES = [f"Y{a}" for a in range(100)] + ["Y_GE100"]


def _population(country: Country, year: int) -> pl.DataFrame:
    """atvk, sex, age, value for 1 January of year+1 in the units of that year's extract."""
    pop = country.population.filter(pl.col("calendar_year") == year + 1)
    if not pre_reform(year):
        return pop.select(pl.col("atvk_new").alias("atvk"), "sex", "age", pl.col("population").alias("value"))
    # pre-reform units: split each current unit by its residents' (else addresses') shares of the old units
    res = country.persons.join(country.addresses.select("address_code", "atvk_new", "atvk_old"), on="address_code")
    w = pl.concat([res.select("atvk_new", "atvk_old", pl.lit(1.0).alias("w")),
                   country.addresses.select("atvk_new", "atvk_old", pl.lit(0.01).alias("w"))])
    share = (w.group_by("atvk_new", "atvk_old").agg(pl.col("w").sum())
             .with_columns((pl.col("w") / pl.col("w").sum().over("atvk_new")).alias("share")))
    return (pop.join(share, on="atvk_new", how="inner")
            .group_by(pl.col("atvk_old").alias("atvk"), "sex", "age")
            .agg((pl.col("population") * pl.col("share")).sum().round(0).cast(pl.Int64).alias("value")))


def population(country: Country, year: int) -> Doc | None:
    pop = _population(country, year)
    if pop.height == 0:
        return None
    names = title_names(unit_names(country, pre_reform(year)))
    units = pop.select("atvk").unique().join(names, on="atvk", how="left").sort("atvk")
    codes = ["LV" + a for a in units["atvk"].to_list()]
    sexes = ["M", "F"]
    t = str(year + 1)
    grid = (units.select("atvk").with_row_index("i").join(pl.DataFrame({"sex": sexes, "j": [0, 1]}), how="cross")
            .join(pl.DataFrame({"age": list(range(101)), "k": list(range(101))}), how="cross"))
    grid = grid.join(pop.with_columns(pl.col("age").cast(pl.Int64)), on=["atvk", "sex", "age"], how="left")
    grid = grid.with_columns(pl.col("age").cast(pl.Int64)).sort("i", "j", "k")
    values = grid["value"].fill_null(0).cast(pl.Int64).to_list()
    doc = {
        "version": "2.0", "class": "dataset",
        "label": f"Iedzīvotāju skaits gada sākumā pa teritoriālajām vienībām, dzimuma un vecuma, {t}",
        "source": "Centrālā statistikas pārvalde", "updated": f"{year + 1}-06-01",
        "id": ["ATVK", "SEX", "AGE", "TIME"], "size": [len(codes), 2, 101, 1],
        "dimension": {
            "ATVK": {"label": "Teritoriālā vienība", "category": {
                "index": {c: i for i, c in enumerate(codes)},
                "label": {c: n for c, n in zip(codes, units["name"].fill_null("").to_list())}}},
            "SEX": {"label": "Dzimums", "category": {"index": {"M": 0, "F": 1}, "label": {"M": "Vīrieši", "F": "Sievietes"}}},
            "AGE": {"label": "Vecums", "category": {"index": {a: i for i, a in enumerate(AGES)},
                                                    "label": {a: (a[1:] if a != "Y_GE100" else "100 un vairāk") for a in AGES}}},
            "TIME": {"label": "Laika periods", "category": {"index": {t: 0}, "label": {t: t}}},
        },
        "value": values,
    }
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"
    return Doc(feed="csp", path=f"csp/{year}/iedzivotaji_{year}.json", fmt="text", parts=[Part("population", pl.DataFrame())],
               year=year, text=text, text_records=len(values))


def wages(country: Country, year: int) -> Doc:
    old = pre_reform(year)
    cy = year + 1
    names = title_names(unit_names(country, old)).sort("atvk")
    n = names.height
    rng = np.random.default_rng([country.seed, 0, 77])  # a unit's relative level is fixed across years
    codes = names["atvk"].to_list()
    order = np.argsort(codes)
    factors = np.empty(n)
    factors[order] = np.exp(rng.normal(-0.17, 0.09, n))
    factors = np.where(np.array(codes) == RIGA, 1.14, factors)
    emp = np.round(np.clip(rng.normal(63, 4, n), 45, 75), 1)
    drift = np.random.default_rng([country.seed, year, 78]).normal(0, 0.015, n)
    nat = NATIONAL_WAGE.get(cy, NATIONAL_WAGE[max(NATIONAL_WAGE)])
    wage = np.round(nat * factors * (1 + drift))
    frame = pl.concat([
        pl.DataFrame({"t": ["LV0000000 Latvija"], "g": [str(cy)], "w": [str(nat)], "e": ["64.4"]}),
        pl.DataFrame({"t": [f"LV{c} {nm}" for c, nm in zip(codes, names["name"].to_list())], "g": [str(cy)] * n,
                      "w": [str(int(x)) for x in wage], "e": [str(x) for x in emp]}),
    ]).rename({"t": "Teritoriālā vienība", "g": "Gads", "w": "Vidējā mēneša bruto darba samaksa (euro)",
               "e": "Nodarbinātības līmenis (%)"})
    title = f'"Vidējā mēneša bruto darba samaksa un nodarbinātības līmenis pa teritoriālajām vienībām, {cy}"'
    mode = {c: "never" for c in frame.columns}
    mode["Teritoriālā vienība"] = "always"
    return Doc(feed="csp", path=f"csp/{year}/darba_samaksa_{year}.csv", fmt="csv", parts=[Part("wages", frame)],
               year=year, quote_mode=mode, header_quoted=True, pre_lines=[title, ""])


def graduate_outcomes(country: Country, year: int, outcomes: pl.DataFrame) -> Doc | None:
    if outcomes.height == 0:
        return None
    b = lambda c: pl.when(pl.col(c)).then(pl.lit("true")).otherwise(pl.lit("false"))  # noqa: E731
    frame = outcomes.join(people(country), on="person_key").sort("code").select(
        pl.col("code").alias("personas_kods"), pl.col("grad_year").cast(pl.Utf8).alias("absolvesanas_gads"),
        b("employed").alias("nodarbinats"), pl.col("income").round(2).cast(pl.Utf8).alias("ienakumi_gada"),
        b("studying").alias("turpina_macities"), b("emigrated").alias("emigrejis"))
    return Doc(feed="csp", path=f"csp/{year}/absolventu_monitorings_{year}.csv", fmt="csv",
               parts=[Part("graduate_outcomes", frame)], year=year)
