"""Offline map geometry for the dashboards: projection, country outline, tile-grid cartogram, boundaries.

Everything here is drawn by plain cartesian Plotly traces (scatter, fill='toself'), which render from
file:// without tiles, topojson or network access. Coordinates are projected once in Python so the
browser never projects anything.

Projection: equirectangular with x scaled by cos(57°) (Latvia's mid-latitude), in km from (0°, 0°):
  x = R·λ·cos 57°, y = R·φ  (R = 6371 km, angles in radians).
Within Latvia (55.7–58.1° N) the east-west scale error is < 4 %, which is invisible at dashboard size,
and it keeps distances "km-ish" so aspect ratio 1:1 (scaleanchor) looks right.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np
import polars as pl
from scipy.optimize import linear_sum_assignment

Ring = list[tuple[float, float]]

EARTH_RADIUS_KM = 6371.0
REFERENCE_LATITUDE = 57.0
_KM_PER_DEG = EARTH_RADIUS_KM * math.pi / 180.0
_COS_REF = math.cos(math.radians(REFERENCE_LATITUDE))

GEO_DIR = Path(__file__).resolve().parent / "geo"
LATVIA_GEOJSON = GEO_DIR / "latvia.geojson"

# Tile grid: 43 tiles on 10 x 6 = 60 cells. The shape roughly follows Latvia's projected bounding box
# (~440 km x 270 km, aspect ~1.6); 17 spare cells give the assignment room to keep neighbours near.
TILE_GRID_COLS = 10
TILE_GRID_ROWS = 6


class BoundaryError(ValueError):
    """A supplied municipality boundary file is unusable (message names the file)."""


def project(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Project WGS84 lon/lat (scalars or array-likes, degrees) to x east / y north in km."""
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    return lon_a * (_KM_PER_DEG * _COS_REF), lat_a * _KM_PER_DEG


def _project_ring(coords: Iterable) -> Ring:
    arr = np.asarray(coords, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] < 3 or arr.shape[1] < 2:
        raise ValueError("a ring needs at least 3 [lon, lat] positions")
    x, y = project(arr[:, 0], arr[:, 1])
    return list(zip(np.round(x, 3).tolist(), np.round(y, 3).tolist()))


def _geometry_rings(geometry: dict) -> list[list]:
    """All rings (outer rings and holes, in file order) of a Polygon/MultiPolygon, unprojected."""
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    if kind == "Polygon":
        return list(geometry["coordinates"])
    if kind == "MultiPolygon":
        return [ring for poly in geometry["coordinates"] for ring in poly]
    raise ValueError(f"geometry type {kind!r} is not Polygon/MultiPolygon")


@lru_cache(maxsize=1)
def _latvia_rings() -> tuple[tuple[tuple[float, float], ...], ...]:
    gj = json.loads(LATVIA_GEOJSON.read_text(encoding="utf-8"))
    rings = [_project_ring(r) for f in gj["features"] for r in _geometry_rings(f["geometry"])]
    return tuple(tuple(r) for r in rings)


def latvia_outline() -> list[Ring]:
    """Projected rings of Latvia's outline (Natural Earth 1:10m, shipped in dashboards/geo/latvia.geojson).

    A fresh list each call (callers may mutate it). Rings are closed (first point == last point).
    """
    return [list(r) for r in _latvia_rings()]


def tile_grid(munis: pl.DataFrame, cols: int = TILE_GRID_COLS, rows: int = TILE_GRID_ROWS) -> pl.DataFrame:
    """Assign each municipality a unique cell of a cols x rows grid, keeping geographic neighbours near.

    In: municipality_code, centre_lat, centre_lon (one row per municipality).
    Out: municipality_code, row, col (Int32), sorted by municipality_code; row 0 is the northern (top)
    row, col 0 the western column. Method: project the centres, stretch their bounding box onto the
    grid, then solve the minimum total squared distance assignment of municipalities to cells
    (Hungarian algorithm, scipy.optimize.linear_sum_assignment). Deterministic: input is sorted by
    code first and the solver is deterministic for a given cost matrix.
    """
    need = {"municipality_code", "centre_lat", "centre_lon"}
    missing = need - set(munis.columns)
    if missing:
        raise ValueError(f"tile_grid: missing columns {sorted(missing)}")
    df = munis.select(sorted(need)).sort("municipality_code")
    if df["municipality_code"].n_unique() != df.height:
        raise ValueError("tile_grid: municipality_code is not unique")
    if df["centre_lat"].null_count() or df["centre_lon"].null_count():
        raise ValueError("tile_grid: centre_lat/centre_lon must not be null")
    n = df.height
    if n == 0:
        return pl.DataFrame(schema={"municipality_code": pl.String, "row": pl.Int32, "col": pl.Int32})
    if n > cols * rows:
        raise ValueError(f"tile_grid: {n} municipalities do not fit a {cols}x{rows} grid")

    x, y = project(df["centre_lon"].to_numpy(), df["centre_lat"].to_numpy())

    def stretch(v: np.ndarray, cells: int) -> np.ndarray:
        span = v.max() - v.min()
        return np.full_like(v, (cells - 1) / 2) if span == 0 else (v - v.min()) / span * (cells - 1)

    px = stretch(x, cols)
    py = stretch(y.max() - y, rows)  # north at row 0
    cell_row, cell_col = np.divmod(np.arange(cols * rows), cols)
    cost = (px[:, None] - cell_col[None, :]) ** 2 + (py[:, None] - cell_row[None, :]) ** 2
    muni_idx, cell_idx = linear_sum_assignment(cost)
    order = np.argsort(muni_idx)
    cells = cell_idx[order]
    return pl.DataFrame({
        "municipality_code": df["municipality_code"],
        "row": pl.Series(cell_row[cells], dtype=pl.Int32),
        "col": pl.Series(cell_col[cells], dtype=pl.Int32),
    })


