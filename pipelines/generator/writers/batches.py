"""Submission batches of the school systems: every row of an institution's period carries the batch's one
timestamp; a missing batch's rows are not written; late and missing batches become manifest events."""
from __future__ import annotations

import polars as pl


def attach(rows: pl.DataFrame, subs: pl.DataFrame, period_col: str, sep: str = " ") -> pl.DataFrame:
    """rows + submitted (the batch's timestamp as text, formatted once per batch) and status, without the
    rows of missing batches."""
    s = subs.select("reg_nr", pl.col("period").alias(period_col),
                    pl.col("submitted").dt.strftime(f"%Y-%m-%d{sep}%H:%M:%S"), "status")
    return rows.join(s, on=["reg_nr", period_col], how="left").filter(pl.col("status") != "missing")


def events(rows: pl.DataFrame, subs: pl.DataFrame, period_col: str, feed: str, entity: str, file_of: dict,
           label: dict | None = None) -> pl.DataFrame:
    """Manifest rows for the late and missing batches that had rows to send. file_of: period -> file path."""
    had = rows.select("reg_nr", pl.col(period_col).alias("period")).unique()
    ev = subs.join(had, on=["reg_nr", "period"], how="semi").filter(pl.col("status") != "on_time")
    if label:
        ev = ev.with_columns(pl.col("period").replace(label).alias("shown"))
    else:
        ev = ev.with_columns(pl.col("period").alias("shown"))
    return ev.sort("period", "reg_nr").select(
        pl.when(pl.col("status") == "late").then(pl.lit("late_submission")).otherwise(pl.lit("missing_submission")).alias("kind"),
        pl.lit(feed).alias("feed"), pl.lit(entity).alias("entity"),
        pl.col("period").replace_strict(file_of, default=None).alias("file"),
        pl.lit(None, dtype=pl.Int64).alias("line"), pl.lit("submission").alias("level"), pl.lit(None, dtype=pl.Utf8).alias("rule"),
        pl.concat_str([pl.col("reg_nr"), pl.col("shown")], separator=" ").alias("detail"),
    )
