"""Points between (longitude, latitude) pairs and PostGIS geography values."""

from __future__ import annotations

from typing import Any

from geoalchemy2.elements import WKBElement, WKTElement
from geoalchemy2.shape import to_shape

LonLat = tuple[float, float]


def to_geography(point: LonLat) -> WKTElement:
    lon, lat = point
    return WKTElement(f"POINT({lon!r} {lat!r})", srid=4326, extended=False)


def lonlat(value: Any) -> LonLat:
    if isinstance(value, WKTElement):
        inner = value.data.split("(", 1)[1].rstrip(")").split()
        return float(inner[0]), float(inner[1])
    if isinstance(value, WKBElement):
        shape = to_shape(value)
        return float(shape.x), float(shape.y)
    raise TypeError(f"not a point: {value!r}")
