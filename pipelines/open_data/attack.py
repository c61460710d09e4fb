"""The differencing attack: an audit of the PUBLISHED open datasets (the open_data.od_* tables: value columns NULL
where not published, <col>_pazime the symbol) that tries to recover suppressed counts.

Per population (datasets sharing it are attacked together) the attacker knows, for every relation group (a
parent and its children along one hierarchy: institution within municipality, municipality within the nation,
each breakdown dimension), that parent = sum of children, and that counts are >= 0. Steps:
1. consistency: a canonical cell published in one dataset and suppressed in another is a leak;
2. subtraction, repeated until nothing changes: a group with one unknown cell gives it away;
3. linear programming (scipy HiGHS) per connected component of the unknowns: min and max of every suppressed
   count subject to the equations. A cell is LEAKED when hi - lo < threshold (or hi == lo), unless the same
   bounds already follow from the public registry facts alone (the dataset's `disclosure.public` cells), which
   disclosure control cannot hide.
Also the primary checks: no published count in (0, threshold) and no published rate/mean whose denominator is
below the threshold. Vectorised over cells; Python loops only over populations and LP components."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.open_data.bounds import pinned
from pipelines.open_data.catalogue import Dataset
from pipelines.open_data.sdc import KEY_PREFIX, Population, _ckey, _coordinates, _public_expr, populations, relation_groups

REPORT_SCHEMA = {"population": pl.Utf8, "ckey": pl.Utf8, "lo": pl.Float64, "hi": pl.Float64,
                 "method": pl.Utf8, "verdict": pl.Utf8}


@dataclass
class AttackResult:
    report: pl.DataFrame  # one row per suppressed canonical count: population, ckey, lo, hi, method, verdict
    inconsistent: pl.DataFrame  # canonical cells published in one dataset and suppressed in another
    n_equations: int

    @property
    def leaks(self) -> pl.DataFrame:
        return self.report.filter(pl.col("verdict") == "LEAK")


def _published_long(ds: Dataset, frame: pl.DataFrame, pop: Population) -> pl.DataFrame:
    """One row per (row, count column) of a published od_* frame: ckey, coordinates, value (NULL if not
    published), status, public, threshold."""
    counts = [c for c in ds.columns if c.role == "count" and c.publish]
    base = frame.select(
        *_coordinates(ds, frame, pop.dimensions),
        _public_expr(ds).alias("public"),
        *[pl.col(c.name).cast(pl.Float64).alias(f"v_{c.name}") for c in counts],
        *[pl.col(f"{c.name}_pazime").alias(f"s_{c.name}") for c in counts],
    )
    parts = [
        base.select(
            pl.lit(pop.name).alias("population"), pl.lit(c.measure).alias("measure"),
            "period", "municipality", "institution", *[f"d_{d}" for d in pop.dimensions],
            pl.col(f"v_{c.name}").alias("value"), pl.col(f"s_{c.name}").alias("status"), "public",
            pl.lit(ds.disclosure.threshold, pl.Int64).alias("threshold"), pl.lit(ds.model).alias("model"))
        for c in counts
    ]
    return pl.concat(parts, how="vertical").with_columns(_ckey(KEY_PREFIX, pop.dimensions).alias("ckey"))


def primary_violations(datasets: Sequence[Dataset], published: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """Published values that break the primary rule: a count in (0, threshold) that is not a public registry
    fact, a rate/mean whose denominator (persons) is below the threshold, a value published while its symbol is
    set. Columns: model, column_name, problem, n."""
    rows = []
    for ds in datasets:
        if ds.model not in published:
            continue
        f = published[ds.model]
        thr = ds.disclosure.threshold
        by = {c.name: c for c in ds.columns}
        public = f.select(_public_expr(ds)).to_series()
        for c in ds.value_columns():
            if not c.publish:
                continue
            v = f[c.name]
            sym = f[f"{c.name}_pazime"]
            problems = {"value and symbol both set": (v.is_not_null() & sym.is_not_null())}
            if c.role == "count":
                problems["count in (0, threshold)"] = (v > 0) & (v < thr) & ~public
            elif c.role in ("rate", "mean"):
                den = by[c.denominator]
                den_col = den.persons if den.role == "sum" else den.name
                problems["denominator below threshold"] = v.is_not_null() & (f[den_col].fill_null(0) < thr)
            for problem, mask in problems.items():
                n = int(mask.fill_null(False).sum())
                if n:
                    rows.append({"model": ds.model, "column_name": c.name, "problem": problem, "n": n})
    return pl.DataFrame(rows, schema={"model": pl.Utf8, "column_name": pl.Utf8, "problem": pl.Utf8, "n": pl.Int64})


def attack_population(pop: Population, published: Mapping[str, pl.DataFrame], use_lp: bool = True
                      ) -> AttackResult:
    long = pl.concat([_published_long(ds, published[ds.model], pop) for ds in pop.datasets if ds.model in published],
                     how="vertical")
    coord_cols = list(KEY_PREFIX) + [f"d_{d}" for d in pop.dimensions]
    canon = (
        long.group_by("ckey")
        .agg(*[pl.col(c).first() for c in coord_cols],
             pl.col("value").drop_nulls().first().alias("value"),
             (pl.col("status") == "c").any().alias("suppressed_somewhere"),
             pl.col("value").is_not_null().any().alias("published_somewhere"),
             pl.col("threshold").max(), pl.col("public").any())
        .sort("ckey").with_row_index("cell_id").with_columns(pl.col("cell_id").cast(pl.Int64))
    )
    inconsistent = canon.filter(pl.col("suppressed_somewhere") & pl.col("published_somewhere")).select("ckey", "value")
    groups = relation_groups(pop, canon)
    values = canon["value"].fill_null(0).to_numpy().astype(float)
    known = canon["value"].is_not_null().to_numpy()
    public = canon["public"].to_numpy()
    thr = canon["threshold"].to_numpy()
    target = canon["suppressed_somewhere"].to_numpy() & ~known
    method = np.full(len(canon), "", dtype=object)
    lo = np.full(len(canon), np.nan)
    hi = np.full(len(canon), np.nan)
    n_eq = int(groups["group_id"].max() + 1) if groups.height else 0

    # 2. subtraction until stable: a group with exactly one unknown member gives it away
    if groups.height:
        g = groups["group_id"].to_numpy()
        cell = groups["cell_id"].to_numpy()
        coef = np.where(groups["is_parent"].to_numpy(), 1.0, -1.0)
        known_s, values_s = known.copy(), values.copy()
        while True:
            kn = known_s[cell]
            n_unk = np.bincount(g[~kn], minlength=n_eq)
            resid = -np.bincount(g[kn], weights=coef[kn] * values_s[cell[kn]], minlength=n_eq)
            solvable = (n_unk == 1)[g] & ~kn
            if not solvable.any():
                break
            cells_hit, first = np.unique(cell[solvable], return_index=True)
            rows = np.flatnonzero(solvable)[first]
            values_s[cells_hit] = resid[g[rows]] / coef[rows]
            known_s[cells_hit] = True
            lo[cells_hit] = hi[cells_hit] = values_s[cells_hit]
            method[cells_hit] = "subtraction"

    # 3. LP bounds (all targets: the subtraction ones come out with width 0), then the public-facts excuse
    leak, lo_lp, hi_lp = pinned(groups, known, values, target, thr.astype(float), public & known)
    if use_lp:
        lp_only = target & (method == "")
        lo[lp_only], hi[lp_only] = lo_lp[lp_only], hi_lp[lp_only]
        method[lp_only] = "lp"
    else:
        leak &= method == "subtraction"
    verdict = np.where(leak, "LEAK", np.where(method == "", "unbounded", "ok"))
    report = canon.select("ckey").with_columns(
        pl.lit(pop.name).alias("population"), pl.Series("lo", lo), pl.Series("hi", hi),
        pl.Series("method", method.astype(str)), pl.Series("verdict", verdict.astype(str)),
    ).filter(pl.Series(target)).select(list(REPORT_SCHEMA))
    return AttackResult(report=report, inconsistent=inconsistent, n_equations=n_eq)


def attack(datasets: Sequence[Dataset], published: Mapping[str, pl.DataFrame], use_lp: bool = True
           ) -> AttackResult:
    """Attack every population of the datasets. `published` maps model name -> the od_* frame."""
    results = [attack_population(p, published, use_lp) for p in populations(datasets)
               if any(ds.model in published for ds in p.datasets)]
    if not results:
        return AttackResult(pl.DataFrame(schema=REPORT_SCHEMA), pl.DataFrame(schema={"ckey": pl.Utf8}), 0)
    return AttackResult(
        report=pl.concat([r.report for r in results], how="vertical"),
        inconsistent=pl.concat([r.inconsistent for r in results], how="vertical"),
        n_equations=sum(r.n_equations for r in results),
    )
