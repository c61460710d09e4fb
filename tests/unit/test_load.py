"""DuckDB writes: tables from the contract, exact replacement of a partition, byte-identical re-runs."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb

from pipelines import settings
from pipelines.common.contracts import entity
from pipelines.ingest.ingest import ingest_entity

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "landing_small"


def digest(path: Path) -> str:
    con = duckdb.connect(str(path), read_only=True)
    try:
        h = hashlib.sha256()
        for sql in ("SELECT * FROM raw.vendor_a_grades ORDER BY ALL", "SELECT * FROM quarantine.rows ORDER BY ALL",
                    "SELECT * FROM quarantine.file_issues ORDER BY ALL"):
            h.update(repr(con.execute(sql).fetchall()).encode())
        return h.hexdigest()
    finally:
        con.close()


def test_partition_replaced_exactly_and_rerun_identical(data_dir):
    shutil.copytree(FIXTURES / "vendor_a", settings.landing_dir() / "vendor_a")
    shutil.copytree(FIXTURES / "viis", settings.landing_dir() / "viis")
    ingest_entity(entity("viis", "institutions"), 2023)  # for unknown_institution
    e = entity("vendor_a", "grades")
    r1 = ingest_entity(e, 2023)
    first = digest(settings.warehouse_path())
    r2 = ingest_entity(e, 2023)
    assert digest(settings.warehouse_path()) == first
    assert (r1.rows_read, r1.rows_loaded, r1.rows_quarantined) == (r2.rows_read, r2.rows_loaded, r2.rows_quarantined) == (8, 2, 6)
    con = duckdb.connect(str(settings.warehouse_path()), read_only=True)
    try:
        cols = con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema='raw' "
                           "AND table_name='vendor_a_grades' ORDER BY ordinal_position").fetchall()
        assert cols[-3:] == [("_school_year", "INTEGER"), ("_source_file", "VARCHAR"), ("_source_line", "INTEGER")]
        assert ("ievadits", "TIMESTAMP") in cols and "vards_uzvards" not in dict(cols)
        assert con.execute("SELECT count(*) FROM meta.ingest_files WHERE target_table = 'vendor_a_grades'").fetchone()[0] == 1
        assert con.execute("SELECT _source_file FROM raw.vendor_a_grades LIMIT 1").fetchone()[0] == \
            "vendor_a/2023/vertejumi_2023_1sem.csv"
    finally:
        con.close()


def test_empty_partition_still_creates_table_and_clears_old_rows(data_dir):
    shutil.copytree(FIXTURES / "vendor_a", settings.landing_dir() / "vendor_a")
    e = entity("vendor_a", "grades")
    ingest_entity(e, 2023)
    shutil.rmtree(settings.landing_dir() / "vendor_a" / "2023")
    r = ingest_entity(e, 2023)
    assert r.rows_read == 0
    con = duckdb.connect(str(settings.warehouse_path()), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM raw.vendor_a_grades").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM quarantine.rows").fetchone()[0] == 0
    finally:
        con.close()


def test_a_warehouse_of_another_pseudonym_length_is_refused(tmp_path):
    import pytest

    from pipelines.common.pseudonymise import DIGITS
    from pipelines.ingest.load import PseudonymSchemeMismatch, connect, ensure_tables

    learners = entity("viis", "learners")
    fresh = tmp_path / "fresh.duckdb"
    with connect(fresh) as con:
        ensure_tables(con, learners)
        assert con.execute("SELECT hex_digits FROM meta.pseudonym_scheme").fetchall() == [(DIGITS,)]
        ensure_tables(con, learners)  # recorded once, accepted again
        assert con.execute("SELECT count(*) FROM meta.pseudonym_scheme").fetchone()[0] == 1
    # a warehouse of an earlier version: learners loaded (64-digit pseudonyms), no record
    old = tmp_path / "old.duckdb"
    with connect(old) as con:
        ensure_tables(con, learners)
        con.execute("DROP TABLE meta.pseudonym_scheme")
        con.execute("INSERT INTO raw.viis_learners (personas_kods, _school_year) VALUES (?, 2023)", ["ab" * 32])
    with connect(old) as con, pytest.raises(PseudonymSchemeMismatch, match="64-hex-digit pseudonyms"):
        ensure_tables(con, entity("vendor_a", "grades"))


def test_institutions_are_read_once_per_extract_and_the_list_given_is_used(data_dir):
    shutil.copytree(FIXTURES / "vendor_a", settings.landing_dir() / "vendor_a")
    shutil.copytree(FIXTURES / "viis", settings.landing_dir() / "viis")
    inst = ingest_entity(entity("viis", "institutions"), 2023)
    assert inst.institutions is None  # it references no institution: nothing read
    e = entity("vendor_a", "grades")
    read = ingest_entity(e, 2023)
    assert read.institutions and read.rows_quarantined == 6  # read from raw.viis_institutions
    # the list a caller already holds (the extract step's entities) is the one checked against: with none of
    # them known, every row that broke nothing else is quarantined as unknown_institution
    none_known = ingest_entity(e, 2023, institutions=["0000000000"])
    assert none_known.institutions == ["0000000000"]
    assert none_known.rows_loaded == 0 and none_known.rules.get("unknown_institution", 0) >= read.rows_loaded
    again = ingest_entity(e, 2023, institutions=read.institutions)
    assert (again.rows_loaded, again.rows_quarantined) == (read.rows_loaded, read.rows_quarantined)


def test_step_processes_find_the_instance_storage_preloaded(tmp_path):
    """The forkserver of the ingest job's step processes imports pipelines.defs.ingest.step_imports (PRELOAD):
    the storage classes the instance in DAGSTER_HOME names must then be loaded, or each step imports them."""
    import os
    import subprocess
    import sys

    from pipelines.defs.ingest.jobs import PRELOAD

    assert "pipelines.defs.ingest.step_imports" in PRELOAD
    (tmp_path / "dagster.yaml").write_text((settings.PROJECT_ROOT / "dagster.yaml").read_text())
    probe = ("import sys; import pipelines.defs.ingest.step_imports; "
             "print(all(m in sys.modules for m in ('dagster._core.storage.sqlite_storage', "
             "'dagster._core.storage.runs', 'dagster._core.storage.event_log', 'dagster._core.storage.schedules', "
             "'dagster._core.instance.factory', 'pyarrow.dataset')))")
    out = subprocess.run([sys.executable, "-c", probe], env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
                         cwd=settings.PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
