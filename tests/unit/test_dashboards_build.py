"""build_site on a tiny warehouse made here by hand (real catalogue, the 43 municipalities, three institutions,
two school years): the page set, disclosure control in the HTML/JS of the public edition, the internal edition,
determinism, the map's 43 tiles. Browser rendering is tested in tests/integration/test_dashboards_browser.py."""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pytest

from dashboards.data import DIMS

ROOT = Path(__file__).resolve().parents[2]
YEARS = [2023, 2024]
INSTS = [("9100000001", "Pārbaudes vidusskola", "Vispārizglītojošā vidusskola", "0001000"),
         ("9100000002", 'Otrā "skola" </script><script>alert(1)</script>', "Vispārizglītojošā vidusskola", "0001000"),
         ("9100000003", "Trešā pārbaudes skola", "Vispārizglītojošā pamatskola", "0005000")]
# (indicator, level, unit, year, numerator, denominator, value, n_obs); the suppressed cells carry values that
# cannot occur elsewhere: 77.7777 (a ratio over a denominator of 3), a count of 3, 61.2345 (a median of 2
# observations)
ROWS = [
    ("ABS_RATE", "institution", "9100000001", 2023, 40.0, 500.0, 8.0, None),
    ("ABS_RATE", "institution", "9100000001", 2024, 10.0, 400.0, 2.5, None),
    ("ABS_RATE", "institution", "9100000002", 2023, 2.33333, 3.0, 77.7777, None),  # suppressed: denominator 3
    ("ABS_RATE", "institution", "9100000002", 2024, 30.0, 600.0, 5.0, None),
    ("ABS_RATE", "institution", "9100000003", 2024, 12.0, 400.0, 3.0, None),
    ("ABS_RATE", "municipality", "0001000", 2023, 42.33333, 503.0, 8.4161, None),
    ("ABS_RATE", "municipality", "0001000", 2024, 37.0, 609.0, 6.0755, None),
    ("ABS_RATE", "municipality", "0005000", 2024, 12.0, 400.0, 3.0, None),
    ("ABS_RATE", "national", "LV", 2023, 42.33333, 503.0, 8.4161, None),
    ("ABS_RATE", "national", "LV", 2024, 49.0, 1009.0, 4.8563, None),
    ("ENR_TOTAL", "institution", "9100000001", 2024, 250.0, None, 250.0, None),
    ("ENR_TOTAL", "institution", "9100000002", 2024, 3.0, None, 3.0, None),        # suppressed: count 3
    ("ENR_TOTAL", "institution", "9100000003", 2024, 180.0, None, 180.0, None),
    ("ENR_TOTAL", "national", "LV", 2024, 433.0, None, 433.0, None),
    ("DIST_MEDIAN", "institution", "9100000003", 2024, None, None, 61.2345, 2),    # suppressed: 2 observations
    ("DIST_MEDIAN", "national", "LV", 2024, None, None, 4.5, 300),
]
LEAKS = ["77.7777", "77.778", "2.33333", "61.2345", "61.235", "61.23"]


