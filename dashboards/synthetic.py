"""A synthetic warehouse for the dashboard bench: the real catalogue (models/indicators), the 43 municipalities
(seeds/territorial_units.csv), N institutions and indicators.indicator_values with every indicator at every
level of its catalogue entry, every school year and every grouping set of its dimensions (the shape of the dbt
roll-up), plus the three data-quality marts the site reads. Values are hashes of the row's keys (DuckDB
hash(), no RNG): the same call gives the same warehouse. About 10 % of institution-level denominators fall
below 5, so suppression is exercised at scale."""
from __future__ import annotations

import itertools
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from dashboards.data import DIMS

ROOT = Path(__file__).resolve().parent.parent
TYPES = [("Vispārizglītojošā vidusskola", 0.22), ("Vispārizglītojošā pamatskola", 0.20),
         ("Vispārizglītojošā sākumskola", 0.05), ("Pirmsskolas izglītības iestāde", 0.40),
         ("Profesionālās izglītības iestāde", 0.05), ("Mūzikas skola", 0.08)]
MULTI_CUT_EVERY = 4
EXAMS = ["LVA9", "MAT9", "ANG9", "VES9", "LVA12", "MAT12", "ANG12", "KRV12", "VAC12", "FIZ12", "KIM12", "BIO12", "VES12"]


def _catalogue() -> pl.DataFrame:
    from pipelines.indicators.catalogue import load_catalogue

    rows = [{"indicator_id": e.id, "name_lv": e.name_lv, "name_en": e.name_en, "domain": e.domain,
             "definition": e.definition, "unit": e.unit, "scale": float(e.scale), "direction": e.direction,
             "reference": e.reference, "levels": ",".join(e.levels), "grain": e.grain,
             "dimensions": ",".join(e.dimensions), "aggregation": e.aggregation,
             "min_denominator": e.min_denominator, "model_name": e.model_name} for e in load_catalogue()]
    return pl.DataFrame(rows).sort("indicator_id")


def _codes(indicator_id: str, dim: str, labels: dict) -> list[str]:
    values = [str(k) for k in (labels["dimensions"][dim].get("values") or {})]
    if dim == "subject":
        exams = [v for v in values if v in EXAMS]
        return exams if indicator_id.startswith("CE_") else [v for v in values if v not in EXAMS]
    return values


def _combos(indicator_id: str, dims: list[str], labels: dict) -> pl.DataFrame:
    """Every grouping set of the indicator's dimensions: a cut dimension takes each code, the others '_T';
    dimensions the indicator does not use are '_Z'."""
    rows = []
    for k in range(len(dims) + 1):
        for subset in itertools.combinations(dims, k):
            product = list(itertools.product(*[_codes(indicator_id, d, labels) for d in subset]))
            # cross-cuts of two or more dimensions are sparse in the real roll-up (not every subject is taught
            # in every grade): keep every MULTI_CUT_EVERY-th so the row count is of the real order
            for codes in (product if k < 2 else product[::MULTI_CUT_EVERY]):
                cut = dict(zip(subset, codes))
                rows.append({d: cut.get(d, "_T" if d in dims else "_Z") for d in DIMS})
    return pl.DataFrame(rows, schema={d: pl.Utf8 for d in DIMS})


