"""Territorial units, point placement, LKS-92 coordinates and the choice of an institution in or near a unit.

Points of a unit are placed within 0.45 x (distance to the nearest other unit centre) of its centre: such a
point is always nearer to its own centre than to any other, so it lies inside the unit in the Voronoi sense.
Distances use a local equirectangular approximation (errors < 1 % at Latvia's size).
"""
from __future__ import annotations

import functools

import numpy as np
import polars as pl

from pipelines.settings import SEEDS_DIR

KM_PER_DEG = 111.32
COS_LAT = float(np.cos(np.radians(56.9)))
RADIUS_SHARE = 0.45
# A novads whose seed centre is the state city it surrounds (same point) gets its placement centre moved
# this far in this direction (bearing, degrees from north), towards the bulk of its territory.
DISPLACE_KM = 20.0
DISPLACE_BEARING = {"0022000": 315.0, "0030000": 225.0, "0043000": 135.0, "0056000": 110.0}


@functools.cache
def units() -> pl.DataFrame:
    """The 43 current units with idx, the placement centre (lat, lon; seed centre unless it coincides with
    another unit's), radius_km (0.45 x distance to the nearest other placement centre) and nearest (idx)."""
    df = pl.read_csv(SEEDS_DIR / "territorial_units.csv", schema_overrides={"atvk_code": pl.Utf8}).sort("atvk_code")
    lat, lon = df["lat"].to_numpy().copy(), df["lon"].to_numpy().copy()
    d0 = _dist_matrix(lat, lon)
    np.fill_diagonal(d0, np.inf)
    clash = (d0.min(axis=1) < 1.0) & (df["kind"].to_numpy() != "valstspilseta")
    bearing = np.radians(np.array([DISPLACE_BEARING.get(c, 90.0) for c in df["atvk_code"]]))
    lat = np.where(clash, lat + DISPLACE_KM * np.cos(bearing) / KM_PER_DEG, lat)
    lon = np.where(clash, lon + DISPLACE_KM * np.sin(bearing) / (KM_PER_DEG * COS_LAT), lon)
    df = df.with_columns(seed_lat=df["lat"], seed_lon=df["lon"], lat=pl.Series(lat), lon=pl.Series(lon))
    d = _dist_matrix(lat, lon)
    np.fill_diagonal(d, np.inf)
    return df.with_columns(
        idx=pl.int_range(pl.len(), dtype=pl.Int32),
        radius_km=pl.Series(RADIUS_SHARE * d.min(axis=1)),
        nearest=pl.Series(d.argmin(axis=1).astype(np.int32)),
    )


@functools.cache
def old_units() -> pl.DataFrame:
    return pl.read_csv(
        SEEDS_DIR / "territorial_units_pre2021.csv",
        schema_overrides={"atvk_code": pl.Utf8, "successor_atvk_code": pl.Utf8},
    ).sort("atvk_code")


@functools.cache
def unit_distances() -> np.ndarray:
    u = units()
    return _dist_matrix(u["lat"].to_numpy(), u["lon"].to_numpy())