def _warehouse(path: Path) -> Path:
    from dashboards.synthetic import _catalogue

    values = pl.DataFrame(
        [{"indicator_id": r[0], "level": r[1], "unit_code": r[2], "school_year": r[3], **{d: "_Z" for d in DIMS},
          "numerator": r[4], "denominator": r[5], "value": r[6], "n_observations": r[7]} for r in ROWS],
        schema_overrides={"school_year": pl.Int32, "n_observations": pl.Int64, "numerator": pl.Float64,
                          "denominator": pl.Float64})
    # a grade breakdown of ABS_RATE nationally (the explorer's breakdown file)
    grade = values.filter((pl.col("indicator_id") == "ABS_RATE") & (pl.col("level") == "national")).with_columns(
        grade=pl.lit("5"))
    values = pl.concat([values.with_columns(grade=pl.when(pl.col("indicator_id") == "ABS_RATE").then(pl.lit("_T"))
                                            .otherwise(pl.col("grade"))), grade])
    munis = (pl.read_csv(ROOT / "seeds" / "territorial_units.csv", schema_overrides={"atvk_code": pl.Utf8})
             .select(pl.col("atvk_code").alias("municipality_code"), pl.col("name").alias("municipality_name"),
                     pl.col("kind").alias("municipality_kind"), pl.col("lat").alias("centre_lat"),
                     pl.col("lon").alias("centre_lon")))
    inst = pl.DataFrame([{"school_year": y, "institution_id": i, "institution_name": n, "institution_kind": t,
                          "institution_type": t, "founder_type": "PASVALDIBA", "municipality_code": m,
                          "lat": 56.9, "lon": 24.1, "closed_date": None} for y in YEARS for i, n, t, m in INSTS],
                        schema_overrides={"school_year": pl.Int32, "closed_date": pl.Date})
    con = duckdb.connect(str(path))
    for s in ("indicators", "marts"):
        con.execute(f"create schema {s}")
    for name, df in (("indicators.indicator_catalogue", _catalogue()), ("indicators.indicator_values", values),
                     ("marts.dim_municipalities", munis), ("marts.dim_institutions", inst)):
        con.register("df", df)
        con.execute(f"create table {name} as select * from df")
        con.unregister("df")
    con.close()
    return path


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    return _warehouse(tmp_path_factory.mktemp("wh") / "warehouse.duckdb")


@pytest.fixture(scope="module")
def public_site(warehouse, tmp_path_factory):
    from dashboards.build import build_site

    out = tmp_path_factory.mktemp("site") / "dashboards"
    summary = build_site(warehouse, out, progress=lambda m: None)
    return out, summary


def _all_text(out: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(out.rglob("*"))
                     if p.is_file() and p.suffix in (".html", ".js", ".json") and p.name != "plotly.min.js")


def test_pages_of_every_type(public_site):
    out, summary = public_site
    for rel in ("index.html", "explorer.html", "map.html", "quality.html", "municipalities.html",
                "institutions.html", "assets/plotly.min.js", "assets/site.js", "assets/site.css", "data/meta.js",
                "data/munis.js", "data/units.js", "data/ind/ABS_RATE.js", "data/ind/ABS_RATE.grade.js"):
        assert (out / rel).is_file(), rel
    assert sorted(p.stem for p in (out / "inst").glob("*.html")) == [i[0] for i in INSTS]
    assert len(list((out / "muni").glob("*.html"))) == 43
    assert summary["pages"] == 6 + 3 + 43 and summary["institutions"] == 3
    html = (out / "index.html").read_text(encoding="utf-8")
    assert 'src="assets/plotly.min.js"' in html and "cdn" not in html.lower()  # offline: plotly shipped once
    assert "iekšējai lietošanai" not in html.lower()


def test_public_pages_carry_no_suppressed_number(public_site):
    out, _ = public_site
    text = _all_text(out)
    for leak in LEAKS:
        assert leak not in text, leak
    page = (out / "inst" / "9100000002.html").read_text(encoding="utf-8")
    payload = json.loads(page.split('id="page-data">', 1)[1].split("</script>", 1)[0])
    s = payload["series"]
    k = s["indicator_id"].index("ABS_RATE")
    assert s["v"][k] == [None, 5.0] and s["f"][k] == "c."  # 2023 suppressed: null + flag, never 0
    k = s["indicator_id"].index("ENR_TOTAL")
    assert s["v"][k] == [None, None] and s["f"][k] == ".c"


def test_internal_edition_shows_values_with_banner(warehouse, tmp_path):
    from dashboards.build import build_site

    out = tmp_path / "internal"
    build_site(warehouse, out, edition="internal", progress=lambda m: None)
    page = (out / "inst" / "9100000002.html").read_text(encoding="utf-8")
    assert "IEKŠĒJAI LIETOŠANAI" in page and 'data-edition="internal"' in page
    assert "77.778" in page  # the unsuppressed value, still flagged c
    assert json.loads((out / "manifest.json").read_text())["edition"] == "internal"


def test_build_is_deterministic(warehouse, public_site, tmp_path):
    from dashboards.build import build_site

    first, _ = public_site
    second = tmp_path / "again"
    build_site(warehouse, second, progress=lambda m: None)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file() and p.name != "manifest.json")
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file() and p.name != "manifest.json")
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel


