"""The pseudonymiser: HMAC-SHA-256 computed by DuckDB equals RFC 2104 HMAC from Python's hmac module, truncated to
its first 16 hex digits (64 bits)."""
import hashlib
import hmac

import polars as pl
import pytest

from pipelines.common import pseudonymise as P
from pipelines.common.pseudonymise import pads, pseudonym, pseudonymise_columns

KEY = bytes.fromhex("00112233445566778899aabbccddeeff" * 2)


def test_engine_hmac_equals_reference_hmac():
    codes = ["010203-20007", "320000-12345", None, "ļ-unicode"]
    out = pseudonymise_columns(pl.DataFrame({"code": codes, "other": [1, 2, 3, 4]}), ["code"], KEY)
    expected = [hmac.new(KEY, c.encode(), hashlib.sha256).hexdigest()[:16] if c else None for c in codes]
    assert out["code"].to_list() == expected
    assert out["other"].to_list() == [1, 2, 3, 4]
    assert pseudonym("010203-20007", KEY) == expected[0]


def test_key_matters_and_output_is_not_the_plain_hash():
    a = pseudonymise_columns(pl.DataFrame({"c": ["010203-20007"]}), ["c"], KEY)["c"][0]
    b = pseudonymise_columns(pl.DataFrame({"c": ["010203-20007"]}), ["c"], KEY[::-1])["c"][0]
    assert a != b
    assert a != hashlib.sha256(b"010203-20007").hexdigest()[:16] and len(a) == 16


def test_a_collision_is_refused(monkeypatch):
    # one hex digit (16 values) for 40 distinct codes: two of them must share a pseudonym
    monkeypatch.setattr(P, "DIGITS", 1)
    with pytest.raises(ValueError, match="pseudonym collision: 40 distinct codes"):
        pseudonymise_columns(pl.DataFrame({"c": [f"0102032{i:04d}" for i in range(40)]}), ["c"], KEY)


def test_short_keys_are_refused():
    with pytest.raises(ValueError):
        pads(b"short")
