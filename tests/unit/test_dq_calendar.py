"""The data calendar seed is the generator's source of deadlines, and the registry confirmations it draws are
deterministic, with the late and missing ones (and only those) in the manifest events."""
from __future__ import annotations

import datetime as dt
import shutil

import polars as pl

from pipelines import settings
from pipelines.generator import activity


def test_deadlines_come_from_the_seed(tmp_path, monkeypatch):
    assert activity.deadline(2023, "1_SEM") == dt.datetime(2024, 1, 10, 23, 59, 59)
    assert activity.deadline(2023, "T2") == dt.datetime(2024, 6, 20, 23, 59, 59)
    assert activity.deadline(2023, "2023-12") == dt.datetime(2024, 1, 5, 23, 59, 59)
    assert activity.deadline(2023, "SKAITS_0109") == dt.datetime(2023, 9, 5, 23, 59, 59)
    assert activity.deadline(2023, "VS-1") == dt.datetime(2023, 9, 27, 23, 59, 59)
    # an edited calendar moves the generator's deadlines
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    cal = pl.read_csv(settings.SEEDS_DIR / "data_calendar.csv", infer_schema=False)
    cal = cal.with_columns(
        pl.when(pl.col("period") == "1_SEM").then(pl.lit("15")).otherwise(pl.col("deadline_day")).alias("deadline_day"),
        pl.when(pl.col("period_kind") == "month").then(pl.lit("2")).otherwise(pl.col("deadline_months_after"))
        .alias("deadline_months_after"))
    cal.write_csv(seeds / "data_calendar.csv")
    monkeypatch.setattr(settings, "SEEDS_DIR", seeds)
    activity._calendar.cache_clear()
    try:
        assert activity.deadline(2023, "1_SEM") == dt.datetime(2024, 1, 15, 23, 59, 59)
        assert activity.deadline(2023, "2023-11") == dt.datetime(2024, 1, 5, 23, 59, 59)
    finally:
        activity._calendar.cache_clear()
    shutil.rmtree(seeds)


def test_confirmations_draw_and_events():
    from tests.fixtures.tiny_country import tiny_country
    from pipelines.generator.writers import viis_confirmations as vc

    country = tiny_country()
    year = int(country.learner_years["year"].min())
    a, b = vc.draw(country, year), vc.draw(country, year)
    assert a.equals(b) and a.height > 0
    assert set(a["form"]) <= set(vc.FORMS) and "SKAITS_0109" in set(a["form"])
    on_time = a.filter(pl.col("status") == "on_time")
    late = a.filter(pl.col("status") == "late")
    assert (on_time["confirmed"] <= on_time["deadline"]).all() and (late["confirmed"] > late["deadline"]).all()
    assert a.filter(pl.col("status") == "missing")["confirmed"].is_null().all()
    recs = vc.records(a, year)
    assert recs.height == a.filter(pl.col("status") != "missing").height
    assert (recs["macibuGads"] == f"{year}/{year + 1}").all()
    ev = vc.events(a, year)
    assert ev.height == a.filter(pl.col("status") != "on_time").height
    assert set(ev["level"]) <= {"submission"} and ev["detail"].str.contains(r"^[0-9]{10} \S+$").all()
