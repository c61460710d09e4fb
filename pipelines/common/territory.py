"""Latvia's territorial units and the harmonisation of pre-2021 units to the 43 current ones.

The 2021 reform (Administrative Territories and Populated Areas Law, in force 1 July 2021) merged 110 novadi
and 9 republic cities into 36 novadi and 7 state cities. Extracts before 2021/22 carry old names and codes;
everything here maps them onto the current ATVK code, vectorised (Polars string ops, replace and joins).

Seeds: seeds/territorial_units.csv (43), territorial_units_pre2021.csv (119),
territorial_parish_successors.csv (parts of an old novads that went to another unit than its main successor).
"""
from __future__ import annotations

import functools

import polars as pl

from pipelines.settings import SEEDS_DIR

_UNITS_CSV = "territorial_units.csv"
_OLD_UNITS_CSV = "territorial_units_pre2021.csv"
_PARISH_CSV = "territorial_parish_successors.csv"

# Diacritic folding, so 'ĀDAŽU NOVADS' and 'ADAZU NOVADS' (typed without marks) meet on one key.
_FOLD = {"Ā": "A", "Č": "C", "Ē": "E", "Ģ": "G", "Ī": "I", "Ķ": "K", "Ļ": "L", "Ņ": "N", "Š": "S", "Ū": "U",
         "Ž": "Z", "Ō": "O", "Ŗ": "R"}

# Genitive of each city's name, for aliases such as 'RĪGAS VALSTSPILSĒTA' / 'JELGAVAS PILSĒTA'.
_CITY_GENITIVE = {"Rīga": "Rīgas", "Daugavpils": "Daugavpils", "Jelgava": "Jelgavas", "Jēkabpils": "Jēkabpils",
                  "Jūrmala": "Jūrmalas", "Liepāja": "Liepājas", "Rēzekne": "Rēzeknes", "Valmiera": "Valmieras",
                  "Ventspils": "Ventspils"}
_CITY_SUFFIXES = ("PILSĒTA", "VALSTSPILSĒTA", "REPUBLIKAS PILSĒTA", "PILSĒTAS PAŠVALDĪBA",
                  "VALSTSPILSĒTAS PAŠVALDĪBA")

# Pre-2009 districts (rajoni) still met in stale addresses, only those whose whole territory lies in ONE
# current unit (a split rajons cannot be resolved by name; the postcode fallback handles it, if at all).
_RAJONI = {"Daugavpils rajons": "0022000", "Gulbenes rajons": "0029000", "Jelgavas rajons": "0030000",
           "Rēzeknes rajons": "0043000", "Valmieras rajons": "0054000", "Ventspils rajons": "0056000"}


def _read(name: str) -> pl.DataFrame:
    return pl.read_csv(SEEDS_DIR / name, infer_schema=False, encoding="utf8")


@functools.lru_cache(maxsize=1)
def load_units() -> pl.DataFrame:
    """The 43 current units: atvk_code, name, kind, centre, lat, lon, population_2024."""
    return _read(_UNITS_CSV).with_columns(
        pl.col("lat").cast(pl.Float64), pl.col("lon").cast(pl.Float64), pl.col("population_2024").cast(pl.Int64)
    )


@functools.lru_cache(maxsize=1)
def load_old_units() -> pl.DataFrame:
    """The 119 pre-2021 units: atvk_code, name, name_upper, kind, successor_atvk_code, lat, lon."""
    return _read(_OLD_UNITS_CSV).with_columns(pl.col("lat").cast(pl.Float64), pl.col("lon").cast(pl.Float64))


@functools.lru_cache(maxsize=1)
def load_parish_successors() -> pl.DataFrame:
    """old_atvk_code, part_name, successor_atvk_code: parts of an old novads not taken by its main successor."""
    return _read(_PARISH_CSV)


def _normalise(e: pl.Expr) -> pl.Expr:
    """Upper case, one space between words, abbreviations spelled out, no diacritics."""
    return _normalise_part(e.str.to_uppercase().str.replace_many(list(_FOLD), list(_FOLD.values())))


def _normalise_part(e: pl.Expr) -> pl.Expr:
    """_normalise for text already upper-cased and folded."""
    return (
        e.str.replace_all(r"[\s\u00a0]+", " ")
        .str.strip_chars(" .\t\r\n\"'")
        .str.replace(r"\bNOV\.?$", "NOVADS")
        .str.replace(r"\bPAG\.?$", "PAGASTS")
    )


@functools.lru_cache(maxsize=1)
def _name_keys() -> pl.DataFrame:
    """key -> (current atvk_code, old atvk_code or null): every spelling a unit name may take."""
    units, old = load_units(), load_old_units()
    rows: list[tuple[str, str, str | None]] = []
    for code, name in units.select("atvk_code", "name").iter_rows():
        rows.append((name, code, None))
        if name.endswith(" novads"):
            rows.append((f"{name} pašvaldība", code, None))
    for code, name, succ in old.select("atvk_code", "name", "successor_atvk_code").iter_rows():
        rows.append((name, succ, code))
        if name.endswith(" novads"):
            rows.append((f"{name} pašvaldība", succ, code))
    for city, gen in _CITY_GENITIVE.items():
        cur = units.filter(pl.col("name") == city)
        olds = old.filter(pl.col("name") == city)
        code = cur["atvk_code"][0] if cur.height else olds["successor_atvk_code"][0]
        old_code = olds["atvk_code"][0] if olds.height else None
        for suffix in _CITY_SUFFIXES:
            rows.append((f"{gen} {suffix}", code, old_code))
    rows += [(name, code, None) for name, code in _RAJONI.items()]
    keys = pl.DataFrame(rows, schema=["key", "atvk_code", "old_atvk_code"], orient="row")
    keys = keys.with_columns(_normalise(pl.col("key")).alias("key"))
    # A current unit and its identically named predecessor share a key; keep the old code so parish
    # overrides still apply to pre-reform addresses (the main successor is the same either way).
    keys = keys.sort("key", "old_atvk_code", nulls_last=True).unique("key", keep="first", maintain_order=True)
    return keys


