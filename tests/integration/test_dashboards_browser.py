"""The dashboards site in a real headless Chromium (Debian chromium + chromedriver, opened from file://).

The site is built from a tiny warehouse made here by hand (no dbt, seconds): the real indicator catalogue,
the 43 real municipalities, six institutions, three school years, one value per indicator x unit x year
plus a sex breakdown, and two cells that must be suppressed on public pages:
  - SUPPRESSED_RATIO: a ratio with denominator 3 < min_denominator 5, value 33.333…
  - SUPPRESSED_MEDIAN: a median over 3 observations, value 12.345
Every other value lies in [40, 95], so the strings of the suppressed values cannot occur by accident.
Screenshots of each page type go to $IKMS_TEST_OUTPUT/dashboards or test-output/dashboards/.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from tests.browser import Browser, chrome, format_errors, output_dir, unavailable_reason  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("dashboards_browser")]

ROOT = Path(__file__).resolve().parents[2]
YEARS = [2022, 2023, 2024]
DIMS = ["sex", "grade", "subject", "programme_kind", "education_level", "age_group"]

# institution_id, name, type, kind, founder_type, municipality, lat, lon, general school?
INSTITUTIONS = [
    ("9000000001", "Testa Rīgas 1. vidusskola", "Vispārizglītojošā vidusskola", "Vispārējās izglītības iestāde",
     "PASVALDIBA", "0001000", 56.95, 24.11, True),
    ("9000000002", "Testa Rīgas pamatskola", "Vispārizglītojošā pamatskola", "Vispārējās izglītības iestāde",
     "PASVALDIBA", "0001000", 56.97, 24.20, True),
    ("9000000003", "Testa Liepājas vidusskola", "Vispārizglītojošā vidusskola", "Vispārējās izglītības iestāde",
     "PASVALDIBA", "0005000", 56.51, 21.01, True),
    ("9000000004", "Testa Liepājas bērnudārzs", "Pirmsskolas izglītības iestāde", "Pirmsskolas izglītības iestāde",
     "PASVALDIBA", "0005000", 56.52, 21.02, False),
    ("9000000005", "Testa Valmieras ģimnāzija", "Vispārizglītojošā vidusskola", "Vispārējās izglītības iestāde",
     "PASVALDIBA", "0054000", 57.54, 25.43, True),
    ("9000000006", "Testa Valmieras privātskola", "Vispārizglītojošā pamatskola", "Vispārējās izglītības iestāde",
     "PRIVATS", "0054000", 57.53, 25.40, True),
]
SUPPRESSED_RATIO = {"indicator_id": "ABS_RATE", "unit_code": "9000000001", "school_year": 2024,
                    "numerator": 1.0, "denominator": 3.0, "value": 100.0 / 3.0}
SUPPRESSED_MEDIAN = {"indicator_id": "DIST_MEDIAN", "unit_code": "9000000003", "school_year": 2024,
                     "value": 12.345, "n_observations": 3}
# How the suppressed values would look if they leaked (raw JSON or formatted lv/en, any precision).
LEAK_PATTERNS = [re.compile(r"(?<![\d.])33[.,]3"), re.compile(r"(?<![\d.])12[.,]3")]  # not inside 1433.3 (km)
# A gap: institution 9000000002 has no ABS_RATE value in 2023 (a missing year must be null, not 0).
GAP = {"indicator_id": "ABS_RATE", "unit_code": "9000000002", "school_year": 2023}


# --- the tiny warehouse -----------------------------------------------------------------------------

def _catalogue() -> pl.DataFrame:
    from pipelines.indicators.catalogue import load_catalogue

    return pl.DataFrame([
        {"indicator_id": e.id, "name_lv": e.name_lv, "name_en": e.name_en, "domain": e.domain,
         "definition": e.definition, "unit": e.unit, "scale": float(e.scale), "direction": e.direction,
         "reference": e.reference, "levels": ",".join(e.levels), "grain": e.grain,
         "dimensions": ",".join(e.dimensions), "aggregation": e.aggregation,
         "min_denominator": e.min_denominator, "model_name": e.model_name}
        for e in load_catalogue()
    ], schema_overrides={"domain": pl.Int32, "min_denominator": pl.Int32})


def _values(catalogue: pl.DataFrame, munis: list[str]) -> pl.DataFrame:
    """One published value per indicator x level x unit x year (+ F/M rows for sex-cut indicators)."""
    units = pl.concat([
        pl.DataFrame({"level": "national", "unit_code": ["LV"]}),
        pl.DataFrame({"level": "municipality", "unit_code": munis}),
        pl.DataFrame({"level": "institution", "unit_code": [i[0] for i in INSTITUTIONS]}),
    ])
    cat = catalogue.select("indicator_id", "levels", "dimensions", "aggregation", "scale")
    grid = (
        cat.join(units, how="cross")
        .filter(pl.col("levels").str.split(",").list.contains(pl.col("level")))
        .join(pl.DataFrame({"school_year": YEARS}, schema={"school_year": pl.Int32}), how="cross")
    )
    # dimension columns: '_T' on the indicator's own dimensions, '_Z' elsewhere; plus a sex cut
    dim_cols = [
        pl.when(pl.col("dimensions").str.split(",").list.contains(d)).then(pl.lit("_T"))
        .otherwise(pl.lit("_Z")).alias(d)
        for d in DIMS
    ]
    totals = grid.with_columns(dim_cols)
    by_sex = (
        totals.filter(pl.col("sex") == "_T")
        .join(pl.DataFrame({"sex_code": ["F", "M"]}), how="cross")
        .with_columns(sex=pl.col("sex_code")).drop("sex_code")
    )
    rows = pl.concat([totals, by_sex]).sort(["indicator_id", "level", "unit_code", "school_year", *DIMS])
    rng = np.random.default_rng(20261123)
    v = np.round(rng.uniform(40.0, 95.0, rows.height), 1)  # never near the suppressed values
    den = 200.0
    rows = rows.with_columns(v=pl.Series(v))
    agg = pl.col("aggregation")
    out = rows.with_columns(
        numerator=pl.when(agg.is_in(["ratio", "distinct"])).then(pl.col("v") / pl.col("scale") * den)
        .when(agg == "count").then(pl.col("v").round(0)).otherwise(None),
        denominator=pl.when(agg.is_in(["ratio", "distinct"])).then(pl.lit(den)).otherwise(None),
        value=pl.when(agg == "count").then(pl.col("v").round(0)).otherwise(pl.col("v")),
        n_observations=pl.when(agg == "median").then(pl.lit(200)).otherwise(None).cast(pl.Int64),
    ).select("indicator_id", "level", "unit_code", "school_year", *DIMS,
             "numerator", "denominator", "value", "n_observations")

    def is_total_cell(spec: dict) -> pl.Expr:
        return ((pl.col("indicator_id") == spec["indicator_id"]) & (pl.col("unit_code") == spec["unit_code"])
                & (pl.col("school_year") == spec["school_year"]))

    ratio = is_total_cell(SUPPRESSED_RATIO)  # the total and its sex cut are all suppressed
    median = is_total_cell(SUPPRESSED_MEDIAN)
    out = out.with_columns(
        numerator=pl.when(ratio).then(SUPPRESSED_RATIO["numerator"]).otherwise(pl.col("numerator")),
        denominator=pl.when(ratio).then(SUPPRESSED_RATIO["denominator"]).otherwise(pl.col("denominator")),
        value=pl.when(ratio).then(SUPPRESSED_RATIO["value"])
        .when(median).then(SUPPRESSED_MEDIAN["value"]).otherwise(pl.col("value")),
        n_observations=pl.when(median).then(SUPPRESSED_MEDIAN["n_observations"]).otherwise(pl.col("n_observations")),
    )
    return out.filter(~is_total_cell(GAP))


def _institutions() -> pl.DataFrame:
    cols = ["institution_id", "institution_name", "institution_type", "institution_kind", "founder_type",
            "municipality_code", "lat", "lon", "is_general_school"]
    base = pl.DataFrame([dict(zip(cols, i)) for i in INSTITUTIONS])
    return (
        base.join(pl.DataFrame({"school_year": YEARS}, schema={"school_year": pl.Int32}), how="cross")
        .with_columns(
            founder=pl.col("institution_name") + " dibinātājs",
            source_atvk_code=pl.col("municipality_code"),
            address_code=pl.lit("100000000"),
            closed_date=pl.lit(None, dtype=pl.Date),
            email=pl.col("institution_id") + "@iestades.example",
        )
        .select("school_year", "institution_id", "institution_name", "institution_kind", "institution_type",
                "founder_type", "founder", "source_atvk_code", "municipality_code", "address_code", "lat", "lon",
                "closed_date", "email", "is_general_school")
    )


def _dq(institutions: pl.DataFrame, munis: pl.DataFrame) -> dict[str, pl.DataFrame]:
    inst = institutions.select(reg_nr="institution_id", school_year="school_year",
                               institution_name="institution_name", municipality_code="municipality_code")
    n = inst.height
    rng = np.random.default_rng(7)
    expected = np.full(n, 24, dtype=np.int64)
    missing = rng.integers(0, 3, n)
    late = rng.integers(0, 4, n)
    received = expected - missing
    on_time = received - late
    completeness = pl.DataFrame({
        "reg_nr": inst["reg_nr"], "municipality_code": inst["municipality_code"],
        "school_year": inst["school_year"], "feed": "viis", "n_expected": expected,
        "n_received_expected": received, "n_missing": missing, "n_unexpected": np.zeros(n, dtype=np.int64),
        "completeness_pct": 100.0 * received / expected,
    })
    timeliness = pl.DataFrame({
        "reg_nr": inst["reg_nr"], "municipality_code": inst["municipality_code"],
        "school_year": inst["school_year"], "feed": "viis", "entity": "confirmations", "n_expected": expected,
        "n_on_time": on_time, "n_late": late, "n_missing": missing, "on_time_pct": 100.0 * on_time / expected,
        "mean_days_late": np.where(late > 0, 3.0, np.nan), "max_days_late": np.where(late > 0, 6, 0).astype(np.int32),
    }).with_columns(pl.col("mean_days_late").fill_nan(None))
    report = (
        inst.join(munis.select("municipality_code", "municipality_name"), on="municipality_code")
        .with_columns(
            n_expected=pl.Series(expected), n_received_expected=pl.Series(received), n_on_time=pl.Series(on_time),
            n_late=pl.Series(late), n_missing=pl.Series(missing), n_unexpected=pl.lit(0, dtype=pl.Int64),
            completeness_pct=pl.Series(100.0 * received / expected), on_time_pct=pl.Series(100.0 * on_time / expected),
            max_days_late=pl.Series(np.where(late > 0, 6, 0).astype(np.int32)),
            rows_read=pl.lit(1000, dtype=pl.Int64), rows_quarantined=pl.Series(late.astype(np.int64)),
            quarantine_share=pl.Series(late / 1000.0), n_quarantine_rules=pl.Series((late > 0).astype(np.int64)),
            top_quarantine_rule=pl.when(pl.Series(late > 0)).then(pl.lit("future_date")).otherwise(None),
            n_inconsistent_checks=pl.lit(0, dtype=pl.Int64), inconsistent_checks=pl.lit(None, dtype=pl.String),
            enrolment_z=pl.lit(0.5), n_enrolment_jumps=pl.lit(0, dtype=pl.Int64),
            n_age_for_grade=pl.lit(0, dtype=pl.Int64), n_duplicate_enrolments=pl.lit(0, dtype=pl.Int64),
        )
        .select("reg_nr", "school_year", "institution_name", "municipality_code", "municipality_name",
                pl.exclude("reg_nr", "school_year", "institution_name", "municipality_code", "municipality_name"))
    )
    return {"dq_completeness": completeness, "dq_timeliness": timeliness, "dq_institution_report": report}


def make_tiny_warehouse(path: Path) -> Path:
    """Write a DuckDB file with just the tables the site reads. Deterministic."""
    munis = pl.read_csv(ROOT / "seeds" / "territorial_units.csv", schema_overrides={"atvk_code": pl.String}).select(
        municipality_code="atvk_code", municipality_name="name",
        municipality_kind=pl.when(pl.col("kind") == "valstspilseta").then(pl.lit("state_city"))
        .otherwise(pl.lit("municipality")),
        centre_lat=pl.col("lat").cast(pl.Float64), centre_lon=pl.col("lon").cast(pl.Float64),
    )
    catalogue = _catalogue()
    values = _values(catalogue, munis["municipality_code"].to_list())
    institutions = _institutions()
    tables = {
        "indicators.indicator_catalogue": catalogue,
        "indicators.indicator_values": values,
        "marts.dim_institutions": institutions,
        "marts.dim_municipalities": munis,
        **{f"quality.{k}": v for k, v in _dq(institutions, munis).items()},
    }
    con = duckdb.connect(str(path))
    try:
        for schema in ("indicators", "marts", "quality"):
            con.execute(f"create schema if not exists {schema}")
        for name, frame in tables.items():
            con.register("frame", frame.to_arrow())
            con.execute(f"create table {name} as select * from frame")
            con.unregister("frame")
    finally:
        con.close()
    return path


def make_square_boundaries(path: Path, drop: str | None = None) -> Path:
    """A GeoJSON with one small square per municipality around its centre (a stand-in for a real boundary
    file: the property is municipality_code, numeric codes on purpose to exercise zero-padding)."""
    import json

    munis = pl.read_csv(ROOT / "seeds" / "territorial_units.csv", schema_overrides={"atvk_code": pl.String})
    features = []
    for code, lat, lon in munis.select("atvk_code", "lat", "lon").iter_rows():  # 43 features
        if code == drop:
            continue
        d = 0.08
        ring = [[lon - d, lat - d / 2], [lon + d, lat - d / 2], [lon + d, lat + d / 2], [lon - d, lat + d / 2],
                [lon - d, lat - d / 2]]
        features.append({"type": "Feature", "properties": {"municipality_code": int(code)},
                         "geometry": {"type": "Polygon", "coordinates": [ring]}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


# --- fixtures ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sites(tmp_path_factory) -> dict:
    """Public and internal editions of the site built from the tiny warehouse (build timed)."""
    import dashboards.build as build
    base = tmp_path_factory.mktemp("dash")
    warehouse = make_tiny_warehouse(base / "warehouse.duckdb")
    out = {"warehouse": warehouse}
    for edition in ("public", "internal"):
        t0 = time.perf_counter()
        summary = build.build_site(warehouse, base / edition, edition=edition, progress=lambda *a, **k: None)
        out[edition] = {"dir": base / edition, "summary": summary, "seconds": time.perf_counter() - t0}
    return out


PAGES = {  # page type -> (path relative to the site, minimum rendered plots)
    "overview": ("index.html", 4),
    "municipality": ("muni/0001000.html", 2),
    "institution": ("inst/9000000002.html", 4),
    "explorer": ("explorer.html", 3),
    "map": ("map.html", 2),
    "quality": ("quality.html", 2),
    "municipalities": ("municipalities.html", 0),
    "institutions": ("institutions.html", 0),
}


def _uri(site: dict, rel: str) -> str:
    return (site["dir"] / rel).resolve().as_uri()


def _site_text_files(root: Path) -> list[Path]:
    """Everything a visitor downloads except the vendored plotly.min.js."""
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".html", ".js", ".json", ".css")
                  and p.name != "plotly.min.js")


# --- the harness itself (no site needed) ------------------------------------------------------------

def test_harness_reports_console_errors_blocked_fetch_and_network(chrome: Browser, tmp_path):
    """Negative control: the checks below would catch a broken page, a CDN script and fetch() from file://."""
    (tmp_path / "data.json").write_text("{}", encoding="utf-8")
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!doctype html><html><head><script src='https://cdn.plot.ly/plotly-2.35.2.min.js'></script></head>"
        "<body><script>fetch('data.json'); console.error('boom'); notDefined();</script></body></html>",
        encoding="utf-8")
    errors = chrome.load(bad.as_uri())
    text = format_errors(errors)
    assert "boom" in text and "notDefined" in text
    assert "ERR_NAME_NOT_RESOLVED" in text  # no internet inside the test browser
    assert "fetch" in text.lower() or "CORS" in text  # file:// blocks fetch exactly as in a user's Chromium
    assert chrome.external_requests() == ["https://cdn.plot.ly/plotly-2.35.2.min.js"]

    import shutil

    import plotly

    shutil.copyfile(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", tmp_path / "plotly.min.js")
    good = tmp_path / "good.html"
    good.write_text(
        "<!doctype html><html><head><script src='plotly.min.js'></script></head><body><div id='a'></div>"
        "<script>Plotly.newPlot('a', [{x: [1, 2, 3], y: [1, null, 3], type: 'scatter'}]);</script></body></html>",
        encoding="utf-8")
    assert chrome.load(good.as_uri(), wait_plots=1) == []
    assert chrome.plot_stats()["rendered"] == 1
    shot = chrome.screenshot("harness_selftest")
    assert shot.stat().st_size > 1000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- the site: files ----------------------------------------------------------------------------------

def test_tiny_site_built_with_every_page_type(sites):
    for edition in ("public", "internal"):
        root = sites[edition]["dir"]
        for rel, _ in PAGES.values():
            assert (root / rel).is_file(), f"{edition}: {rel} missing"
        assert (root / "assets" / "plotly.min.js").stat().st_size > 1_000_000  # shipped, no CDN
        assert len(list((root / "muni").glob("*.html"))) == 43
        assert sorted(p.stem for p in (root / "inst").glob("*.html")) == [i[0] for i in INSTITUTIONS]
        summary = sites[edition]["summary"]
        assert summary["pages"] >= 43 + 6 + 6
    print(f"\n tiny site build: public {sites['public']['seconds']:.2f} s, "
          f"internal {sites['internal']['seconds']:.2f} s")


def test_public_site_never_carries_suppressed_values(sites):
    """The suppressed ratio (1/3 = 33.3 %) and median (12.345 km over 3 observations) appear nowhere in the
    public edition's HTML/JS/JSON, while the internal edition does carry them (so the search can find them)."""
    def leaks(root: Path) -> list[str]:
        found = []
        for p in _site_text_files(root):
            text = p.read_text(encoding="utf-8")
            found += [f"{p.relative_to(root)}: {m.group(0)}" for pat in LEAK_PATTERNS for m in pat.finditer(text)]
        return found

    assert leaks(sites["public"]["dir"]) == []
    internal = leaks(sites["internal"]["dir"])
    assert any("inst/9000000001.html" in x for x in internal), internal[:5]
    assert any("inst/9000000003.html" in x for x in internal), internal[:5]


def test_internal_edition_is_bannered_and_public_is_not(sites):
    for rel, _ in PAGES.values():
        internal = (sites["internal"]["dir"] / rel).read_text(encoding="utf-8")
        public = (sites["public"]["dir"] / rel).read_text(encoding="utf-8")
        assert "iekšējai lietošanai" in internal.lower(), rel
        assert "iekšējai lietošanai" not in public.lower(), rel


def test_site_build_is_deterministic(sites, tmp_path):
    from dashboards.build import build_site

    again = tmp_path / "again"
    build_site(sites["warehouse"], again, edition="public", progress=lambda *a, **k: None)
    first = sites["public"]["dir"]
    files = [p.relative_to(first) for p in first.rglob("*") if p.is_file() and p.name != "manifest.json"]
    assert files and sorted(files) == sorted(
        p.relative_to(again) for p in again.rglob("*") if p.is_file() and p.name != "manifest.json")
    differ = [str(f) for f in files if (first / f).read_bytes() != (again / f).read_bytes()]
    assert differ == []


# --- the site in Chromium ------------------------------------------------------------------------------

def _choose(chrome: Browser, select_id: str, value: str) -> None:
    """Pick an option of a <select> the way a user does (value + change event)."""
    chrome.js("const s = document.getElementById(arguments[0]); s.value = arguments[1];"
              "s.dispatchEvent(new Event('change'));", select_id, value)
    assert chrome.js("return document.getElementById(arguments[0]).value;", select_id) == value


def _card_plot_js(css_card: str) -> str:
    return f"document.querySelector({css_card!r} + ' .js-plotly-plot')"


@pytest.mark.parametrize("page_type", list(PAGES))
def test_page_type_renders_offline_without_console_errors(chrome: Browser, sites, page_type):
    rel, min_plots = PAGES[page_type]
    errors = chrome.load(_uri(sites["public"], rel), wait_plots=min_plots)
    stats = chrome.draw_all()  # lazily drawn charts further down the page
    errors += chrome.new_errors()
    assert errors == [], format_errors(errors)
    assert chrome.external_requests() == []  # everything from disk: plotly.min.js, data/*.js
    assert stats["rendered"] >= min_plots and stats["rendered"] == stats["plots"], stats
    empty = chrome.js("return Array.from(document.querySelectorAll('.js-plotly-plot'))"
                      ".filter(p => !p.querySelector('.main-svg') || !(p.data || []).length).length;")
    assert empty == 0
    assert chrome.js("return document.documentElement.lang;") == "lv"
    shot = chrome.screenshot(f"public_{page_type}")
    assert shot.stat().st_size > 5000


def test_map_page_draws_43_tiles_and_institutions_on_the_outline(chrome: Browser, sites):
    assert chrome.load(_uri(sites["public"], "map.html"), wait_plots=2) == []
    tiles = chrome.js(
        "const g = document.getElementById('tile-map');"
        "return {attr: g.dataset.tiles, shapes: g.layout.shapes.length,"
        " drawn: g.querySelectorAll('.shapelayer path').length, labels: g.querySelectorAll('.textpoint').length,"
        " fills: new Set(g.layout.shapes.map(s => s.fillcolor)).size};")
    assert tiles["attr"] == "43" and tiles["shapes"] == 43 and tiles["drawn"] == 43 and tiles["labels"] == 43
    assert tiles["fills"] > 5  # coloured by the indicator, not one flat colour
    points = chrome.js(
        "const g = document.getElementById('point-map');"
        "return g.data.map(t => ({fill: t.fill || null, n: (t.x || []).filter(v => v !== null).length,"
        " name: t.name || null}));")
    outline = [t for t in points if t["fill"] == "toself"]
    assert outline and outline[0]["n"] > 100  # Latvia's outline from dashboards/geo/latvia.geojson
    markers = [t for t in points if t["fill"] != "toself"]
    # ABS_RATE 2024/25: five published institutions and one suppressed ('c' marker), none lost
    assert sorted(t["n"] for t in markers) == [1, 5]
    assert any(t["name"] == "c" and t["n"] == 1 for t in markers)
    drawn_points = chrome.js("return document.querySelectorAll('#point-map .scatterlayer .point').length;")
    assert drawn_points >= 6


def test_suppressed_cell_shows_the_symbol_not_a_number(chrome: Browser, sites):
    """Public institution page: ABS_RATE 2024/25 of 9000000001 has denominator 3 < 5."""
    assert chrome.load(_uri(sites["public"], "inst/9000000001.html"), wait_plots=1) == []
    card = ".card[data-indicator='ABS_RATE']"
    chrome.reveal(card)
    shown = chrome.js(
        f"const c = document.querySelector({card!r}); const v = c.querySelector('.big .val');"
        "const cells = Array.from(c.querySelectorAll('table.vals td'));"
        f"const gd = {_card_plot_js(card)};"
        "return {val: v.textContent.trim(), cls: v.className, title: v.title,"
        " last: cells[cells.length - 1].textContent,"
        " lastCls: cells[cells.length - 1].className, y: gd.data[0].y, connect: gd.data[0].connectgaps,"
        " ann: Array.from(gd.querySelectorAll('.annotation-text')).map(a => a.textContent), text: c.innerText};")
    assert shown["val"] == "c" and "suppressed" in shown["cls"] and "konfidenci" in shown["title"]
    assert shown["last"] == "c" and "suppressed" in shown["lastCls"]
    assert shown["y"][-1] is None  # not drawn as zero
    assert "c" in shown["ann"]
    assert not re.search(r"33[.,]3", shown["text"])
    chrome.screenshot("public_institution_suppressed", full_page=False)
    # the suppressed median (3 observations) of another institution
    assert chrome.load(_uri(sites["public"], "inst/9000000003.html"), wait_plots=1) == []
    chrome.reveal(".card[data-indicator='DIST_MEDIAN']")
    median = chrome.js("return document.querySelector(arguments[0]).textContent.trim();",
                       ".card[data-indicator='DIST_MEDIAN'] .big .val")
    assert median == "c"
    # the municipality ranking lists the institution with 'c', below the published ones
    assert chrome.load(_uri(sites["public"], "muni/0001000.html"), wait_plots=1) == []
    _choose(chrome, "rank-indicator", "ABS_RATE")
    rows = chrome.js("return Array.from(document.querySelectorAll('#rank-table tbody tr'))"
                     ".map(r => Array.from(r.cells).map(c => c.textContent));")
    assert [r[1] for r in rows][-1] == "Testa Rīgas 1. vidusskola" and rows[-1][2] == "c"
    assert all(re.search(r"\d", r[2]) for r in rows[:-1])
    assert chrome.new_errors() == []


def test_internal_edition_shows_the_value_under_a_banner(chrome: Browser, sites):
    assert chrome.load(_uri(sites["internal"], "inst/9000000001.html"), wait_plots=1) == []
    banner = chrome.driver.find_element("css selector", ".banner-internal")
    assert banner.is_displayed() and "iekšējai lietošanai" in banner.text.lower()
    card = ".card[data-indicator='ABS_RATE']"
    chrome.reveal(card)
    y = chrome.js(f"return {_card_plot_js(card)}.data[0].y;")
    assert y[-1] == pytest.approx(100 / 3, abs=1e-3)
    chrome.screenshot("internal_institution", full_page=False)


def test_missing_year_is_a_gap_not_zero(chrome: Browser, sites):
    assert chrome.load(_uri(sites["public"], "inst/9000000002.html"), wait_plots=1) == []
    card = ".card[data-indicator='ABS_RATE']"
    chrome.reveal(card)
    got = chrome.js(f"const gd = {_card_plot_js(card)};"
                    f"const cells = Array.from(document.querySelectorAll({card!r} + ' table.vals td'));"
                    "return {y: gd.data[0].y, connect: gd.data[0].connectgaps, cells: cells.map(c => c.textContent)};")
    assert got["y"][1] is None and got["y"][0] is not None and got["y"][2] is not None
    assert got["connect"] is False
    assert got["cells"][1] == "–"


def test_rate_axes_start_at_zero_and_every_chart_cites_definition_and_source(chrome: Browser, sites):
    assert chrome.load(_uri(sites["public"], "inst/9000000002.html"), wait_plots=1) == []
    chrome.draw_all()
    cards = chrome.js(
        "return Array.from(document.querySelectorAll('.card[data-indicator]')).map(c => {"
        " const gd = c.querySelector('.js-plotly-plot'); const id = c.dataset.indicator;"
        " return {id: id, unit: window.IKMS_META.catalogue[id].unit,"
        "  y0: gd && gd._fullLayout ? gd._fullLayout.yaxis.range[0] : null,"
        "  suffix: gd && gd._fullLayout ? gd._fullLayout.yaxis.ticksuffix : null,"
        "  def: (c.querySelector('.def') || {}).textContent || '',"
        "  ref: (c.querySelector('.ref') || {}).textContent || ''};"
        "});")
    assert len(cards) >= 40
    rates = [c for c in cards if c["unit"] == "percent"]
    assert rates and all(c["y0"] == 0 for c in rates), [c for c in rates if c["y0"] != 0][:3]
    assert all(c["suffix"].strip() == "%" for c in rates)
    assert all(len(c["def"]) > 20 and "VIIS / IZM" in c["ref"] for c in cards)


def test_language_switch_is_client_side_and_remembered(chrome: Browser, sites):
    site = sites["public"]
    assert chrome.load(_uri(site, "index.html"), wait_plots=1) == []
    nav = "return document.querySelector('header nav').innerText;"
    try:
        assert chrome.js("return document.documentElement.lang;") == "lv"
        assert "Pārskats" in chrome.js(nav) and "Overview" not in chrome.js(nav)
        lv_h1 = chrome.js("return document.querySelector('h1').innerText;")
        chrome.driver.find_element("id", "lang-toggle").click()
        chrome.wait_for("document.documentElement.lang === 'en'")
        assert "Overview" in chrome.js(nav) and "Pārskats" not in chrome.js(nav)
        assert chrome.js("return document.querySelector('h1').innerText;") != lv_h1
        assert chrome.js("return document.getElementById('lang-toggle').textContent;") == "LV"
        chrome.screenshot("public_overview_en", full_page=False)
        # remembered on the next page (localStorage), charts drawn with English labels
        assert chrome.load(_uri(site, "inst/9000000002.html"), wait_plots=1) == []
        assert chrome.js("return document.documentElement.lang;") == "en"
        card = ".card[data-indicator='ABS_RATE']"
        chrome.reveal(card)
        names = chrome.js(f"return {{h3: document.querySelector({card!r} + ' h3').textContent,"
                          f" legend: {_card_plot_js(card)}.data.map(t => t.name)}};")
        assert names["h3"] == chrome.js("return window.IKMS_META.catalogue.ABS_RATE.name_en;")
        assert "Institution" in names["legend"] and "Latvia" in names["legend"]
        chrome.screenshot("public_institution_en", full_page=False)
        # and back
        chrome.driver.find_element("id", "lang-toggle").click()
        chrome.wait_for("document.documentElement.lang === 'lv'")
        chrome.settle()
        names = chrome.js(f"return {{h3: document.querySelector({card!r} + ' h3').textContent,"
                          f" legend: {_card_plot_js(card)}.data.map(t => t.name)}};")
        assert names["h3"] == chrome.js("return window.IKMS_META.catalogue.ABS_RATE.name_lv;")
        assert "Iestāde" in names["legend"] and "Latvija" in names["legend"]
        assert chrome.new_errors() == []
    finally:
        chrome.js("try { localStorage.removeItem('ikms.lang'); } catch (e) {}")


def test_explorer_compares_units_and_shows_a_breakdown(chrome: Browser, sites):
    assert chrome.load(_uri(sites["public"], "explorer.html"), wait_plots=3) == []
    _choose(chrome, "x-indicator", "ABS_RATE")
    _choose(chrome, "x-level", "municipality")
    for label in ("Rīga [0001000]", "Liepāja [0005000]"):
        chrome.js("document.getElementById('x-compare-input').value = arguments[0];"
                  "document.getElementById('x-compare-add').click();", label)
    chrome.wait_for("document.getElementById('x-trend').data.length === 3")
    trend = chrome.js("return document.getElementById('x-trend').data.map(t => t.name);")
    assert trend == ["Latvija", "Rīga", "Liepāja"]
    dist = chrome.js("return document.getElementById('x-dist').data[0].x.length;")
    assert dist == 43  # every municipality has a published 2024/25 value
    _choose(chrome, "x-dim", "sex")
    chrome.wait_for("(document.getElementById('x-breakdown').data || []).length === 2")
    bars = chrome.js("return document.getElementById('x-breakdown').data.map(t => [t.name, t.x.length]);")
    assert bars == [["Rīga", 2], ["Liepāja", 2]]
    assert chrome.new_errors() == []
    assert chrome.external_requests() == []
    chrome.settle()
    chrome.screenshot("public_explorer_compare", full_page=False)


def test_boundary_file_gives_a_true_choropleth(chrome: Browser, sites, tmp_path):
    from dashboards.build import build_site

    geojson = make_square_boundaries(tmp_path / "munis.geojson")
    out = tmp_path / "site"
    build_site(sites["warehouse"], out, edition="public", boundaries=geojson, progress=lambda *a, **k: None)
    errors = chrome.load((out / "map.html").as_uri(), wait_plots=3)
    assert errors == [], format_errors(errors)
    polys = chrome.js("const g = document.getElementById('choropleth');"
                      "return {fills: g.data.filter(t => t.fill === 'toself').length,"
                      " drawn: g.querySelectorAll('.scatterlayer .trace').length,"
                      " colours: new Set(g.data.filter(t => t.fill).map(t => t.fillcolor)).size};")
    assert polys["fills"] == 43 and polys["drawn"] >= 43 and polys["colours"] > 5
    chrome.reveal("#choropleth")
    chrome.screenshot("public_map_choropleth", full_page=False)


def test_boundary_file_missing_a_municipality_fails_naming_the_file(sites, tmp_path):
    from dashboards.build import build_site
    from dashboards.geometry import BoundaryError

    geojson = make_square_boundaries(tmp_path / "incomplete.geojson", drop="0054000")
    with pytest.raises(BoundaryError, match=r"incomplete\.geojson.*missing codes \['0054000'\]"):
        build_site(sites["warehouse"], tmp_path / "site", edition="public", boundaries=geojson,
                   progress=lambda *a, **k: None)
