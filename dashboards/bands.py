"""Size bands of institutions (from enrolment) and the peer groups built on them (config.yaml)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import polars as pl
import yaml

CONFIG = Path(__file__).with_name("config.yaml")
NO_BAND = "_U"  # no enrolment that year


@lru_cache(maxsize=1)
def config() -> dict:
    return yaml.safe_load(CONFIG.read_text(encoding="utf-8"))


def bands() -> list[dict]:
    out = sorted(config()["size_bands"], key=lambda b: b["min"])
    assert [b["min"] for b in out] == sorted({b["min"] for b in out}), "size band bounds must be distinct"
    return out


def band_expr(enrolment: pl.Expr) -> pl.Expr:
    """The band code of an enrolment count (null/0 -> NO_BAND)."""
    expr = pl.lit(NO_BAND)
    for b in bands():  # ascending: the last bound reached wins
        expr = pl.when(enrolment >= b["min"]).then(pl.lit(b["code"])).otherwise(expr)
    return expr


def size_bands(enrolment: pl.DataFrame) -> pl.DataFrame:
    """enrolment: institution_id, school_year, enrolment -> + size_band."""
    return enrolment.with_columns(size_band=band_expr(pl.col("enrolment").fill_null(0)))
