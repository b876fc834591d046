"""Blind counts of an engineer's stock, and an engineer's hand-in."""

from __future__ import annotations

import uuid

from litestar import get, post
from litestar.params import FromPath, JSONBody

from api.auth import ENGINEERS, STAFF_ROLES, WAREHOUSE
from api.params import CurrentActor, Now, Session
from api.schemas.common import out
from api.schemas.inventory.counts import (
    CountApprovalOut,
    CountApproveIn,
    CountLineOut,
    CountLinesIn,
    CountOpenIn,
    CountOut,
    HandInIn,
    HandInOut,
)
from api.schemas.inventory.ledger import MoveOut
from core.identity.roles import Actor
from inventory import count_sheets, counts
from inventory.models import StockCount


async def _count_out(session: Session, count: StockCount, actor: Actor) -> CountOut:
    lines = await count_sheets.sheet(session, count, actor)
    return out(CountOut, count, lines=[out(CountLineOut, line) for line in lines])


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
    await counts.enter(session, count, {line.item_id: line.counted for line in data.lines})
    return await _count_out(session, count, actor)


@post(
    "/api/stock/counts/{count_id:uuid}/submit",
    roles=WAREHOUSE | ENGINEERS,
    tags=["stock"],
    summary="Counting done: book quantities frozen, variances computed",
)
async def submit_count(
    now: Now, session: Session, actor: CurrentActor, count_id: FromPath[uuid.UUID]
) -> CountOut:
    count = await counts.count_for(session, actor, count_id)
    await counts.submit(session, now, count)
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
    moves = await counts.approve(session, actor, now, count, reason=data.reason)
    return CountApprovalOut(
        count=await _count_out(session, count, actor), adjustments=[out(MoveOut, m) for m in moves]
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
    return HandInOut(
        engineer_id=engineer_id,
        van_location_id=done.van_id,
        moves=[out(MoveOut, m) for m in done.moves],
        discrepancy={str(k): v for k, v in done.discrepancy.items()},
    )


ROUTES = [open_count, get_count, enter_count, submit_count, approve_count, hand_in]
