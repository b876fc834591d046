"""Part swaps and defective returns."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
from litestar import get, post
from litestar.params import FromPath, FromQuery, JSONBody

from api.auth import ENGINEERS, STAFF_ROLES, WAREHOUSE
from api.params import AppClock, CurrentActor, Cursor, Limit, Now, Session
from api.routes.inventory.naming import named
from api.schemas.inventory.swaps import (
    DefectiveReturnIn,
    DestructionIn,
    PartSwapIn,
    PartSwapOut,
    PartSwapPage,
)
from dispatch.flows import order_parts
from inventory import swaps
from inventory.models import PartSwap, SwapDisposition
from inventory.names import names_for


@post(
    "/api/stock/part-swaps",
    roles=ENGINEERS,
    tags=["stock"],
    summary="A serialized part swapped on my visit: both serials, the faulty part's fate",
)
async def record_swap(
    clock: AppClock, session: Session, actor: CurrentActor, data: JSONBody[PartSwapIn]
) -> PartSwapOut:
    swap = await order_parts.record_part_swap(
        session,
        actor,
        clock,
        msgspec.convert(data, order_parts.SwapInput, from_attributes=True),
    )
    return await _swap_out(session, swap, clock.now())


def _overdue(swap: PartSwap, now: dt.datetime) -> bool:
    open_return = swap.disposition is SwapDisposition.RETURN and swap.returned_at is None
    return open_return and swap.return_by is not None and swap.return_by < now.date()


async def _swap_out(session: Session, swap: PartSwap, now: dt.datetime) -> PartSwapOut:
    return named(PartSwapOut, swap, await names_for(session, [swap]), overdue=_overdue(swap, now))


@get(
    "/api/stock/part-swaps",
    roles=STAFF_ROLES,
    tags=["stock"],
    summary="Part swaps; open defective returns (`open_returns`) with their deadline and whether it passed",
)
async def list_swaps(
    now: Now,
    session: Session,
    work_order_id: FromQuery[uuid.UUID | None] = None,
    open_returns: FromQuery[bool] = False,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> PartSwapPage:
    page = await swaps.list_swaps(
        session, work_order_id=work_order_id, open_returns=open_returns, limit=limit, cursor=cursor
    )
    names = await names_for(session, page.items)
    return PartSwapPage(
        items=[named(PartSwapOut, s, names, overdue=_overdue(s, now)) for s in page.items],
        next_cursor=page.next_cursor,
    )


@post(
    "/api/stock/part-swaps/{swap_id:uuid}/return",
    roles=WAREHOUSE,
    tags=["stock"],
    summary="The defective part went back to the manufacturer",
)
async def return_defective(
    now: Now,
    session: Session,
    actor: CurrentActor,
    swap_id: FromPath[uuid.UUID],
    data: JSONBody[DefectiveReturnIn],
) -> PartSwapOut:
    swap = await swaps.return_defective(
        session, actor, now, swap_id, waybill=data.waybill, version=data.version
    )
    return await _swap_out(session, swap, now)


@post(
    "/api/stock/part-swaps/{swap_id:uuid}/destruction",
    roles=WAREHOUSE,
    tags=["stock"],
    summary="A data-bearing defective part was destroyed instead of returned",
)
async def destroy_defective(
    now: Now,
    session: Session,
    actor: CurrentActor,
    swap_id: FromPath[uuid.UUID],
    data: JSONBody[DestructionIn],
) -> PartSwapOut:
    swap = await swaps.destroy_defective(
        session, actor, now, swap_id, method=data.method, witness=data.witness, version=data.version
    )
    return await _swap_out(session, swap, now)


ROUTES = [record_swap, list_swaps, return_defective, destroy_defective]