def _dist_matrix(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    dy = (lat[:, None] - lat[None, :]) * KM_PER_DEG
    dx = (lon[:, None] - lon[None, :]) * KM_PER_DEG * COS_LAT
    return np.hypot(dx, dy)


def distance_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    return np.hypot((lat1 - lat2) * KM_PER_DEG, (lon1 - lon2) * KM_PER_DEG * COS_LAT)


def offset(lat: np.ndarray, lon: np.ndarray, dist_km: np.ndarray, rng: np.random.Generator):
    angle = rng.uniform(0, 2 * np.pi, size=np.shape(lat))
    return (lat + dist_km * np.sin(angle) / KM_PER_DEG,
            lon + dist_km * np.cos(angle) / (KM_PER_DEG * COS_LAT))


def clip_to_unit(lat: np.ndarray, lon: np.ndarray, unit_idx: np.ndarray):
    """Pull points outside their unit's disc radially back to 0.98 x radius."""
    u = units()
    clat, clon = u["lat"].to_numpy()[unit_idx], u["lon"].to_numpy()[unit_idx]
    r = u["radius_km"].to_numpy()[unit_idx] * 0.98
    d = distance_km(lat, lon, clat, clon)
    f = np.where(d > r, r / np.maximum(d, 1e-9), 1.0)
    return clat + (lat - clat) * f, clon + (lon - clon) * f


def scatter_in_unit(unit_idx: np.ndarray, rng: np.random.Generator, power: float = 1.0):
    """Random points in the unit's disc; power > 0.5 concentrates them towards the centre (towns)."""
    u = units()
    r = u["radius_km"].to_numpy()[unit_idx] * 0.97 * rng.random(unit_idx.size) ** power
    return offset(u["lat"].to_numpy()[unit_idx], u["lon"].to_numpy()[unit_idx], r, rng)


def homes_near(lat, lon, unit_idx, rng: np.random.Generator, neighbour_share: float = 0.08):
    """Home points near given (school) points: lognormal distance (median ~2.5 km in cities, ~4 km in
    municipalities), kept inside the unit; a share lives in the nearest other unit. Returns lat, lon, unit."""
    u = units()
    city = (u["kind"].to_numpy() == "valstspilseta")[unit_idx]
    median = np.where(city, 2.2, 4.0)
    dist = median * np.exp(rng.normal(0, 0.8, size=unit_idx.size))
    hlat, hlon = offset(lat, lon, dist, rng)
    home_unit = unit_idx.copy()
    nb = rng.random(unit_idx.size) < neighbour_share
    nearest = u["nearest"].to_numpy()
    home_unit[nb] = nearest[unit_idx[nb]]
    # a neighbour's home lies in that unit's disc, on the side facing the school's unit
    n_lat, n_lon = u["lat"].to_numpy()[home_unit[nb]], u["lon"].to_numpy()[home_unit[nb]]
    s_lat, s_lon = u["lat"].to_numpy()[unit_idx[nb]], u["lon"].to_numpy()[unit_idx[nb]]
    frac = rng.uniform(0.5, 0.95, size=nb.sum())
    d = np.maximum(distance_km(n_lat, n_lon, s_lat, s_lon), 1e-9)
    r = u["radius_km"].to_numpy()[home_unit[nb]] * frac
    hlat[nb] = n_lat + (s_lat - n_lat) * r / d
    hlon[nb] = n_lon + (s_lon - n_lon) * r / d
    hlat, hlon = clip_to_unit(hlat, hlon, home_unit)
    return hlat, hlon, home_unit


def old_unit_of(lat: np.ndarray, lon: np.ndarray, unit_idx: np.ndarray) -> np.ndarray:
    """Pre-2021 unit code of each point: the nearest old-unit centre among the current unit's predecessors."""
    u, o = units(), old_units()
    out = np.empty(lat.size, dtype=object)
    atvk = u["atvk_code"].to_numpy()
    succ = o["successor_atvk_code"].to_numpy()
    for i in range(u.height):  # 43 units: a loop over units, not rows
        rows = np.flatnonzero(unit_idx == i)
        cand = np.flatnonzero(succ == atvk[i])
        if rows.size == 0:
            continue
        if cand.size == 0:
            out[rows] = atvk[i]
            continue
        d = distance_km(lat[rows, None], lon[rows, None], o["lat"].to_numpy()[cand][None, :], o["lon"].to_numpy()[cand][None, :])
        out[rows] = o["atvk_code"].to_numpy()[cand][d.argmin(axis=1)]
    return out.astype(str)


def lks92(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84/ETRS89 lat/lon -> LKS-92 (EPSG:3059) x (northing-based X as VZD gives KOORD_X: easting) and y.

    Transverse Mercator on GRS80, central meridian 24°E, k0 0.9996, false easting 500,000 m, false northing
    -6,000,000 m (Snyder 1987, eq. 8-9..8-10). Returns (easting, northing)."""
    a, f = 6378137.0, 1 / 298.257222101
    e2 = f * (2 - f)
    ep2 = e2 / (1 - e2)
    k0, lon0 = 0.9996, np.radians(24.0)
    phi, lam = np.radians(lat), np.radians(lon)
    n = a / np.sqrt(1 - e2 * np.sin(phi) ** 2)
    t = np.tan(phi) ** 2
    c = ep2 * np.cos(phi) ** 2
    A = (lam - lon0) * np.cos(phi)
    m = a * ((1 - e2 / 4 - 3 * e2**2 / 64 - 5 * e2**3 / 256) * phi
             - (3 * e2 / 8 + 3 * e2**2 / 32 + 45 * e2**3 / 1024) * np.sin(2 * phi)
             + (15 * e2**2 / 256 + 45 * e2**3 / 1024) * np.sin(4 * phi)
             - (35 * e2**3 / 3072) * np.sin(6 * phi))
    x = k0 * n * (A + (1 - t + c) * A**3 / 6 + (5 - 18 * t + t**2 + 72 * c - 58 * ep2) * A**5 / 120) + 500_000.0
    y = k0 * (m + n * np.tan(phi) * (A**2 / 2 + (5 - t + 9 * c + 4 * c**2) * A**4 / 24
                                      + (61 - 58 * t + t**2 + 600 * c - 330 * ep2) * A**6 / 720)) - 6_000_000.0
    return x, y


class UnitChooser:
    """Weighted choice of a candidate (e.g. a school with grade 10) in a given unit, falling back to the
    nearest unit that has candidates. Vectorised over queries."""

    def __init__(self, cand_unit: np.ndarray, weight: np.ndarray):
        n_units = units().height
        order = np.argsort(cand_unit, kind="stable")
        self.items = order
        su = cand_unit[order]
        w = np.asarray(weight, dtype=float)[order]
        self.cum = np.cumsum(w)
        self.start = np.searchsorted(su, np.arange(n_units), side="left")
        self.stop = np.searchsorted(su, np.arange(n_units), side="right")
        has = self.stop > self.start
        self.empty = not has.any()
        d = unit_distances().copy()
        d[:, ~has] = np.inf
        self.redirect = np.where(has, np.arange(n_units), d.argmin(axis=1))

    def choose(self, query_unit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Index into the candidate arrays for each query (-1 if there are no candidates at all)."""
        if self.empty:
            return np.full(query_unit.size, -1, dtype=np.int64)
        g = self.redirect[query_unit]
        lo = np.where(self.start[g] > 0, self.cum[np.maximum(self.start[g] - 1, 0)], 0.0)
        hi = self.cum[self.stop[g] - 1]
        u = lo + rng.random(query_unit.size) * (hi - lo)
        pos = np.searchsorted(self.cum, u, side="right")
        pos = np.clip(pos, self.start[g], self.stop[g] - 1)
        return self.items[pos]
