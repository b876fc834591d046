"""Nearest available stock."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import get
from litestar.params import FromQuery, QueryParameter

from api.auth import STAFF_ROLES
from api.params import Cursor, Session
from api.routes.inventory.naming import named
from api.schemas.inventory.nearest import NearestOut, NearestPage
from core.pagination import list_page
from dispatch.engineers import positions
from inventory import items, nearest
from inventory.names import names_for
from routing.travel import HaversineTravelTime

# How far down the ranking a caller may page: beyond the 50 closest, stock is no longer "near".
NEAREST_MAX = 50
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
    limit: Annotated[int, QueryParameter(ge=1, le=NEAREST_MAX)] = 5,
    cursor: Cursor = None,
) -> NearestPage:
    """The `limit` closest, then the next ones after the cursor, up to the NEAREST_MAX closest in all."""
    wanted = [item_id] if item_id else (await items.compatible_items(session, model) if model else [])
    found = await nearest.nearest(
        session, (lon, lat), wanted, HaversineTravelTime(), positions.van_points, limit=NEAREST_MAX
    )
    names = await names_for(session, found)
    page = list_page(
        session,
        [named(NearestOut, c, names) for c in found],
        lambda c: (c.travel_seconds, c.metres, str(c.location_id), str(c.item_id), str(c.unit_id or "")),
        purpose="nearest-stock",
        limit=limit,
        cursor=cursor,
        max_limit=NEAREST_MAX,
    )
    return NearestPage(items=page.items, next_cursor=page.next_cursor)


ROUTES = [nearest_stock]
