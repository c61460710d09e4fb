"""The demo-country simulation at a small scale: determinism, codes, spells, references, totals."""
from __future__ import annotations

import polars as pl
import pytest

from pipelines.common.personal_codes import normalise, validation_error
from pipelines.generator.population import simulate

YEARS = [2021, 2022, 2023]
FRAMES = ["institutions", "addresses", "persons", "programmes", "classes", "enrolments", "learner_years",
          "staff_posts", "academic_posts", "completions", "classifiers", "population"]


@pytest.fixture(scope="module")
def country():
    return simulate(7, 0.02, YEARS)


def test_same_seed_gives_identical_frames(country):
    again = simulate(7, 0.02, YEARS)
    for name in FRAMES:
        assert getattr(country, name).equals(getattr(again, name)), name


def test_other_seed_differs(country):
    other = simulate(8, 0.02, YEARS)
    assert not other.persons.equals(country.persons)
    assert not other.learner_years.equals(country.learner_years)


def test_personal_codes_valid_and_unique(country):
    p = country.persons
    errors = p.select(validation_error(normalise(pl.col("personal_code"))).alias("e"))["e"]
    assert errors.null_count() == p.height
    assert p["personal_code"].n_unique() == p.height
    young = p.filter(pl.col("birth_date") >= pl.date(2017, 7, 1))
    assert young["personal_code"].str.starts_with("32").all()
    old = p.filter(pl.col("birth_date") < pl.date(2017, 7, 1))
    assert old["personal_code"].str.starts_with("32").mean() < 0.05


def test_no_overlapping_general_spells(country):
    e = country.enrolments.filter(pl.col("grade").is_not_null()).with_columns(
        pl.col("end_date").fill_null(pl.date(2100, 1, 1)))
    pairs = e.join(e, on="person_key", suffix="_b").filter(
        (pl.col("reg_nr") != pl.col("reg_nr_b")) & (pl.col("start_date") <= pl.col("end_date_b"))
        & (pl.col("start_date_b") <= pl.col("end_date")))
    assert pairs.height == 0


def test_references_exist(country):
    regs = country.institutions["reg_nr"]
    assert regs.n_unique() == regs.len()
    assert country.enrolments["reg_nr"].is_in(regs.implode()).all()
    assert country.staff_posts["reg_nr"].is_in(regs.implode()).all()
    cls = country.enrolments.filter(pl.col("class_id").is_not_null())["class_id"]
    assert cls.is_in(country.classes["class_id"].implode()).all()
    assert country.classes["class_id"].n_unique() == country.classes.height
    assert country.persons["address_code"].is_in(country.addresses["address_code"].implode()).all()
    assert country.addresses["address_code"].n_unique() == country.addresses.height
    assert country.addresses["address_code"].str.contains(r"^[1-9][0-9]{8}$").all()


def test_spells_inside_their_school_year(country):
    ly = country.learner_years
    bad = ly.filter((pl.col("start_date") < pl.date(pl.col("year"), 9, 1))
                    | (pl.col("end_date") > pl.date(pl.col("year") + 1, 8, 31))
                    | (pl.col("end_date") < pl.col("start_date")))
    assert bad.height == 0
    e = country.enrolments
    assert e.filter(pl.col("end_date") < pl.col("start_date")).height == 0
    assert set(e["end_reason"].drop_nulls().unique()) <= set(
        country.classifiers.filter(pl.col("classifier") == "BEIGU_IEMESLS")["code"])


def test_points_nearest_to_own_unit(country):
    from pipelines.generator import geography

    u = geography.units()
    a = country.addresses.join(u.select("atvk_code", "lat", "lon"), left_on="atvk_new", right_on="atvk_code", suffix="_c")
    lat, lon = a["lat"].to_numpy(), a["lon"].to_numpy()
    d_own = geography.distance_km(lat, lon, a["lat_c"].to_numpy(), a["lon_c"].to_numpy())
    d_all = geography.distance_km(lat[:, None], lon[:, None], u["lat"].to_numpy()[None, :], u["lon"].to_numpy()[None, :])
    assert (d_own <= d_all.min(axis=1) + 1e-9).all()
    assert a["x_lks92"].is_between(300_000, 770_000).all() and a["y_lks92"].is_between(160_000, 450_000).all()


def test_totals_scale_plausibly(country):
    s = country.stats["per_year"][2023]
    # scale 0.02 of ~220k pupils, ~26k teachers, ~97k pre-school children
    assert 3_300 <= s["pupils"] <= 5_500
    assert 350 <= s["teachers"] <= 700
    assert 1_400 <= s["preschool"] <= 2_500
    assert 5 <= s["general_schools"] <= 40  # 2 % of ~635
    pop = country.population.filter(pl.col("calendar_year") == 2024)["population"].sum()
    assert 0.015 * 1_870_000 < pop < 0.025 * 1_870_000


def test_lks92_projection_known_point():
    import numpy as np

    from pipelines.generator.geography import lks92

    # Riga centre: about 506,400 E / 311,800 N in LKS-92
    x, y = lks92(np.array([56.9496]), np.array([24.1052]))
    assert abs(x[0] - 506_400) < 200 and abs(y[0] - 311_780) < 200
