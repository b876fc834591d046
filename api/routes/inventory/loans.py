"""Backup loans, returned units and repair cases (RMA).

Engineers carry out backup installations and swap-backs; dispatchers approve loans;
warehouse staff handle returned units and repairs. Every step the desk takes names the version
of the record it changes (`version`; a stale one is 409 and changes nothing).
"""

from __future__ import annotations

import datetime as dt
import uuid

from litestar import get, post
from litestar.params import FromPath, FromQuery, JSONBody

from api.auth import DESK, ENGINEERS, STAFF_ROLES, WAREHOUSE
from api.params import AppClock, CurrentActor, Cursor, Limit, Now, Session
from api.routes.inventory.naming import named
from api.schemas.inventory.fields import VersionIn
from api.schemas.inventory.items import UnitOut
from api.schemas.inventory.loans import (
    BackupProposalOut,
    BackupRequestIn,
    InstallIn,
    LoanOut,
    LoanPage,
    RepairCaseOut,
    RepairPage,
    RepairReturnOut,
    ShipIn,
    SwapBackIn,
    WarehouseIn,
    WipeIn,
    WriteOffIn,
)
from dispatch.flows import backup as backup_flow
from inventory import loans, queries
from inventory.models import Loan, LoanStatus, RepairCase, RepairStatus, Unit
from inventory.names import Names, names_for


async def _loan_out(session: Session, loan: Loan) -> LoanOut:
    return named(LoanOut, loan, await names_for(session, [loan]))


def _days_at_vendor(case: RepairCase, now: dt.datetime) -> int | None:
    since = case.shipped_at or case.at_vendor_since
    if since is None:
        return None
    return ((case.returned_at or now) - since).days


def _case_out(case: RepairCase, names: Names, now: dt.datetime) -> RepairCaseOut:
    return named(RepairCaseOut, case, names, days_at_vendor=_days_at_vendor(case, now))


async def _one_case(session: Session, case: RepairCase, now: dt.datetime) -> RepairCaseOut:
    return _case_out(case, await names_for(session, [case]), now)


async def _unit_out(session: Session, unit: Unit) -> UnitOut:
    return named(UnitOut, unit, await names_for(session, [unit]))


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
    unit = await loans.back_in_stock(
        session, actor, now, unit_id, warehouse_id=data.warehouse_id, version=data.version
    )
    return await _unit_out(session, unit)


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
    unit = await loans.record_wipe(
        session, actor, now, unit_id, method=data.method, operator=data.operator, version=data.version
    )
    return await _unit_out(session, unit)


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
        loan=await _loan_out(session, proposal.loan),
        visit_id=proposal.visit.id,
        window_end=proposal.visit.window_end,
        from_location=proposal.source.code if proposal.source else None,
        serial=proposal.source.serial if proposal.source else None,
    )


@get(
    "/api/stock/loans",
    roles=STAFF_ROLES,
    tags=["loans"],
    summary="Backup loans with the unit's serial and model",
)
async def list_loans(
    now: Now,
    session: Session,
    status: FromQuery[LoanStatus | None] = None,
    work_order_id: FromQuery[uuid.UUID | None] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> LoanPage:
    page = await queries.loans(
        session, status=status, work_order_id=work_order_id, limit=limit, cursor=cursor
    )
    names = await names_for(session, page.items)
    return LoanPage(
        items=[named(LoanOut, loan, names, overdue=_overdue(loan, now)) for loan in page.items],
        next_cursor=page.next_cursor,
    )


def _overdue(loan: Loan, now: dt.datetime) -> bool:
    out_there = loan.status in (LoanStatus.OPEN, LoanStatus.RETURNING)
    return out_there and loan.return_by is not None and loan.return_by < now.date()


@post(
    "/api/stock/loans/{loan_id:uuid}/approve", roles=DESK, tags=["loans"], summary="Approve a proposed loan"
)
async def approve_loan(
    now: Now,
    session: Session,
    actor: CurrentActor,
    loan_id: FromPath[uuid.UUID],
    data: JSONBody[VersionIn | None] = None,
) -> LoanOut:
    loan = await loans.approve(session, actor, now, loan_id, version=data.version if data else None)
    return await _loan_out(session, loan)


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
    return await _loan_out(session, loan)


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
    return await _loan_out(session, loan)


@get(
    "/api/stock/repairs",
    roles=STAFF_ROLES,
    tags=["loans"],
    summary="Repair cases (RMA) with serial, model and days at the vendor",
)
async def list_repairs(
    now: Now,
    session: Session,
    work_order_id: FromQuery[uuid.UUID | None] = None,
    status: FromQuery[RepairStatus | None] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> RepairPage:
    page = await queries.repair_cases(
        session, work_order_id=work_order_id, status=status, limit=limit, cursor=cursor
    )
    names = await names_for(session, page.items)
    return RepairPage(items=[_case_out(c, names, now) for c in page.items], next_cursor=page.next_cursor)


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
    case = await loans.ship_to_vendor(
        session, actor, now, case_id, waybill=data.waybill, version=data.version
    )
    return await _one_case(session, case, now)


@post(
    "/api/stock/repairs/{case_id:uuid}/vendor-received",
    roles=WAREHOUSE,
    tags=["loans"],
    summary="The vendor has the unit",
)
async def vendor_received(
    now: Now,
    session: Session,
    actor: CurrentActor,
    case_id: FromPath[uuid.UUID],
    data: JSONBody[VersionIn | None] = None,
) -> RepairCaseOut:
    case = await loans.vendor_received(session, actor, now, case_id, version=data.version if data else None)
    return await _one_case(session, case, now)


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
        session, actor, clock, case_id, warehouse_id=data.warehouse_id, version=data.version
    )
    return RepairReturnOut(
        case=await _one_case(session, case, clock.now()), swap_back_visit_id=visit.id if visit else None
    )


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
    case = await loans.write_off(session, actor, now, case_id, note=data.note, version=data.version)
    return await _one_case(session, case, now)


ROUTES = [
    back_in_stock,
    wipe,
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
]
