"""Disclosure control for the dashboards: which indicator values may appear on public pages.

A value is published iff its denominator (for medians: n_observations) is at least the catalogue's
min_denominator and, for counts, the count is 0 or at least COUNT_THRESHOLD. An unpublished value becomes
null with the flag 'c' and loses its numerator and denominator, so nothing of it reaches the HTML/JS. The
internal edition keeps every value (flag 'c' still marks what the public would not see)."""
from __future__ import annotations

import polars as pl

COUNT_THRESHOLD = 5  # DESIGN.md §7: counts below 5 are suppressed
SUPPRESSED = "c"
EDITIONS = ("public", "internal")


def published_expr(aggregation: pl.Expr | str = "aggregation", min_denominator: pl.Expr | str = "min_denominator"
                   ) -> pl.Expr:
    """Boolean expression over columns value, numerator, denominator, n_observations, aggregation and
    min_denominator: True where the value may be published. A null value is never 'published' (it is missing,
    drawn as a gap, not as suppressed)."""
    agg = pl.col(aggregation) if isinstance(aggregation, str) else aggregation
    mind = pl.col(min_denominator) if isinstance(min_denominator, str) else min_denominator
    value = pl.col("value")
    return (
        pl.when(value.is_null()).then(False)
        .when(agg == "count").then((value == 0) | (value >= COUNT_THRESHOLD))
        .when(agg == "median").then(pl.col("n_observations").fill_null(0) >= mind)
        .otherwise(pl.col("denominator").fill_null(0) >= mind)
    )


def apply(values: pl.DataFrame | pl.LazyFrame, catalogue: pl.DataFrame, edition: str = "public"):
    """Join the catalogue's aggregation/min_denominator, add `flag` ('c' where not published, else null) and,
    for the public edition, null the value, numerator and denominator of every unpublished row."""
    if edition not in EDITIONS:
        raise ValueError(f"edition must be one of {EDITIONS}, not {edition!r}")
    cat = catalogue.select("indicator_id", "aggregation", pl.col("min_denominator").cast(pl.Int64))
    lazy = values.lazy() if isinstance(values, pl.DataFrame) else values
    out = lazy.join(cat.lazy(), on="indicator_id", how="left", maintain_order="left").with_columns(
        _pub=published_expr())
    out = out.with_columns(flag=pl.when(~pl.col("_pub") & pl.col("value").is_not_null())
                           .then(pl.lit(SUPPRESSED)).otherwise(pl.lit(None, pl.Utf8)))
    if edition == "public":
        hide = pl.col("flag").is_not_null()
        out = out.with_columns([pl.when(hide).then(None).otherwise(pl.col(c)).alias(c)
                                for c in ("value", "numerator", "denominator", "n_observations")])
    out = out.drop("_pub", "aggregation", "min_denominator")
    return out.collect() if isinstance(values, pl.DataFrame) else out


MAX_ROUNDS = 50


