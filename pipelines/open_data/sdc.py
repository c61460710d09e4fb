"""Statistical disclosure control of the open datasets: which value cells are published as 'c' (suppressed),
'z' (not applicable) or 'x' (not available).

Counts are mapped to CANONICAL cells (population, measure, period, municipality, institution, one coordinate per
canonical dimension of the population, '*' = total or absent), so a cell published by two datasets over the same
population is one cell with one status. Primary suppression: 0 < v < threshold unless the cell is a public
registry fact (the dataset's `disclosure.public` patterns). Secondary suppression works on relation groups
(parent + its children along one canonical dimension: institution within municipality, municipality within the
nation, each breakdown dimension) and repeats until stable: a group with exactly one suppressed cell, or whose
suppressed children (parent published) sum below the threshold, gets one more: the smallest non-zero, non-public
published child (ties by canonical key), else the parent. Every round suppresses the picks of all groups in need
at once (vectorised, deterministic). Group rules cannot see the bounds several groups give together (a partner
cell capped by another total), so the result is then attacked by linear programming (bounds.py) and every cell
still pinned within the threshold gets one more suppressed cell in one of its groups (or, when those have none
left, in the groups of their cells, up to 4 steps away; first in the equations that bind its LP bounds, found
by their duals), until none is pinned — or until the pinned set has not shrunk for STALL_ROUNDS rounds; then
every suppressed cell is attacked at once and any still pinned is logged as a warning (none at scale 1.0 × 10
years: the differencing test passes there). Sum columns follow their
persons count; rates and means follow their numerator/denominator; NULL -> 'z'; `_not_available` rows -> 'x'.

Every relation group lies inside one period (the period is a coordinate of every group's parent and children),
so each period (school year) is suppressed on its own, in parallel threads: the status of a year's cells depends
on that year's cells only, which makes the dbt model incremental by school year.

Entry point: `cell_status(datasets, cells)`; run in the warehouse by the dbt Python model
dbt_project/models/open_data/sdc/sdc_cell_status.py. The differencing audit (pipelines/open_data/attack.py) reuses
`canonical_cells` / `relation_groups` to state the equations an attacker knows."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import logging
import os

import numpy as np
import polars as pl

from pipelines.open_data.catalogue import TOTAL, Dataset

log = logging.getLogger(__name__)
STALL_ROUNDS = 10  # audit rounds without fewer pinned cells before the repair gives up (see suppress)
STAR = "*"  # canonical coordinate of a total / a dimension the dataset does not break down by
GEO = ("municipality", "institution")
STATUS_SCHEMA = {"model": pl.Utf8, "_row_key": pl.Utf8, "column_name": pl.Utf8, "status": pl.Utf8}


class DisclosureError(ValueError):
    """The cells violate an assumption of disclosure control (e.g. one canonical cell, two values)."""


@dataclass(frozen=True)
class Population:
    name: str
    dimensions: tuple[str, ...]  # canonical dimensions, sorted
    datasets: tuple[Dataset, ...]


def population_of(ds: Dataset) -> str:
    return ds.disclosure.population or ds.model


def populations(datasets: Sequence[Dataset]) -> list[Population]:
    """Datasets with count columns grouped by population (sorted by name)."""
    by: dict[str, list[Dataset]] = {}
    for ds in datasets:
        if any(c.role == "count" for c in ds.columns):
            by.setdefault(population_of(ds), []).append(ds)
    out = []
    for name in sorted(by):
        dims = sorted({c.dimension for ds in by[name] for c in ds.columns if c.role == "dimension"})
        out.append(Population(name, tuple(dims), tuple(sorted(by[name], key=lambda d: d.number))))
    return out


def _role(ds: Dataset, role: str) -> str | None:
    cols = [c.name for c in ds.columns if c.role == role]
    return cols[0] if cols else None


def _public_expr(ds: Dataset) -> pl.Expr:
    expr = pl.lit(False)
    for pattern in ds.disclosure.public:
        match = pl.lit(True)
        for col, what in pattern.items():
            if what == "total":
                match = match & (pl.col(col).cast(pl.Utf8) == TOTAL)
        expr = expr | match
    return expr


def _not_available(frame: pl.DataFrame) -> pl.Expr:
    if "_not_available" in frame.columns:
        return pl.col("_not_available").fill_null(False)
    return pl.lit(False)


def _coordinates(ds: Dataset, frame: pl.DataFrame, dims: Sequence[str]) -> list[pl.Expr]:
    """The canonical coordinates of each row of a dataset's cells frame (Utf8 columns)."""
    period, level = _role(ds, "period"), _role(ds, "level")
    muni, inst = _role(ds, "municipality"), _role(ds, "institution")
    muni_e = pl.col(muni).cast(pl.Utf8) if muni else pl.lit(None, pl.Utf8)
    inst_e = pl.col(inst).cast(pl.Utf8) if inst else pl.lit(None, pl.Utf8)
    if level:
        lvl = pl.col(level)
        muni_c = pl.when(lvl == "valsts").then(pl.lit(STAR)).otherwise(muni_e)
        inst_c = pl.when(lvl == "iestāde").then(inst_e).otherwise(pl.lit(STAR))
    else:  # no level column: the finest non-null geography is the level
        muni_c = muni_e.fill_null(STAR)
        inst_c = inst_e.fill_null(STAR)
    by_dim = {c.dimension: c.name for c in ds.columns if c.role == "dimension"}
    exprs = [
        pl.col(period).cast(pl.Utf8).alias("period") if period else pl.lit(STAR).alias("period"),
        muni_c.alias("municipality"),
        inst_c.alias("institution"),
    ]
    for d in dims:
        if d in by_dim:
            v = pl.col(by_dim[d]).cast(pl.Utf8)
            exprs.append(pl.when(v == TOTAL).then(pl.lit(STAR)).otherwise(v).alias(f"d_{d}"))
        else:
            exprs.append(pl.lit(STAR).alias(f"d_{d}"))
    return exprs


