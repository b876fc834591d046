"""Points between (longitude, latitude) pairs and PostGIS geography values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from geoalchemy2.elements import WKBElement, WKTElement
from geoalchemy2.shape import to_shape

from core.errors import InvalidInput

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


@dataclass(frozen=True)
class BBox:
    """A map viewport: west, south, east, north in degrees (WGS-84)."""

    west: float
    south: float
    east: float
    north: float

    @classmethod
    def parse(cls, text: str) -> BBox:
        try:
            west, south, east, north = (float(v) for v in text.split(","))
        except ValueError as exc:
            raise _bad_bbox("four numbers: west,south,east,north") from exc
        if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90):
            raise _bad_bbox("longitudes within ±180, latitudes within ±90, south ≤ north")
        if west > east:
            raise _bad_bbox("west ≤ east (viewports across the antimeridian are not supported)")
        return cls(west, south, east, north)


def _bad_bbox(message: str) -> InvalidInput:
    return InvalidInput(f"bbox: {message}", errors=[{"field": "bbox", "message": message}])
