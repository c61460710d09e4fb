"""On the generated country the national indicator values are plausible: each lies in a range derived from the
real figures of Latvia (DESIGN.md section 2, school year 2023/24 unless said). The demo country is built to
those figures, so a value outside its range means a model (or the generator) is wrong, not bad luck.
Scale 0.03 (~20 general schools, ~6,600 pupils): ranges are wide enough for that sample size."""
from __future__ import annotations

import pytest

from tests.integration import dbt_warehouse as wh

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("dbt")]

# indicator_id: (low, high, school year, why)
RANGES = {
    # 220,000 pupils / ~26,000 teachers = 8.5 per teacher head; per FTE it is higher because many teachers work
    # part time (~0.8-0.9 FTE on average) -> ~9.5-11. Below 7 or above 12 means pupils or FTE are mis-counted.
    "PTR": (7.0, 12.0, 2023, "pupils per teacher FTE"),
    # ~220,000 pupils in ~10,500 classes of general schools: ~21 in cities, 10-15 in rural schools; the
    # pupil-weighted national mean of classes lies between 15 and 22.
    "CLASS_SIZE": (15.0, 22.0, 2023, "pupils per class"),
    # 2020/21: 94 of 688 schools under 50 pupils (14 %), median 172 pupils: schools under 100 are roughly a
    # quarter; the sample of ~20 schools adds a few points of noise either way -> 10-35 %.
    "SMALL_SCHOOL_SHARE": (10.0, 35.0, 2023, "% of schools with 1-99 pupils"),
    # grade repetition in Latvia is ~1-1.5 % of pupils (the generator keeps ~1.5 %); reported in the outcome
    # year 2023 (from 2022/23 -> 2023/24).
    "REPEAT_RATE": (0.5, 3.0, 2023, "% of pupils kept in grade"),
    # lessons missed / lessons planned: illness dominates (~5-8 % in winter months), plus other justified and
    # unexcused absence; European school systems report 4-10 % -> 3-12 %.
    "ABS_RATE": (3.0, 12.0, 2023, "% of planned lessons missed"),
    # ~220,000 pupils in ~635 general schools: 346 pupils per school on average (median 172, a long tail up to
    # ~1,900); the stratified sample keeps the mix of small rural and large city schools -> 200-500.
    "SCHOOL_SIZE": (200.0, 500.0, 2023, "pupils per school"),
}


@pytest.fixture(scope="module")
def national():
    wh.use()
    dims = ["sex", "grade", "subject", "programme_kind", "education_level", "age_group"]
    total = " AND ".join(f"{d} IN ('_T', '_Z')" for d in dims)
    rows = wh.query(f"SELECT indicator_id, school_year, value FROM indicators.indicator_values "
                    f"WHERE level = 'national' AND unit_code = 'LV' AND {total}")
    return {(i, y): v for i, y, v in rows}


@pytest.mark.parametrize("indicator", sorted(RANGES))
def test_national_value_is_plausible(national, indicator):
    low, high, year, what = RANGES[indicator]
    value = national.get((indicator, year))
    assert value is not None, f"{indicator} has no national total for {year}"
    assert low <= value <= high, f"{indicator} ({what}) = {value:.2f} in {year}, expected {low}-{high}"


def test_pupil_count_matches_the_scale(national):
    # ~220,000 pupils at scale 1.0 -> ~6,600 at 0.03; the stratified sample of schools keeps it within +-30 %
    value = national.get(("ENR_GENERAL", 2023))
    assert value is not None
    assert 0.7 * 220_000 * wh.SCALE <= value <= 1.3 * 220_000 * wh.SCALE, value
