"""Which school years the dbt model sdc_cell_status recomputes.

Disclosure control works per school year (sdc.cell_status), and it is the costly step of the open data (minutes
at national scale), so the model is incremental: it recomputes a year when that year's cells differ from the
cells its stored status was computed from, when the disclosure definitions or engine changed, or when the year
is being rebuilt (var school_years or IKMS_SCHOOL_YEARS). Each stored row carries the fingerprint of its year's input
(`input_hash`): the year's rows of every cells table over the columns disclosure control reads, hashed in
DuckDB, plus the definitions and the engine's source. A change in what it reads of a year's cells (a correction
that reaches back, a new key or value column) therefore recomputes that year, never leaves it with a stale
status; a renamed institution (a label) does not."""
from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from pipelines.open_data import bounds, catalogue, sdc


def school_years(value: object) -> list[int]:
    """The school years of var('school_years') or IKMS_SCHOOL_YEARS as the model's config renders them: [2023,
    2024], "[2023, 2024]", "2023", 2023, "[]", "" or None (the Python twin of the macro school_years_var)."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [int(v) for v in value]
    parts = (v.strip().strip("'\"") for v in str(value).replace("[", "").replace("]", "").split(","))
    return [int(v) for v in parts if v]


def school_year_sql(column: str) -> str:
    """SQL: the school year (2023) of a period column ('2023/2024')."""
    return f"cast(left(cast({column} as varchar), 4) as integer)"


def period_in(column: str, years: Sequence[int]) -> str:
    """SQL: the period column ('2023/2024') lies in one of the school years (2023)."""
    if not years:
        return "false"
    return f"{school_year_sql(column)} in ({', '.join(str(int(y)) for y in years)})"


def definitions_fingerprint(audit: bool, root: Path = catalogue.OPEN_DATA_DIR) -> str:
    """The dataset definitions and the engine's source (a change in either can change any year's status)."""
    h = hashlib.sha256(f"audit={audit}".encode())
    for path in [*sorted((root / "datasets").glob("*.yaml")), Path(sdc.__file__), Path(bounds.__file__)]:
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def input_columns(ds: catalogue.Dataset, present: Sequence[str]) -> list[str]:
    """The columns of a cells table that disclosure control reads: every column but the attributes (labels such
    as names: renaming an institution does not change what is suppressed), the row key, _not_available."""
    wanted = [c.name for c in ds.columns if c.role != "attribute"] + ["_row_key", "_not_available"]
    return [c for c in wanted if c in present]


def year_fingerprints(relations: Mapping[str, object], datasets: Mapping[str, catalogue.Dataset],
                      definitions: str) -> dict[int, str]:
    """school year -> fingerprint of its input: per cells relation (DuckDB), the count and the XOR of the hashes
    of the year's rows over input_columns (order-free; rows are unique by _row_key), with the definitions'
    fingerprint."""
    parts: dict[int, list[str]] = {}
    for name in sorted(relations):
        rel, ds = relations[name], datasets[name]
        cols = ", ".join(f'"{c}"' for c in input_columns(ds, rel.columns))
        rows = rel.query(
            "t", f"select {school_year_sql(ds.period_column())} as y, count(*), "
                 f"bit_xor(hash(struct_pack({cols}))) from t group by 1").fetchall()
        for year, n, h in rows:
            parts.setdefault(int(year), []).append(f"{name}:{n}:{h}")
    return {y: hashlib.sha256("|".join([definitions, *p]).encode()).hexdigest() for y, p in parts.items()}


def years_to_compute(current: Mapping[int, str], stored: Mapping[int, str], rebuild: Sequence[int]) -> list[int]:
    """The years whose input changed since their stored status (or that have none), plus the years being
    rebuilt that have cells."""
    return sorted(y for y, h in current.items() if stored.get(y) != h or y in set(rebuild))
