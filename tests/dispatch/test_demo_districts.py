"""The demo city's district outlines: shipped as GeoJSON, regenerated the same from the script's
seeds, and in agreement with the demo's addresses (a site's address names the district whose
outline on the map holds it)."""

from __future__ import annotations

import json
from typing import Any

import psycopg
from shapely.geometry import Point, shape

from dispatch.demo_districts import OUTLINES, SEEDS, outline


def test_the_shipped_outlines_are_what_the_script_writes():
    shipped = json.loads(OUTLINES.read_text(encoding="utf-8"))
    assert shipped == json.loads(json.dumps(outline()))
    names = [f["properties"]["name"] for f in shipped["features"]]
    assert names == list(SEEDS)
    polygons = [shape(f["geometry"]) for f in shipped["features"]]
    assert all(p.is_valid and p.area > 0 for p in polygons)
    # They tile the city area: no two overlap.
    for i, a in enumerate(polygons):
        for b in polygons[i + 1 :]:
            assert a.intersection(b).area < 1e-9


def _rows(dsn: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return list(conn.execute(sql).fetchall())


def test_every_demo_address_names_the_district_that_holds_it(demo_db):
    dsn = demo_db.replace("postgresql+asyncpg://", "postgresql://")
    shipped = json.loads(OUTLINES.read_text(encoding="utf-8"))
    polygons = {f["properties"]["name"]: shape(f["geometry"]) for f in shipped["features"]}
    sites = _rows(dsn, "SELECT address, ST_X(point::geometry), ST_Y(point::geometry) FROM site")
    assert len(sites) >= 200
    inside = 0
    seen = set()
    for address, lon, lat in sites:
        [named] = [name for name in polygons if name in address]
        seen.add(named)
        holder = [name for name, polygon in polygons.items() if polygon.covers(Point(lon, lat))]
        if holder:
            inside += 1
            assert holder == [named], (address, lon, lat)
    assert inside >= 0.95 * len(sites)
    assert len(seen) >= 6  # spread over the city, not one district
