"""Stock locations (the stock itself arrives with the inventory flows)."""

from __future__ import annotations

from litestar import get
from litestar.params import FromQuery

from api.auth import STAFF_ROLES
from api.params import Session
from api.schemas.common import GeoPoint, out
from api.schemas.records import LocationOut
from core.identity.roles import Role
from inventory.locations import list_locations
from inventory.models import LocationKind


@get(
    "/api/locations",
    roles=STAFF_ROLES | {Role.ENGINEER},
    tags=["inventory"],
    summary="Stock locations: warehouses, vans, sites, vendors",
)
async def locations(session: Session, kind: FromQuery[LocationKind | None] = None) -> list[LocationOut]:
    return [
        out(LocationOut, loc, point=GeoPoint.of(loc.point) if loc.point is not None else None)
        for loc in await list_locations(session, kind)
    ]


ROUTES = [locations]