def _ckey(prefix_cols: Sequence[str], dims: Sequence[str], overrides: Mapping[str, str] | None = None) -> pl.Expr:
    """The canonical key as one string (population|measure|period|municipality|institution|dim=value...)."""
    overrides = overrides or {}
    parts: list[pl.Expr] = []
    for c in prefix_cols:
        parts.append(pl.lit(overrides[c]) if c in overrides else pl.col(c))
    for d in dims:
        col = f"d_{d}"
        parts.append(pl.lit(f"{d}=") + (pl.lit(overrides[col]) if col in overrides else pl.col(col)))
    return pl.concat_str(parts, separator="|")


KEY_PREFIX = ("population", "measure", "period", "municipality", "institution")


def dataset_cells(ds: Dataset, frame: pl.DataFrame, pop: Population) -> pl.DataFrame:
    """Long frame, one row per (row, count column) of a dataset: model, _row_key, column_name, measure, the
    canonical coordinates, ckey, value (Int64, NULL where not available), public, not_available, threshold."""
    counts = [c for c in ds.columns if c.role == "count"]
    base = frame.select(
        pl.col("_row_key"),
        *_coordinates(ds, frame, pop.dimensions),
        _public_expr(ds).alias("public"),
        _not_available(frame).alias("not_available"),
        *[pl.col(c.name).cast(pl.Int64).alias(f"v_{c.name}") for c in counts],
    )
    parts = []
    for c in counts:
        parts.append(base.select(
            pl.lit(ds.model).alias("model"), "_row_key", pl.lit(c.name).alias("column_name"),
            pl.lit(pop.name).alias("population"), pl.lit(c.measure).alias("measure"),
            "period", "municipality", "institution", *[f"d_{d}" for d in pop.dimensions],
            pl.when(pl.col("not_available")).then(None).otherwise(pl.col(f"v_{c.name}")).alias("value"),
            "public", "not_available",
            pl.lit(ds.disclosure.threshold, pl.Int64).alias("threshold"),
        ))
    long = pl.concat(parts, how="vertical")
    return long.with_columns(_ckey(KEY_PREFIX, pop.dimensions).alias("ckey"))


