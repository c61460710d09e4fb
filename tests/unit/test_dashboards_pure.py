"""The pure parts of the dashboards: the publication (suppression) rule, size bands, number formatting, the
year-aligned series and the peer medians, each on values computed by hand."""
from __future__ import annotations

import polars as pl
import pytest

from dashboards import bands, payloads, publish
from dashboards.fmt import fmt_value, school_year_label

NBSP = "\u00a0"


def _cat(**agg) -> pl.DataFrame:
    return pl.DataFrame({"indicator_id": list(agg), "aggregation": [a for a, _ in agg.values()],
                         "min_denominator": [m for _, m in agg.values()]})


def _values(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"indicator_id": pl.Utf8, "numerator": pl.Float64, "denominator": pl.Float64,
                                      "value": pl.Float64, "n_observations": pl.Int64}, orient="row")


CAT = _cat(R=("ratio", 5), R10=("ratio", 10), C=("count", 5), M=("median", 5), D=("distinct", 5))
ROWS = [  # indicator, numerator, denominator, value, n_observations -> published?
    ("R", 1.0, 4.0, 25.0, None),      # denominator 4 < 5: suppressed
    ("R", 1.0, 5.0, 20.0, None),      # denominator 5: published
    ("R10", 3.0, 9.0, 33.3, None),    # the catalogue's min_denominator 10 applies
    ("R", None, 0.0, None, None),     # no value: missing, not suppressed
    ("C", 3.0, None, 3.0, None),      # count 3: suppressed
    ("C", 0.0, None, 0.0, None),      # count 0: published
    ("C", 5.0, None, 5.0, None),      # count 5: published
    ("M", None, None, 7.5, 4),        # median of 4 observations: suppressed
    ("M", None, None, 7.5, 5),        # median of 5: published
    ("D", 2.0, 6.0, 33.3, None),      # distinct persons: denominator rule
]
EXPECTED_FLAGS = ["c", None, "c", None, "c", None, None, "c", None, None]


def test_suppression_rule_public():
    out = publish.apply(_values(ROWS), CAT, "public")
    assert out["flag"].to_list() == EXPECTED_FLAGS
    hidden = out.filter(pl.col("flag") == "c")
    # nothing of a suppressed value survives: value, numerator, denominator, n_observations all null
    for col in ("value", "numerator", "denominator", "n_observations"):
        assert hidden[col].null_count() == hidden.height, col
    shown = out.filter(pl.col("flag").is_null() & pl.col("value").is_not_null())
    assert shown["value"].to_list() == [20.0, 0.0, 5.0, 7.5, 33.3]


def test_suppression_rule_internal_keeps_values_and_marks_them():
    out = publish.apply(_values(ROWS), CAT, "internal")
    assert out["flag"].to_list() == EXPECTED_FLAGS
    assert out["value"].to_list() == [r[3] for r in ROWS]
    assert out["denominator"][0] == 4.0


def test_unknown_edition_is_refused():
    with pytest.raises(ValueError, match="edition"):
        publish.apply(_values(ROWS), CAT, "secret")


@pytest.mark.parametrize("pupils, band", [(None, "_U"), (0, "_U"), (1, "XS"), (49, "XS"), (50, "S"), (149, "S"),
                                          (150, "M"), (349, "M"), (350, "L"), (699, "L"), (700, "XL"), (5000, "XL")])
def test_size_bands(pupils, band):
    df = pl.DataFrame({"institution_id": ["a"], "school_year": [2024], "enrolment": [pupils]},
                      schema={"institution_id": pl.Utf8, "school_year": pl.Int32, "enrolment": pl.Float64})
    assert bands.size_bands(df)["size_band"].item() == band


def test_size_bands_are_ordered_and_labelled():
    b = bands.bands()
    assert [x["code"] for x in b] == ["XS", "S", "M", "L", "XL"]
    assert all(x["label_lv"] and x["label_en"] for x in b)


@pytest.mark.parametrize("value, unit, lang, flag, text", [
    (12.345, "percent", "lv", None, f"12,3{NBSP}%"),
    (12.345, "percent", "en", None, "12.3%"),
    (0.0, "percent", "lv", None, f"0,0{NBSP}%"),
    (6.789, "points", "lv", None, "6,79"),
    (12345.0, "count", "lv", None, f"12{NBSP}345"),
    (12345.0, "count", "en", None, "12,345"),
    (1234.6, "eur", "lv", None, f"1{NBSP}235{NBSP}€"),
    (None, "percent", "lv", None, "–"),
    (float("nan"), "ratio", "en", None, "–"),
    (None, "percent", "lv", "c", "c"),
    (50.0, "percent", "en", "c", "50.0% c"),  # internal edition: the value, marked as not public
])
def test_fmt_value(value, unit, lang, flag, text):
    assert fmt_value(value, unit, lang, flag) == text


def test_school_year_label():
    assert school_year_label(2024) == "2024/25"
    assert school_year_label(2099) == "2099/00"


