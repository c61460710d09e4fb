"""Latvian personal codes (personas kods): validation as Polars expressions, generation with NumPy.

Two formats are in use:
* legacy ``DDMMYY-CNNNK``: date of birth, century digit C (0 = 1800s, 1 = 1900s, 2 = 2000s), serial NNN and
  check digit K = (1101 - sum(d_i * w_i)) mod 11 over the first ten digits, w = 1,6,3,7,9,10,5,8,4,2.
  A result of 10 has no check digit: such serials are never issued, so a code whose sum gives 10 is invalid
  (libraries differ here; we follow the issuing practice, which skips those serials).
* since 1 July 2017 ``32NNNN-NNNNN``: no date of birth. No public check-digit rule exists for it, so only its
  form is validated.
Everything here works on whole columns: no Python loop over rows.
"""
from __future__ import annotations

import numpy as np
import polars as pl

WEIGHTS = (1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
LEGACY_PATTERN = r"^[0-9]{6}-[012][0-9]{4}$"
NEW_PATTERN = r"^32[0-9]{4}-[0-9]{5}$"

# Rule names used in quarantine; stable, referenced by the generator's defect manifest.
RULE_FORMAT = "personal_code_format"
RULE_CHECKSUM = "personal_code_checksum"
RULE_DATE = "personal_code_date"


def normalise(expr: pl.Expr) -> pl.Expr:
    """Trim, drop inner spaces, and put the hyphen in place for 11 bare digits."""
    s = expr.cast(pl.Utf8).str.strip_chars().str.replace_all(r"\s", "")
    return (
        pl.when(s.str.contains(r"^[0-9]{11}$"))
        .then(s.str.slice(0, 6) + pl.lit("-") + s.str.slice(6, 5))
        .otherwise(s)
    )


def _digit(s: pl.Expr, i: int) -> pl.Expr:
    return s.str.slice(i, 1).cast(pl.Int32, strict=False)


def legacy_checksum_ok(code: pl.Expr) -> pl.Expr:
    digits = code.str.replace("-", "", literal=True)
    total = sum(_digit(digits, i) * w for i, w in enumerate(WEIGHTS))
    check = (1101 - total) % 11
    return (check < 10) & (check == _digit(digits, 10))


def legacy_birth_date(code: pl.Expr) -> pl.Expr:
    """Date of birth from a legacy code (null if the date does not exist)."""
    century = code.str.slice(7, 1).replace_strict({"0": "18", "1": "19", "2": "20"}, default=None)
    text = century + code.str.slice(4, 2) + "-" + code.str.slice(2, 2) + "-" + code.str.slice(0, 2)
    return text.str.to_date("%Y-%m-%d", strict=False)


def validation_error(expr: pl.Expr) -> pl.Expr:
    """Null for a valid code, else the quarantine rule it breaks. Expects a normalised code."""
    is_legacy = expr.str.contains(LEGACY_PATTERN)
    is_new = expr.str.contains(NEW_PATTERN)
    return (
        pl.when(expr.is_null())
        .then(pl.lit(RULE_FORMAT))
        .when(is_new)
        .then(pl.lit(None, dtype=pl.Utf8))
        .when(~is_legacy)
        .then(pl.lit(RULE_FORMAT))
        .when(legacy_birth_date(expr).is_null())
        .then(pl.lit(RULE_DATE))
        .when(~legacy_checksum_ok(expr))
        .then(pl.lit(RULE_CHECKSUM))
        .otherwise(pl.lit(None, dtype=pl.Utf8))
    )


def check(codes: list[str | None]) -> list[str | None]:
    """Validate a list of raw codes; returns the error per code (None = valid). For callers with a list."""
    df = pl.DataFrame({"c": codes}, schema={"c": pl.Utf8})
    return df.select(validation_error(normalise(pl.col("c")))).to_series().to_list()


# ---------------------------------------------------------------- generation (demo country) -----------

def _check_digits(first10: np.ndarray) -> np.ndarray:
    """first10: (n, 10) int array -> check digit per row, 10 where none exists."""
    total = first10 @ np.array(WEIGHTS)
    return (1101 - total) % 11


def make_legacy_codes(birth_dates: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Valid, unique legacy codes for the given birth dates (datetime64[D]); vectorised.

    Serials are drawn without replacement per birth date (1,000 per day is ample at national scale) and a
    serial whose check sum gives 10 is moved to the next serial, as the issuer does."""
    bd = np.asarray(birth_dates, dtype="datetime64[D]")
    n = bd.size
    years = bd.astype("datetime64[Y]").astype(int) + 1970
    months = bd.astype("datetime64[M]").astype(int) % 12 + 1
    days = (bd - bd.astype("datetime64[M]")).astype(int) + 1
    century = np.where(years >= 2000, 2, np.where(years >= 1900, 1, 0))
    # unique serial per (date): rank within date plus a random offset, wrapped into 0..999
    order = np.argsort(bd, kind="stable")
    sorted_bd = bd[order]
    first_of_group = np.r_[True, sorted_bd[1:] != sorted_bd[:-1]]
    group_start = np.maximum.accumulate(np.where(first_of_group, np.arange(n), 0))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - group_start
    if n and rank.max() >= 500:
        raise ValueError("more than 500 persons share one birth date; the legacy serial space is 1,000")
    # one random offset per birth date; serials are offset + 2*rank, so a serial moved by +1 (below)
    # has the other parity and cannot collide with another person's serial
    offset = rng.integers(0, 1000, size=n)
    group_offset = np.empty(n, dtype=np.int64)
    group_offset[order] = offset[order][group_start]
    serial = (group_offset + rank * 2) % 1000
    digits = np.column_stack(
        [days // 10, days % 10, months // 10, months % 10, (years % 100) // 10, years % 10,
         century, serial // 100, (serial // 10) % 10, serial % 10]
    )
    check = _check_digits(digits)
    # serials giving 10 take the odd neighbour (rank*2 are even: +1 never collides with another rank)
    bad = check == 10
    serial = np.where(bad, (serial + 1) % 1000, serial)
    digits[:, 7], digits[:, 8], digits[:, 9] = serial // 100, (serial // 10) % 10, serial % 10
    check = _check_digits(digits)
    # (1101 - s) mod 11 == 10 for both s and s + w_10 (= s + 2 after a +1 on the last serial digit, or a
    # carry) cannot hold at once for the last digit; a carry case is checked rather than assumed
    if (check == 10).any():
        raise AssertionError("no valid check digit after moving the serial; report this seed")
    text = np.char.add(
        np.char.zfill(days.astype(str), 2),
        np.char.add(np.char.zfill(months.astype(str), 2), np.char.zfill((years % 100).astype(str), 2)),
    )
    tail = np.char.add(np.char.add(century.astype(str), np.char.zfill(serial.astype(str), 3)), check.astype(str))
    return np.char.add(np.char.add(text, "-"), tail)


def make_new_codes(n: int, rng: np.random.Generator) -> np.ndarray:
    """Unique codes of the post-2017 form 32NNNN-NNNNN."""
    nums = rng.choice(10**9, size=n, replace=False)
    head = np.char.zfill((nums // 10**5).astype(str), 4)
    tail = np.char.zfill((nums % 10**5).astype(str), 5)
    return np.char.add(np.char.add(np.char.add("32", head), "-"), tail)
