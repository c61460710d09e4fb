"""At scale 1.0 the demo country's 2023/24 totals match the real national figures of DESIGN.md §2 within 2 %:
pupils in grades 1-12 (~220,000), general schools (~635), teachers in general schools (~26,000), pre-school
children (~95,000-100,000). Counted here from the simulated frames on 1 September 2023, independently of the
generator's own statistics. Two simulated years keep it to ~30 s (the history before does not change these
stocks: entrants and schools are sized from the real backbone)."""
from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from pipelines.generator.population import simulate

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("national")]

SEP1 = dt.date(2023, 9, 1)


@pytest.fixture(scope="module")
def country():
    return simulate(seed=20241, scale=1.0, years=[2022, 2023])


def on_sep1(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter((pl.col("start_date") <= SEP1) & (pl.col("end_date").is_null() | (pl.col("end_date") >= SEP1)))


def within(value: float, target: float, tolerance: float = 0.02) -> bool:
    return abs(value - target) <= tolerance * target


def test_pupils_and_schools(country):
    pupils = on_sep1(country.enrolments.filter(pl.col("grade").is_between(1, 12)))
    n_pupils = pupils["person_key"].n_unique()
    n_schools = pupils["reg_nr"].n_unique()
    assert within(n_pupils, 220_000), n_pupils
    assert within(n_schools, 635), n_schools


def test_teachers(country):
    general = country.institutions.filter(pl.col("grade_min").is_not_null())["reg_nr"]
    teachers = on_sep1(country.staff_posts.filter((pl.col("post_code") == "PEDAGOGS") & pl.col("reg_nr").is_in(general.implode())))
    n = teachers["person_key"].n_unique()
    assert within(n, 26_000), n


def test_preschool_children(country):
    preschool = set(country.programmes.filter(pl.col("programme_kind") == "PIRMSSKOLA")["programme_code"].to_list())
    children = on_sep1(country.enrolments.filter(pl.col("programme_code").is_in(list(preschool))))
    n = children["person_key"].n_unique()
    assert 95_000 * 0.98 <= n <= 100_000 * 1.02, n
