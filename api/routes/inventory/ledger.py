"""The ledger: balances and movements."""

from __future__ import annotations

import uuid

from litestar import get, post
from litestar.params import FromQuery, JSONBody

from api.auth import ENGINEERS, STAFF_ROLES, WAREHOUSE
from api.params import CurrentActor, Cursor, Limit, Now, Search, Session
from api.routes.inventory.naming import named
from api.schemas.common import fields_of
from api.schemas.inventory.ledger import BalanceOut, BalancePage, MoveIn, MoveOut, MovePage
from core.pagination import list_page
from inventory import ledger, queries
from inventory.models import LocationKind, MoveKind, StockBalance
from inventory.names import Names, names_for


def _balance_out(b: StockBalance, names: Names) -> BalanceOut:
    return named(BalanceOut, b, names, free=b.on_hand - b.reserved)


@get(
    "/api/stock/balances",
    roles=STAFF_ROLES,
    tags=["stock"],
    summary="On hand and reserved per item and location, with names; search by SKU, name, model or serial",
)
async def balances(
    session: Session,
    location_id: FromQuery[uuid.UUID | None] = None,
    item_id: FromQuery[uuid.UUID | None] = None,
    location_kind: FromQuery[LocationKind | None] = None,
    q: Search = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> BalancePage:
    where = queries.BalanceFilter(location_id=location_id, item_id=item_id, location_kind=location_kind, q=q)
    page = await queries.balance_page(session, where, limit=limit, cursor=cursor)
    names = await names_for(session, page.items)
    return BalancePage(items=[_balance_out(b, names) for b in page.items], next_cursor=page.next_cursor)


@get("/api/stock/my-stock", roles=ENGINEERS, tags=["stock"], summary="What I carry (my van or backpack)")
async def my_stock(
    session: Session, actor: CurrentActor, limit: Limit = 100, cursor: Cursor = None
) -> BalancePage:
    # One van's lines: few, so worked out whole and paged like every list.
    carried = await queries.carried_by(session, actor.user_id)
    names = await names_for(session, carried)
    page = list_page(
        session,
        [_balance_out(b, names) for b in carried],
        lambda b: (b.item_sku or "", str(b.item_id), str(b.location_id)),
        purpose="my-stock",
        limit=limit,
        cursor=cursor,
    )
    return BalancePage(items=page.items, next_cursor=page.next_cursor)


@get("/api/stock/moves", roles=STAFF_ROLES, tags=["stock"], summary="Ledger lines, oldest first, with names")
async def list_moves(
    session: Session,
    location_id: FromQuery[uuid.UUID | None] = None,
    item_id: FromQuery[uuid.UUID | None] = None,
    unit_id: FromQuery[uuid.UUID | None] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> MovePage:
    page = await queries.move_page(
        session, location_id=location_id, item_id=item_id, unit_id=unit_id, limit=limit, cursor=cursor
    )
    names = await names_for(session, page.items)
    return MovePage(items=[named(MoveOut, m, names) for m in page.items], next_cursor=page.next_cursor)


@post(
    "/api/stock/moves",
    roles=WAREHOUSE,
    tags=["stock"],
    summary="Receive, transfer, adjust, scrap or return stock",
)
async def post_move(now: Now, session: Session, actor: CurrentActor, data: JSONBody[MoveIn]) -> MoveOut:
    movement = ledger.Movement(MoveKind(data.kind), **fields_of(data, skip=("kind",)))
    move = await ledger.record(session, actor, now, movement)
    return named(MoveOut, move, await names_for(session, [move]))


ROUTES = [balances, my_stock, list_moves, post_move]
