"""Incremental: materializing one new school year (the 2024 partitions of the ingest and of the yearly dbt
models) leaves the indicator values, open-data cells and disclosure statuses of the earlier years exactly as they
were, and adds the new year's."""
from __future__ import annotations

import time

import pytest

from tests.integration import dbt_warehouse as wh

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("dbt")]

SNAPSHOT = "SELECT * FROM indicators.indicator_values WHERE school_year = ? ORDER BY ALL"
SDC = "SELECT * FROM open_data_cells.sdc_cell_status WHERE school_year = ? ORDER BY ALL"
# the open-data cells are incremental by school year too (macibu_gads '2022/2023' = school year 2022)
CELLS = ("cells_learners_general", "cells_grades_by_programme", "cells_teaching_staff", "cells_institutions")


def cells(year: int) -> dict:
    return {m: wh.query(f"SELECT * FROM open_data_cells.{m} WHERE macibu_gads = ? ORDER BY ALL",
                        [f"{year}/{year + 1}"]) for m in CELLS}


def test_new_year_leaves_earlier_years_unchanged():
    from pipelines.ingest.runner import materialize

    wh.use()
    before = {y: wh.query(SNAPSHOT, [y]) for y in wh.BUILT}
    sdc_before = {y: wh.query(SDC, [y]) for y in wh.BUILT}
    cells_before = {y: cells(y) for y in wh.BUILT}
    assert all(sdc_before[y] for y in wh.BUILT), "the 2022-2023 build suppressed nothing"
    assert all(rows for y in wh.BUILT for rows in cells_before[y].values()), "a cells model is empty"
    assert all(before[y] for y in wh.BUILT), "the 2022-2023 build produced no indicator values"
    assert not wh.query(SNAPSHOT, [2024])

    materialize(years=[2024], progress=lambda m: None)
    started = time.time()
    summary, _ = wh.build_tolerant([2024])  # failed dbt tests are test_dbt_dagster's business
    assert summary["layers"].get("indicators", {}).get("built", 0) > 0, summary["layers"]

    after_2022 = wh.query(SNAPSHOT, [2022])
    assert after_2022 == before[2022], "materializing 2024 changed indicator values of 2022"
    # flow indicators are reported in the outcome year, so even the year right before is untouched
    after_2023 = wh.query(SNAPSHOT, [2023])
    changed = sorted({r[0] for r in set(after_2023) ^ set(before[2023])})
    assert after_2023 == before[2023], f"materializing 2024 changed 2023 values of {changed}"

    new = wh.query("SELECT level, count(DISTINCT indicator_id), count(*) FROM indicators.indicator_values "
                   "WHERE school_year = 2024 GROUP BY 1")
    levels = {level: (ids, n) for level, ids, n in new}
    assert set(levels) == {"institution", "municipality", "national"}
    assert levels["national"][0] >= 35
    # flow indicators (2023 -> 2024) exist for the new year
    assert wh.query("SELECT count(*) FROM indicators.indicator_values WHERE school_year = 2024 "
                    "AND indicator_id = 'REPEAT_RATE' AND level = 'national'")[0][0] > 0

    # the one-year build tested only 2024's rows of the yearly models and of the views with a school year (the
    # staging views over raw.*: dbt_project/macros/test_where_school_years.sql), and whole tables for the others
    data = wh.use()
    runs = [p for p in (data / "dbt_target").iterdir() if p.is_dir() and p.stat().st_mtime >= started]
    compiled = {p.name: p.read_text() for r in runs for p in (r / "compiled").rglob("*.sql")}
    for test in ("accepted_range_fct_absences_lessons_missed", "not_null_stg_vendor_a__absences_reason"):
        scoped = [s for n, s in compiled.items() if n.startswith(test)]
        assert scoped and all("school_year in (2024)" in s for s in scoped), (test, sorted(compiled)[:20])
    whole = [s for n, s in compiled.items() if n.startswith("unique_dim_learners_learner_id")]
    assert whole and not any("school_year in" in s for s in whole)

    # the open-data cells (unpartitioned assets, built in Dagster's other step) computed only 2024: the run's
    # school years reach that step as var('school_years'); 2022-2023's cells are as they were
    for model in CELLS:
        sql = [s for n, s in compiled.items() if n == f"{model}.sql"]
        assert sql and all("school_year in (2024)" in s for s in sql), (model, sorted(compiled)[:20])
    assert {y: cells(y) for y in wh.BUILT} == cells_before, "materializing 2024 changed 2022-2023 cells"
    assert all(cells(2024).values())

    # disclosure control is incremental by school year too (each year is suppressed on its own, and only the
    # years whose cells changed are computed again): the earlier years' statuses stay as they were, and the
    # stored statuses equal what suppressing all three years at once gives
    assert {y: wh.query(SDC, [y]) for y in wh.BUILT} == sdc_before, "materializing 2024 changed 2022-2023 statuses"
    assert wh.query(SDC, [2024])
    _status_equals_a_full_recomputation(data)


def _status_equals_a_full_recomputation(data) -> None:
    import duckdb
    import polars as pl

    from pipelines.open_data import catalogue, sdc

    datasets = [d for d in catalogue.load().datasets if d.value_columns()]
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:
        cells = {d.model: con.sql(f"select * from open_data_cells.{d.cells_model}").pl() for d in datasets}
        stored = con.sql("select model, _row_key, column_name, status from open_data_cells.sdc_cell_status").pl()
    finally:
        con.close()
    assert cells["od_learners_general"]["macibu_gads"].n_unique() == 3
    whole = sdc.cell_status(datasets, cells)
    assert whole.sort(pl.all()).equals(stored.sort(pl.all()))


def test_full_refresh_gives_the_values_of_the_incremental_builds():
    """`ikms build --full-refresh` (runner.build(full_refresh=True): dbt --full-refresh in every step) rebuilds
    every model and year from scratch, and lands on exactly the indicator values and disclosure statuses that
    the year-by-year incremental builds left (a historical load and a one-year refresh run the same SQL)."""
    import json

    data = wh.use()
    years = [r[0] for r in wh.query("SELECT DISTINCT school_year FROM indicators.indicator_values ORDER BY 1")]
    before = {y: wh.query(SNAPSHOT, [y]) for y in years}
    sdc_before = {y: wh.query(SDC, [y]) for y in years}
    cells_before = {y: cells(y) for y in years}
    from pipelines.ingest.runner import build

    with pytest.raises(ValueError, match="every school year"):
        build(years=[years[-1]], full_refresh=True, progress=lambda m: None)
    started = time.time()
    wh.build_tolerant(None, full_refresh=True)
    runs = [p for p in (data / "dbt_target").iterdir() if p.is_dir() and p.stat().st_mtime >= started]
    args = [json.loads((r / "run_results.json").read_text())["args"] for r in runs if (r / "run_results.json").exists()]
    assert args and all(a.get("full_refresh") for a in args), args
    for y in years:
        after = wh.query(SNAPSHOT, [y])
        changed = sorted({r[0] for r in set(after) ^ set(before[y])})
        assert after == before[y], f"the full refresh changed {y} values of {changed}"
    assert {y: wh.query(SDC, [y]) for y in years} == sdc_before
    assert {y: cells(y) for y in years} == cells_before
