"""DuckDB writes: tables from the contracts, and the exact replacement of one (table, school year) partition
in a single transaction. Open a connection, use it, close it: DuckDB allows one writer process."""
from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

from pipelines.common.contracts import Entity

SQL_TYPES = {"varchar": "VARCHAR", "integer": "BIGINT", "double": "DOUBLE", "date": "DATE",
             "timestamp": "TIMESTAMP", "boolean": "BOOLEAN"}
LINEAGE = (("_school_year", "INTEGER"), ("_source_file", "VARCHAR"), ("_source_line", "INTEGER"))

QUARANTINE_DDL = """
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS quarantine;
CREATE SCHEMA IF NOT EXISTS meta;
CREATE TABLE IF NOT EXISTS quarantine.rows (
    target_table VARCHAR, _school_year INTEGER, _source_file VARCHAR, _source_line INTEGER,
    rule VARCHAR, rules VARCHAR, detail VARCHAR, record VARCHAR);
CREATE TABLE IF NOT EXISTS quarantine.file_issues (
    target_table VARCHAR, _school_year INTEGER, _source_file VARCHAR, issue VARCHAR, detail VARCHAR);
CREATE TABLE IF NOT EXISTS meta.ingest_files (
    target_table VARCHAR, _school_year INTEGER, _source_file VARCHAR, sha256 VARCHAR,
    rows_read BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT, loaded_at TIMESTAMP);
"""


@contextmanager
def connect(path: Path, read_only: bool = False, wait_seconds: float = 120.0):
    """A short-lived connection; waits while another process holds the warehouse's write lock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only and path.exists())
            break
        except duckdb.IOException as e:
            if "lock" not in str(e).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    # no progress bar: a long query (the gates' measures at national scale) would draw one on the console
    con.execute("SET enable_progress_bar = false")
    try:
        yield con
    finally:
        con.close()


def raw_columns(entity: Entity) -> list[tuple[str, str]]:
    cols = [(c.name, "VARCHAR" if c.personal_code else SQL_TYPES[c.type]) for c in entity.stored_columns]
    cols += [(name, "VARCHAR") for name in entity.derive]
    return cols + list(LINEAGE)


class PseudonymSchemeMismatch(RuntimeError):
    """The warehouse holds pseudonyms of another length than this version writes."""


def check_pseudonym_scheme(con: duckdb.DuckDBPyConnection) -> None:
    """meta.pseudonym_scheme records the pseudonym length (hex digits) the raw layer was written with. A
    warehouse of another length (an earlier version wrote 64 digits, without the record) must not get partitions
    of this version's pseudonyms: a learner of an old school year would no longer join his later years. Refuse,
    and say how to start again."""
    from pipelines.common.pseudonymise import DIGITS

    con.execute("CREATE TABLE IF NOT EXISTS meta.pseudonym_scheme (hex_digits INTEGER)")
    digits = con.execute("SELECT max(hex_digits) FROM meta.pseudonym_scheme").fetchone()[0]
    if digits is None:  # no record yet: the length of a stored learner pseudonym, if there is one
        stored = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw' "
                             "AND table_name = 'viis_learners'").fetchone()[0]
        if stored:
            stored = con.execute("SELECT length(personas_kods) FROM raw.viis_learners "
                                 "WHERE personas_kods IS NOT NULL LIMIT 1").fetchone()
        digits = stored[0] if stored else DIGITS
        con.execute("INSERT INTO meta.pseudonym_scheme VALUES (?)", [digits])
    if digits != DIGITS:
        path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()[0]
        raise PseudonymSchemeMismatch(
            f"the warehouse's raw layer holds {digits}-hex-digit pseudonyms (an earlier version); this version "
            f"writes {DIGITS}: start the warehouse again (remove {path}, then `ikms ingest` every school year and "
            "`ikms build`)")


def ensure_tables(con: duckdb.DuckDBPyConnection, entity: Entity) -> None:
    """Create the schemas, quarantine/meta tables and raw.<table> from the contract. A raw table whose columns
    no longer match the contract is rebuilt (its partitions are then re-materialized)."""
    con.execute(QUARANTINE_DDL)
    check_pseudonym_scheme(con)
    want = raw_columns(entity)
    have = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'raw' "
        "AND table_name = ? ORDER BY ordinal_position", [entity.table]).fetchall()
    if have and [(n, t) for n, t in have] != want:
        con.execute(f'DROP TABLE raw."{entity.table}"')
        for t in ("quarantine.rows", "quarantine.file_issues", "meta.ingest_files"):
            con.execute(f"DELETE FROM {t} WHERE target_table = ?", [entity.table])
        have = []
    if not have:
        ddl = ", ".join(f'"{n}" {t}' for n, t in want)
        con.execute(f'CREATE TABLE raw."{entity.table}" ({ddl})')


def replace_partition(path: Path, entity: Entity, year: int, loaded: pl.DataFrame, quarantined: pl.DataFrame,
                      issues: pl.DataFrame, files: pl.DataFrame) -> None:
    """Delete the partition's rows of raw.<table>, quarantine.rows/file_issues and meta.ingest_files, then
    insert the new ones, in one transaction. Frames come sorted by (file, line)."""
    t = entity.table
    cols = [n for n, _ in raw_columns(entity)]
    with connect(path) as con:
        # one thread: a parallel insert writes partial row groups per thread that the commit's checkpoint then
        # merges and recompresses (2-3x the CPU, and a 2x larger write); one thread also keeps the row order
        con.execute("SET threads = 1")
        # no FSST for strings: DuckDB's analysis of it is ~20 % of an insert's CPU (vendor A absences at scale
        # 1.0: 3.5 -> 2.8 s) and the school-system tables, whose codes repeat, are dictionary-compressed anyway
        # (same size); a column of unique codes (the registry's learners) takes ~8 MB more a year
        con.execute("SET disabled_compression_methods = 'fsst,dict_fsst'")
        ensure_tables(con, entity)
        con.register("loaded_in", loaded)
        con.register("quarantined_in", quarantined)
        con.register("issues_in", issues)
        con.register("files_in", files)
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(f'DELETE FROM raw."{t}" WHERE _school_year = ?', [year])
            for table in ("quarantine.rows", "quarantine.file_issues", "meta.ingest_files"):
                con.execute(f"DELETE FROM {table} WHERE target_table = ? AND _school_year = ?", [t, year])
            select = ", ".join(f'"{c}"' for c in cols)
            con.execute(f'INSERT INTO raw."{t}" ({select}) SELECT {select} FROM loaded_in')
            con.execute(
                "INSERT INTO quarantine.rows SELECT ?, ?, _source_file, _source_line, rule, rules, detail, record "
                "FROM quarantined_in", [t, year])
            con.execute("INSERT INTO quarantine.file_issues SELECT ?, ?, _source_file, issue, detail FROM issues_in",
                        [t, year])
            con.execute(
                "INSERT INTO meta.ingest_files SELECT ?, ?, _source_file, sha256, rows_read, rows_loaded, "
                "rows_quarantined, current_timestamp::TIMESTAMP FROM files_in", [t, year])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise


def institutions_of(path: Path, year: int) -> list[str]:
    """reg_nr of the same partition's loaded viis institutions (for unknown_institution)."""
    if not path.exists():
        return []
    with connect(path) as con:
        exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw' "
                             "AND table_name = 'viis_institutions'").fetchone()[0]
        if not exists:
            return []
        return [r[0] for r in con.execute(
            "SELECT DISTINCT reg_nr FROM raw.viis_institutions WHERE _school_year = ? AND reg_nr IS NOT NULL", [year]
        ).fetchall()]