def municipality_from_name(names: pl.Expr | pl.Series) -> pl.Expr | pl.Series:
    """An old or current unit name in any case/spelling ('RĪGA', 'AGLONAS NOVADS', 'Ādažu nov.') ->
    current ATVK code; null if unknown. Works on an expression or a Series."""
    keys = _name_keys()
    return _normalise(names).replace_strict(
        keys["key"], keys["atvk_code"], default=None, return_dtype=pl.String
    )


def municipality_from_address(addresses: pl.Series) -> pl.Series:
    """Address-register style addresses ('…, KASTUĻINAS PAGASTS, AGLONAS NOVADS, LV-5685',
    '…, RĪGA, LV-1024', or post-reform '…, VALMIERAS NOV., LV-4201') -> current ATVK code.

    The unit is the LAST address part that names a unit (the register writes small to large); a parish or
    town listed in the parish-successor table overrides its old novads' main successor. An address naming
    no unit ('3, LV-2166') takes the unit of its postcode when the other addresses of the same call with
    that postcode all resolve to one unit (postcodes do not cross unit borders in practice)."""
    keys = _name_keys()
    parish = load_parish_successors().select(
        "old_atvk_code", _normalise(pl.col("part_name")).alias("part"), pl.col("successor_atvk_code").alias("override")
    )
    rows = pl.DataFrame({"address": addresses.cast(pl.String)}).with_row_index("_row")
    # Case, spaces and diacritics once per address; only cheap, regex-free steps per part after the split.
    split = rows.select(
        "_row",
        pl.col("address").str.to_uppercase().str.replace_many(list(_FOLD), list(_FOLD.values()))
        .str.replace_all(r"[\s\u00a0]+", " ").str.split(",").alias("part"),
    ).with_columns(pl.int_ranges(pl.col("part").list.len()).alias("_pos"))
    part = pl.col("part").str.strip_chars(" .\t\r\n\"'")
    parts = (
        split.explode("part", "_pos")
        .with_columns(
            pl.when(part.str.ends_with(" NOV")).then(part.str.head(-3) + "NOVADS")
            .when(part.str.ends_with(" PAG")).then(part.str.head(-3) + "PAGASTS")
            .otherwise(part).alias("part")
        )
        .filter(pl.col("part").is_not_null() & (pl.col("part") != ""))
    )
    unit = (
        parts.join(keys, left_on="part", right_on="key", how="inner")
        .sort("_row", "_pos")
        .group_by("_row", maintain_order=True)
        .last()
        .select("_row", "atvk_code", "old_atvk_code", pl.col("_pos").alias("_unit_pos"))
    )
    override = (
        parts.join(parish, on="part", how="inner")
        .join(unit, on=["_row", "old_atvk_code"], how="inner")
        .filter(pl.col("_pos") < pl.col("_unit_pos"))
        .group_by("_row")
        .agg(pl.col("override").sort_by("_pos").last())
    )
    # The postcode is the last part reading 'LV-NNNN' (or 'LV NNNN', 'LVNNNN').
    postcode = (
        parts.filter(pl.col("part").str.starts_with("LV"))
        .with_columns(pl.col("part").str.slice(2).str.strip_chars(" -").alias("_postcode"))
        .filter((pl.col("_postcode").str.len_chars() == 4) & pl.col("_postcode").str.contains(r"^[0-9]{4}$"))
        .group_by("_row")
        .agg(pl.col("_postcode").sort_by("_pos").last())
    )
    resolved = (
        rows.select("_row")
        .join(unit, on="_row", how="left")
        .join(override, on="_row", how="left")
        .join(postcode, on="_row", how="left")
        .select("_row", "_postcode", pl.coalesce("override", "atvk_code").alias("atvk_code"))
    )
    by_postcode = (
        resolved.filter(pl.col("atvk_code").is_not_null() & pl.col("_postcode").is_not_null())
        .group_by("_postcode")
        .agg(pl.col("atvk_code").unique().alias("_codes"))
        .filter(pl.col("_codes").list.len() == 1)
        .select("_postcode", pl.col("_codes").list.first().alias("_by_postcode"))
    )
    out = (
        resolved.join(by_postcode, on="_postcode", how="left")
        .sort("_row")
        .select(pl.coalesce("atvk_code", "_by_postcode").alias(addresses.name or "atvk_code"))
    )
    return out.to_series()


def harmonise_atvk(codes: pl.Series) -> pl.Series:
    """An old (pre-2021) or current 7-digit ATVK code -> current unit code; a current sub-unit code
    (parish/town, e.g. 0054630) -> its unit; null if unknown."""
    units, old = load_units(), load_old_units()
    mapping = dict(zip(old["atvk_code"], old["successor_atvk_code"]))
    mapping.update({c: c for c in units["atvk_code"]})
    current = set(units["atvk_code"])
    s = codes.cast(pl.String).str.strip_chars().str.zfill(7)
    direct = s.replace_strict(list(mapping), list(mapping.values()), default=None, return_dtype=pl.String)
    parent = (s.str.slice(0, 4) + "000").replace_strict(
        sorted(current), sorted(current), default=None, return_dtype=pl.String
    )
    parent = pl.select(pl.when(s.str.starts_with("00")).then(parent)).to_series()
    return pl.select(pl.coalesce(direct, parent)).to_series().alias(codes.name)