def _normalise_code(value) -> str:
    # ATVK codes are 7-digit strings; a file that stored them as numbers lost the leading zeros.
    if isinstance(value, bool):
        raise TypeError
    if isinstance(value, int):
        return f"{value:07d}"
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):07d}"
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise TypeError


def load_boundaries(
    path,
    id_property: str = "municipality_code",
    expected_codes: Iterable[str] | None = None,
) -> dict[str, list[Ring]]:
    """Read a GeoJSON of municipality boundaries -> {municipality_code: projected rings}.

    Features must be Polygon/MultiPolygon in WGS84 lon/lat (RFC 7946). The code comes from
    properties[id_property] (or the feature's top-level "id" when id_property == "id"); numeric codes
    are zero-padded to 7 digits. Several features with one code are merged. Rings keep file order
    (outer rings then holes). With expected_codes, missing or unknown codes raise BoundaryError;
    every error message names the file.
    """
    path = Path(path)
    try:
        gj = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BoundaryError(f"boundary file {path}: cannot read GeoJSON ({exc})") from exc
    if isinstance(gj, dict) and gj.get("type") == "Feature":
        features = [gj]
    elif isinstance(gj, dict) and gj.get("type") == "FeatureCollection" and isinstance(gj.get("features"), list):
        features = gj["features"]
    else:
        raise BoundaryError(f"boundary file {path}: not a GeoJSON FeatureCollection")
    if not features:
        raise BoundaryError(f"boundary file {path}: no features")

    out: dict[str, list[Ring]] = {}
    for i, feature in enumerate(features):
        props = feature.get("properties") or {}
        raw = feature.get("id") if id_property == "id" else props.get(id_property)
        try:
            code = _normalise_code(raw)
        except TypeError:
            raise BoundaryError(
                f"boundary file {path}: feature {i} has no usable id property {id_property!r} (got {raw!r})"
            ) from None
        try:
            rings = _geometry_rings(feature.get("geometry"))
            arrays = [np.asarray(r, dtype=np.float64) for r in rings]
            for a in arrays:
                if a.ndim != 2 or a.shape[0] < 3 or a.shape[1] < 2:
                    raise ValueError("a ring needs at least 3 [lon, lat] positions")
                if np.abs(a[:, 0]).max() > 180 or np.abs(a[:, 1]).max() > 90:
                    raise ValueError("coordinates are not WGS84 lon/lat degrees (reproject, e.g. from LKS-92)")
        except (ValueError, TypeError, KeyError) as exc:
            raise BoundaryError(f"boundary file {path}: feature {i} ({code}): {exc}") from None
        out.setdefault(code, []).extend(_project_ring(a) for a in arrays)

    if expected_codes is not None:
        expected = {str(c) for c in expected_codes}
        missing = sorted(expected - out.keys())
        unknown = sorted(out.keys() - expected)
        problems = []
        if missing:
            problems.append(f"missing codes {missing}")
        if unknown:
            problems.append(f"unknown codes {unknown}")
        if problems:
            raise BoundaryError(
                f"boundary file {path} (id property {id_property!r}): " + "; ".join(problems)
            )
    return {code: out[code] for code in sorted(out)}


def rings_to_xy(rings: Iterable[Ring]) -> tuple[list[float | None], list[float | None]]:
    """Flatten rings into one Plotly x/y pair separated by None (one trace, fill='toself')."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    for ring in rings:
        if xs:
            xs.append(None)
            ys.append(None)
        xs.extend(p[0] for p in ring)
        ys.extend(p[1] for p in ring)
    return xs, ys
