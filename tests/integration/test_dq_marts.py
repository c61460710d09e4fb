"""The data-quality marts on a generated demo country (the shared warehouse of dbt_warehouse.py: scale 0.03,
2022-2023 ingested and built through Dagster): late and missing submissions and the quarantined rows show up in
quality.dq_submissions / dq_validity exactly as the generator's manifest lists them."""
from __future__ import annotations

import csv
import os
from collections import Counter

import pytest

from tests.integration import dbt_warehouse as wh

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("dbt")]
# test_incremental may add 2024 to the shared warehouse: every comparison is on the years built first
YEARS = "(" + ", ".join(str(y) for y in wh.BUILT) + ")"


@pytest.fixture(scope="module")
def data_dir():
    return wh.use()


def _manifest(data_dir) -> list[dict]:
    with open(data_dir / "landing" / "_manifest" / "defects.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    built = {str(y) for y in wh.BUILT}
    return [r for r in rows if r["file"] and r["file"].split("/")[1] in built]


def test_late_and_missing_submissions_equal_the_manifest(data_dir):
    events = {(r["detail"].split(" ")[0], r["feed"], r["entity"], r["detail"].split(" ")[1],
               "late" if r["kind"] == "late_submission" else "missing")
              for r in _manifest(data_dir) if r["level"] == "submission"}
    assert {e[1] for e in events} >= {"viis", "vendor_a", "vendor_b"}, "confirmations and both vendors have events"
    assert {e[4] for e in events} == {"late", "missing"}
    got = set(wh.query("select reg_nr, feed, entity, period, status from quality.dq_submissions "
                       "where status in ('late', 'missing') and school_year in " + YEARS))
    assert got - events == set(), "late/missing in the mart that the generator did not plant"
    assert events - got == set(), "planted late/missing submissions the mart does not show"
    # a late one is really late, on-time ones are not, missing ones have no time
    bad = wh.query("""select count(*) from quality.dq_submissions where
        (status = 'late' and not (submitted_at > deadline and days_late >= 1))
        or (status = 'on_time' and not (submitted_at <= deadline and days_late = 0))
        or (status = 'missing' and (received or days_late is not null or submitted_at is not null))""")
    assert bad == [(0,)]
    assert wh.query("select count(*) from quality.dq_submissions where status = 'on_time' and school_year in " + YEARS)[0][0] > 10 * len(events)


def test_quarantined_rows_per_rule_equal_the_manifest(data_dir):
    planted = Counter(r["rule"] for r in _manifest(data_dir) if r["level"] == "row")
    assert len(planted) >= 10
    in_mart = dict(wh.query("select rule, sum(rows_quarantined) from quality.dq_validity where school_year in " + YEARS + " group by rule"))
    in_quarantine = dict(wh.query("select rule, count(*) from quarantine.rows where _school_year in " + YEARS + " group by rule"))
    assert in_mart == in_quarantine == dict(planted)
    # rows read reconcile with the ingest's file counts, and every share is quarantined / read
    assert wh.query("select sum(rows_read) from quality.dq_rows_read where school_year in " + YEARS) == \
        wh.query("select sum(rows_read) from meta.ingest_files where _school_year in " + YEARS)
    assert wh.query("select count(*) from quality.dq_validity where abs(share - rows_quarantined / rows_read) > 1e-12 "
                    "or example_file is null or example_line is null") == [(0,)]
    # the example is the first quarantined row (file, line) of its group (checked on vendor B's rows)
    ex = wh.query("""select count(*) from quality.dq_validity v where v.feed = 'vendor_b' and exists (
        select 1 from quarantine.rows q where q._school_year = v.school_year and q.rule = v.rule
          and q.target_table = 'vendor_b_' || v.entity and json_extract_string(q.record, '$.school_id') = v.reg_nr
          and (q._source_file < v.example_file or (q._source_file = v.example_file and q._source_line < v.example_line)))""")
    assert ex == [(0,)]


def test_every_raw_table_is_mapped_and_reports_cover_institutions(data_dir):
    from pipelines.common.contracts import all_entities

    mapped = {t for (t,) in wh.query("select target_table from quality.dq_ingest_tables")}
    assert mapped == {e.table for e in all_entities()}
    n_dim = wh.query("select count(*) from marts.dim_institutions where school_year in " + YEARS)[0][0]
    assert wh.query("select count(*), count(distinct (reg_nr, school_year)) from quality.dq_institution_report where school_year in " + YEARS) == \
        [(n_dim, n_dim)]
    late_total = wh.query("select count(*) from quality.dq_submissions where status = 'late' and municipality_code is not null and school_year in " + YEARS)
    assert wh.query("select sum(n_late) from quality.dq_institution_report where school_year in " + YEARS) == late_total
    assert wh.query("select count(*) from quality.dq_institution_report where municipality_code is null") == [(0,)]


def test_dq_models_are_dagster_assets():
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    for m in ("dq_submissions", "dq_validity", "dq_completeness", "dq_timeliness", "dq_consistency", "dq_outliers",
              "dq_institution_report"):
        assert f"quality/{m}" in keys, m
    assert graph.get(next(k for k in graph.get_all_asset_keys()
                          if k.to_user_string() == "quality/dq_submissions")).partitions_def is not None
    assert os.environ.get("IKMS_DATA_DIR")
