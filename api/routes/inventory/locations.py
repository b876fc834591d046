"""Stock locations."""

from __future__ import annotations

import uuid

from litestar import get, put
from litestar.params import FromPath, FromQuery, JSONBody

from api.auth import STAFF_ROLES
from api.params import Session
from api.schemas.common import GeoPoint, out
from api.schemas.inventory.locations import LocationHoursIn, LocationOut
from core.identity.roles import Role
from inventory.locations import list_locations, set_hours
from inventory.models import Location, LocationKind


@get(
    "/api/locations",
    roles=STAFF_ROLES | {Role.ENGINEER},
    tags=["inventory"],
    summary="Stock locations: warehouses, vans, sites, vendors",
)
async def locations(session: Session, kind: FromQuery[LocationKind | None] = None) -> list[LocationOut]:
    return [_out(loc) for loc in await list_locations(session, kind)]


@put(
    "/api/locations/{location_id:uuid}/hours",
    roles=frozenset({Role.ADMIN, Role.WAREHOUSE}),
    tags=["inventory"],
    summary="Set a warehouse's daily opening hours for pick-ups (both null: any time)",
)
async def location_hours(
    session: Session, location_id: FromPath[uuid.UUID], data: JSONBody[LocationHoursIn]
) -> LocationOut:
    return _out(await set_hours(session, location_id, data.opens, data.closes))


def _out(loc: Location) -> LocationOut:
    return out(LocationOut, loc, point=GeoPoint.of(loc.point) if loc.point is not None else None)


ROUTES = [locations, location_hours]
