"""End to end: a small demo country (scale 0.01, 3 school years) generated, then every ingest asset
materialized through Dagster. The quarantine must hold exactly the defects of the generator's manifest;
every file reconciles; re-materializing a partition leaves the tables byte-identical; no personal code or
name of a person reaches the warehouse."""
from __future__ import annotations

import csv
import hashlib
import re

import duckdb
import pytest

from pipelines import settings
from pipelines.common import contracts

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("demo_country")]

YEARS = [2020, 2021, 2022]  # spans the 2021 territorial reform


@pytest.fixture(scope="module")
def country(tmp_path_factory):
    from tests.conftest import set_data_dir

    data = tmp_path_factory.mktemp("demo_data")
    set_data_dir(data)
    from pipelines.generator.main import generate
    from pipelines.ingest.runner import materialize

    summary = generate(seed=11, scale=0.01, years=YEARS, landing=settings.landing_dir(), defect_rate=0.002,
                       progress=lambda m: None)
    ingest = materialize(years=YEARS, progress=lambda m: None)
    return {"data": data, "generation": summary, "ingest": ingest}


@pytest.fixture(autouse=True)
def _in_country_dir(country, monkeypatch):
    monkeypatch.setenv("IKMS_DATA_DIR", str(country["data"]))


def rows(sql, params=None):
    con = duckdb.connect(str(settings.warehouse_path()), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def manifest():
    with open(settings.landing_dir() / "_manifest" / "defects.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_every_table_was_loaded(country):
    tables = {r[0] for r in rows("select table_name from information_schema.tables where table_schema = 'raw'")}
    expected = {e.table for e in contracts.all_entities()}
    assert expected <= tables
    # every feed of the demo country delivers rows for every year
    empty = [t for t in sorted(expected - {"viis_public_institutions", "izm_general_schools"})
             if rows(f"select count(*) from raw.{t}")[0][0] == 0]
    assert not empty, f"no rows loaded into {empty}"
    for year in YEARS:
        assert rows("select count(*) from raw.viis_enrolments where _school_year = ?", [year])[0][0] > 100


def test_quarantine_holds_exactly_the_injected_row_defects(country):
    injected = {(d["file"], int(d["line"]), d["rule"]) for d in manifest() if d["level"] == "row"}
    kinds = {d["kind"] for d in manifest() if d["level"] in ("row", "file")}
    assert len(kinds) >= 15, f"only {len(kinds)} defect kinds injected: {sorted(kinds)}"
    found = set(rows("select _source_file, _source_line, rule from quarantine.rows"))
    assert found - injected == set(), "quarantined rows that the generator did not inject"
    assert injected - found == set(), "injected defects that the ingest did not catch"


def test_file_issues_match_the_manifest(country):
    injected = {(d["file"], d["rule"]) for d in manifest() if d["level"] == "file"}
    found = set(rows("select _source_file, issue from quarantine.file_issues"))
    assert injected <= found
    assert found - injected == set(), "file issues the generator did not inject"


def test_every_file_reconciles(country):
    bad = rows("select target_table, _source_file from meta.ingest_files where rows_read <> rows_loaded + rows_quarantined")
    assert bad == []
    for table, in rows("select distinct target_table from meta.ingest_files"):
        loaded = rows(f"select count(*) from raw.{table}")[0][0]
        quarantined = rows("select count(*) from quarantine.rows where target_table = ?", [table])[0][0]
        read, = rows("select sum(rows_read) from meta.ingest_files where target_table = ?", [table])[0]
        assert loaded + quarantined == read, table
    # and the generator's own row counts are what the ingest read
    written = country["generation"]["files"]
    got = dict(rows("select _source_file, sum(rows_read) from meta.ingest_files group by 1"))
    assert set(got) == set(written), "files the generator wrote but the ingest did not read, or the reverse"
    for path, n in written.items():
        assert got[path] == n["rows"], path


def _table_hashes():
    out = {}
    con = duckdb.connect(str(settings.warehouse_path()), read_only=True)
    try:
        tables = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('raw', 'quarantine') order by 1").fetchall()
        for (t,) in tables:
            h = hashlib.sha256()
            cur = con.execute(f"select * from {t} order by all")
            while batch := cur.fetchmany(50_000):
                h.update(repr(batch).encode())
            out[t] = h.hexdigest()
    finally:
        con.close()
    return out


def test_rematerializing_a_partition_is_byte_identical(country):
    from pipelines.ingest.runner import materialize

    before = _table_hashes()
    materialize(years=[YEARS[1]], progress=lambda m: None)
    assert _table_hashes() == before


def test_no_personal_codes_or_names_in_the_warehouse(country):
    code = re.compile(r"\b\d{6}-?[0-2]\d{4}\b|\b32\d{4}-?\d{5}\b")
    con = duckdb.connect(str(settings.warehouse_path()), read_only=True)
    try:
        cols = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_schema in ('raw', 'quarantine', 'meta') and data_type = 'VARCHAR'").fetchall()
        for schema, table, col in cols:
            values = con.execute(f'select distinct "{col}" from {schema}.{table} where "{col}" is not null').fetchall()
            leaks = [v for (v,) in values if code.search(v)]
            assert not leaks, f"{schema}.{table}.{col} holds personal codes, e.g. {leaks[:2]}"
        names = {c for (c,) in con.execute(
            "select column_name from information_schema.columns where table_schema = 'raw'").fetchall()}
        assert not names & {"vards", "uzvards", "vards_uzvards", "student_name"}
    finally:
        con.close()
