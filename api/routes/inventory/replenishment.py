"""Replenishment: levels, reorder suggestions, van restock lists, transfers."""

from __future__ import annotations

import uuid

from litestar import get, post, put
from litestar.params import FromQuery, JSONBody

from api.auth import STAFF_ROLES, WAREHOUSE
from api.params import CurrentActor, Now, OptionalDayQuery, Session
from api.schemas.common import out
from api.schemas.inventory.ledger import MoveOut
from api.schemas.inventory.replenishment import (
    LevelIn,
    LevelOut,
    RestockLineOut,
    RestockListOut,
    SuggestionOut,
    TransferIn,
)
from dispatch.flows import restock
from inventory import replenishment


@put("/api/stock/levels", roles=WAREHOUSE, tags=["stock"], summary="Set min/max of an item at a location")
async def set_level(session: Session, data: JSONBody[LevelIn]) -> LevelOut:
    level = await replenishment.set_level(
        session,
        item_id=data.item_id,
        location_id=data.location_id,
        min_quantity=data.min_quantity,
        max_quantity=data.max_quantity,
    )
    return out(LevelOut, level)


@get("/api/stock/levels", roles=STAFF_ROLES, tags=["stock"], summary="Min/max levels")
async def list_levels(session: Session, location_id: FromQuery[uuid.UUID | None] = None) -> list[LevelOut]:
    return [out(LevelOut, level) for level in await replenishment.levels(session, location_id)]


@get(
    "/api/stock/reorder-suggestions",
    roles=STAFF_ROLES,
    tags=["stock"],
    summary="Below min: order up to max, minus what is in transit",
)
async def reorder_suggestions(
    session: Session, location_id: FromQuery[uuid.UUID | None] = None
) -> list[SuggestionOut]:
    return [out(SuggestionOut, s) for s in await replenishment.suggestions(session, location_id)]


@get(
    "/api/stock/restock-lists",
    roles=STAFF_ROLES,
    tags=["stock"],
    summary="What each engineer loads for the visits planned tomorrow (or on `day`)",
)
async def restock_lists(now: Now, session: Session, day: OptionalDayQuery = None) -> list[RestockListOut]:
    found = await restock.restock_lists(session, now, day)
    return [
        out(RestockListOut, entry, lines=[out(RestockLineOut, line) for line in entry.lines])
        for entry in found
    ]


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
    return [out(MoveOut, m) for m in moves]


ROUTES = [set_level, list_levels, reorder_suggestions, restock_lists, transfer]
