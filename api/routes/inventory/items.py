"""Items (parts and device models) and serialized units."""

from __future__ import annotations

import uuid

from litestar import get, post
from litestar.params import FromPath, FromQuery, JSONBody

from api.auth import ENGINEERS, STAFF_ROLES, WAREHOUSE
from api.params import CurrentActor, Cursor, Limit, Now, Search, Session
from api.schemas.common import fields_of, out
from api.schemas.inventory.items import (
    CompatibilityIn,
    ItemIn,
    ItemOut,
    ItemPage,
    UnitEventOut,
    UnitHistoryOut,
    UnitIn,
    UnitOut,
)
from api.schemas.inventory.ledger import MoveOut
from inventory import items, queries
from inventory.models import ItemKind, UnitState


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
) -> dict[str, str]:
    row = await items.add_compatibility(session, actor, item_id, data.customer_model)
    return {"backup_item_id": str(row.backup_item_id), "customer_model": row.customer_model}


@get("/api/stock/units", roles=STAFF_ROLES, tags=["stock"], summary="Serialized units")
async def list_units(
    session: Session,
    item_id: FromQuery[uuid.UUID | None] = None,
    unit_state: FromQuery[UnitState | None] = None,
    serial: Search = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> list[UnitOut]:
    page = await items.list_units(
        session, item_id=item_id, state=unit_state, serial=serial, limit=limit, cursor=cursor
    )
    return [out(UnitOut, u) for u in page.items]


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
    return out(UnitOut, unit)


@get(
    "/api/stock/units/{unit_id:uuid}/history",
    roles=STAFF_ROLES,
    tags=["stock"],
    summary="Everything that happened to a serial number",
)
async def unit_history(session: Session, unit_id: FromPath[uuid.UUID]) -> UnitHistoryOut:
    found = await queries.unit_history(session, unit_id)
    return UnitHistoryOut(
        unit=out(UnitOut, found.unit),
        events=[out(UnitEventOut, e) for e in found.events],
        moves=[out(MoveOut, m) for m in found.moves],
    )


ROUTES = [list_items, create_item, add_compatibility, list_units, create_unit, unit_history]
