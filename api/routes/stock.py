"""Stock: items and units, the ledger, reservations, consumption, nearest stock, loans, repairs.

Warehouse staff manage stock and units; engineers see and consume their own stock and
carry out backup installations and swap-backs; dispatchers read everything and approve loans.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from litestar import get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy import select

from api.auth import DESK, STAFF_ROLES
from api.params import AppClock, CurrentActor, Cursor, Limit, Now, Search, Session
from api.schemas.common import fields_of, out
from api.schemas.stock import (
    AlertOut,
    BackupProposalOut,
    BackupRequestIn,
    BalanceOut,
    CompatibilityIn,
    ConsumptionIn,
    InstallIn,
    ItemIn,
    ItemOut,
    ItemPage,
    LoanOut,
    MoveIn,
    MoveOut,
    NearestOut,
    RepairCaseOut,
    RepairReturnOut,
    ReservationIn,
    ReservationOut,
    ShipIn,
    SwapBackIn,
    UnitEventOut,
    UnitHistoryOut,
    UnitIn,
    UnitOut,
    WarehouseIn,
    WipeIn,
    WriteOffIn,
)
from core.errors import NotFound
from core.identity.roles import Role
from dispatch.engineers import positions
from dispatch.flows import backup as backup_flow
from dispatch.flows import order_parts
from inventory import alerts, items, ledger, loans, nearest, reservations
from inventory.models import (
    ItemKind,
    Loan,
    LoanStatus,
    Location,
    LocationKind,
    MoveKind,
    RepairCase,
    Unit,
    UnitState,
)
from routing.travel import HaversineTravelTime

WAREHOUSE = frozenset({Role.ADMIN, Role.WAREHOUSE})
READERS = STAFF_ROLES
ENGINEERS = frozenset({Role.ENGINEER})
Longitude = Annotated[float, QueryParameter(ge=-180, le=180)]
Latitude = Annotated[float, QueryParameter(ge=-90, le=90)]


def _loan_out(loan: Loan) -> LoanOut:
    return out(LoanOut, loan)


# Items and units --------------------------------------------------------------------------------------


@get("/api/stock/items", roles=READERS | ENGINEERS, tags=["stock"], summary="Parts and device models")
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


@get("/api/stock/units", roles=READERS, tags=["stock"], summary="Serialized units")
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
    roles=READERS,
    tags=["stock"],
    summary="Everything that happened to a serial number",
)
async def unit_history(session: Session, unit_id: FromPath[uuid.UUID]) -> UnitHistoryOut:
    unit = await session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"No unit with id {unit_id}")
    events = await items.history(session, unit_id)
    lines = await ledger.moves(
        session, location_id=None, item_id=None, unit_id=unit_id, limit=500, after=None
    )
    return UnitHistoryOut(
        unit=out(UnitOut, unit),
        events=[out(UnitEventOut, e) for e in events],
        moves=[out(MoveOut, m) for m in lines],
    )


@post(
    "/api/stock/units/{unit_id:uuid}/back-in-stock",
    roles=WAREHOUSE,
    tags=["stock"],
    summary="A returned unit reaches a warehouse (quarantined)",
)
async def back_in_stock(
    now: Now,
    session: Session,
    actor: CurrentActor,
    unit_id: FromPath[uuid.UUID],
    data: JSONBody[WarehouseIn],
) -> UnitOut:
    return out(
        UnitOut,
        await loans.back_in_stock(session, actor, now, unit_id, warehouse_id=data.warehouse_id),
    )


@post(
    "/api/stock/units/{unit_id:uuid}/wipe",
    roles=WAREHOUSE,
    tags=["stock"],
    summary="Record the data wipe of a quarantined unit",
)
async def wipe(
    now: Now,
    session: Session,
    actor: CurrentActor,
    unit_id: FromPath[uuid.UUID],
    data: JSONBody[WipeIn],
) -> UnitOut:
    unit = await loans.record_wipe(session, actor, now, unit_id, method=data.method, operator=data.operator)
    return out(UnitOut, unit)


# Ledger ------------------------------------------------------------------------------------------------


@get(
    "/api/stock/balances", roles=READERS, tags=["stock"], summary="On hand and reserved per item and location"
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
    van = (
        (
            await session.execute(
                select(Location.id).where(
                    Location.kind == LocationKind.VAN, Location.engineer_id == actor.user_id
                )
            )
        )
        .scalars()
        .first()
    )
    if van is None:
        return []
    return [
        out(BalanceOut, b, free=b.on_hand - b.reserved)
        for b in await ledger.balances(session, location_id=van)
    ]


@get("/api/stock/moves", roles=READERS, tags=["stock"], summary="Ledger lines, oldest first")
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


# Reservations and consumption -------------------------------------------------------------------------


@post(
    "/api/stock/reservations",
    roles=WAREHOUSE | DESK,
    tags=["stock"],
    summary="Reserve parts for a work order or visit",
)
async def reserve(
    now: Now, session: Session, actor: CurrentActor, data: JSONBody[ReservationIn]
) -> ReservationOut:
    held = await order_parts.reserve_for(
        session,
        actor,
        now,
        item_id=data.item_id,
        location_id=data.location_id,
        quantity=data.quantity,
        work_order_id=data.work_order_id,
        visit_id=data.visit_id,
        hold=timedelta(hours=data.hold_hours),
    )
    return out(ReservationOut, held)


@post(
    "/api/stock/reservations/{reservation_id:uuid}/release",
    roles=WAREHOUSE | DESK,
    tags=["stock"],
    summary="Release a reservation",
)
async def release(
    now: Now,
    session: Session,
    actor: CurrentActor,
    reservation_id: FromPath[uuid.UUID],
) -> ReservationOut:
    return out(ReservationOut, await reservations.release(session, actor, now, reservation_id))


@post("/api/stock/consumptions", roles=ENGINEERS, tags=["stock"], summary="Parts I used on a work order")
async def consume(
    now: Now, session: Session, actor: CurrentActor, data: JSONBody[ConsumptionIn]
) -> list[MoveOut]:
    lines = await order_parts.consume_on_order(
        session,
        actor,
        now,
        item_id=data.item_id,
        quantity=data.quantity,
        work_order_id=data.work_order_id,
        visit_id=data.visit_id,
        reservation_id=data.reservation_id,
        from_device=data.from_device,
        at=data.at,
    )
    return [out(MoveOut, m) for m in lines]


@get(
    "/api/stock/nearest",
    roles=READERS,
    tags=["stock"],
    summary="Nearest available stock of an item (or compatible backup models)",
)
async def nearest_stock(
    session: Session,
    lon: Longitude,
    lat: Latitude,
    item_id: FromQuery[uuid.UUID | None] = None,
    model: Annotated[str | None, QueryParameter(max_length=100)] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=50)] = 5,
) -> list[NearestOut]:
    wanted = [item_id] if item_id else (await items.compatible_items(session, model) if model else [])
    found = await nearest.nearest(
        session, (lon, lat), wanted, HaversineTravelTime(), positions.van_points, limit=limit
    )
    return [out(NearestOut, c) for c in found]


# Backup loans ------------------------------------------------------------------------------------------


@post(
    "/api/stock/backup-requests",
    roles=DESK | ENGINEERS,
    tags=["loans"],
    summary="The repair cannot finish in time: reserve the nearest backup and plan its delivery",
)
async def request_backup(
    clock: AppClock, session: Session, actor: CurrentActor, data: JSONBody[BackupRequestIn]
) -> BackupProposalOut:
    proposal = await backup_flow.request_backup(session, actor, clock, data.work_order_id, reason=data.reason)
    return BackupProposalOut(
        loan=_loan_out(proposal.loan),
        visit_id=proposal.visit.id,
        window_end=proposal.visit.window_end,
        from_location=proposal.source.code if proposal.source else None,
        serial=proposal.source.serial if proposal.source else None,
    )


@get("/api/stock/loans", roles=READERS, tags=["loans"], summary="Backup loans")
async def list_loans(
    session: Session,
    status: FromQuery[LoanStatus | None] = None,
    work_order_id: FromQuery[uuid.UUID | None] = None,
) -> list[LoanOut]:
    stmt = select(Loan).order_by(Loan.created_at, Loan.id).limit(500)
    if status is not None:
        stmt = stmt.where(Loan.status == status)
    if work_order_id is not None:
        stmt = stmt.where(Loan.work_order_id == work_order_id)
    return [_loan_out(loan) for loan in (await session.execute(stmt)).scalars()]


@post(
    "/api/stock/loans/{loan_id:uuid}/approve", roles=DESK, tags=["loans"], summary="Approve a proposed loan"
)
async def approve_loan(
    now: Now, session: Session, actor: CurrentActor, loan_id: FromPath[uuid.UUID]
) -> LoanOut:
    return _loan_out(await loans.approve(session, actor, now, loan_id))


@post(
    "/api/stock/backup-installations",
    roles=ENGINEERS,
    tags=["loans"],
    summary="Backup installed, loan form signed: service restored",
)
async def install_backup(
    clock: AppClock, session: Session, actor: CurrentActor, data: JSONBody[InstallIn]
) -> LoanOut:
    loan = await backup_flow.install_backup(
        session,
        actor,
        clock,
        data.visit_id,
        serial=data.serial,
        signed_by=data.signed_by,
        configuration=data.configuration,
        return_by=data.return_by,
        faulty_serial=data.faulty_serial,
        restored_at=data.restored_at,
    )
    return _loan_out(loan)


@post(
    "/api/stock/swap-backs",
    roles=ENGINEERS,
    tags=["loans"],
    summary="Repaired unit back in, backup collected",
)
async def swap_back(
    clock: AppClock, session: Session, actor: CurrentActor, data: JSONBody[SwapBackIn]
) -> LoanOut:
    loan = await backup_flow.complete_swap_back(session, actor, clock, data.visit_id, note=data.note)
    return _loan_out(loan)


# Repairs (RMA) -----------------------------------------------------------------------------------------


@get("/api/stock/repairs", roles=READERS, tags=["loans"], summary="Repair cases (RMA)")
async def list_repairs(
    session: Session, work_order_id: FromQuery[uuid.UUID | None] = None
) -> list[RepairCaseOut]:
    stmt = select(RepairCase).order_by(RepairCase.created_at, RepairCase.id).limit(500)
    if work_order_id is not None:
        stmt = stmt.where(RepairCase.work_order_id == work_order_id)
    return [out(RepairCaseOut, c) for c in (await session.execute(stmt)).scalars()]


@post(
    "/api/stock/repairs/{case_id:uuid}/ship",
    roles=WAREHOUSE,
    tags=["loans"],
    summary="Ship a faulty unit to the vendor",
)
async def ship_repair(
    now: Now,
    session: Session,
    actor: CurrentActor,
    case_id: FromPath[uuid.UUID],
    data: JSONBody[ShipIn],
) -> RepairCaseOut:
    return out(
        RepairCaseOut,
        await loans.ship_to_vendor(session, actor, now, case_id, waybill=data.waybill),
    )


@post(
    "/api/stock/repairs/{case_id:uuid}/vendor-received",
    roles=WAREHOUSE,
    tags=["loans"],
    summary="The vendor has the unit",
)
async def vendor_received(
    now: Now, session: Session, actor: CurrentActor, case_id: FromPath[uuid.UUID]
) -> RepairCaseOut:
    return out(RepairCaseOut, await loans.vendor_received(session, actor, now, case_id))


@post(
    "/api/stock/repairs/{case_id:uuid}/returned",
    roles=WAREHOUSE,
    tags=["loans"],
    summary="Repaired unit back in a warehouse: the swap-back visit is planned",
)
async def repair_returned(
    clock: AppClock,
    session: Session,
    actor: CurrentActor,
    case_id: FromPath[uuid.UUID],
    data: JSONBody[WarehouseIn],
) -> RepairReturnOut:
    case, visit = await backup_flow.repair_returned(
        session, actor, clock, case_id, warehouse_id=data.warehouse_id
    )
    return RepairReturnOut(case=out(RepairCaseOut, case), swap_back_visit_id=visit.id if visit else None)


@post(
    "/api/stock/repairs/{case_id:uuid}/write-off",
    roles=WAREHOUSE,
    tags=["loans"],
    summary="The vendor cannot repair it",
)
async def write_off(
    now: Now,
    session: Session,
    actor: CurrentActor,
    case_id: FromPath[uuid.UUID],
    data: JSONBody[WriteOffIn],
) -> RepairCaseOut:
    return out(RepairCaseOut, await loans.write_off(session, actor, now, case_id, note=data.note))


@get(
    "/api/stock/alerts", roles=READERS, tags=["loans"], summary="Overdue loans and units stuck at the vendor"
)
async def stock_alerts(now: Now, session: Session) -> list[AlertOut]:
    found = await alerts.due(session, now)
    return [
        AlertOut(
            kind=a.kind,
            work_order_id=a.work_order_id,
            serial=a.serial,
            since=a.since.isoformat(),
            record_id=a.record_id,
        )
        for a in found
    ]


ROUTES = [
    list_items,
    create_item,
    add_compatibility,
    list_units,
    create_unit,
    unit_history,
    back_in_stock,
    wipe,
    balances,
    my_stock,
    list_moves,
    post_move,
    reserve,
    release,
    consume,
    nearest_stock,
    request_backup,
    list_loans,
    approve_loan,
    install_backup,
    swap_back,
    list_repairs,
    ship_repair,
    vendor_received,
    repair_returned,
    write_off,
    stock_alerts,
]
