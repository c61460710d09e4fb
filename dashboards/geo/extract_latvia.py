"""Re-create latvia.geojson from world-atlas' countries-10m.json (TopoJSON).

Run by hand, never at build time (the GeoJSON is committed):
    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python dashboards/geo/extract_latvia.py package/countries-10m.json dashboards/geo/latvia.geojson
Standard library only, so it runs without the project environment.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

LATVIA_ISO_NUMERIC = "428"


def decode_arcs(topo: dict) -> list[list[tuple[float, float]]]:
    """Undo TopoJSON quantisation + delta encoding -> arcs of (lon, lat)."""
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x += dx
            y += dy
            pts.append((round(x * sx + tx, 6), round(y * sy + ty, 6)))
        arcs.append(pts)
    return arcs


def ring(arc_ids: list[int], arcs: list[list[tuple[float, float]]]) -> list[list[float]]:
    """Stitch a ring: a negative id ~i is arc i reversed; shared endpoints are dropped once."""
    out: list[tuple[float, float]] = []
    for i in arc_ids:
        pts = arcs[i] if i >= 0 else arcs[~i][::-1]
        out.extend(pts if not out else pts[1:])
    return [list(p) for p in out]


def extract(topo: dict, iso_numeric: str = LATVIA_ISO_NUMERIC) -> dict:
    arcs = decode_arcs(topo)
    geom = next(g for g in topo["objects"]["countries"]["geometries"] if str(g.get("id")) == iso_numeric)
    if geom["type"] == "Polygon":
        polys = [geom["arcs"]]
    else:
        polys = geom["arcs"]
    coords = [[ring(r, arcs) for r in poly] for poly in polys]
    return {
        "type": "FeatureCollection",
        "features": [{
            "type": "Feature",
            "id": iso_numeric,
            "properties": {"name": geom["properties"]["name"], "iso_numeric": iso_numeric,
                           "source": "Natural Earth 1:10m admin 0 via world-atlas 2.0.2 countries-10m.json"},
            "geometry": {"type": "MultiPolygon", "coordinates": coords},
        }],
    }


def main(argv: list[str]) -> None:
    src, dst = Path(argv[1]), Path(argv[2])
    gj = extract(json.loads(src.read_text(encoding="utf-8")))
    dst.write_text(json.dumps(gj, separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {dst} ({dst.stat().st_size} bytes)")


if __name__ == "__main__":
    main(sys.argv)
