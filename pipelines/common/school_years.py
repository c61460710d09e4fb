"""School years and their partition keys: school year 2024/25 has key "2024" and runs 1 Sep 2024 - 31 Aug 2025."""
from __future__ import annotations

import datetime as dt

FIRST_YEAR = 2015  # 2015/16: the first year of the default history
LAST_YEAR = 2024  # 2024/25
DEFAULT_YEARS = tuple(range(FIRST_YEAR, LAST_YEAR + 1))
REFORM_YEAR = 2021  # from 2021/22 extracts carry the 43 post-reform municipalities


def label(year: int) -> str:
    """2024 -> '2024/25'."""
    return f"{year}/{(year + 1) % 100:02d}"


def key(year: int) -> str:
    return str(year)


def from_key(partition_key: str) -> int:
    year = int(partition_key)
    if not 1990 <= year <= 2100:
        raise ValueError(f"not a school-year partition key: {partition_key!r}")
    return year


def start(year: int) -> dt.date:
    return dt.date(year, 9, 1)


def end(year: int) -> dt.date:
    return dt.date(year + 1, 8, 31)


def reference_date(year: int) -> dt.date:
    """Learner counts are confirmed as of 1 September."""
    return dt.date(year, 9, 1)


def of_date(day: dt.date) -> int:
    return day.year if day.month >= 9 else day.year - 1


def partition_keys(years=DEFAULT_YEARS) -> list[str]:
    return [key(y) for y in years]
