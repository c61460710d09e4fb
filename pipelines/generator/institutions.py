"""The institutions of the demo country: the real 688 general schools (2020/21 extract) and the 2,713
institutions of the registry's public export, sampled at small scales, with grade ranges, founders, vendors,
reform closures and placement points."""
from __future__ import annotations

import datetime as dt
import io

import numpy as np
import polars as pl

from pipelines.generator import geography, targets
from pipelines.settings import REFERENCE_DIR

GENERAL_CSV = "izm_general_schools_2020-21.csv"
EXPORT_TXT = "viis_institutions_export_2020-12.txt"

SECTOR_BY_KIND = {
    "Pirmsskolas izglītības iestāde": "preschool",
    "Profesionālās pamata un vidējās izglītības iestāde": "vocational",
    "Augstākās izglītības iestāde": "higher",
}
GRADES_BY_TYPE = {
    "Vispārizglītojošā sākumskola": (1, 6),
    "Vispārizglītojošā pamatskola": (1, 9),
    "Vispārizglītojošā vidusskola": (1, 12),
    "Valsts ģimnāzija": (7, 12),
    "Ģimnāzija": (7, 12),
    "Speciālā pamatskola": (1, 9),
    "Internātskola - attīstības centrs": (1, 9),
    "Sociālās korekcijas iestāde": (5, 9),
    "Speciālā vidusskola": (1, 12),
    "Vispārizglītojošā vakara (maiņu) vidusskola": (7, 12),
    "Neklātienes vidusskola": (7, 12),
}


def _read_export() -> pl.DataFrame:
    text = (REFERENCE_DIR / EXPORT_TXT).read_text(encoding="utf-8").lstrip("\ufeff")
    df = pl.read_csv(io.StringIO(text), separator="|", quote_char='"', infer_schema=False)
    return df.select(
        pl.col("Reģistrācijas numurs").alias("reg_nr"),
        pl.col("Nosaukums").alias("name"),
        pl.col("Veids").alias("kind"),
        pl.col("Tips").alias("type"),
        pl.col("Juridiskais status").alias("status"),
        pl.col("Faktiskais dibinātājs").str.strip_chars().alias("founder"),
        pl.col("Adrese").str.replace_all(r"\s+", " ").alias("address_old"),
    )


def _read_general() -> pl.DataFrame:
    g = pl.read_csv(REFERENCE_DIR / GENERAL_CSV, infer_schema=False)
    return g.select(
        pl.col("Iestādes reģistrācijas Nr.").alias("reg_nr"),
        pl.col("Iestādes nosaukums").alias("name"),
        pl.col("Iestādes veids").alias("kind"),
        pl.col("Iestādes tips").alias("type"),
        pl.col("Pakļautība").str.strip_chars().alias("subordination"),
        pl.col("Novads/republikas pilsēta").alias("old_unit_name"),
        pl.col("Adrese").str.replace_all(r"\s+", " ").alias("address_old"),
        pl.col("Bērnu skaits pirmsskolas programmās").cast(pl.Int64).alias("preschool_ref"),
        pl.col("Izglītojamo skaits 1. - 12. klasē").cast(pl.Int64).alias("pupils_ref"),
    )


def _old_unit_from_address(address: pl.Expr) -> pl.Expr:
    """The part before the postcode names the pre-2021 unit ('…, AGLONAS NOVADS, LV-5685' / '…, RĪGA, LV-1024')."""
    return address.str.replace(r",?\s*LV-?\s*[0-9]{4}\s*$", "").str.split(",").list.last().str.strip_chars()


def _post_reform(address_old: pl.Expr, old_kind: pl.Expr, new_name_upper: pl.Expr, new_kind: pl.Expr) -> pl.Expr:
    """Pre-reform register text -> post-reform: the old novads named in the address becomes the new one; an
    address with no novads in it (a city, or a school of a former novads whose address names only a town) gets the
    new novads inserted before the postcode."""
    named_novads = r", [^,]+ NOVADS(, LV-[0-9]{4})$"
    insert = (address_old.str.replace(r"(, LV-[0-9]{4})$", ", " + "\u0000" + "$1")
              .str.replace("\u0000", new_name_upper, literal=True))
    return (
        pl.when((old_kind == "novads") & address_old.str.contains(named_novads))
        .then(address_old.str.replace(named_novads, ", " + "\u0000" + "$1")
              .str.replace("\u0000", new_name_upper, literal=True))
        .when((new_kind == "novads") | (old_kind == "novads"))
        .then(insert)
        .otherwise(address_old)
    )


