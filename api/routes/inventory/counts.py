"""Blind counts of an engineer's stock, and an engineer's hand-in."""

from __future__ import annotations

import uuid

from litestar import get, post
from litestar.params import FromPath, FromQuery, JSONBody

from api.auth import ENGINEERS, STAFF_ROLES, WAREHOUSE
from api.params import CurrentActor, Cursor, Limit, Now, Session
from api.routes.inventory.naming import named
from api.schemas.inventory.counts import (
    CountApprovalOut,
    CountApproveIn,
    CountLineOut,
    CountLinesIn,
    CountOpenIn,
    CountOut,
    CountPage,
    HandInIn,
    HandInOut,
)
from api.schemas.inventory.fields import VersionIn
from api.schemas.inventory.ledger import MoveOut
from core.identity.roles import Actor
from inventory import count_sheets, counts, queries
from inventory.models import CountStatus, StockCount
from inventory.names import names_for


async def _count_out(session: Session, count: StockCount, actor: Actor) -> CountOut:
    lines = await count_sheets.sheet(session, count, actor)
    names = await names_for(session, [count, *lines])
    return named(CountOut, count, names, lines=[named(CountLineOut, line, names) for line in lines])


@get("/api/stock/counts", roles=STAFF_ROLES, tags=["stock"], summary="Blind counts, oldest first")
async def list_counts(
    session: Session,
    actor: CurrentActor,
    status: FromQuery[CountStatus | None] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> CountPage:
    page = await queries.count_page(session, status=status, limit=limit, cursor=cursor)
    return CountPage(
        items=[await _count_out(session, c, actor) for c in page.items], next_cursor=page.next_cursor
    )


@post(
    "/api/stock/counts", roles=WAREHOUSE, tags=["stock"], summary="Open a blind count of an engineer's stock"
)
async def open_count(
    now: Now, session: Session, actor: CurrentActor, data: JSONBody[CountOpenIn]
) -> CountOut:
    count = await counts.open_count(session, actor, now, engineer_id=data.engineer_id)
    return await _count_out(session, count, actor)


@get(
    "/api/stock/counts/{count_id:uuid}",
    roles=STAFF_ROLES | ENGINEERS,
    tags=["stock"],
    summary="A count (book quantities only for warehouse staff, once submitted)",
)
async def get_count(session: Session, actor: CurrentActor, count_id: FromPath[uuid.UUID]) -> CountOut:
    count = await counts.count_for(session, actor, count_id, lock=False)
    return await _count_out(session, count, actor)


@post(
    "/api/stock/counts/{count_id:uuid}/lines",
    roles=WAREHOUSE | ENGINEERS,
    tags=["stock"],
    summary="Enter counted quantities (the book quantity is not shown)",
)
async def enter_count(
    session: Session, actor: CurrentActor, count_id: FromPath[uuid.UUID], data: JSONBody[CountLinesIn]
) -> CountOut:
    count = await counts.count_for(session, actor, count_id)
    await counts.enter(
        session, count, {line.item_id: line.counted for line in data.lines}, version=data.version
    )
    return await _count_out(session, count, actor)


@post(
    "/api/stock/counts/{count_id:uuid}/submit",
    roles=WAREHOUSE | ENGINEERS,
    tags=["stock"],
    summary="Counting done: book quantities frozen, variances computed",
)
async def submit_count(
    now: Now,
    session: Session,
    actor: CurrentActor,
    count_id: FromPath[uuid.UUID],
    data: JSONBody[VersionIn | None] = None,
) -> CountOut:
    count = await counts.count_for(session, actor, count_id)
    await counts.submit(session, now, count, version=data.version if data else None)
    return await _count_out(session, count, actor)


@post(
    "/api/stock/counts/{count_id:uuid}/approve",
    roles=WAREHOUSE,
    tags=["stock"],
    summary="Approve the variances: one adjust movement each, with the reason",
)
async def approve_count(
    now: Now,
    session: Session,
    actor: CurrentActor,
    count_id: FromPath[uuid.UUID],
    data: JSONBody[CountApproveIn],
) -> CountApprovalOut:
    count = await counts.count_for(session, actor, count_id)
    moves = await counts.approve(session, actor, now, count, reason=data.reason, version=data.version)
    names = await names_for(session, moves)
    return CountApprovalOut(
        count=await _count_out(session, count, actor), adjustments=[named(MoveOut, m, names) for m in moves]
    )


@post(
    "/api/stock/engineers/{engineer_id:uuid}/hand-in",
    roles=WAREHOUSE,
    tags=["stock"],
    summary="An engineer leaves: all their stock to a warehouse, their discrepancy balance reported",
)
async def hand_in(
    now: Now,
    session: Session,
    actor: CurrentActor,
    engineer_id: FromPath[uuid.UUID],
    data: JSONBody[HandInIn],
) -> HandInOut:
    done = await counts.hand_in(session, actor, now, engineer_id=engineer_id, warehouse_id=data.warehouse_id)
    names = await names_for(session, done.moves)
    return HandInOut(
        engineer_id=engineer_id,
        van_location_id=done.van_id,
        moves=[named(MoveOut, m, names) for m in done.moves],
        discrepancy={str(k): v for k, v in done.discrepancy.items()},
    )


ROUTES = [list_counts, open_count, get_count, enter_count, submit_count, approve_count, hand_in]
