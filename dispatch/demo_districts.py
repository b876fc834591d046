"""The demo city's districts as outlines a map can draw with no tiles, and which one a point is in.

Not survey boundaries: each of Zhengzhou's eight districts the demo names is a seed point near
where the district lies, and its outline is the part of the demo's city area nearer to that seed
than to any other (a Voronoi cell, in a plane where a degree of longitude is as long as it is at
the city's latitude), clipped to the city area. `scripts/district_outlines.py` writes them to
`web/data/districts.geojson`; the demo's addresses take the district whose outline holds them, so
the address a dispatcher reads and the map agree.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import Any

from shapely.affinity import scale
from shapely.geometry import MultiPoint, Point, Polygon, shape
from shapely.ops import voronoi_diagram

from core.settings import PROJECT_ROOT

OUTLINES = PROJECT_ROOT / "web" / "data" / "districts.geojson"
CENTRE = (113.6254, 34.7466)  # 二七广场: the demo city's centre
# Name -> (English name, seed [lon, lat]); the warehouses of the demo fall in the district they are named for.
SEEDS: dict[str, tuple[str, tuple[float, float]]] = {
    "金水区": ("Jinshui", (113.665, 34.795)),
    "中原区": ("Zhongyuan", (113.585, 34.750)),
    "二七区": ("Erqi", (113.625, 34.722)),
    "管城回族区": ("Guancheng", (113.690, 34.735)),
    "惠济区": ("Huiji", (113.630, 34.865)),
    "郑东新区": ("Zhengdong", (113.745, 34.775)),
    "高新区": ("Gaoxin", (113.545, 34.815)),
    "经开区": ("Jingkai", (113.760, 34.700)),
}
# The demo's city area: an ellipse round the centre about 60 km across (its sites lie within).
RADIUS_KM = 30.0
_KM_PER_DEGREE = 111.0
_X_SCALE = math.cos(math.radians(CENTRE[1]))


def _area() -> Polygon:
    """The city area in plain degrees (a 32-sided ellipse)."""
    lat_r = RADIUS_KM / _KM_PER_DEGREE
    lon_r = lat_r / _X_SCALE
    corners = [
        (
            round(CENTRE[0] + lon_r * math.cos(2 * math.pi * k / 32), 6),
            round(CENTRE[1] + lat_r * math.sin(2 * math.pi * k / 32), 6),
        )
        for k in range(32)
    ]
    return Polygon(corners)


def outline() -> dict[str, Any]:
    """The districts as a GeoJSON FeatureCollection (WGS-84), one polygon each, with names."""
    origin = Point(0, 0)
    seeds = MultiPoint([seed for _, seed in SEEDS.values()])
    flat = scale(seeds, xfact=_X_SCALE, yfact=1.0, origin=origin)
    area = _area()
    cells = voronoi_diagram(flat, envelope=scale(area, xfact=_X_SCALE, origin=origin).buffer(0.5))
    features = []
    for name, (english, seed) in SEEDS.items():
        here = scale(Point(seed), xfact=_X_SCALE, origin=origin)
        cell = next(c for c in cells.geoms if c.contains(here))
        polygon = scale(cell, xfact=1 / _X_SCALE, origin=origin).intersection(area)
        ring = [[round(x, 6), round(y, 6)] for x, y in polygon.exterior.coords]
        features.append(
            {
                "type": "Feature",
                "properties": {"name": name, "name_en": english, "label_at": list(seed)},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    return {"type": "FeatureCollection", "features": features}


@functools.cache
def _shipped() -> list[tuple[str, Any]]:
    collection = json.loads(Path(OUTLINES).read_text(encoding="utf-8"))
    return [(f["properties"]["name"], shape(f["geometry"])) for f in collection["features"]]


def district_of(lonlat: tuple[float, float]) -> str:
    """The district whose shipped outline holds the point; outside the city area, the nearest."""
    point = Point(lonlat)
    for name, polygon in _shipped():
        if polygon.covers(point):
            return name
    return min(_shipped(), key=lambda named: named[1].distance(point))[0]