def synthetic_warehouse(path: Path, years: list[int], institutions: int = 1400, seed: int = 20241) -> dict:
    """Write the synthetic warehouse to `path` (replaced). Returns {table: rows}."""
    import yaml

    path = Path(path)
    if path.exists():
        path.unlink()
    labels = yaml.safe_load((ROOT / "models" / "indicators" / "dimensions.yaml").read_text(encoding="utf-8"))
    cat = _catalogue()
    munis = (pl.read_csv(ROOT / "seeds" / "territorial_units.csv", schema_overrides={"atvk_code": pl.Utf8})
             .select(pl.col("atvk_code").alias("municipality_code"), pl.col("name").alias("municipality_name"),
                     pl.col("kind").alias("municipality_kind"), pl.col("lat").alias("centre_lat"),
                     pl.col("lon").alias("centre_lon"), "population_2024").sort("municipality_code"))
    rng = np.random.default_rng(seed)
    pop = munis["population_2024"].to_numpy().astype(float)
    m_idx = rng.choice(len(munis), size=institutions, p=pop / pop.sum())
    t_idx = rng.choice(len(TYPES), size=institutions, p=[w for _, w in TYPES])
    inst = pl.DataFrame({
        "institution_id": [f"{9000000000 + i:010d}" for i in range(institutions)],
        "institution_name": [f"Sintētiskā iestāde Nr. {i + 1}" for i in range(institutions)],
        "institution_type": [TYPES[t][0] for t in t_idx],
        "municipality_code": munis["municipality_code"].to_numpy()[m_idx],
        "lat": np.round(munis["centre_lat"].to_numpy()[m_idx] + rng.normal(0, 0.06, institutions), 5),
        "lon": np.round(munis["centre_lon"].to_numpy()[m_idx] + rng.normal(0, 0.1, institutions), 5),
    }).with_columns(institution_kind=pl.col("institution_type"), founder_type=pl.lit("PASVALDIBA"),
                    closed_date=pl.lit(None, pl.Date), is_general_school=pl.col("institution_type").str.starts_with("Vispār"))
    dim_inst = inst.join(pl.DataFrame({"school_year": years}, schema={"school_year": pl.Int32}), how="cross")

    con = duckdb.connect(str(path))
    try:
        con.execute("set enable_progress_bar = false")
        for s in ("indicators", "marts", "quality"):
            con.execute(f"create schema {s}")
        con.register("cat_df", cat)
        con.execute("create table indicators.indicator_catalogue as select * from cat_df")
        con.register("muni_df", munis.drop("population_2024"))
        con.execute("create table marts.dim_municipalities as select * from muni_df")
        con.register("inst_df", dim_inst)
        con.execute("create table marts.dim_institutions as select * from inst_df")
        con.execute(f"create table yrs as select unnest({list(years)})::int as school_year")
        con.execute("create table units as "
                    "select 'institution' as level, institution_id as unit_code, municipality_code from inst_df "
                    "where school_year = (select min(school_year) from inst_df) "
                    "union all select 'municipality', municipality_code, municipality_code from muni_df "
                    "union all select 'national', 'LV', null")
        con.execute("create table indicators.indicator_values (indicator_id varchar, level varchar, unit_code varchar,"
                    " school_year integer, " + ", ".join(f"{d} varchar" for d in DIMS) +
                    ", numerator double, denominator double, value double, n_observations bigint)")
        for row in cat.iter_rows(named=True):  # ~50 indicators: one INSERT each
            dims = [d for d in (row["dimensions"] or "").split(",") if d]
            combos = _combos(row["indicator_id"], dims, labels)
            con.register("combos", combos)
            levels = [lv for lv in row["levels"].split(",") if lv]
            scale = row["scale"]
            agg = row["aggregation"]
            # an institution-level base size, municipalities ~30x, the nation ~1400x; a unit-specific level
            h = f"hash(u.unit_code, '{row['indicator_id']}')"
            hy = f"hash(u.unit_code, y.school_year, {', '.join('c.' + d for d in DIMS)}, '{row['indicator_id']}')"
            den = (f"(case u.level when 'institution' then ({hy} % 300) when 'municipality' then 30 * ({hy} % 300) + 200 "
                   f"else 400000 + ({hy} % 1000) end)::double")
            share = f"(0.05 + 0.9 * (({h} % 1000) / 1000.0) * (0.9 + 0.2 * (({hy} % 100) / 100.0)))"
            if agg == "count":
                num, dn, val, nobs = f"floor({den} * {share} * 3)", "null", f"floor({den} * {share} * 3)", "null"
            elif agg == "median":
                num, dn, val, nobs = "null", "null", f"round(1 + 9 * {share}, 2) * {50 if row['unit'] == 'eur' else 1}", f"{den}::bigint"
            elif row["unit"] == "percent" and scale == 1:
                num, dn = f"round({den} * 100 * {share})", den
                val, nobs = f"case when {den} > 0 then round({den} * 100 * {share}) / {den} end", "null"
            elif row["unit"] == "percent":
                num, dn = f"round({den} * {share})", den
                val, nobs = f"case when {den} > 0 then {scale} * round({den} * {share}) / {den} end", "null"
            else:  # points, ratio, lessons, km: a value of a few units to tens
                num, dn = f"round({den} * 20 * {share}, 1)", den
                val, nobs = f"case when {den} > 0 then round({den} * 20 * {share}, 1) / {den} end", "null"
            con.execute(
                f"insert into indicators.indicator_values select '{row['indicator_id']}', u.level, u.unit_code, "
                f"y.school_year, {', '.join('c.' + d for d in DIMS)}, {num}, {dn}, {val}, {nobs} "
                f"from units u, yrs y, combos c where u.level in ({', '.join(repr(lv) for lv in levels)}) "
                # institution-level indicators cover ~70 % of institutions (not every kind has every indicator)
                f"and (u.level <> 'institution' or {h} % 10 < 7)")
            con.unregister("combos")
        # data-quality marts (the columns the site reads)
        con.execute("""create table quality.dq_institution_report as
            select institution_id as reg_nr, school_year, institution_name, municipality_code,
                   '' as municipality_name, 20 as n_expected, 20 - hash(institution_id, school_year) % 3 as n_received_expected,
                   (20 - hash(institution_id, school_year) % 4)::bigint as n_on_time, (hash(institution_id, school_year) % 4)::bigint as n_late,
                   (hash(institution_id, school_year) % 3)::bigint as n_missing, 0::bigint as n_unexpected,
                   100.0 * (20 - hash(institution_id, school_year) % 3) / 20 as completeness_pct,
                   100.0 * (20 - hash(institution_id, school_year) % 4) / 20 as on_time_pct,
                   (hash(institution_id, school_year) % 30)::int as max_days_late,
                   (hash(institution_id, school_year) % 100) / 10000.0 as quarantine_share,
                   'future_date' as top_quarantine_rule
            from marts.dim_institutions""")
        for t, extra in (("dq_completeness", "n_expected, n_received_expected"),
                         ("dq_timeliness", "n_expected, n_on_time")):
            con.execute(f"""create table quality.{t} as select reg_nr, municipality_code, school_year, f.feed, {extra}
                from quality.dq_institution_report, (select unnest(['viis', 'vendor_a', 'exams']) as feed) f""")
        counts = {t: con.execute(f"select count(*) from {t}").fetchone()[0]
                  for t in ("indicators.indicator_values", "marts.dim_institutions", "quality.dq_institution_report")}
        con.execute("drop table units; drop table yrs")
    finally:
        con.close()
    return counts
