"""Items (parts and device models) and serialized units."""

from __future__ import annotations

import uuid

from litestar import get, post
from litestar.params import FromPath, FromQuery, JSONBody

from api.auth import ENGINEERS, STAFF_ROLES, WAREHOUSE
from api.params import CurrentActor, Cursor, Limit, Now, Search, Session
from api.routes.inventory.naming import named
from api.schemas.common import fields_of, out
from api.schemas.inventory.items import (
    CompatibilityIn,
    CompatibilityOut,
    ItemIn,
    ItemOut,
    ItemPage,
    UnitEventOut,
    UnitHistoryOut,
    UnitIn,
    UnitOut,
    UnitPage,
)
from api.schemas.inventory.ledger import MoveOut
from inventory import items, queries
from inventory.models import ItemKind, UnitState
from inventory.names import names_for


@get("/api/stock/items", roles=STAFF_ROLES | ENGINEERS, tags=["stock"], summary="Parts and device models")
async def list_items(
    session: Session,
    kind: FromQuery[ItemKind | None] = None,
    q: Search = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> ItemPage:
    page = await items.list_items(session, kind=kind, q=q, limit=limit, cursor=cursor)
    return ItemPage(items=[out(ItemOut, i) for i in page.items], next_cursor=page.next_cursor)


@post("/api/stock/items", roles=WAREHOUSE, tags=["stock"], summary="Create a part or device model")
async def create_item(session: Session, actor: CurrentActor, data: JSONBody[ItemIn]) -> ItemOut:
    return out(ItemOut, await items.create_item(session, actor, {**fields_of(data), "version": 1}))


@post(
    "/api/stock/items/{item_id:uuid}/compatibility",
    roles=WAREHOUSE,
    tags=["stock"],
    summary="Declare that this backup model can stand in for a customer model",
)
async def add_compatibility(
    session: Session, actor: CurrentActor, item_id: FromPath[uuid.UUID], data: JSONBody[CompatibilityIn]
) -> CompatibilityOut:
    row = await items.add_compatibility(session, actor, item_id, data.customer_model)
    return CompatibilityOut(backup_item_id=row.backup_item_id, customer_model=row.customer_model)


@get(
    "/api/stock/units",
    roles=STAFF_ROLES,
    tags=["stock"],
    summary="Serialized units with item and location names (`serial`: exact; `q`: part of a serial)",
)
async def list_units(
    session: Session,
    item_id: FromQuery[uuid.UUID | None] = None,
    unit_state: FromQuery[UnitState | None] = None,
    location_id: FromQuery[uuid.UUID | None] = None,
    serial: Search = None,
    q: Search = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> UnitPage:
    where = items.UnitFilter(item_id=item_id, state=unit_state, location_id=location_id, serial=serial, q=q)
    page = await items.list_units(session, where, limit=limit, cursor=cursor)
    names = await names_for(session, page.items)
    return UnitPage(items=[named(UnitOut, u, names) for u in page.items], next_cursor=page.next_cursor)


@post("/api/stock/units", roles=WAREHOUSE, tags=["stock"], summary="Receive a serialized unit")
async def create_unit(now: Now, session: Session, actor: CurrentActor, data: JSONBody[UnitIn]) -> UnitOut:
    unit = await items.register_unit(
        session,
        actor,
        now,
        item_id=data.item_id,
        serial=data.serial,
        location_id=data.location_id,
        configuration=data.configuration,
    )
    return named(UnitOut, unit, await names_for(session, [unit]))


@get(
    "/api/stock/units/{unit_id:uuid}/history",
    roles=STAFF_ROLES,
    tags=["stock"],
    summary="Everything that happened to a serial number, with item and location names",
)
async def unit_history(session: Session, unit_id: FromPath[uuid.UUID]) -> UnitHistoryOut:
    found = await queries.unit_history(session, unit_id)
    names = await names_for(session, [found.unit, *found.events, *found.moves])
    return UnitHistoryOut(
        unit=named(UnitOut, found.unit, names),
        events=[named(UnitEventOut, e, names) for e in found.events],
        moves=[named(MoveOut, m, names) for m in found.moves],
    )


ROUTES = [list_items, create_item, add_compatibility, list_units, create_unit, unit_history]
