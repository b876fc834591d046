"""Stock in the field and on the shelf: part swaps and defective returns, shipments in transit,
replenishment (levels, reorder suggestions, van restock lists, transfers), blind counts,
an engineer's hand-in, and the stock KPIs.

Engineers record swaps and count their own stock; warehouse staff manage everything
else; dispatchers and supervisors read.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec
from litestar import get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from api.auth import STAFF_ROLES
from api.params import AppClock, CurrentActor, Now, OptionalDayQuery, OptionalInstantQuery, Session
from api.schemas.common import out
from api.schemas.stock import MoveOut
from api.schemas.stock_ops import (
    CountApprovalOut,
    CountApproveIn,
    CountLineOut,
    CountLinesIn,
    CountOpenIn,
    CountOut,
    DefectiveReturnIn,
    DestructionIn,
    HandInIn,
    HandInOut,
    LevelIn,
    LevelOut,
    PartSwapIn,
    PartSwapOut,
    RestockLineOut,
    RestockListOut,
    ShipmentIn,
    ShipmentOut,
    StockKpisOut,
    SuggestionOut,
    TransferIn,
)
from core.errors import field_error
from core.identity.roles import Actor, Role
from dispatch.flows import order_parts, restock
from dispatch.flows.stock_kpis import kpis as stock_kpis_between
from inventory import counts, replenishment, shipments, swaps
from inventory.models import CountStatus, Location, StockCount

WAREHOUSE = frozenset({Role.ADMIN, Role.WAREHOUSE})
READERS = STAFF_ROLES
ENGINEERS = frozenset({Role.ENGINEER})
REACH = (
    "a part is within reach of a visit when, at the visit's moment (arrival, else planned start, "
    "else when the fault was reported), the assigned engineer's van held it, one warehouse held "
    "it free, or it was reserved for the visit"
)


# Part swaps -----------------------------------------------------------------------------------------


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
        order_parts.SwapInput(**msgspec.structs.asdict(data)),
    )
    return out(PartSwapOut, swap)


@get("/api/stock/part-swaps", roles=READERS, tags=["stock"], summary="Part swaps; open defective returns")
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


# Shipments --------------------------------------------------------------------------------------------


async def _shipment_out(session: Session, transit: Location) -> ShipmentOut:
    held = (await shipments.contents(session, [transit.id])).get(transit.id, {})
    return out(ShipmentOut, transit, contents={str(k): v for k, v in held.items()})


@post(
    "/api/stock/shipments",
    roles=WAREHOUSE,
    tags=["stock"],
    summary="Parts in transit by courier or from the manufacturer, with waybill and ETA",
)
async def send_shipment(
    now: Now, session: Session, actor: CurrentActor, data: JSONBody[ShipmentIn]
) -> ShipmentOut:
    if (data.to_location_id is None) == (data.site_id is None):
        raise field_error("to_location_id", "name either a destination location or a site")
    if data.site_id is not None:
        destination = await order_parts.site_stock(session, data.site_id)
    else:
        assert data.to_location_id is not None
        found = await session.get(Location, data.to_location_id)
        if found is None:
            raise field_error("to_location_id", "no such location")
        destination = found
    transit = await shipments.send(
        session,
        actor,
        now,
        waybill=data.waybill,
        eta=data.eta,
        destination=destination,
        from_location_id=data.from_location_id,
        lines=[shipments.Line(line.item_id, line.quantity) for line in data.lines],
        unit_ids=data.unit_ids,
    )
    return await _shipment_out(session, transit)


@get("/api/stock/shipments", roles=READERS, tags=["stock"], summary="Shipments still in transit")
async def list_shipments(
    session: Session, destination_id: FromQuery[uuid.UUID | None] = None
) -> list[ShipmentOut]:
    return [await _shipment_out(session, s) for s in await shipments.open_shipments(session, destination_id)]


@post(
    "/api/stock/shipments/{shipment_id:uuid}/arrival",
    roles=WAREHOUSE,
    tags=["stock"],
    summary="The shipment arrived: its contents move to the destination",
)
async def shipment_arrived(
    now: Now, session: Session, actor: CurrentActor, shipment_id: FromPath[uuid.UUID]
) -> ShipmentOut:
    transit = await shipments.arrive(session, actor, now, shipment_id)
    return await _shipment_out(session, transit)


# Replenishment ------------------------------------------------------------------------------------------


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


@get("/api/stock/levels", roles=READERS, tags=["stock"], summary="Min/max levels")
async def list_levels(session: Session, location_id: FromQuery[uuid.UUID | None] = None) -> list[LevelOut]:
    return [out(LevelOut, level) for level in await replenishment.levels(session, location_id)]


@get(
    "/api/stock/reorder-suggestions",
    roles=READERS,
    tags=["stock"],
    summary="Below min: order up to max, minus what is in transit",
)
async def reorder_suggestions(
    session: Session, location_id: FromQuery[uuid.UUID | None] = None
) -> list[SuggestionOut]:
    return [out(SuggestionOut, s) for s in await replenishment.suggestions(session, location_id)]


@get(
    "/api/stock/restock-lists",
    roles=READERS,
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


# Blind counts and hand-in -------------------------------------------------------------------------------


async def _count_out(session: Session, count: StockCount, actor: Actor) -> CountOut:
    blind = actor.role is Role.ENGINEER or count.status is CountStatus.OPEN
    lines = [
        CountLineOut(
            item_id=line.item_id,
            counted=line.counted,
            book=None if blind else line.book,
            variance=None if blind or line.book is None else line.counted - line.book,
        )
        for line in await counts.lines_of(session, count.id)
    ]
    return out(CountOut, count, lines=lines)


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
    roles=READERS | ENGINEERS,
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


# KPIs --------------------------------------------------------------------------------------------------


@get(
    "/api/stock/kpis",
    roles=READERS,
    tags=["stock"],
    summary="Stock-out rate (target ≤ 5 %), loans open and overdue, mean loan duration, units in repair",
)
async def stock_kpis(
    now: Now,
    session: Session,
    since: OptionalInstantQuery = None,
    until: OptionalInstantQuery = None,
    days: Annotated[int, QueryParameter(ge=1, le=366)] = 30,
) -> StockKpisOut:
    end = until or now
    found = await stock_kpis_between(session, now, since or end - dt.timedelta(days=days), end)
    return out(StockKpisOut, found, reach=REACH)


ROUTES = [
    record_swap,
    list_swaps,
    return_defective,
    destroy_defective,
    send_shipment,
    list_shipments,
    shipment_arrived,
    set_level,
    list_levels,
    reorder_suggestions,
    restock_lists,
    transfer,
    open_count,
    get_count,
    enter_count,
    submit_count,
    approve_count,
    hand_in,
    stock_kpis,
]