def load_reference() -> pl.DataFrame:
    """All reference institutions (general schools first, then the rest of the export), with units."""
    export = _read_export()
    general = _read_general().join(
        export.select("reg_nr", pl.col("founder").alias("founder_export")), on="reg_nr", how="left"
    )
    founder_type = (
        pl.when(pl.col("subordination").str.starts_with("Pašvaldība")).then(pl.lit("PASVALDIBA"))
        .when(pl.col("subordination").str.contains("ministrija")).then(pl.lit("VALSTS"))
        .otherwise(pl.lit("PRIVATS"))
    )
    general = general.with_columns(
        founder_type=founder_type,
        founder=pl.coalesce("founder_export", pl.col("old_unit_name").str.to_titlecase() + " pašvaldība"),
        from_general=pl.lit(True),
    ).drop("founder_export", "subordination")
    rest = export.filter(~pl.col("reg_nr").is_in(general["reg_nr"].implode())).with_columns(
        founder_type=pl.when(pl.col("status").str.contains("(?i)pašvaldīb")).then(pl.lit("PASVALDIBA"))
        .when(pl.col("status").str.contains("(?i)valsts")).then(pl.lit("VALSTS"))
        .otherwise(pl.lit("PRIVATS")),
        old_unit_name=_old_unit_from_address(pl.col("address_old")),
        preschool_ref=pl.lit(None, pl.Int64),
        pupils_ref=pl.lit(None, pl.Int64),
        from_general=pl.lit(False),
    ).drop("status")
    df = pl.concat([general, rest.select(general.columns)], how="vertical")
    old = geography.old_units().select(
        pl.col("name_upper"), pl.col("atvk_code").alias("atvk_old"), pl.col("kind").alias("old_kind"),
        pl.col("successor_atvk_code").alias("succ"),
    )
    df = df.with_columns(pl.col("old_unit_name").str.to_uppercase()).join(
        old, left_on="old_unit_name", right_on="name_upper", how="left"
    )
    # the address resolver also knows the parishes that went to another unit than their novads' successor
    try:
        from pipelines.common.territory import municipality_from_address

        by_addr = municipality_from_address(df["address_old"])
    except Exception:  # the resolver is optional: the successor of the old unit is nearly always right
        by_addr = pl.Series([None] * df.height, dtype=pl.Utf8)
    units = geography.units().select(
        pl.col("atvk_code"), pl.col("idx").alias("unit_idx"), pl.col("kind").alias("new_kind"),
        pl.col("name").str.to_uppercase().alias("new_name_upper"),
    )
    df = df.with_columns(atvk_new=pl.coalesce(by_addr, pl.col("succ"), pl.lit("0001000")),
                         atvk_old=pl.coalesce("atvk_old", pl.lit("0010000")))
    df = df.join(units, left_on="atvk_new", right_on="atvk_code", how="left")
    return df.with_columns(
        address_new=_post_reform(pl.col("address_old"), pl.col("old_kind"), pl.col("new_name_upper"), pl.col("new_kind")),
    ).drop("succ", "old_unit_name", "new_name_upper", "new_kind")


def _grades(df: pl.DataFrame) -> pl.DataFrame:
    types = list(GRADES_BY_TYPE)
    gmin = pl.col("type").replace_strict(types, [v[0] for v in GRADES_BY_TYPE.values()], default=None, return_dtype=pl.Int32)
    gmax = pl.col("type").replace_strict(types, [v[1] for v in GRADES_BY_TYPE.values()], default=None, return_dtype=pl.Int32)
    big_gymnasium = pl.col("type").str.contains("ģimnāzija") & (pl.col("pupils_ref") >= 700)
    other_general = pl.col("from_general")  # vocational schools with general grades in the extract
    return df.with_columns(
        grade_min=pl.when(big_gymnasium).then(1).when(gmin.is_null() & other_general).then(1).otherwise(gmin).cast(pl.Int32),
        grade_max=pl.when(gmax.is_null() & other_general).then(12).otherwise(gmax).cast(pl.Int32),
    ).with_columns(
        grade_min=pl.when(pl.col("from_general")).then(pl.col("grade_min")),
        grade_max=pl.when(pl.col("from_general")).then(pl.col("grade_max")),
    )


