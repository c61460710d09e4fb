"""Disclosure control (pipelines/open_data/sdc.py) on hand-built cells tables: primary and secondary suppression,
public registry facts, cells shared by two datasets, sums/rates/means, 'z' and 'x', determinism."""
from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from pipelines.open_data import sdc
from pipelines.open_data import sdc_incremental as inc
from pipelines.open_data.attack import attack
from pipelines.open_data.catalogue import Column, Dataset, Disclosure

KEYS = [
    Column("macibu_gads", "Mācību gads", "School year", "string", "period"),
    Column("limenis", "Līmenis", "Level", "string", "level"),
    Column("pasvaldibas_kods", "Pašvaldība", "Municipality", "string", "municipality"),
    Column("iestades_kods", "Iestāde", "Institution", "string", "institution"),
]


def make_ds(number: int, model: str, dims: list[tuple[str, str]], values: list[Column], population: str = "pop",
            public: tuple = (), threshold: int = 5) -> Dataset:
    cols = KEYS + [Column(n, n, n, "string", "dimension", dimension=d) for n, d in dims] + values
    return Dataset(
        number=number, name=f"ds-{number:02d}", model=model, title_lv="t", title_en="t", description_lv="d",
        description_en="d", keywords_lv=("k",), keywords_en=("k",), update_frequency="ANNUAL",
        granularity="institution", columns=tuple(cols),
        disclosure=Disclosure(threshold=threshold, population=population, rule_lv="r", rule_en="r",
                              public=tuple(public)),
        path=Path(f"{number:02d}.yaml"))


def count(name: str, measure: str = "learners") -> Column:
    return Column(name, name, name, "integer", "count", measure=measure)


def cube(base: pl.DataFrame, ds: Dataset, aggregates: str) -> pl.DataFrame:
    """The full marginal cube of base rows (macibu_gads, pasvaldibas_kods, iestades_kods, dims, measures) as a
    cells model builds it, with _row_key; rows whose counts are all 0 dropped."""
    dims = [c.name for c in ds.columns if c.role == "dimension"]
    dim_sql = "".join(f", case when grouping({d}) = 1 then 'Kopā' else {d} end as {d}" for d in dims)
    cube_sql = f", cube({', '.join(dims)})" if dims else ""
    con = duckdb.connect()
    con.register("b", base.to_arrow())
    keys = [c.name for c in ds.key_columns()]
    frame = con.sql(f"""
        select macibu_gads,
               case when grouping(pasvaldibas_kods) = 1 then 'valsts'
                    when grouping(iestades_kods) = 1 then 'pašvaldība' else 'iestāde' end as limenis,
               pasvaldibas_kods, iestades_kods {dim_sql}, {aggregates}
        from b group by macibu_gads, grouping sets ((pasvaldibas_kods, iestades_kods), (pasvaldibas_kods), ())
        {cube_sql}""").pl()
    counts = [c.name for c in ds.columns if c.role == "count"]
    frame = frame.filter(pl.any_horizontal([pl.col(c) != 0 for c in counts]))
    return frame.with_columns(
        pl.concat_str([pl.col(k).cast(pl.Utf8).fill_null("") for k in keys], separator="|").alias("_row_key")
    ).sort("_row_key")


