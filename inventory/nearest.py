"""Nearest stock: which warehouse or van holds an available unit of an item, closest first.

PostGIS picks the candidates (`<->` distance ordering on geography — the GiST index on
`stock_location.point` serves warehouses), then the travel-time provider of `routing`
ranks them by driving time. A van has no point of its own: it is where its engineer is.
Inventory does not read dispatch's tables, so the caller passes a `VanPoints` resolver
(engineer ids → their latest position or home base); without one, vans are left out.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.geo import LonLat
from routing.travel import TravelTimeProvider

VanPoints = Callable[[AsyncSession, Sequence[uuid.UUID]], Awaitable[dict[uuid.UUID, LonLat]]]


@dataclass(frozen=True)
class Candidate:
    location_id: uuid.UUID
    code: str
    kind: str
    point: LonLat
    item_id: uuid.UUID
    # A serialized unit to take (devices); None for counted parts.
    unit_id: uuid.UUID | None
    serial: str | None
    free: int
    metres: float
    travel_seconds: float


# One row per (location, item): free counted stock or available serialized units.
_HELD = """
    SELECT b.location_id, b.item_id, NULL::uuid AS unit_id, NULL::text AS serial,
           b.on_hand - b.reserved AS free
      FROM stock_balance b JOIN stock_item i ON i.id = b.item_id
     WHERE b.item_id = ANY(:items) AND i.kind = 'part' AND b.on_hand - b.reserved > 0
    UNION ALL
    SELECT * FROM (
        SELECT DISTINCT ON (u.location_id, u.item_id) u.location_id, u.item_id, u.id, u.serial,
               count(*) OVER (PARTITION BY u.location_id, u.item_id)::int
          FROM stock_unit u
         WHERE u.item_id = ANY(:items) AND u.state = 'available' AND NOT u.customer_owned
           AND u.location_id IS NOT NULL
         ORDER BY u.location_id, u.item_id, u.serial) units
"""

_VANS_HOLDING = text(
    "SELECT DISTINCT l.engineer_id FROM ("  # noqa: S608 (constant text, bound parameters)
    + _HELD
    + """) h JOIN stock_location l ON l.id = h.location_id
     WHERE l.kind = 'van' AND l.engineer_id IS NOT NULL
    """
)

_KNN = text(
    "WITH held AS ("  # noqa: S608 (constant text, bound parameters)
    + _HELD
    + """),
         vans AS (SELECT * FROM unnest(CAST(:van_engineers AS uuid[]), CAST(:van_lons AS float8[]),
                                       CAST(:van_lats AS float8[])) AS v(engineer_id, lon, lat)),
         placed AS (
            SELECT l.id, l.code, l.kind::text AS kind, h.item_id, h.unit_id, h.serial, h.free,
                   CASE WHEN l.kind = 'van'
                        THEN ST_SetSRID(ST_MakePoint(v.lon, v.lat), 4326)::geography
                        ELSE l.point END AS pt
              FROM held h
              JOIN stock_location l ON l.id = h.location_id
              LEFT JOIN vans v ON v.engineer_id = l.engineer_id
             WHERE l.kind IN ('warehouse', 'van'))
    SELECT id, code, kind, item_id, unit_id, serial, free,
           ST_X(pt::geometry) AS lon, ST_Y(pt::geometry) AS lat,
           ST_Distance(pt, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) AS metres
      FROM placed
     WHERE pt IS NOT NULL
     ORDER BY pt <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, code, serial
     LIMIT :k
    """
)


async def candidates(
    session: AsyncSession,
    target: LonLat,
    item_ids: Sequence[uuid.UUID],
    van_points: VanPoints | None = None,
    *,
    limit: int = 8,
) -> list[Candidate]:
    """The `limit` nearest locations by straight-line distance (not yet ranked by travel time)."""
    if not item_ids:
        return []
    items = list(item_ids)
    points: dict[uuid.UUID, LonLat] = {}
    if van_points is not None:
        engineers = list((await session.execute(_VANS_HOLDING, {"items": items})).scalars())
        if engineers:
            points = await van_points(session, engineers)
    rows = await session.execute(
        _KNN,
        {
            "items": items,
            "van_engineers": list(points),
            "van_lons": [p[0] for p in points.values()],
            "van_lats": [p[1] for p in points.values()],
            "lon": target[0],
            "lat": target[1],
            "k": limit,
        },
    )
    return [
        Candidate(
            location_id=r.id,
            code=r.code,
            kind=r.kind,
            point=(float(r.lon), float(r.lat)),
            item_id=r.item_id,
            unit_id=r.unit_id,
            serial=r.serial,
            free=int(r.free),
            metres=float(r.metres),
            travel_seconds=0.0,
        )
        for r in rows
    ]


async def nearest(
    session: AsyncSession,
    target: LonLat,
    item_ids: Sequence[uuid.UUID],
    travel: TravelTimeProvider,
    van_points: VanPoints | None = None,
    *,
    limit: int = 8,
) -> list[Candidate]:
    """Candidates ranked by the travel-time provider: the first is where to fetch from."""
    found = await candidates(session, target, item_ids, van_points, limit=limit)
    if not found:
        return []
    seconds = travel.matrix([c.point for c in found], [target])[:, 0]
    ranked = [
        Candidate(**{**c.__dict__, "travel_seconds": float(s)}) for c, s in zip(found, seconds, strict=True)
    ]
    return sorted(ranked, key=lambda c: (c.travel_seconds, c.metres, c.code))
