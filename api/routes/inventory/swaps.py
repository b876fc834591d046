"""Part swaps and defective returns."""

from __future__ import annotations

import uuid

import msgspec
from litestar import get, post
from litestar.params import FromPath, FromQuery, JSONBody

from api.auth import ENGINEERS, STAFF_ROLES, WAREHOUSE
from api.params import AppClock, CurrentActor, Now, Session
from api.schemas.common import out
from api.schemas.inventory.swaps import DefectiveReturnIn, DestructionIn, PartSwapIn, PartSwapOut
from dispatch.flows import order_parts
from inventory import swaps


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
    return out(PartSwapOut, swap)


@get("/api/stock/part-swaps", roles=STAFF_ROLES, tags=["stock"], summary="Part swaps; open defective returns")
async def list_swaps(
    session: Session, work_order_id: FromQuery[uuid.UUID | None] = None, open_returns: FromQuery[bool] = False
) -> list[PartSwapOut]:
    found = await swaps.list_swaps(session, work_order_id=work_order_id, open_returns=open_returns)
    return [out(PartSwapOut, s) for s in found]


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
    swap = await swaps.return_defective(session, actor, now, swap_id, waybill=data.waybill)
    return out(PartSwapOut, swap)


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
        session, actor, now, swap_id, method=data.method, witness=data.witness
    )
    return out(PartSwapOut, swap)


ROUTES = [record_swap, list_swaps, return_defective, destroy_defective]