def learners_base(seed: int = 1, n_inst: int = 6) -> pl.DataFrame:
    """Learners: one row per learner with institution, municipality, grade, sex, programme."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(3, 60, n_inst)
    inst = np.repeat([f"I{i:02d}" for i in range(n_inst)], sizes)
    muni = np.array([f"M{int(x[1:]) % 3}" for x in inst])
    n = len(inst)
    return pl.DataFrame({
        "macibu_gads": ["2023/2024"] * n, "pasvaldibas_kods": muni, "iestades_kods": inst,
        "klase": rng.choice(["1", "2", "3"], n).astype(str), "dzimums": rng.choice(["S", "V"], n).astype(str),
        "programma": rng.choice(["P1", "P2"], n, p=[0.85, 0.15]).astype(str),
    })


GRADES = make_ds(3, "od_grades", [("klase", "grade"), ("dzimums", "sex")], [count("skaits")],
                 population="learners", public=({"dzimums": "total"},))
PROGRAMMES = make_ds(6, "od_programmes", [("programma", "programme")], [count("skaits")], population="learners")


def build(base: pl.DataFrame, *datasets: Dataset) -> dict[str, pl.DataFrame]:
    return {ds.model: cube(base, ds, "count(*) as skaits") for ds in datasets}


def status_of(status: pl.DataFrame, model: str) -> pl.DataFrame:
    return status.filter(pl.col("model") == model)


def groups_ok(datasets, cells, status) -> None:
    """Every relation group holds 0 or >= 2 suppressed cells; suppressed children under a published parent sum
    to >= the threshold (where the group had something left to suppress)."""
    for pop in sdc.populations(datasets):
        canon, published = sdc.canonical_cells(pop, cells)
        groups = sdc.relation_groups(pop, canon)
        sup, _ = sdc.suppress(canon, groups)
        m = groups.with_columns(pl.Series("s", sup[groups["cell_id"].to_numpy()]),
                                pl.Series("v", canon["value"].to_numpy()[groups["cell_id"].to_numpy()]),
                                pl.Series("pub", canon["public"].to_numpy()[groups["cell_id"].to_numpy()]))
        agg = m.group_by("group_id").agg(
            pl.col("s").sum().alias("n"),
            (pl.col("s") & ~pl.col("is_parent")).sum().alias("nc"),
            pl.col("v").filter(pl.col("s") & ~pl.col("is_parent")).sum().alias("sum_c"),
            pl.col("v").filter(pl.col("s") & ~pl.col("is_parent")).max().fill_null(0).alias("max_c"),
            (pl.col("s") & pl.col("is_parent")).any().alias("ps"),
            (~pl.col("s") & ~pl.col("pub") & (pl.col("v") > 0)).sum().alias("left"))
        bad = agg.filter(((pl.col("n") == 1) | (~pl.col("ps") & (pl.col("nc") >= 1) & (pl.col("sum_c") < 5)))
                         & (pl.col("left") > 0))
        assert bad.height == 0, bad


def test_primary_suppression_and_public_cells():
    cells = build(learners_base(), GRADES)
    status = sdc.cell_status([GRADES], cells)
    f = cells["od_grades"].join(status_of(status, "od_grades").select("_row_key", "status"), on="_row_key",
                                how="left")
    small = f.filter((pl.col("skaits") < 5) & (pl.col("dzimums") != "Kopā"))
    assert small.height > 0 and (small["status"] == "c").all()
    assert f.filter(pl.col("dzimums") == "Kopā")["status"].is_null().all()  # public: never suppressed
    assert set(status["status"].unique()) == {"c"}
    assert (f["status"] == "c").sum() > small.height  # secondary suppression added cells


def test_secondary_suppression_protects_groups_and_survives_the_attack():
    for seed in range(3):
        base = learners_base(seed, n_inst=8)
        cells = build(base, GRADES, PROGRAMMES)
        status = sdc.cell_status([GRADES, PROGRAMMES], cells)
        groups_ok([GRADES, PROGRAMMES], cells, status)
        published = {ds.model: sdc.published_frame(ds, cells[ds.model], status) for ds in (GRADES, PROGRAMMES)}
        res = attack([GRADES, PROGRAMMES], published)
        assert res.inconsistent.height == 0
        assert res.leaks.height == 0, (seed, res.leaks)
        assert res.report.height > 0


def test_shared_cells_get_one_status():
    base = learners_base(3)
    cells = build(base, GRADES, PROGRAMMES)
    status = sdc.cell_status([GRADES, PROGRAMMES], cells)

    def totals(ds, dim_cols):
        f = cells[ds.model].filter(pl.all_horizontal([pl.col(c) == "Kopā" for c in dim_cols]))
        st = status_of(status, ds.model).select("_row_key", "status")
        return f.join(st, on="_row_key", how="left").select("limenis", "pasvaldibas_kods", "iestades_kods",
                                                            "skaits", "status").sort(pl.all())

    assert totals(GRADES, ["klase", "dzimums"]).equals(totals(PROGRAMMES, ["programma"]))
    # PROGRAMMES alone has no public cells: its institution totals can be suppressed; linked to GRADES they are
    # public registry facts (any dataset declaring a cell public makes it public)
    alone = sdc.cell_status([PROGRAMMES], build(base, PROGRAMMES))
    assert alone.height > 0


def test_one_cell_two_values_is_an_error():
    base = learners_base(2)
    cells = build(base, GRADES, PROGRAMMES)
    broken = cells["od_programmes"].with_columns(
        pl.when(pl.col("limenis") == "valsts").then(pl.col("skaits") + 1).otherwise(pl.col("skaits")).alias("skaits"))
    with pytest.raises(sdc.DisclosureError, match="different values"):
        sdc.cell_status([GRADES, PROGRAMMES], {**cells, "od_programmes": broken})


def test_a_group_with_one_suppressed_cell_gets_the_smallest_sibling():
    # one institution, grade totals public; sex split 2 / 9 / 20 over three categories -> 2 primary, 9 secondary
    ds = make_ds(3, "od_x", [("dzimums", "sex")], [count("skaits")], public=({"dzimums": "total"},))
    base = pl.DataFrame({"macibu_gads": ["2023/2024"] * 31, "pasvaldibas_kods": ["M"] * 31,
                         "iestades_kods": ["I"] * 31, "dzimums": ["A"] * 2 + ["B"] * 9 + ["C"] * 20})
    cells = {"od_x": cube(base, ds, "count(*) as skaits")}
    st = cells["od_x"].join(sdc.cell_status([ds], cells).select("_row_key", "status"), on="_row_key", how="left")
    sup = st.filter(pl.col("status") == "c")
    # A (2) and B (9) at every level (institution, municipality, nation: same values), C and totals published
    assert sorted(sup["dzimums"].unique()) == ["A", "B"] and sup.height == 6


def test_sum_rate_mean_na_and_null():
    ds = make_ds(11, "od_marks", [("dzimums", "sex")], [
        count("skaits", "graded"), count("nepietiekami", "insufficient"),
        Column("slodzes", "s", "s", "number", "sum", measure="fte", persons="skaits"),
        Column("ipatsvars", "r", "r", "number", "rate", numerator="nepietiekami", denominator="skaits"),
        Column("videjais", "m", "m", "number", "mean", denominator="skaits"),
    ], population="graded")
    rows = [  # institution I1: 3 S + 10 V; I2: 7 S + 8 V; I3 not available
        ("I1", "S", 3, 1, 2.5, 33.3, 6.0), ("I1", "V", 10, 0, 9.0, 0.0, 7.0), ("I1", "Kopā", 13, 1, 11.5, 7.7, 6.8),
        ("I2", "S", 7, 6, 6.0, 85.7, 5.0), ("I2", "V", 8, 2, 7.0, 25.0, None), ("I2", "Kopā", 15, 8, 13.0, 53.3, 5.5),
        ("I3", "Kopā", None, None, None, None, None),
    ]
    cells = pl.DataFrame(rows, schema=["iestades_kods", "dzimums", "skaits", "nepietiekami", "slodzes", "ipatsvars",
                                       "videjais"], orient="row").with_columns(
        pl.lit("2023/2024").alias("macibu_gads"), pl.lit("iestāde").alias("limenis"),
        pl.lit("M").alias("pasvaldibas_kods"), (pl.col("iestades_kods") == "I3").alias("_not_available"),
        (pl.col("iestades_kods") + "|" + pl.col("dzimums")).alias("_row_key"))
    st = sdc.cell_status([ds], {"od_marks": cells})
    got = {(r["_row_key"], r["column_name"]): r["status"] for r in st.iter_rows(named=True)}
    assert got[("I1|S", "skaits")] == "c" and got[("I1|S", "slodzes")] == "c"  # sum follows its persons
    assert got[("I1|S", "ipatsvars")] == "c" and got[("I1|S", "videjais")] == "c"  # denominator 3 < 5
    assert got[("I1|S", "nepietiekami")] == "c"
    assert ("I1|V", "nepietiekami") not in got  # 0 is published
    assert got[("I2|V", "nepietiekami")] == "c" and got[("I2|V", "ipatsvars")] == "c"  # numerator 2 is 'c'
    assert got[("I2|V", "videjais")] == "z"  # NULL
    assert all(got[("I3|Kopā", c)] == "x" for c in ("skaits", "nepietiekami", "slodzes", "ipatsvars", "videjais"))
    assert set(st["status"]) <= {"c", "z", "x"}


def test_deterministic_whatever_the_row_order():
    base = learners_base(4)
    cells = build(base, GRADES, PROGRAMMES)
    a = sdc.cell_status([GRADES, PROGRAMMES], cells)
    shuffled = {k: v.sample(fraction=1.0, shuffle=True, seed=7) for k, v in cells.items()}
    b = sdc.cell_status([PROGRAMMES, GRADES], shuffled)
    assert a.equals(b) and a.height > 0


def test_each_school_year_is_suppressed_on_its_own(monkeypatch):
    """No relation group spans two periods, so the status of two years = each year's status alone (what the
    incremental dbt model sdc_cell_status relies on), whatever the number of threads."""
    years = {"2022/2023": learners_base(11, n_inst=7), "2023/2024": learners_base(12, n_inst=7)}
    base = pl.concat([b.with_columns(pl.lit(y).alias("macibu_gads")) for y, b in years.items()])
    both = sdc.cell_status([GRADES, PROGRAMMES], build(base, GRADES, PROGRAMMES), with_period=True)
    alone = pl.concat([
        sdc.cell_status([GRADES, PROGRAMMES], build(base.filter(pl.col("macibu_gads") == y), GRADES, PROGRAMMES),
                        with_period=True) for y in years]).sort("model", "_row_key", "column_name")
    assert both.equals(alone)
    assert set(both["period"]) == set(years)
    assert both.filter(pl.col("period") == "2022/2023").height > 10
    assert (both["period"] == both["_row_key"].str.split("|").list.first()).all()
    monkeypatch.setenv("IKMS_SDC_THREADS", "1")
    assert sdc.cell_status([GRADES, PROGRAMMES], build(base, GRADES, PROGRAMMES), with_period=True).equals(both)


def test_no_cells_no_status():
    empty = {ds.model: cube(learners_base(1), ds, "count(*) as skaits").clear() for ds in (GRADES, PROGRAMMES)}
    st = sdc.cell_status([GRADES, PROGRAMMES], empty, with_period=True)
    assert st.height == 0 and st.columns == ["model", "_row_key", "column_name", "status", "period"]


@pytest.mark.parametrize("value, years", [
    (None, []), ("[]", []), ("", []), ([2023, 2024], [2023, 2024]), ("[2023, 2024]", [2023, 2024]),
    ("2024", [2024]), (2024, [2024]), ("['2023']", [2023]),
])
def test_school_years_as_the_config_renders_them(value, years):
    assert inc.school_years(value) == years


def test_period_in_selects_the_school_years():
    con = duckdb.connect()
    rel = con.sql("select * from (values ('2022/2023'), ('2023/2024'), ('2024/2025')) t(macibu_gads)")
    got = rel.filter(inc.period_in("macibu_gads", [2023, 2024])).fetchall()
    assert sorted(r[0] for r in got) == ["2023/2024", "2024/2025"]
    assert rel.filter(inc.period_in("macibu_gads", [])).fetchall() == []


def test_a_year_is_recomputed_when_its_cells_change():
    """The fingerprint of a year changes with any of its cells rows (and only its own), with the definitions,
    and not with the row order; the years to compute are the changed ones plus the rebuilt ones."""
    years = {"2022/2023": learners_base(21), "2023/2024": learners_base(22)}
    base = pl.concat([b.with_columns(pl.lit(y).alias("macibu_gads")) for y, b in years.items()])
    cells = build(base, GRADES, PROGRAMMES)
    con = duckdb.connect()
    datasets = {"od_grades": GRADES, "od_programmes": PROGRAMMES}

    def prints(frames, definitions="d1"):
        return inc.year_fingerprints({n: con.from_arrow(f.to_arrow()) for n, f in frames.items()}, datasets,
                                     definitions)

    before = prints(cells)
    assert sorted(before) == [2022, 2023]
    shuffled = {n: f.sample(fraction=1.0, shuffle=True, seed=3) for n, f in cells.items()}
    assert prints(shuffled) == before
    row = cells["od_grades"]["_row_key"].str.starts_with("2022/2023") & (cells["od_grades"]["skaits"] > 1)
    first = int(row.arg_max())
    edited = {**cells, "od_grades": cells["od_grades"].with_columns(
        pl.when(pl.int_range(pl.len()) == first).then(pl.col("skaits") - 1).otherwise(pl.col("skaits"))
        .alias("skaits"))}
    after = prints(edited)
    assert after[2022] != before[2022] and after[2023] == before[2023]
    assert prints(cells, "d2")[2023] != before[2023]
    # a label column (role attribute) is not read by disclosure control: renaming changes nothing
    labelled = {n: f.with_columns(pl.lit("Skola").alias("iestade")) for n, f in cells.items()}
    assert inc.input_columns(GRADES, labelled["od_grades"].columns) == [
        "macibu_gads", "limenis", "pasvaldibas_kods", "iestades_kods", "klase", "dzimums", "skaits", "_row_key"]
    assert prints(labelled) == before
    assert inc.years_to_compute(after, before, []) == [2022]
    assert inc.years_to_compute(before, before, []) == []
    assert inc.years_to_compute(before, before, [2023, 2030]) == [2023]
    assert inc.years_to_compute(before, {}, []) == [2022, 2023]
    assert len(inc.definitions_fingerprint(True)) == 64
    assert inc.definitions_fingerprint(True) != inc.definitions_fingerprint(False)


def test_published_frame_blanks_symbols():
    cells = build(learners_base(5), GRADES)
    status = sdc.cell_status([GRADES], cells)
    pub = sdc.published_frame(GRADES, cells["od_grades"], status)
    assert pub.columns[-1] == "skaits_pazime" and "_row_key" not in pub.columns
    assert pub.filter(pl.col("skaits_pazime") == "c")["skaits"].is_null().all()
    assert pub.filter(pl.col("skaits_pazime").is_null())["skaits"].is_not_null().all()
    assert pub.height == cells["od_grades"].height


def test_generated_models_are_current():
    """dbt_project/models/open_data/{od_*.sql, _open_data.yml, sdc/*} match the definitions (regenerate with
    `python -m pipelines.open_data.generate_models`)."""
    from pipelines.open_data import generate_models
    from pipelines.open_data.catalogue import load

    assert generate_models.stale() == []
    cat = load()
    files = generate_models.files(cat)
    for ds in cat.datasets:
        sql = files[f"{ds.model}.sql"]
        assert f"ref('{ds.cells_model}')" in sql
        for c in ds.value_columns():
            if c.publish:
                assert f"as {c.name}_pazime" in sql and f"when column_name = '{c.name}'" in sql
    py = files["sdc/sdc_cell_status.py"]
    assert all(f'dbt.ref("{d.cells_model}")' in py for d in cat.datasets if d.value_columns())
