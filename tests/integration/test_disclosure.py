"""Disclosure tests on a built warehouse (the shared demo warehouse of dbt_warehouse.py; or, for a quick run, an
already built data dir in IKMS_DISCLOSURE_DATA_DIR): what open_data.od_* publishes has no count in
(0, threshold), no rate/mean over fewer persons than the threshold, the same cell in two datasets is the same
value with the same symbol, and the differencing attack (pipelines/open_data/attack.py: subtraction along every
hierarchy and LP bounds, across datasets sharing a population) pins no suppressed count within the threshold."""
from __future__ import annotations

import os
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.open_data import attack, catalogue, sdc

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("dbt")]

CAT = catalogue.load()
COUNTED = [d for d in CAT.datasets if d.value_columns()]


@pytest.fixture(scope="module")
def tables() -> dict:
    given = os.environ.get("IKMS_DISCLOSURE_DATA_DIR")
    if given:
        data = Path(given)
    else:
        from tests.integration import dbt_warehouse

        data = dbt_warehouse.use()
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:
        out = {
            "od": {d.model: con.sql(f"select * from open_data.{d.model}").pl() for d in CAT.datasets},
            "cells": {d.model: con.sql(f"select * from open_data_cells.{d.cells_model}").pl() for d in CAT.datasets},
            "status": con.sql("select * from open_data_cells.sdc_cell_status").pl(),
        }
    finally:
        con.close()
    return out


def test_every_dataset_published_with_its_columns(tables):
    for d in CAT.datasets:
        od, cells = tables["od"][d.model], tables["cells"][d.model]
        values = [c.name for c in d.value_columns() if c.publish]
        assert od.columns == [c.name for c in d.published_columns()] + [f"{v}_pazime" for v in values], d.model
        assert od.height == cells.height > 0, d.model
    assert tables["status"].height > 0 and set(tables["status"]["status"]) <= {"c", "z", "x"}
    assert (tables["status"]["status"] == "c").sum() > 0


def test_no_small_count_and_no_rate_over_few_persons(tables):
    bad = attack.primary_violations(CAT.datasets, tables["od"])
    assert bad.height == 0, bad


def test_published_values_are_the_cells_values(tables):
    """A value is either published exactly as in the cells or replaced by a symbol; NULL never goes unmarked."""
    for d in COUNTED:
        pub = sdc.published_frame(d, tables["cells"][d.model], tables["status"])
        keys = [c.name for c in d.key_columns()]
        od = tables["od"][d.model]
        assert pub.sort(keys, nulls_last=True).equals(od.select(pub.columns).sort(keys, nulls_last=True)), d.model
        for c in [c for c in d.value_columns() if c.publish]:
            assert od.filter(pl.col(c.name).is_null() & pl.col(f"{c.name}_pazime").is_null()).height == 0, c.name


def test_status_is_deterministic(tables):
    again = sdc.cell_status(CAT.datasets, {d.model: tables["cells"][d.model] for d in COUNTED})
    stored = tables["status"].select("model", "_row_key", "column_name", "status").sort(pl.all())
    assert again.sort(pl.all()).equals(stored)


def test_differencing_attack_recovers_nothing(tables):
    res = attack.attack(CAT.datasets, tables["od"])
    assert res.inconsistent.height == 0, res.inconsistent  # one cell, one symbol, in every dataset
    assert res.report.height > 0 and res.n_equations > 0
    assert res.leaks.height == 0, res.leaks
    # every suppressed count was attacked (bounded by subtraction or LP; none simply skipped)
    assert set(res.report["method"]) <= {"lp", "subtraction"}, res.report["method"].value_counts()
