"""Replenishment: levels, reorder suggestions, van restock lists, transfers."""

from __future__ import annotations

import uuid

from litestar import get, post, put
from litestar.params import FromQuery, JSONBody

from api.auth import STAFF_ROLES, WAREHOUSE
from api.params import CurrentActor, Cursor, Limit, Now, OptionalDayQuery, Session
from api.routes.inventory.naming import named
from api.schemas.inventory.ledger import MoveOut
from api.schemas.inventory.replenishment import (
    LevelIn,
    LevelOut,
    LevelPage,
    RestockLineOut,
    RestockListOut,
    RestockPage,
    SuggestionOut,
    SuggestionPage,
    TransferIn,
)
from dispatch.flows import restock
from inventory import replenishment
from inventory.names import names_for
from inventory.paging import page_of


@put("/api/stock/levels", roles=WAREHOUSE, tags=["stock"], summary="Set min/max of an item at a location")
async def set_level(session: Session, data: JSONBody[LevelIn]) -> LevelOut:
    level = await replenishment.set_level(
        session,
        item_id=data.item_id,
        location_id=data.location_id,
        min_quantity=data.min_quantity,
        max_quantity=data.max_quantity,
    )
    return named(LevelOut, level, await names_for(session, [level]))


@get("/api/stock/levels", roles=STAFF_ROLES, tags=["stock"], summary="Min/max levels")
async def list_levels(
    session: Session,
    location_id: FromQuery[uuid.UUID | None] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> LevelPage:
    page = await replenishment.levels(session, location_id, limit=limit, cursor=cursor)
    names = await names_for(session, page.items)
    return LevelPage(items=[named(LevelOut, lv, names) for lv in page.items], next_cursor=page.next_cursor)


@get(
    "/api/stock/reorder-suggestions",
    roles=STAFF_ROLES,
    tags=["stock"],
    summary="Below min: order up to max, minus what is in transit",
)
async def reorder_suggestions(
    session: Session,
    location_id: FromQuery[uuid.UUID | None] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> SuggestionPage:
    found = await replenishment.suggestions(session, location_id)
    page = page_of(
        session,
        found,
        lambda s: f"{s.location_id}/{s.sku}",
        limit=limit,
        cursor=cursor,
        purpose="reorder-suggestions",
    )
    names = await names_for(session, page.items)
    return SuggestionPage(
        items=[named(SuggestionOut, s, names) for s in page.items], next_cursor=page.next_cursor
    )


@get(
    "/api/stock/restock-lists",
    roles=STAFF_ROLES,
    tags=["stock"],
    summary="What each engineer loads for the visits planned tomorrow (or on `day`)",
)
async def restock_lists(
    now: Now, session: Session, day: OptionalDayQuery = None, limit: Limit = 100, cursor: Cursor = None
) -> RestockPage:
    found = await restock.restock_lists(session, now, day)
    page = page_of(
        session, found, lambda e: str(e.engineer_id), limit=limit, cursor=cursor, purpose="restock-lists"
    )
    names = await names_for(session, [*page.items, *(line for e in page.items for line in e.lines)])
    return RestockPage(
        items=[
            named(
                RestockListOut,
                entry,
                names,
                lines=[named(RestockLineOut, line, names) for line in entry.lines],
            )
            for entry in page.items
        ],
        next_cursor=page.next_cursor,
    )


@post(
    "/api/stock/transfers",
    roles=WAREHOUSE,
    tags=["stock"],
    summary="Several transfers at once (a van's restock), all or nothing",
)
async def transfer(
    now: Now, session: Session, actor: CurrentActor, data: JSONBody[TransferIn]
) -> list[MoveOut]:
    moves = await replenishment.transfer(
        session,
        actor,
        now,
        from_location_id=data.from_location_id,
        to_location_id=data.to_location_id,
        lines=[replenishment.TransferLine(line.item_id, line.quantity, line.unit_id) for line in data.lines],
        reason=data.reason or "restock",
    )
    names = await names_for(session, moves)
    return [named(MoveOut, m, names) for m in moves]


ROUTES = [set_level, list_levels, reorder_suggestions, restock_lists, transfer]