def test_series_aligns_years_keeps_gaps_and_flags():
    df = pl.DataFrame({"unit_code": ["a", "a", "b", "b"], "school_year": [2015, 2017, 2016, 2017],
                       "value": [1.23456, 2.0, None, 4.0], "flag": [None, None, "c", None]},
                      schema_overrides={"school_year": pl.Int32})
    s = payloads.series(df, ["unit_code"], [2015, 2016, 2017]).sort("unit_code")
    assert s["v"].to_list() == [[1.235, None, 2.0], [None, None, 4.0]]  # missing 2016 of a is a gap (null)
    assert s["f"].to_list() == ["...", ".c."]


def test_peer_medians_need_min_peers():
    # four secondary schools of band S (three with a value) and one pre-school of its own type
    inst = pl.DataFrame({"indicator_id": ["X"] * 5, "unit_code": ["a", "b", "c", "d", "e"],
                         "school_year": [2024] * 5, "value": [10.0, 20.0, 60.0, None, 5.0]},
                        schema_overrides={"school_year": pl.Int32})
    institutions = pl.DataFrame({"institution_id": ["a", "b", "c", "d", "e"],
                                 "institution_type": ["vsk", "vsk", "vsk", "vsk", "pii"]})
    size = pl.DataFrame({"institution_id": ["a", "b", "c", "d", "e"], "school_year": [2024] * 5,
                         "size_band": ["S", "S", "S", "S", "S"]}, schema_overrides={"school_year": pl.Int32})
    out = payloads.peer_medians(inst, institutions, size).sort("institution_id")
    assert out["value"].to_list() == [20.0, 20.0, 20.0, 20.0, None]  # e alone in its group: no median
    assert out["peers"].to_list() == [3, 3, 3, 3, 1]


def _count_frames():
    """ENR (a count): municipality M1 = institutions a (3, suppressed), b (40), c (20); national = M1 + M2 (7);
    institution b by sex: F 2 (suppressed), M 38."""
    schema = {"indicator_id": pl.Utf8, "level": pl.Utf8, "unit_code": pl.Utf8, "school_year": pl.Int32,
              "value": pl.Float64}
    tot = pl.DataFrame([("ENR", "institution", "a", 2024, 3.0), ("ENR", "institution", "b", 2024, 40.0),
                        ("ENR", "institution", "c", 2024, 20.0), ("ENR", "municipality", "M1", 2024, 63.0),
                        ("ENR", "municipality", "M2", 2024, 7.0), ("ENR", "national", "LV", 2024, 70.0)],
                       schema=schema, orient="row")
    br = pl.DataFrame([("ENR", "institution", "b", 2024, 2.0, "sex", "F"),
                       ("ENR", "institution", "b", 2024, 38.0, "sex", "M")],
                      schema={**schema, "dim": pl.Utf8, "code": pl.Utf8}, orient="row")
    extra = {"numerator": pl.col("value"), "denominator": pl.lit(None, pl.Float64),
             "n_observations": pl.lit(None, pl.Int64)}
    return tot.with_columns(**extra), br.with_columns(**extra)


def test_secondary_suppression_of_counts():
    cat = _cat(ENR=("count", 5))
    tot, br = _count_frames()
    tot, br = publish.apply(tot, cat, "public"), publish.apply(br, cat, "public")
    muni = pl.DataFrame({"unit_code": ["a", "b", "c"], "municipality_code": ["M1", "M1", "M1"]})
    tot2, br2 = publish.secondary_counts(tot, br, cat, muni, "public")
    flags = dict(zip(tot2["unit_code"], tot2["flag"]))
    # a (3) is primary; c (20), the smallest other institution of M1, hides it from M1 − b
    assert flags == {"a": "c", "b": None, "c": "c", "M1": None, "M2": None, "LV": None}
    assert tot2.filter(pl.col("flag") == "c")["value"].null_count() == 2
    # F = 2 is primary; M (38) goes too, or b's total minus M would give it away
    assert br2.sort("code")["flag"].to_list() == ["c", "c"] and br2["value"].null_count() == 2
    # the same picks in the internal edition, values kept
    ti, bi = publish.secondary_counts(publish.apply(_count_frames()[0], cat, "internal"),
                                      publish.apply(_count_frames()[1], cat, "internal"), cat, muni, "internal")
    assert dict(zip(ti["unit_code"], ti["flag"])) == flags and ti["value"].null_count() == 0


def test_secondary_suppression_leaves_ratios_alone():
    cat = _cat(R=("ratio", 5))
    tot = pl.DataFrame({"indicator_id": ["R", "R"], "level": ["institution", "municipality"], "unit_code": ["a", "M1"],
                        "school_year": [2024, 2024], "numerator": [1.0, 10.0], "denominator": [2.0, 100.0],
                        "value": [50.0, 10.0], "n_observations": [None, None]},
                       schema_overrides={"school_year": pl.Int32, "n_observations": pl.Int64})
    t = publish.apply(tot, cat, "public")
    br = t.head(0).with_columns(dim=pl.lit(None, pl.Utf8), code=pl.lit(None, pl.Utf8))
    t2, _ = publish.secondary_counts(t, br, cat, pl.DataFrame({"unit_code": ["a"], "municipality_code": ["M1"]}))
    assert t2.equals(t)
