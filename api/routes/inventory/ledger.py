"""The ledger: balances and movements."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import get, post
from litestar.params import FromQuery, JSONBody, QueryParameter

from api.auth import ENGINEERS, STAFF_ROLES, WAREHOUSE
from api.params import CurrentActor, Limit, Now, Session
from api.schemas.common import fields_of, out
from api.schemas.inventory.ledger import BalanceOut, MoveIn, MoveOut
from inventory import ledger, queries
from inventory.models import MoveKind


@get(
    "/api/stock/balances",
    roles=STAFF_ROLES,
    tags=["stock"],
    summary="On hand and reserved per item and location",
)
async def balances(
    session: Session,
    location_id: FromQuery[uuid.UUID | None] = None,
    item_id: FromQuery[uuid.UUID | None] = None,
) -> list[BalanceOut]:
    rows = await ledger.balances(session, location_id=location_id, item_id=item_id)
    return [out(BalanceOut, b, free=b.on_hand - b.reserved) for b in rows]


@get("/api/stock/my-stock", roles=ENGINEERS, tags=["stock"], summary="What I carry (my van or backpack)")
async def my_stock(session: Session, actor: CurrentActor) -> list[BalanceOut]:
    carried = await queries.carried_by(session, actor.user_id)
    return [out(BalanceOut, b, free=b.on_hand - b.reserved) for b in carried]


@get("/api/stock/moves", roles=STAFF_ROLES, tags=["stock"], summary="Ledger lines, oldest first")
async def list_moves(
    session: Session,
    location_id: FromQuery[uuid.UUID | None] = None,
    item_id: FromQuery[uuid.UUID | None] = None,
    unit_id: FromQuery[uuid.UUID | None] = None,
    after: Annotated[int | None, QueryParameter(ge=0)] = None,
    limit: Limit = 100,
) -> list[MoveOut]:
    rows = await ledger.moves(
        session, location_id=location_id, item_id=item_id, unit_id=unit_id, limit=limit, after=after
    )
    return [out(MoveOut, m) for m in rows]


@post(
    "/api/stock/moves",
    roles=WAREHOUSE,
    tags=["stock"],
    summary="Receive, transfer, adjust, scrap or return stock",
)
async def post_move(now: Now, session: Session, actor: CurrentActor, data: JSONBody[MoveIn]) -> MoveOut:
    movement = ledger.Movement(MoveKind(data.kind), **fields_of(data, skip=("kind",)))
    return out(MoveOut, await ledger.record(session, actor, now, movement))


ROUTES = [balances, my_stock, list_moves, post_move]
