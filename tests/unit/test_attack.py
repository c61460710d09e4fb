"""The differencing attack (pipelines/open_data/attack.py) on hand-built publications: it must find what a real
attacker finds (a lone suppressed cell, a chain of subtractions, LP bounds where no subtraction works, a cell
suppressed in one dataset but published in another, small published counts) and must not cry wolf (a well
protected table, intervals that the public registry facts alone already give)."""
from __future__ import annotations

import polars as pl

from pipelines.open_data import sdc
from pipelines.open_data.attack import attack, primary_violations
from pipelines.open_data.catalogue import Column
from tests.unit.test_sdc import GRADES, PROGRAMMES, build, count, cube, learners_base, make_ds

SEX = make_ds(3, "od_sex", [("dzimums", "sex")], [count("skaits")])


def one_school(**by_sex: int) -> dict[str, pl.DataFrame]:
    n = sum(by_sex.values())
    base = pl.DataFrame({"macibu_gads": ["2023/2024"] * n, "pasvaldibas_kods": ["M"] * n,
                         "iestades_kods": ["I"] * n, "dzimums": [s for s, k in by_sex.items() for _ in range(k)]})
    return {"od_sex": cube(base, SEX, "count(*) as skaits")}


def publish(ds, cells: pl.DataFrame, suppressed: pl.Expr) -> pl.DataFrame:
    """Publish with a hand-chosen set of suppressed rows (not the engine's)."""
    st = cells.filter(suppressed).select(pl.lit(ds.model).alias("model"), "_row_key",
                                         pl.lit("skaits").alias("column_name"), pl.lit("c").alias("status"))
    return sdc.published_frame(ds, cells, st)


def test_a_lone_suppressed_cell_is_recovered_by_subtraction():
    cells = one_school(S=3, V=20)["od_sex"]
    pub = publish(SEX, cells, (pl.col("dzimums") == "S") & (pl.col("limenis") == "iestāde"))
    res = attack([SEX], {"od_sex": pub})
    leaks = res.leaks
    # the institution's S is the municipality's S (one institution): recovered exactly
    assert leaks.height == 1 and leaks["lo"][0] == leaks["hi"][0] == 3 and leaks["method"][0] == "subtraction"


def test_two_suppressed_siblings_under_a_published_total_hold_when_their_sum_is_large():
    cells = one_school(A=2, B=9, C=20)["od_sex"]
    pub = publish(SEX, cells, pl.col("dzimums").is_in(["A", "B"]))
    res = attack([SEX], {"od_sex": pub})
    assert res.leaks.height == 0 and res.report.height == 6
    assert (res.report["hi"] - res.report["lo"]).min() == 11  # A + B = 11, each in [0, 11]


def test_two_small_siblings_are_pinned():
    cells = one_school(A=1, B=2, C=20)["od_sex"]
    pub = publish(SEX, cells, pl.col("dzimums").is_in(["A", "B"]))
    assert attack([SEX], {"od_sex": pub}).leaks.height == 6  # each in [0, 3] at all three levels


def test_lp_finds_what_the_group_rules_alone_leave():
    """Group rules alone (no LP audit) leave cells that several groups together pin (through subtraction chains
    across groups, or LP bounds); the audited engine leaves none."""
    found = 0
    for seed in range(4):
        cells = build(learners_base(seed, n_inst=8), GRADES, PROGRAMMES)
        weak = sdc.cell_status([GRADES, PROGRAMMES], cells, audit=False)
        pub = {d.model: sdc.published_frame(d, cells[d.model], weak) for d in (GRADES, PROGRAMMES)}
        leaks = attack([GRADES, PROGRAMMES], pub).leaks
        found += leaks.height
        strong = sdc.cell_status([GRADES, PROGRAMMES], cells, audit=True)
        assert strong.height >= weak.height
        pub = {d.model: sdc.published_frame(d, cells[d.model], strong) for d in (GRADES, PROGRAMMES)}
        assert attack([GRADES, PROGRAMMES], pub).leaks.height == 0
    assert found > 0


