"""Everything the site needs from the warehouse, read once (read-only connection, closed at the end)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import yaml

DIMS = ["sex", "grade", "subject", "programme_kind", "education_level", "age_group"]
DIMENSIONS_YAML = Path(__file__).resolve().parent.parent / "models" / "indicators" / "dimensions.yaml"
_NOT_CUT = "('_T', '_Z')"


@dataclass
class SiteData:
    catalogue: pl.DataFrame       # indicator_catalogue
    totals: pl.DataFrame          # indicator_id, level, unit_code, school_year, numerator, denominator, value, n_observations
    breakdowns: pl.DataFrame      # + dim, code: rows cut by exactly one dimension (others total / n.a.)
    institutions: pl.DataFrame    # latest row per institution of dim_institutions
    municipalities: pl.DataFrame  # dim_municipalities
    completeness: pl.DataFrame | None
    timeliness: pl.DataFrame | None
    dq_report: pl.DataFrame | None
    dimension_labels: dict


def _has(con, schema: str, table: str) -> bool:
    return bool(con.execute("select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                            [schema, table]).fetchone()[0])


def load(warehouse: Path) -> SiteData:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.execute("set enable_progress_bar = false")
        missing = [f"{s}.{t}" for s, t in (("indicators", "indicator_values"), ("indicators", "indicator_catalogue"),
                                            ("marts", "dim_institutions"), ("marts", "dim_municipalities"))
                   if not _has(con, s, t)]
        if missing:
            raise RuntimeError(f"{warehouse}: no {', '.join(missing)}: build the warehouse and the indicators first "
                               "(`ikms build`)")
        catalogue = con.sql("select * from indicators.indicator_catalogue order by domain, indicator_id").pl()
        measures = "indicator_id, level, unit_code, school_year, numerator, denominator, value, n_observations"
        totals = con.sql(
            f"select {measures} from indicators.indicator_values where "
            + " and ".join(f"{d} in {_NOT_CUT}" for d in DIMS)).pl()
        cut = " + ".join(f"({d} not in {_NOT_CUT})::int" for d in DIMS)
        which = "case " + " ".join(f"when {d} not in {_NOT_CUT} then '{d}'" for d in DIMS) + " end"
        code = "case " + " ".join(f"when {d} not in {_NOT_CUT} then {d}" for d in DIMS) + " end"
        breakdowns = con.sql(
            f"select {measures}, {which} as dim, {code} as code from indicators.indicator_values "
            f"where {cut} = 1").pl()
        institutions = con.sql(
            "select institution_id, institution_name, institution_kind, institution_type, founder_type, "
            "municipality_code, lat, lon, closed_date, school_year as last_year from marts.dim_institutions "
            "qualify row_number() over (partition by institution_id order by school_year desc) = 1 "
            "order by institution_id").pl()
        municipalities = con.sql("select municipality_code, municipality_name, municipality_kind, centre_lat, "
                                 "centre_lon from marts.dim_municipalities order by municipality_code").pl()
        q = {}
        for t in ("dq_completeness", "dq_timeliness", "dq_institution_report"):
            q[t] = con.sql(f"select * from quality.{t}").pl() if _has(con, "quality", t) else None
    finally:
        con.close()
    labels = yaml.safe_load(DIMENSIONS_YAML.read_text(encoding="utf-8"))
    return SiteData(catalogue, totals, breakdowns, institutions, municipalities,
                    q["dq_completeness"], q["dq_timeliness"], q["dq_institution_report"], labels)
