"""The data work of the site, done once for all pages in Polars: year-aligned series per unit, peer medians,
municipality comparisons, explorer files. Every function returns frames; build.py turns them into JSON."""
from __future__ import annotations

import polars as pl

from dashboards import bands

SERIES_ROUND = 3  # decimals kept in the JSON (enough for every unit, keeps pages small)


def series(df: pl.DataFrame, keys: list[str], years: list[int]) -> pl.DataFrame:
    """One row per distinct `keys` (sorted by them), with `v` (values aligned to `years`, null where missing or
    suppressed) and `f` (one character per year: 'c' suppressed, '.' otherwise). Input: keys + school_year,
    value, flag (one row per keys x year). One pivot to a column per year, then lists: no grid join."""
    schema = {**{k: df.schema[k] for k in keys}, "v": pl.List(pl.Float64), "f": pl.Utf8}
    if df.is_empty():
        return pl.DataFrame(schema=schema)
    src = df.select(*keys, pl.col("school_year").cast(pl.Int32).cast(pl.Utf8).alias("_y"),
                    pl.col("value").cast(pl.Float64).fill_nan(None).round(SERIES_ROUND).alias("v"),
                    pl.col("flag").cast(pl.Utf8).alias("f"))
    wide = src.pivot(on="_y", index=keys, values=["v", "f"], aggregate_function=None)
    ys = [str(y) for y in years]
    missing = [pl.lit(None, pl.Float64).alias(f"v_{y}") for y in ys if f"v_{y}" not in wide.columns]
    missing += [pl.lit(None, pl.Utf8).alias(f"f_{y}") for y in ys if f"f_{y}" not in wide.columns]
    if missing:
        wide = wide.with_columns(missing)
    return wide.select(*keys, v=pl.concat_list([pl.col(f"v_{y}") for y in ys]),
                       f=pl.concat_str([pl.col(f"f_{y}").fill_null(".") for y in ys])).sort(keys)


def enrolment_bands(raw_totals: pl.DataFrame) -> pl.DataFrame:
    """institution_id, school_year, enrolment, size_band from ENR_TOTAL (unsuppressed: a band is a broad
    category, the count itself never leaves this function)."""
    enr = (raw_totals.filter((pl.col("indicator_id") == "ENR_TOTAL") & (pl.col("level") == "institution"))
           .select(pl.col("unit_code").alias("institution_id"), "school_year", pl.col("value").alias("enrolment")))
    return bands.size_bands(enr)


def peer_medians(inst: pl.DataFrame, institutions: pl.DataFrame, size: pl.DataFrame) -> pl.DataFrame:
    """Median of the (published) values of each institution's peer group (same institution_type and size band,
    same school year) per indicator and year: institution_id, indicator_id, school_year, value (null when fewer
    than config min_peers peers have a value), flag (null), peers."""
    min_peers = int(bands.config().get("min_peers", 3))
    typed = (inst.join(institutions.select("institution_id", "institution_type"),
                       left_on="unit_code", right_on="institution_id", how="left", maintain_order="left")
             .join(size.select("institution_id", "school_year", "size_band"),
                   left_on=["unit_code", "school_year"], right_on=["institution_id", "school_year"], how="left", maintain_order="left")
             .with_columns(pl.col("size_band").fill_null(bands.NO_BAND)))
    group = ["indicator_id", "school_year", "institution_type", "size_band"]
    med = typed.group_by(group).agg(pv=pl.col("value").median(), peers=pl.col("value").count())
    med = med.with_columns(pv=pl.when(pl.col("peers") >= min_peers).then(pl.col("pv")))
    return (typed.join(med, on=group, how="left", maintain_order="left")
            .select(pl.col("unit_code").alias("institution_id"), "indicator_id", "school_year",
                    pl.col("pv").alias("value"), pl.lit(None, pl.Utf8).alias("flag"), "peers", "size_band"))


def latest_values(df: pl.DataFrame, last_year: pl.DataFrame) -> pl.DataFrame:
    """Rows of df (indicator_id, unit_code, school_year, value, flag) in each indicator's latest year."""
    return df.join(last_year, on=["indicator_id", "school_year"], how="inner")


def last_years(totals: pl.DataFrame) -> pl.DataFrame:
    """indicator_id, school_year: the latest school year each indicator has any row in."""
    return totals.group_by("indicator_id").agg(pl.col("school_year").max()).sort("indicator_id")