def canonical_cells(pop: Population, cells: Mapping[str, pl.DataFrame]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(canonical, published): canonical = one row per canonical cell with a value (cell_id in ckey order,
    coordinates, value, threshold = max over the datasets, public = any); published = the datasets' long rows
    with their cell_id (NULL where the row has no value). Raises DisclosureError when one canonical cell carries
    two values."""
    long = pl.concat([dataset_cells(ds, cells[ds.model], pop) for ds in pop.datasets], how="vertical")
    valued = long.filter(pl.col("value").is_not_null())
    coord_cols = list(KEY_PREFIX) + [f"d_{d}" for d in pop.dimensions]
    canon = (
        valued.group_by("ckey")
        .agg(
            *[pl.col(c).first() for c in coord_cols],
            pl.col("value").min().alias("value"),
            pl.col("value").max().alias("value_max"),
            pl.col("threshold").max(),
            pl.col("public").any(),
            pl.col("model").unique().sort().str.join(",").alias("models"),
        )
        .sort("ckey")
    )
    bad = canon.filter(pl.col("value") != pl.col("value_max"))
    if bad.height:
        ex = bad.row(0, named=True)
        raise DisclosureError(
            f"population {pop.name}: {bad.height} canonical cell(s) carry different values in different datasets, "
            f"e.g. {ex['ckey']}: {ex['value']} vs {ex['value_max']} (datasets {ex['models']}); datasets over one "
            "population must be built from the same base rows")
    canon = canon.drop("value_max").with_row_index("cell_id").with_columns(pl.col("cell_id").cast(pl.Int64))
    published = long.join(canon.select("ckey", "cell_id"), on="ckey", how="left")
    return canon, published


def relation_groups(pop: Population, canon: pl.DataFrame) -> pl.DataFrame:
    """Membership of the relation groups: group_id, relation, cell_id, is_parent. A group = a parent cell and its
    children along one canonical dimension (relations 'institution', 'municipality', 'dim:<name>'); only groups
    whose parent is a cell. Rows sorted by group_id, then cell_id."""
    dims = pop.dimensions
    relations: list[tuple[str, pl.Expr, dict[str, str]]] = [
        ("institution", pl.col("institution") != STAR, {"institution": STAR}),
        ("municipality", (pl.col("institution") == STAR) & (pl.col("municipality") != STAR),
         {"municipality": STAR}),
    ] + [(f"dim:{d}", pl.col(f"d_{d}") != STAR, {f"d_{d}": STAR}) for d in dims]
    ids = canon.select(pl.col("ckey").alias("parent_key"), pl.col("cell_id").alias("parent_id"))
    members = []
    for i, (name, is_child, over) in enumerate(relations):
        child = (
            canon.filter(is_child)
            .select("cell_id", _ckey(KEY_PREFIX, dims, over).alias("parent_key"))
            .join(ids, on="parent_key", how="inner")
        )
        if child.height == 0:
            continue
        rel = pl.lit(i, pl.Int64).alias("rel")
        members.append(child.select(rel, pl.lit(name).alias("relation"), "parent_id", "cell_id",
                                    pl.lit(False).alias("is_parent")))
        members.append(child.select("parent_id").unique().select(
            rel, pl.lit(name).alias("relation"), "parent_id", pl.col("parent_id").alias("cell_id"),
            pl.lit(True).alias("is_parent")))
    if not members:
        return pl.DataFrame(schema={"group_id": pl.Int64, "relation": pl.Utf8, "cell_id": pl.Int64,
                                    "is_parent": pl.Boolean})
    m = pl.concat(members, how="vertical").sort("rel", "parent_id", "cell_id")
    m = m.with_columns((pl.struct("rel", "parent_id").rank("dense") - 1).cast(pl.Int64).alias("group_id"))
    return m.select("group_id", "relation", "cell_id", "is_parent").sort("group_id", "cell_id")


def suppress(canon: pl.DataFrame, groups: pl.DataFrame, audit: bool = True, max_rounds: int = 10_000
             ) -> tuple[np.ndarray, np.ndarray]:
    """Primary and secondary suppression over canonical cells. Returns (suppressed, primary) boolean arrays
    indexed by cell_id. With `audit`, the result is then attacked by linear programming (pipelines/open_data/
    bounds.py) and every suppressed cell still pinned within the threshold gets one more suppressed cell in one
    of its groups (the smallest eligible, ties by canonical key), then the group rules again, until no cell is
    pinned (group rules alone cannot see the bounds that several groups give together)."""
    value = canon["value"].to_numpy().astype(np.int64)
    thr = canon["threshold"].to_numpy().astype(np.int64)
    public = canon["public"].to_numpy().astype(bool)
    primary = (value > 0) & (value < thr) & ~public
    sup = primary.copy()
    if groups.height == 0:
        return sup, primary
    g = groups["group_id"].to_numpy()
    cell = groups["cell_id"].to_numpy()
    is_parent = groups["is_parent"].to_numpy().astype(bool)
    n_groups = int(g.max()) + 1
    g_thr = np.zeros(n_groups, dtype=np.int64)
    np.maximum.at(g_thr, g, thr[cell])
    m_val = value[cell]
    eligible = (value > 0) & ~public
    # candidate order inside a group: children first, smallest value, then canonical key (= cell_id)
    order = np.lexsort((cell, m_val, is_parent, g))
    g_o, cell_o = g[order], cell[order]
    # a cell proven safe stays safe: more suppression only widens every interval, so only new cells and the
    # pinned ones are attacked again
    safe = np.zeros(len(value), dtype=bool)
    best, stalled = len(value) + 1, 0
    for _ in range(max_rounds):
        _group_rules(sup, g, cell, is_parent, m_val, g_thr, n_groups, g_o, cell_o, eligible, max_rounds)
        if not audit:
            return sup, primary
        from pipelines.open_data.bounds import pinned

        targets = sup & ~safe
        binding: list = []
        leak, _, _ = pinned(groups, ~sup, value.astype(float), targets, thr, public & ~sup, truth=value.astype(float),
                            binding=binding)
        safe |= targets & ~leak
        if not leak.any():
            return sup, primary
        # a few cells stay pinned by the registry's public totals together with many suppressed ones, whatever
        # else is suppressed around them: stop when the pinned set has not shrunk for STALL_ROUNDS rounds rather
        # than suppress ever further away (the attack test reports what is left)
        if leak.sum() < best:
            best, stalled = int(leak.sum()), 0
        else:
            stalled += 1
        picks = _repair_picks(g, cell, m_val, eligible & ~sup, leak, binding)
        if len(picks) == 0 or stalled >= STALL_ROUNDS:
            # the round's audit excuses a cell by public facts over the groups around the cells it attacked;
            # the final verdict attacks every suppressed cell at once (as the differencing test does)
            final, _, _ = pinned(groups, ~sup, value.astype(float), sup, thr, public & ~sup,
                                 truth=value.astype(float))
            if final.any():
                log.warning("disclosure audit: %d suppressed cell(s) remain pinned within the threshold, e.g. %s",
                            int(final.sum()), canon["ckey"][int(np.flatnonzero(final)[0])])
            return sup, primary
        sup[picks] = True
    raise DisclosureError(f"secondary suppression did not converge in {max_rounds} rounds")


def _repair_picks(g: np.ndarray, cell: np.ndarray, m_val: np.ndarray, candidate: np.ndarray, leak: np.ndarray,
                  binding: list | None = None, max_hops: int = 4) -> np.ndarray:
    """For each pinned cell: the smallest candidate cell (ties by canonical key) of the equations that bind its
    bounds (the LP duals, `binding` from bounds.pinned), else of any group holding it; for the pinned cells whose
    groups have none left (every neighbour suppressed, public or zero, yet the cell is pinned through cells
    further away) the search widens a step at a time: groups of the cells of those groups, up to `max_hops`.
    Returns the cell ids to suppress."""
    membership = pl.DataFrame({"group_id": g, "cell_id": cell})
    cand = pl.DataFrame({"group_id": g, "cand": cell, "v": m_val}).filter(pl.Series(candidate[cell]))
    in_leak = leak[cell]
    frontier = pl.DataFrame({"group_id": g[in_leak], "leaked": cell[in_leak]}).unique()
    picked = []
    if binding:
        bind = pl.DataFrame({"leaked": np.concatenate([c for c, _ in binding]),
                             "group_id": np.concatenate([gid for _, gid in binding])}).filter(
            pl.Series(leak[np.concatenate([c for c, _ in binding])]))
        picks = (bind.join(cand, on="group_id", how="inner")
                 .sort("leaked", "v", "cand").group_by("leaked", maintain_order=True).first())
        picked.append(picks["cand"].to_numpy())
        frontier = frontier.join(picks.select("leaked"), on="leaked", how="anti")
    for _ in range(max_hops):
        picks = (frontier.join(cand, on="group_id", how="inner")
                 .sort("leaked", "v", "cand").group_by("leaked", maintain_order=True).first())
        picked.append(picks["cand"].to_numpy())
        frontier = frontier.join(picks.select("leaked"), on="leaked", how="anti")
        if frontier.height == 0:
            break
        frontier = (frontier.join(membership, on="group_id").select("leaked", "cell_id")
                    .join(membership, on="cell_id").select("group_id", "leaked").unique())
    return np.unique(np.concatenate(picked)) if picked else np.zeros(0, dtype=np.int64)


def _group_rules(sup, g, cell, is_parent, m_val, g_thr, n_groups, g_o, cell_o, eligible, max_rounds) -> None:
    """Apply the group rules to `sup` in place until no group needs another suppressed cell."""
    for _ in range(max_rounds):
        s = sup[cell]
        n_sup = np.bincount(g, weights=s, minlength=n_groups)
        child_sum = np.bincount(g, weights=np.where(s & ~is_parent, m_val, 0), minlength=n_groups)
        parent_sup = np.zeros(n_groups, dtype=bool)
        parent_sup[g[is_parent]] = s[is_parent]
        n_child_sup = n_sup - parent_sup
        need = (n_sup == 1) | (~parent_sup & (n_child_sup >= 1) & (child_sum < g_thr))
        if not need.any():
            return
        cand = need[g_o] & eligible[cell_o] & ~sup[cell_o]
        if not cand.any():
            return  # the groups in need have nothing left to suppress (public or zero cells)
        # first candidate per group in the sorted order (children sorted before the parent)
        idx = np.flatnonzero(cand)
        first = idx[np.r_[True, g_o[idx][1:] != g_o[idx][:-1]]]
        sup[cell_o[first]] = True
    raise DisclosureError(f"secondary suppression did not converge in {max_rounds} rounds")


def _value_status(ds: Dataset, frame: pl.DataFrame, count_status: pl.DataFrame) -> pl.DataFrame:
    """Status of every value column of one dataset (wide: _row_key + <col> status columns, NULL = published)."""
    thr = ds.disclosure.threshold
    by_name = {c.name: c for c in ds.columns}
    st = frame.select("_row_key", _not_available(frame).alias("_na"),
                      *[pl.col(c.name) for c in ds.value_columns()])
    cs = count_status.filter(pl.col("model") == ds.model)
    for c in [c for c in ds.columns if c.role == "count"]:
        flag = cs.filter(pl.col("column_name") == c.name).select("_row_key", pl.col("suppressed").alias(f"_c_{c.name}"))
        st = st.join(flag, on="_row_key", how="left")
    def is_c(name: str) -> pl.Expr:
        col = by_name[name]
        if col.role == "count":
            return pl.col(f"_c_{name}").fill_null(False)
        if col.role == "sum":
            return pl.col(f"_c_{col.persons}").fill_null(False)
        return pl.lit(False)

    def persons_value(name: str) -> pl.Expr:
        col = by_name[name]
        return pl.col(col.persons if col.role == "sum" else name)

    exprs = []
    for c in ds.value_columns():
        if c.role in ("count", "sum"):
            c_flag = is_c(c.name)
        elif c.role == "rate":
            c_flag = (persons_value(c.denominator) < thr).fill_null(True) | is_c(c.numerator) | is_c(c.denominator)
        else:  # mean
            c_flag = (pl.col(c.denominator) < thr).fill_null(True) | is_c(c.denominator)
        exprs.append(
            pl.when(pl.col("_na")).then(pl.lit("x"))
            .when(pl.col(c.name).is_null()).then(pl.lit("z"))
            .when(c_flag).then(pl.lit("c"))
            .otherwise(pl.lit(None, pl.Utf8)).alias(c.name))
    return st.select("_row_key", *exprs)


def audit_default() -> bool:
    """The LP audit-and-repair runs unless env IKMS_SDC_AUDIT=0."""
    return os.environ.get("IKMS_SDC_AUDIT", "1") != "0"


def cell_status(datasets: Sequence[Dataset], cells: Mapping[str, pl.DataFrame], audit: bool | None = None,
                with_period: bool = False) -> pl.DataFrame:
    """The status of every value cell that is not published as its value: columns model, _row_key, column_name,
    status ('c' | 'z' | 'x'), sorted (with_period: then `period`, the row's period value as text). `cells` maps a
    dataset's model name (od_...) to its cells frame (the cells model: the dataset's columns, _row_key, optional
    _not_available). Datasets without value columns are skipped. Each period is suppressed on its own (the
    status of a period's cells depends on that period's cells only), in IKMS_SDC_THREADS threads (default: one
    per CPU). audit: run the LP audit-and-repair after the group rules (default: on, unless env
    IKMS_SDC_AUDIT=0)."""
    if audit is None:
        audit = audit_default()
    published_of: dict[str, pl.DataFrame] = {}
    work: list[tuple[Population, pl.DataFrame]] = []  # (population, the canonical cells of one period)
    for pop in populations(datasets):
        canon, published_of[pop.name] = canonical_cells(pop, cells)
        # one work item per period (see the module docstring); threads, since HiGHS releases the GIL
        for part in canon.partition_by("period", maintain_order=True):
            work.append((pop, part.drop("cell_id").with_row_index("cell_id").with_columns(
                pl.col("cell_id").cast(pl.Int64))))

    def suppressed(item: tuple[Population, pl.DataFrame]) -> pl.DataFrame:
        pop, part = item
        sup, _ = suppress(part, relation_groups(pop, part), audit=audit)
        return pl.DataFrame({"ckey": part["ckey"], "suppressed": sup})  # the ckey starts with the population

    threads = int(os.environ.get("IKMS_SDC_THREADS", "0")) or os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=threads) as pool:
        flags = pl.concat(pool.map(suppressed, work), how="vertical") if work else None
    count_status = [published.join(flags, on="ckey", how="left")
                    .select("model", "_row_key", "column_name", pl.col("suppressed").fill_null(False))
                    for published in published_of.values()] if flags is not None else []
    count_status_df = (pl.concat(count_status, how="vertical") if count_status else
                       pl.DataFrame(schema={"model": pl.Utf8, "_row_key": pl.Utf8, "column_name": pl.Utf8,
                                            "suppressed": pl.Boolean}))
    out = []
    for ds in sorted(datasets, key=lambda d: d.number):
        if not ds.value_columns() or ds.model not in cells:
            continue
        wide = _value_status(ds, cells[ds.model], count_status_df)
        status = (wide.unpivot(index="_row_key", variable_name="column_name", value_name="status")
                  .filter(pl.col("status").is_not_null())
                  .select(pl.lit(ds.model).alias("model"), "_row_key", "column_name", "status"))
        if with_period:
            period = pl.col(ds.period_column()).cast(pl.Utf8)
            status = status.join(cells[ds.model].select("_row_key", period.alias("period")), on="_row_key",
                                 how="left")
        out.append(status)
    schema = {**STATUS_SCHEMA, **({"period": pl.Utf8} if with_period else {})}
    if not out:
        return pl.DataFrame(schema=schema)
    return pl.concat(out, how="vertical").cast(schema).sort("model", "_row_key", "column_name")


def published_frame(ds: Dataset, cells: pl.DataFrame, status: pl.DataFrame) -> pl.DataFrame:
    """What the final od_* model publishes, in Python (tests and audits; the dbt model does the same in SQL):
    the published columns in definition order, value columns NULL where a symbol is set, then <col>_pazime per
    published value column."""
    st = status.filter(pl.col("model") == ds.model)
    values = [c for c in ds.value_columns() if c.publish]
    wide = cells.select("_row_key")
    for c in values:
        wide = wide.join(st.filter(pl.col("column_name") == c.name)
                         .select("_row_key", pl.col("status").alias(f"{c.name}_pazime")), on="_row_key", how="left")
    f = cells.join(wide, on="_row_key", how="left", maintain_order="left")
    out = []
    for c in ds.published_columns():
        if c in values:
            out.append(pl.when(pl.col(f"{c.name}_pazime").is_null()).then(pl.col(c.name)).alias(c.name))
        else:
            out.append(pl.col(c.name))
    return f.select(*out, *[pl.col(f"{c.name}_pazime") for c in values])
