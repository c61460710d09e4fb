"""Small helpers the writers share: persons' codes and names, territorial-unit names, period labels."""
from __future__ import annotations

import datetime as dt

import polars as pl

from pipelines.common.school_years import REFORM_YEAR
from pipelines.generator.country import Country


def year_start(year: int) -> dt.date:
    return dt.date(year, 9, 1)


def year_end(year: int) -> dt.date:
    return dt.date(year + 1, 8, 31)


def pre_reform(year: int) -> bool:
    return year < REFORM_YEAR


_PEOPLE: dict[int, tuple[Country, pl.DataFrame]] = {}


def people(country: Country) -> pl.DataFrame:
    """person_key, code, name ('Vārds Uzvārds'); built once per Country (every writer joins it)."""
    hit = _PEOPLE.get(id(country))
    if hit is not None and hit[0] is country:
        return hit[1]
    frame = country.persons.select(
        "person_key", pl.col("personal_code").alias("code"),
        pl.concat_str([pl.col("first_name"), pl.col("last_name")], separator=" ").alias("name"),
    )
    _PEOPLE.clear()  # one Country at a time
    _PEOPLE[id(country)] = (country, frame)
    return frame


def active_institutions(country: Country, year: int) -> pl.DataFrame:
    return country.institutions.filter(
        (pl.col("opened").is_null() | (pl.col("opened") <= year_end(year)))
        & (pl.col("closed").is_null() | (pl.col("closed") >= year_start(year)))
    )


def _title(expr: pl.Expr) -> pl.Expr:
    """'LUDZAS NOVADS' -> 'Ludzas novads'; 'RĪGA' -> 'Rīga'."""
    return expr.str.slice(0, 1).str.to_uppercase() + expr.str.slice(1).str.to_lowercase()


def _unit_from_address(expr: pl.Expr) -> pl.Expr:
    """The municipality part of a register-style address: the part before the postcode."""
    parts = expr.str.split(", ")
    return parts.list.get(-2, null_on_oob=True)


def unit_names(country: Country, old: bool) -> pl.DataFrame:
    """atvk, name (upper case, as in addresses) for the pre-reform (old=True) or current units. Names come
    from the address texts; a unit no address names falls back to its current unit's name."""
    inst = country.institutions
    new_names = pl.concat([
        country.addresses.select(pl.col("atvk_new").alias("atvk"), _unit_from_address(pl.col("address")).alias("name")),
        inst.select(pl.col("atvk_new").alias("atvk"), _unit_from_address(pl.col("address_new")).alias("name")),
    ]).drop_nulls()
    new = new_names.group_by("atvk", "name").len().sort(["atvk", "len", "name"], descending=[False, True, False]) \
        .unique("atvk", keep="first", maintain_order=True).select("atvk", "name")
    if not old:
        units = pl.concat([country.addresses.select(pl.col("atvk_new").alias("atvk")),
                           inst.select(pl.col("atvk_new").alias("atvk"))]).unique()
        return units.join(new, on="atvk", how="left").with_columns(pl.col("name").fill_null(pl.lit("NEZINĀMA"))).sort("atvk")
    old_names = (inst.select(pl.col("atvk_old").alias("atvk"), _unit_from_address(pl.col("address_old")).alias("name"))
                 .drop_nulls().group_by("atvk", "name").len()
                 .sort(["atvk", "len", "name"], descending=[False, True, False])
                 .unique("atvk", keep="first", maintain_order=True).select("atvk", "name"))
    units = pl.concat([country.addresses.select(pl.col("atvk_old").alias("atvk"), pl.col("atvk_new")),
                       inst.select(pl.col("atvk_old").alias("atvk"), pl.col("atvk_new"))]).unique("atvk", keep="first").sort("atvk")
    return (units.join(old_names, on="atvk", how="left")
            .join(new.rename({"atvk": "atvk_new", "name": "name_new"}), on="atvk_new", how="left")
            .select("atvk", pl.coalesce("name", "name_new", pl.lit("NEZINĀMA")).alias("name")).sort("atvk"))


def title_names(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(_title(pl.col("name")).alias("name"))


def classifier_codes(country: Country, classifier: str, values: pl.Expr) -> pl.Expr:
    """Map names to classifier codes (a value that already is a code, or is unknown, stays as it is)."""
    cl = country.classifiers.filter(pl.col("classifier") == classifier)
    mapping = dict(zip(cl["name_lv"].to_list(), cl["code"].to_list()))
    for code in cl["code"].to_list():
        mapping[code] = code
    return values.replace(mapping)


def sort_by(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """frame.sort(keys) (ascending, nulls first), faster: a string key sorts as the rank of its value among
    the key's few distinct values, and the keys are packed into one Int64 when their ranges fit in 63 bits
    (else sorted as several integer keys). The same order as frame.sort(keys) wherever keys are unique."""
    if frame.height < 2:
        return frame
    parts, bits = [], 0
    for k in keys:
        col = frame[k]
        if col.dtype == pl.Utf8:
            u = col.unique().drop_nulls().sort()
            e = pl.col(k).replace_strict(u, pl.Series(range(1, len(u) + 1), dtype=pl.Int64), default=None)
            span = len(u) + 1
        elif col.dtype.is_integer() or col.dtype == pl.Date:
            phys = col.to_physical().cast(pl.Int64)
            lo, hi = phys.min(), phys.max()
            lo, hi = (0, 0) if lo is None else (lo, hi)
            e = pl.col(k).to_physical().cast(pl.Int64) - lo + 1
            span = hi - lo + 2
        else:
            return frame.sort(keys)
        parts.append((e.fill_null(0), int(span - 1).bit_length()))
        bits += parts[-1][1]
    if bits <= 63:
        key = pl.lit(0, dtype=pl.Int64)
        for e, b in parts:
            key = key * (1 << b) + e
        return frame.sort(key)
    return frame.sort([e for e, _ in parts])