def secondary_counts(totals: pl.DataFrame, breakdowns: pl.DataFrame, catalogue: pl.DataFrame,
                     institution_muni: pl.DataFrame, edition: str = "public") -> tuple[pl.DataFrame, pl.DataFrame]:
    """Secondary suppression of count indicators (DESIGN.md §7): a suppressed count must not be recoverable by
    differencing a published total. Relation groups: institutions within their municipality, municipalities
    within the nation (same indicator, year and category), and the categories of one breakdown within the
    unit's total. A group whose parent is published and which holds exactly one suppressed child gets one more:
    its smallest non-zero published child (ties by unit and code), else the parent. Repeated until stable, all
    groups of a round at once. Inputs are publish.apply's outputs (column `flag`); institution_muni maps
    unit_code -> municipality_code. Ratios, medians and distinct counts are left alone: their numerators and
    denominators are never published, so there is nothing to difference."""
    counts = catalogue.filter(pl.col("aggregation") == "count")["indicator_id"].implode()
    keys = ["indicator_id", "level", "unit_code", "school_year", "dim", "code"]
    tot = totals.filter(pl.col("indicator_id").is_in(counts)).with_columns(dim=pl.lit("_T"), code=pl.lit("_T"))
    br = breakdowns.filter(pl.col("indicator_id").is_in(counts))
    cells = (pl.concat([tot.select(*keys, "value", "flag"), br.select(*keys, "value", "flag")])
             .sort(keys).with_row_index("cell"))
    if cells.is_empty():
        return totals, breakdowns
    cells = cells.join(institution_muni.select("unit_code", pl.col("municipality_code").alias("_muni")),
                       on="unit_code", how="left", maintain_order="left")
    # group membership: (cell, group, is_parent); group ids are strings of the parent's coordinates
    g_inst = cells.filter(pl.col("level") == "institution").select(
        "cell", group=pl.concat_str([pl.lit("I"), "indicator_id", "school_year", "dim", "code", "_muni"], separator="|"),
        is_parent=pl.lit(False))
    g_inst_p = cells.filter(pl.col("level") == "municipality").select(
        "cell", group=pl.concat_str([pl.lit("I"), "indicator_id", "school_year", "dim", "code", "unit_code"],
                                    separator="|"), is_parent=pl.lit(True))
    g_muni = cells.filter(pl.col("level") == "municipality").select(
        "cell", group=pl.concat_str([pl.lit("M"), "indicator_id", "school_year", "dim", "code"], separator="|"),
        is_parent=pl.lit(False))
    g_muni_p = cells.filter(pl.col("level") == "national").select(
        "cell", group=pl.concat_str([pl.lit("M"), "indicator_id", "school_year", "dim", "code"], separator="|"),
        is_parent=pl.lit(True))
    g_cat = cells.filter(pl.col("dim") != "_T").select(
        "cell", group=pl.concat_str([pl.lit("C"), "indicator_id", "level", "unit_code", "school_year", "dim"],
                                    separator="|"), is_parent=pl.lit(False))
    # the parent of a category group is the unit's total, one per breakdown dimension of the unit
    dims = cells.filter(pl.col("dim") != "_T").select("indicator_id", "level", "unit_code", "school_year",
                                                      "dim").unique()
    g_cat_p = (cells.filter(pl.col("dim") == "_T").drop("dim")
               .join(dims, on=["indicator_id", "level", "unit_code", "school_year"], how="inner")
               .select("cell", group=pl.concat_str([pl.lit("C"), "indicator_id", "level", "unit_code", "school_year",
                                                    "dim"], separator="|"), is_parent=pl.lit(True)))
    members = pl.concat([g_inst, g_inst_p, g_muni, g_muni_p, g_cat, g_cat_p])
    # only groups with a parent and at least one child can leak
    shape = members.group_by("group").agg(p=pl.col("is_parent").sum(), c=(~pl.col("is_parent")).sum())
    members = members.join(shape.filter((pl.col("p") == 1) & (pl.col("c") >= 1)).select("group"), on="group")
    status = cells.select("cell", "value", sup=pl.col("flag").is_not_null(), pub=pl.col("flag").is_null()
                          & pl.col("value").is_not_null())
    for _ in range(MAX_ROUNDS):
        m = members.join(status, on="cell", how="left")
        g = m.group_by("group").agg(
            parent_pub=(pl.col("is_parent") & pl.col("pub")).any(),
            n_sup=(~pl.col("is_parent") & pl.col("sup")).sum())
        need = g.filter(pl.col("parent_pub") & (pl.col("n_sup") == 1)).select("group")
        if need.is_empty():
            break
        cand = (m.join(need, on="group").filter(~pl.col("is_parent") & pl.col("pub") & (pl.col("value") > 0))
                .sort("group", "value", "cell").group_by("group", maintain_order=True).first().select("group", "cell"))
        no_child = need.join(cand.select("group"), on="group", how="anti")
        parents = m.join(no_child, on="group").filter(pl.col("is_parent")).select("cell")
        picks = pl.concat([cand.select("cell"), parents]).unique()
        status = status.with_columns(
            sup=pl.col("sup") | pl.col("cell").is_in(picks["cell"].implode()),
            pub=pl.col("pub") & ~pl.col("cell").is_in(picks["cell"].implode()))
    newly = (cells.join(status, on="cell").filter(pl.col("sup") & pl.col("flag").is_null())
             .select(*keys, _sec=pl.lit(True)))
    if newly.is_empty():
        return totals, breakdowns

    def mark(df: pl.DataFrame, with_dim: bool) -> pl.DataFrame:
        on = keys if with_dim else keys[:4]
        right = newly if with_dim else newly.filter(pl.col("dim") == "_T").select(*keys[:4], "_sec")
        out = df.join(right, on=on, how="left", maintain_order="left")
        hit = pl.col("_sec").fill_null(False)
        out = out.with_columns(flag=pl.when(hit).then(pl.lit(SUPPRESSED)).otherwise(pl.col("flag")))
        if edition == "public":
            out = out.with_columns([pl.when(hit).then(None).otherwise(pl.col(c)).alias(c)
                                    for c in ("value", "numerator", "denominator", "n_observations")])
        return out.drop("_sec")

    return mark(totals, False), mark(breakdowns, True)
