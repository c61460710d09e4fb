"""Pure geometry of the dashboards: projection, shipped outline, tile grid, boundary files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from dashboards import geometry as geo

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def munis() -> pl.DataFrame:
    # the project's own seed of the 43 municipalities (same source as marts.dim_municipalities)
    return pl.read_csv(ROOT / "seeds" / "territorial_units.csv", schema_overrides={"atvk_code": pl.String}).select(
        municipality_code="atvk_code", centre_lat="lat", centre_lon="lon", name="name"
    )


def _square(lon: float, lat: float, d: float = 0.1) -> list[list[float]]:
    return [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]


def _write(tmp_path: Path, features: list[dict], name: str = "b.geojson") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return p


def _feature(code, geometry: dict, prop: str = "municipality_code") -> dict:
    return {"type": "Feature", "properties": {prop: code}, "geometry": geometry}


# --- projection -----------------------------------------------------------------------------------

def test_project_scalar_and_array_scales_longitude_by_cos57():
    x, y = geo.project(24.0, 57.0)
    km_per_deg = 6371.0 * math.pi / 180
    assert float(y) == pytest.approx(57.0 * km_per_deg)
    assert float(x) == pytest.approx(24.0 * km_per_deg * math.cos(math.radians(57)))
    xs, ys = geo.project([21.0, 28.0], [56.0, 56.0])
    assert xs.shape == (2,) and ys[0] == ys[1]
    # one degree of longitude at 57 N is ~60.6 km, one of latitude ~111.2 km
    assert xs[1] - xs[0] == pytest.approx(7 * 60.56, rel=1e-3)


def test_project_keeps_east_and_north_monotone():
    x, y = geo.project(np.array([21.0, 24.0, 28.0]), np.array([55.7, 57.0, 58.0]))
    assert np.all(np.diff(x) > 0) and np.all(np.diff(y) > 0)


# --- outline --------------------------------------------------------------------------------------

def test_latvia_outline_is_closed_and_covers_latvia():
    rings = geo.latvia_outline()
    assert len(rings) >= 1 and len(rings[0]) > 100
    ring = rings[0]
    assert ring[0] == ring[-1]
    xs = np.array([p[0] for p in ring])
    ys = np.array([p[1] for p in ring])
    (x0, x1), (y0, y1) = geo.project([20.9, 28.3], [55.6, 58.1])
    assert x0 <= xs.min() and xs.max() <= x1 and y0 <= ys.min() and ys.max() <= y1
    # Riga's centre lies inside (ray casting on the projected polygon)
    px, py = (float(v) for v in geo.project(24.1052, 56.9496))
    inside = ((ys > py) != (np.roll(ys, -1) > py)) & (
        px < (np.roll(xs, -1) - xs) * (py - ys) / (np.roll(ys, -1) - ys + 1e-12) + xs
    )
    assert inside.sum() % 2 == 1


def test_latvia_outline_returns_fresh_lists():
    a = geo.latvia_outline()
    a[0].clear()
    assert len(geo.latvia_outline()[0]) > 100


def test_shipped_geojson_is_small_and_documented():
    assert geo.LATVIA_GEOJSON.stat().st_size < 100_000
    source = (geo.GEO_DIR / "SOURCE.md").read_text(encoding="utf-8")
    assert "Natural Earth" in source and "public domain" in source and "ISC" in source


# --- tile grid ------------------------------------------------------------------------------------

def test_tile_grid_unique_cells_for_43(munis):
    tg = geo.tile_grid(munis)
    assert tg.columns == ["municipality_code", "row", "col"]
    assert tg.height == 43 == munis.height
    assert tg.select(pl.struct("row", "col").n_unique()).item() == 43
    assert tg["row"].min() >= 0 and tg["row"].max() < geo.TILE_GRID_ROWS
    assert tg["col"].min() >= 0 and tg["col"].max() < geo.TILE_GRID_COLS
    assert tg["municipality_code"].to_list() == sorted(munis["municipality_code"].to_list())


def test_tile_grid_deterministic_and_order_independent(munis):
    a = geo.tile_grid(munis)
    b = geo.tile_grid(munis.reverse())
    c = geo.tile_grid(munis.sample(fraction=1.0, shuffle=True, seed=7))
    assert a.equals(b) and a.equals(c)


def test_tile_grid_keeps_geography(munis):
    tg = geo.tile_grid(munis).join(munis, on="municipality_code")
    by_name = {r["name"]: (r["row"], r["col"]) for r in tg.iter_rows(named=True)}
    # west coast left of the eastern border, north above south
    assert by_name["Liepāja"][1] < by_name["Rīga"][1] < by_name["Ludzas novads"][1]
    assert by_name["Valkas novads"][0] < by_name["Daugavpils"][0]
    # rows/cols correlate strongly with latitude/longitude
    assert np.corrcoef(tg["col"].to_numpy(), tg["centre_lon"].to_numpy())[0, 1] > 0.9
    assert np.corrcoef(tg["row"].to_numpy(), tg["centre_lat"].to_numpy())[0, 1] < -0.8
    # neighbours stay near: mean displacement from the stretched position is under 1.5 cells
    rows, cols = geo.TILE_GRID_ROWS - 1, geo.TILE_GRID_COLS - 1
    lon, lat = tg["centre_lon"].to_numpy(), tg["centre_lat"].to_numpy()
    x, y = geo.project(lon, lat)
    px = (x - x.min()) / np.ptp(x) * cols
    py = (y.max() - y) / np.ptp(y) * rows
    d = np.hypot(px - tg["col"].to_numpy(), py - tg["row"].to_numpy())
    assert d.mean() < 1.5


def test_tile_grid_rejects_bad_input(munis):
    with pytest.raises(ValueError, match="missing columns"):
        geo.tile_grid(munis.drop("centre_lat"))
    with pytest.raises(ValueError, match="not unique"):
        geo.tile_grid(pl.concat([munis, munis.head(1)]))
    with pytest.raises(ValueError, match="do not fit"):
        geo.tile_grid(munis, cols=5, rows=5)
    assert geo.tile_grid(munis.head(0)).height == 0


def test_tile_grid_small_input_and_identical_centres():
    df = pl.DataFrame({"municipality_code": ["b", "a"], "centre_lat": [57.0, 57.0], "centre_lon": [24.0, 24.0]})
    tg = geo.tile_grid(df)
    assert tg["municipality_code"].to_list() == ["a", "b"]
    assert tg.select(pl.struct("row", "col").n_unique()).item() == 2


# --- boundaries -----------------------------------------------------------------------------------

def test_load_boundaries_polygon_multipolygon_numeric_codes(tmp_path):
    path = _write(tmp_path, [
        _feature("0001000", {"type": "Polygon", "coordinates": [_square(24.0, 56.9)]}),
        _feature(2000, {"type": "MultiPolygon", "coordinates": [[_square(26.5, 55.8)], [_square(26.8, 55.9, 0.05)]]}),
    ])
    b = geo.load_boundaries(path, expected_codes=["0001000", "0002000"])
    assert list(b) == ["0001000", "0002000"]
    assert len(b["0001000"]) == 1 and len(b["0002000"]) == 2
    x, y = geo.project(24.0, 56.9)
    assert b["0001000"][0][0] == pytest.approx((float(x), float(y)), abs=1e-3)


def test_load_boundaries_custom_id_property_and_merge(tmp_path):
    path = _write(tmp_path, [
        _feature("0001000", {"type": "Polygon", "coordinates": [_square(24.0, 56.9)]}, prop="ATVK"),
        _feature("0001000", {"type": "Polygon", "coordinates": [_square(24.3, 56.9)]}, prop="ATVK"),
    ])
    assert len(geo.load_boundaries(path, id_property="ATVK")["0001000"]) == 2
    with pytest.raises(geo.BoundaryError, match="b.geojson.*'municipality_code'"):
        geo.load_boundaries(path)


def test_load_boundaries_missing_and_unknown_codes_name_the_file(tmp_path):
    path = _write(tmp_path, [
        _feature("0001000", {"type": "Polygon", "coordinates": [_square(24.0, 56.9)]}),
        _feature("9999999", {"type": "Polygon", "coordinates": [_square(24.0, 56.9)]}),
    ], name="munis.geojson")
    with pytest.raises(geo.BoundaryError) as err:
        geo.load_boundaries(path, expected_codes=["0001000", "0002000"])
    msg = str(err.value)
    assert "munis.geojson" in msg and "missing codes ['0002000']" in msg and "unknown codes ['9999999']" in msg


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("not json", "cannot read GeoJSON"),
        ('{"type": "Point", "coordinates": [1, 2]}', "not a GeoJSON FeatureCollection"),
        ('{"type": "FeatureCollection", "features": []}', "no features"),
    ],
)
def test_load_boundaries_bad_files(tmp_path, content, match):
    p = tmp_path / "bad.geojson"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(geo.BoundaryError, match=match) as err:
        geo.load_boundaries(p)
    assert "bad.geojson" in str(err.value)


def test_load_boundaries_rejects_points_and_projected_coordinates(tmp_path):
    pts = _write(tmp_path, [_feature("0001000", {"type": "Point", "coordinates": [24.0, 56.9]})], "pts.geojson")
    with pytest.raises(geo.BoundaryError, match="pts.geojson.*Polygon/MultiPolygon"):
        geo.load_boundaries(pts)
    # LKS-92 metres instead of degrees
    lks = _write(tmp_path, [_feature("0001000", {"type": "Polygon", "coordinates": [
        [[500000, 300000], [510000, 300000], [510000, 310000], [500000, 300000]]]})], "lks.geojson")
    with pytest.raises(geo.BoundaryError, match="lks.geojson.*WGS84"):
        geo.load_boundaries(lks)
    missing_geom = _write(tmp_path, [_feature("0001000", None)], "nogeom.geojson")
    with pytest.raises(geo.BoundaryError, match="nogeom.geojson"):
        geo.load_boundaries(missing_geom)


def test_rings_to_xy_separates_rings_with_none():
    xs, ys = geo.rings_to_xy([[(0, 0), (1, 0), (0, 0)], [(5, 5), (6, 5), (5, 5)]])
    assert xs == [0, 1, 0, None, 5, 6, 5] and ys[3] is None and len(ys) == len(xs)
    assert geo.rings_to_xy([]) == ([], [])
