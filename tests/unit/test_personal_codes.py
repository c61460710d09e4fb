"""The personal-code validator (both formats, checksum, dates) and the generator's code maker."""
import numpy as np
import pytest

from pipelines.common import personal_codes as pc


def legacy(first10: str) -> str:
    """Build a code with its check digit, computed here by hand from the published rule."""
    digits = [int(d) for d in first10]
    total = sum(d * w for d, w in zip(digits, (1, 6, 3, 7, 9, 10, 5, 8, 4, 2)))
    k = (1101 - total) % 11
    assert k < 10, "choose a serial that has a check digit"
    return f"{first10[:6]}-{first10[6:]}{k}"


def test_worked_example_checksum():
    # 010203-2000K: 0*1+1*6+0*3+2*7+0*9+3*10+2*5+0*8+0*4+0*2 = 60; (1101-60) mod 11 = 7
    assert legacy("0102032000") == "010203-20007"
    assert pc.check(["010203-20007"]) == [None]
    assert pc.check(["010203-20008"]) == [pc.RULE_CHECKSUM]


@pytest.mark.parametrize(
    "code,expected",
    [
        ("01020320007", None),  # bare 11 digits are normalised
        (" 010203-20007 ", None),
        ("320000-12345", None),  # post-2017 form: no date, no public check digit
        ("32000012345", None),
        ("310203-2000x", pc.RULE_FORMAT),
        ("0102-03-20007", pc.RULE_FORMAT),
        ("330000-12345", pc.RULE_DATE),  # not the new form (32...), and the 33rd of month 00 is no date
        ("320000-1234", pc.RULE_FORMAT),
        ("010203-30007", pc.RULE_FORMAT),  # century digit 3 does not exist
        ("300299-10000", pc.RULE_DATE),  # 30 February 1999
        ("", pc.RULE_FORMAT),
        (None, pc.RULE_FORMAT),
    ],
)
def test_validation(code, expected):
    assert pc.check([code]) == [expected]


def test_leap_day_dates():
    ok = legacy("2902002000")  # 29 Feb 2000 exists
    assert pc.check([ok]) == [None]
    bad = legacy("2902011000")  # 29 Feb 1901 does not
    assert pc.check([bad]) == [pc.RULE_DATE]


def test_check_digit_ten_is_invalid():
    # find a serial whose sum gives 10: such codes are never issued, whatever the last digit
    for serial in range(1000):
        first10 = f"150585{1}{serial:03d}"
        total = sum(int(d) * w for d, w in zip(first10, (1, 6, 3, 7, 9, 10, 5, 8, 4, 2)))
        if (1101 - total) % 11 == 10:
            break
    codes = [f"{first10[:6]}-{first10[6:]}{k}" for k in range(10)]
    assert pc.check(codes) == [pc.RULE_CHECKSUM] * 10


def test_generated_codes_are_valid_unique_and_carry_the_birth_date():
    rng = np.random.default_rng(7)
    births = np.array(["1969-12-31", "2000-02-29", "2010-06-01"] * 300, dtype="datetime64[D]")
    codes = pc.make_legacy_codes(births, rng)
    assert len(set(codes.tolist())) == len(codes)
    assert set(pc.check(codes.tolist())) == {None}
    assert codes[1].startswith("290200-2")
    assert codes[0].startswith("311269-1")
    new = pc.make_new_codes(1000, rng)
    assert len(set(new.tolist())) == 1000
    assert all(c.startswith("32") and c[6] == "-" for c in new)
    assert set(pc.check(new.tolist())) == {None}


def test_generation_is_deterministic():
    births = np.array(["1990-01-01"] * 10, dtype="datetime64[D]")
    a = pc.make_legacy_codes(births, np.random.default_rng(3))
    b = pc.make_legacy_codes(births, np.random.default_rng(3))
    assert a.tolist() == b.tolist()