def _sample(df: pl.DataFrame, scale: float, rng: np.random.Generator) -> pl.DataFrame:
    """Stratified systematic sample: general schools by unit and size (each unit keeps one when scale >= 0.05),
    other institutions by sector and unit."""
    if scale >= 1.0:
        return df
    df = df.with_columns(
        _stratum=pl.when(pl.col("from_general")).then(pl.lit("general")).otherwise(pl.col("sector")),
        _size=pl.coalesce("pupils_ref", pl.lit(0)),
        _noise=pl.Series(rng.random(df.height)),
    ).sort("_stratum", "unit_idx", "_size", "_noise")
    # systematic sample along (unit, size) within a stratum: keeps the size distribution and the units
    start = float(rng.random())
    df = df.with_columns(_pos=(pl.int_range(pl.len()).over("_stratum") + start) * scale)
    df = df.with_columns(_keep=pl.col("_pos").floor() != (pl.col("_pos") - scale).floor())
    if scale >= 0.05:
        first_in_unit = pl.col("_noise") == pl.col("_noise").max().over("_stratum", "unit_idx")
        none_kept = ~pl.col("_keep").any().over("_stratum", "unit_idx")
        df = df.with_columns(_keep=pl.col("_keep") | (pl.col("from_general") & none_kept & first_in_unit))
    # every sector keeps at least one institution
    df = df.with_columns(_keep=pl.col("_keep") | (~pl.col("_keep").any().over("_stratum") & (pl.col("_noise") == pl.col("_noise").max().over("_stratum"))))
    return df.filter("_keep").drop("_stratum", "_size", "_noise", "_pos", "_keep").sort("from_general", "reg_nr", descending=[True, False])


def _closures(df: pl.DataFrame, scale: float, rng: np.random.Generator) -> pl.Series:
    """Year from which a general school no longer operates (the reform closed or merged small municipal
    schools from 2021); null for the others. Never the last school of a unit or a unit's last with grade 1."""
    n_close = {y: int(np.floor(n * scale + rng.random())) for y, n in targets.SCHOOL_CLOSURES.items()}
    total = sum(n_close.values())
    general = pl.col("grade_min").is_not_null()
    score = df.select(
        pl.when(general & (pl.col("founder_type") == "PASVALDIBA") & pl.col("type").str.starts_with("Vispārizglītojošā")
                & (pl.col("unit_idx").count().over("unit_idx") >= 3))
        .then(pl.col("pupils_ref").cast(pl.Float64) * pl.Series(np.exp(rng.normal(0, 0.35, df.height))))
        .otherwise(None)
    ).to_series()
    order = np.argsort(score.fill_null(np.inf).to_numpy(), kind="stable")
    valid = score.is_not_null().sum()
    years = np.full(df.height, -1, dtype=np.int64)
    chosen = order[: min(total, valid)]
    years[chosen] = np.repeat(list(n_close), list(n_close.values()))[: chosen.size]
    return pl.Series("close_year", years).replace(-1, None)


def build(scale: float, rng: np.random.Generator) -> pl.DataFrame:
    """The institutions frame of country.py plus internal columns (unit_idx, lat, lon, weight, close_year)."""
    df = load_reference().with_columns(
        sector=pl.when(pl.col("from_general")).then(
            pl.when(pl.col("kind") == "Profesionālās pamata un vidējās izglītības iestāde").then(pl.lit("vocational")).otherwise(pl.lit("general"))
        ).otherwise(pl.col("kind").replace_strict(list(SECTOR_BY_KIND), list(SECTOR_BY_KIND.values()), default="other")),
    )
    df = _grades(df)
    df = _sample(df, scale, rng)
    n = df.height
    df = df.with_columns(close_year=_closures(df, scale, rng))
    lat, lon = geography.scatter_in_unit(df["unit_idx"].to_numpy(), rng, power=1.2)
    opened = np.datetime64("1950-01-01") + rng.integers(0, 365 * 64, size=n).astype("timedelta64[D]")
    n_grades = (pl.col("grade_max") - pl.col("grade_min") + 1).cast(pl.Float64)
    df = df.with_columns(
        lat=pl.Series(lat), lon=pl.Series(lon),
        opened=pl.Series(opened).cast(pl.Date),
        closed=pl.when(pl.col("close_year").is_not_null()).then(pl.date(pl.col("close_year"), 8, 31)),
        has_preschool=(pl.col("sector") == "preschool") | (pl.col("preschool_ref").fill_null(0) > 0),
        vendor=pl.when(pl.col("grade_min").is_not_null()).then(
            pl.when(pl.Series(rng.random(n)) < targets.VENDOR_A_SHARE).then(pl.lit("A")).otherwise(pl.lit("B"))),
        # pupils per grade in the real extract: the weight of a school when pupils choose one
        weight=(pl.col("pupils_ref").cast(pl.Float64).clip(lower_bound=3.0) / n_grades),
        # a size for the institutions without reference counts (pre-school, vocational, higher)
        size=pl.Series(np.exp(rng.normal(0, 0.7, n))),
        from_reference=pl.lit(True),
    )
    return df
