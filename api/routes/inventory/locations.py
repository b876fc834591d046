"""Stock locations."""

from __future__ import annotations

import uuid

from litestar import get, put
from litestar.params import FromPath, FromQuery, JSONBody

from api.auth import STAFF_ROLES
from api.params import Cursor, Limit, Search, Session
from api.routes.inventory.naming import named
from api.schemas.common import GeoPoint
from api.schemas.inventory.locations import LocationHoursIn, LocationOut, LocationPage
from core.identity.roles import Role
from inventory import queries
from inventory.locations import set_hours
from inventory.models import Location, LocationKind
from inventory.names import Names, names_for


@get(
    "/api/locations",
    roles=STAFF_ROLES | {Role.ENGINEER},
    tags=["inventory"],
    summary="Stock locations: warehouses, vans (with their engineer's name), sites, vendors",
)
async def locations(
    session: Session,
    kind: FromQuery[LocationKind | None] = None,
    q: Search = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> LocationPage:
    page = await queries.location_page(session, kind=kind, q=q, limit=limit, cursor=cursor)
    names = await names_for(session, page.items)
    return LocationPage(items=[_out(loc, names) for loc in page.items], next_cursor=page.next_cursor)


@put(
    "/api/locations/{location_id:uuid}/hours",
    roles=frozenset({Role.ADMIN, Role.WAREHOUSE}),
    tags=["inventory"],
    summary="Set a warehouse's daily opening hours for pick-ups (both null: any time)",
)
async def location_hours(
    session: Session, location_id: FromPath[uuid.UUID], data: JSONBody[LocationHoursIn]
) -> LocationOut:
    location = await set_hours(session, location_id, data.opens, data.closes, data.version)
    return _out(location, await names_for(session, [location]))


def _out(loc: Location, names: Names) -> LocationOut:
    return named(
        LocationOut,
        loc,
        names,
        point=GeoPoint.of(loc.point) if loc.point is not None else None,
        engineer_name=names.people.get(loc.engineer_id) if loc.engineer_id else None,
    )


ROUTES = [locations, location_hours]
