"""Nearest available stock."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import get
from litestar.params import FromQuery, QueryParameter

from api.auth import STAFF_ROLES
from api.params import Session
from api.routes.inventory.naming import named
from api.schemas.inventory.nearest import NearestOut
from dispatch.engineers import positions
from inventory import items, nearest
from inventory.names import names_for
from routing.travel import HaversineTravelTime

Longitude = Annotated[float, QueryParameter(ge=-180, le=180)]
Latitude = Annotated[float, QueryParameter(ge=-90, le=90)]


@get(
    "/api/stock/nearest",
    roles=STAFF_ROLES,
    tags=["stock"],
    summary="Nearest available stock of an item (or compatible backup models), the `limit` closest",
)
async def nearest_stock(
    session: Session,
    lon: Longitude,
    lat: Latitude,
    item_id: FromQuery[uuid.UUID | None] = None,
    model: Annotated[str | None, QueryParameter(max_length=100)] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=50)] = 5,
) -> list[NearestOut]:
    wanted = [item_id] if item_id else (await items.compatible_items(session, model) if model else [])
    found = await nearest.nearest(
        session, (lon, lat), wanted, HaversineTravelTime(), positions.van_points, limit=limit
    )
    names = await names_for(session, found)
    return [named(NearestOut, c, names) for c in found]


ROUTES = [nearest_stock]