def test_a_cell_suppressed_in_one_dataset_and_published_in_another():
    cells = build(learners_base(2), GRADES, PROGRAMMES)
    status = sdc.cell_status([GRADES, PROGRAMMES], cells)
    # PROGRAMMES published with no suppression at all: the small programme cells are plain primary violations
    pub = {"od_grades": sdc.published_frame(GRADES, cells["od_grades"], status),
           "od_programmes": sdc.published_frame(PROGRAMMES, cells["od_programmes"], status.clear())}
    bad = primary_violations([GRADES, PROGRAMMES], pub)
    assert bad["model"].to_list() == ["od_programmes"] and bad["problem"].to_list() == ["count in (0, threshold)"]
    # and the other way round: a shared total suppressed in one dataset only is inconsistent
    grades = pub["od_grades"].with_columns(
        pl.when(pl.col("limenis") == "valsts").then(None).otherwise(pl.col("skaits")).alias("skaits"),
        pl.when(pl.col("limenis") == "valsts").then(pl.lit("c")).otherwise(pl.col("skaits_pazime"))
        .alias("skaits_pazime"))
    good_prog = sdc.published_frame(PROGRAMMES, cells["od_programmes"], status)
    res = attack([GRADES, PROGRAMMES], {"od_grades": grades, "od_programmes": good_prog})
    assert res.inconsistent.height >= 1


def test_bounds_given_by_public_facts_are_not_leaks():
    # grade total (public, 3) split 1 / 2 by sex: both suppressed; [0, 3] follows from the public total alone
    ds = make_ds(3, "od_sex", [("dzimums", "sex")], [count("skaits")], public=({"dzimums": "total"},))
    cells = one_school(S=1, V=2)["od_sex"]
    status = sdc.cell_status([ds], {"od_sex": cells})
    pub = sdc.published_frame(ds, cells, status)
    assert pub.filter(pl.col("dzimums") == "Kopā")["skaits"].to_list() == [3, 3, 3]
    res = attack([ds], {"od_sex": pub})
    assert res.report.height == 6 and res.leaks.height == 0


def test_primary_violations():
    ds = make_ds(11, "od_r", [("dzimums", "sex")], [
        count("skaits"), Column("ipatsvars", "r", "r", "number", "rate", numerator="skaits", denominator="skaits")])
    pub = pl.DataFrame({"macibu_gads": ["2023/2024"] * 2, "limenis": ["valsts"] * 2, "pasvaldibas_kods": [None, None],
                        "iestades_kods": [None, None], "dzimums": ["S", "V"], "skaits": [3, 12],
                        "ipatsvars": [100.0, 100.0], "skaits_pazime": [None, None], "ipatsvars_pazime": [None, None]},
                       schema_overrides={"pasvaldibas_kods": pl.Utf8, "iestades_kods": pl.Utf8,
                                         "skaits_pazime": pl.Utf8, "ipatsvars_pazime": pl.Utf8})
    bad = primary_violations([ds], {"od_r": pub})
    assert sorted(bad["problem"]) == ["count in (0, threshold)", "denominator below threshold"]
    assert bad["n"].to_list() == [1, 1]


def test_the_shortcuts_of_the_bounds_give_the_exact_verdict():
    """bounds() with `enough` proves most cells wide by feasible points (random directions, pushes over all and
    over random halves of the unproven cells) instead of two LPs each: the verdict hi - lo < threshold must be
    exactly the one of the exact bounds, on a system big enough for every shortcut to run."""
    import numpy as np

    from pipelines.open_data import bounds

    cells = build(learners_base(31, n_inst=40), GRADES)
    pop = sdc.populations([GRADES])[0]
    canon, _ = sdc.canonical_cells(pop, cells)
    groups = sdc.relation_groups(pop, canon)
    sup, _ = sdc.suppress(canon, groups, audit=False)  # the group rules only: some cells stay pinned
    value = canon["value"].to_numpy().astype(float)
    thr = canon["threshold"].to_numpy().astype(float)
    assert sup.sum() > 40
    lo, hi = bounds.bounds(groups, ~sup, value, sup)
    lo_f, hi_f = bounds.bounds(groups, ~sup, value, sup, enough=thr, truth=value)
    exact = sup & (hi - lo < thr - bounds.TOL)
    fast = sup & (hi_f - lo_f < thr - bounds.TOL)
    assert exact.any() and (~exact & sup).any()
    assert np.array_equal(exact, fast)
    assert np.allclose(lo[exact], lo_f[exact]) and np.allclose(hi[exact], hi_f[exact])