def test_map_has_43_tiles_and_the_outline(public_site):
    out, _ = public_site
    page = (out / "map.html").read_text(encoding="utf-8")
    payload = json.loads(page.split('id="page-data">', 1)[1].split("</script>", 1)[0])
    tiles = payload["tiles"]
    assert len(tiles["municipality_code"]) == 43
    assert len(set(zip(tiles["row"], tiles["col"]))) == 43  # one cell each
    assert payload["outline"] and "boundaries" not in payload


def test_rebuild_keeps_foreign_files(warehouse, tmp_path):
    from dashboards.build import build_site

    out = tmp_path / "site"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    build_site(warehouse, out, progress=lambda m: None)
    (out / "inst" / "stale.html").write_text("old")
    build_site(warehouse, out, progress=lambda m: None)
    assert (out / "notes.txt").read_text() == "mine"  # only the site's own names are replaced
    assert not (out / "inst" / "stale.html").exists()


def _squares(codes: list[str]) -> dict:
    feats = []
    for k, code in enumerate(codes):  # one 0.1° square per municipality, in a row over Latvia
        x0, y0 = 21.0 + 0.1 * (k % 40), 56.0 + 0.2 * (k // 40)
        ring = [[x0, y0], [x0 + 0.1, y0], [x0 + 0.1, y0 + 0.1], [x0, y0 + 0.1], [x0, y0]]
        feats.append({"type": "Feature", "properties": {"municipality_code": code},
                      "geometry": {"type": "Polygon", "coordinates": [ring]}})
    return {"type": "FeatureCollection", "features": feats}


def test_boundaries_give_a_choropleth_and_missing_codes_fail(warehouse, tmp_path):
    from dashboards.build import build_site

    codes = pl.read_csv(ROOT / "seeds" / "territorial_units.csv", schema_overrides={"atvk_code": pl.Utf8})["atvk_code"]
    good = tmp_path / "munis.geojson"
    good.write_text(json.dumps(_squares(codes.to_list())))
    out = tmp_path / "site"
    build_site(warehouse, out, boundaries=good, progress=lambda m: None)
    page = (out / "map.html").read_text(encoding="utf-8")
    payload = json.loads(page.split('id="page-data">', 1)[1].split("</script>", 1)[0])
    assert sorted(payload["boundaries"]) == sorted(codes.to_list()) and 'id="choropleth"' in page
    bad = tmp_path / "short.geojson"
    bad.write_text(json.dumps(_squares(codes.to_list()[:-1])))
    with pytest.raises(ValueError, match="short.geojson"):
        build_site(warehouse, tmp_path / "site2", boundaries=bad, progress=lambda m: None)


def test_a_warehouse_without_indicators_is_refused_clearly(tmp_path):
    from dashboards.build import build_site

    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(RuntimeError, match="indicator_values"):
        build_site(empty, tmp_path / "site", progress=lambda m: None)
    assert not (tmp_path / "site").exists()


def test_dagster_asset_builds_the_site_into_the_data_dir(data_dir, monkeypatch):
    from pipelines.ingest.runner import build_dashboards

    monkeypatch.setenv("DAGSTER_HOME", str(data_dir / "dagster_home"))  # restored after the test (runner sets it)

    _warehouse(data_dir / "warehouse.duckdb")
    md = build_dashboards(progress=lambda m: None)
    assert md["pages"] == 52 and md["edition"] == "public" and md["institution_pages"] == 3
    assert (data_dir / "dashboards" / "index.html").is_file()
    md = build_dashboards(edition="internal", progress=lambda m: None)
    assert "IEKŠĒJAI LIETOŠANAI" in (data_dir / "dashboards-internal" / "index.html").read_text(encoding="utf-8")


def test_names_cannot_break_out_of_the_page(public_site):
    out, _ = public_site
    page = (out / "inst" / "9100000002.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in page  # escaped in HTML (Jinja) and in the JSON payload (\\u003c)
    payload = json.loads(page.split('id="page-data">', 1)[1].split("</script>", 1)[0])
    assert payload["name"] == INSTS[1][1]
