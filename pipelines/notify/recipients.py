"""Who receives a notification: the institution (its official e-mail from marts.dim_institutions.email, its
official e-address `_DEFAULT@<reg_nr>`) and its municipality's data coordinator (seeds/municipality_coordinators.csv,
or the dbt seed table seeds.municipality_coordinators when it was loaded)."""
from __future__ import annotations

import datetime as dt

import duckdb

from pipelines import settings
from pipelines.notify.sources import AS_OF_SY, table_exists

COORDINATORS_CSV = settings.SEEDS_DIR / "municipality_coordinators.csv"


def e_address(reg_nr: str) -> str:
    """The official e-address (e-adrese) of an institution: the default mailbox of its registration number."""
    return f"_DEFAULT@{reg_nr}"


def load_institutions(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> None:
    """Temp table _notify_institutions(reg_nr, name, municipality_code, email, e_address, institution_type,
    institution_kind): each institution as of its latest school year up to the as-of date (else its first),
    without those closed before the as-of date."""
    if not table_exists(con, "marts.dim_institutions"):
        raise RuntimeError("marts.dim_institutions is missing: build the warehouse (ikms build) first")
    cols = {r[0] for r in con.execute("select column_name from information_schema.columns where "
                                      "table_schema = 'marts' and table_name = 'dim_institutions'").fetchall()}
    email = "email" if "email" in cols else "null::varchar"
    con.execute(f"""
        create or replace temp table _notify_institutions as
        select institution_id as reg_nr, institution_name as name, municipality_code, {email} as email,
               '_DEFAULT@' || institution_id as e_address, institution_type, institution_kind
        from marts.dim_institutions
        qualify row_number() over (partition by institution_id
                                   order by school_year <= {AS_OF_SY} desc,
                                            case when school_year <= {AS_OF_SY} then school_year else -school_year end desc) = 1
            and (closed_date is null or closed_date >= $as_of)
    """, {"as_of": as_of})


def load_coordinators(con: duckdb.DuckDBPyConnection) -> None:
    """Temp table _notify_coordinators(municipality_code, municipality_name, email, e_address)."""
    if table_exists(con, "seeds.municipality_coordinators"):
        src = "seeds.municipality_coordinators"
    else:
        src = (f"read_csv('{COORDINATORS_CSV.as_posix()}', header = true, all_varchar = true)")
    con.execute(f"""
        create or replace temp table _notify_coordinators as
        select atvk_code as municipality_code, municipality_name, nullif(trim(email), '') as email,
               nullif(trim(e_address), '') as e_address
        from {src}
    """)
