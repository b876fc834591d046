"""Backup-device loans, the faulty unit's repair (RMA), swap-back, quarantine and wipe.

Services only: the flow that ties a loan to a work order's SLA lives in
`dispatch/flows/backup.py`; here work orders and visits are ids.

    proposed ──approve──► approved ──install (form signed)──► open ──swap back──► returning
        │                                                                  │ back in stock
        └──cancel──► cancelled                                             ▼ and wiped
                                                                        closed
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import field_error
from core.identity.roles import Actor
from core.records import locked_or_404
from inventory import ledger, reservations, swaps
from inventory.errors import IllegalStockStep, UnitUnavailable, expect_version
from inventory.items import device_item_for_model, locked_unit, new_unit, set_state, unit_by_serial
from inventory.models import (
    Loan,
    LoanStatus,
    Location,
    LocationKind,
    MoveKind,
    RepairCase,
    RepairStatus,
    Reservation,
    ReservationStatus,
    Unit,
    UnitState,
    Wipe,
)

ACTIVE = frozenset({LoanStatus.PROPOSED, LoanStatus.APPROVED, LoanStatus.OPEN, LoanStatus.RETURNING})


async def locked_loan(session: AsyncSession, loan_id: uuid.UUID) -> Loan:
    return await locked_or_404(session, Loan, loan_id, "loan")


def _expect(loan: Loan, *allowed: LoanStatus) -> None:
    if loan.status not in allowed:
        raise IllegalStockStep(
            f"A loan that is {loan.status.value} cannot take this step",
            current_status=loan.status.value,
            allowed_from=[s.value for s in allowed],
        )


async def loan_for_order(session: AsyncSession, work_order_id: uuid.UUID) -> Loan | None:
    rows = await session.execute(
        select(Loan)
        .where(Loan.work_order_id == work_order_id, Loan.status.in_(ACTIVE))
        .order_by(Loan.created_at)
        .limit(1)
    )
    return rows.scalar_one_or_none()


async def propose(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    *,
    unit_id: uuid.UUID,
    work_order_id: uuid.UUID,
    delivery_visit_id: uuid.UUID | None,
    cause: str,
    hold: dt.timedelta = dt.timedelta(days=2),
) -> Loan:
    """Reserve the unit for the work order and open a proposed loan (a dispatcher approves it)."""
    # A loan whose reservation lapsed (its delivery came late) still holds the unit: the unit
    # reads as available again, but it is promised, and a second loan on it is refused here
    # rather than by the database's one-active-loan-per-unit index.
    promised = await session.scalar(select(Loan.id).where(Loan.unit_id == unit_id, Loan.status.in_(ACTIVE)))
    if promised is not None:
        raise UnitUnavailable("That unit is promised to another work order's loan", loan_id=str(promised))
    reservation = await reservations.reserve_unit(
        session,
        actor,
        now,
        unit_id=unit_id,
        work_order_id=work_order_id,
        visit_id=delivery_visit_id,
        hold=hold,
    )
    loan = Loan(
        id=uuid.uuid4(),
        unit_id=unit_id,
        reservation_id=reservation.id,
        work_order_id=work_order_id,
        delivery_visit_id=delivery_visit_id,
        status=LoanStatus.PROPOSED,
        cause=cause[:200],
        version=1,
    )
    session.add(loan)
    await session.flush()
    return loan


async def approve(
    session: AsyncSession, actor: Actor, now: dt.datetime, loan_id: uuid.UUID, *, version: int | None = None
) -> Loan:
    loan = await locked_loan(session, loan_id)
    expect_version(loan, version, "loan")
    _expect(loan, LoanStatus.PROPOSED)
    loan.status, loan.approved_by, loan.approved_at = LoanStatus.APPROVED, actor.user_id, now
    unit = await locked_unit(session, loan.unit_id)
    set_state(session, unit, actor, now, "loan_approved", unit.state, work_order_id=loan.work_order_id)
    await session.flush()
    return loan


async def cancel(session: AsyncSession, actor: Actor, now: dt.datetime, loan_id: uuid.UUID) -> Loan:
    loan = await locked_loan(session, loan_id)
    _expect(loan, LoanStatus.PROPOSED, LoanStatus.APPROVED)
    if loan.reservation_id is not None:
        await reservations.release(session, actor, now, loan.reservation_id)
    loan.status, loan.closed_at = LoanStatus.CANCELLED, now
    await session.flush()
    return loan


async def _held_for(session: AsyncSession, actor: Actor, now: dt.datetime, loan: Loan) -> Reservation:
    """The loan's active reservation. One that lapsed (the delivery came after its hold) already
    gave the unit back to free stock: the unit is reserved again for the loan (refused as
    unit-unavailable if something else took it meanwhile), so that the install moves it out of
    reserved stock that holds it instead of driving the reserved count below zero."""
    assert loan.reservation_id is not None
    current = await session.get(Reservation, loan.reservation_id, populate_existing=True)
    if current is not None and current.status is ReservationStatus.ACTIVE:
        return await reservations.active_reservation(session, loan.reservation_id)
    renewed = await reservations.reserve_unit(
        session,
        actor,
        now,
        unit_id=loan.unit_id,
        work_order_id=loan.work_order_id,
        visit_id=loan.delivery_visit_id,
    )
    loan.reservation_id = renewed.id
    return renewed


async def install(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    loan_id: uuid.UUID,
    *,
    serial: str,
    signed_by: str,
    configuration: str | None,
    return_by: dt.date,
    site: Location,
    faulty_serial: str | None,
    faulty_model: str | None,
    taken_to: Location | None,
) -> Loan:
    """The backup unit is installed at the customer's and the loan form signed (serial,
    configuration, return date); the faulty unit is taken in for repair."""
    loan = await locked_loan(session, loan_id)
    _expect(loan, LoanStatus.APPROVED)
    unit = await locked_unit(session, loan.unit_id)
    if unit.serial != serial:
        raise field_error("serial", f"the loan is for unit {unit.serial}, not {serial}")
    if return_by <= now.date():
        raise field_error("return_by", "the return date lies in the future")
    reservation = await _held_for(session, actor, now, loan)
    assert unit.location_id is not None
    await ledger.move_unit(
        session,
        actor,
        now,
        unit,
        MoveKind.TRANSFER,
        to=site.id,
        reservation_id=reservation.id,
        work_order_id=loan.work_order_id,
        visit_id=loan.delivery_visit_id,
        reason="backup unit installed on loan",
    )
    reservation.status, reservation.closed_at = ReservationStatus.CONSUMED, now
    unit.configuration = configuration or unit.configuration
    set_state(
        session,
        unit,
        actor,
        now,
        "installed_on_loan",
        UnitState.ON_LOAN,
        work_order_id=loan.work_order_id,
        data={"signed_by": signed_by, "return_by": return_by.isoformat(), "configuration": configuration},
    )
    loan.status, loan.opened_at, loan.signed_by = LoanStatus.OPEN, now, signed_by
    loan.configuration, loan.return_by, loan.site_location_id = configuration, return_by, site.id
    if faulty_serial:
        if taken_to is None or not faulty_model:
            raise field_error("faulty_serial", "the faulty unit needs its model and where it goes")
        faulty = await take_in_faulty(
            session,
            actor,
            now,
            serial=faulty_serial,
            model=faulty_model,
            to=taken_to,
            work_order_id=loan.work_order_id,
        )
        loan.faulty_unit_id = faulty.id
        session.add(
            RepairCase(
                id=uuid.uuid4(),
                unit_id=faulty.id,
                work_order_id=loan.work_order_id,
                loan_id=loan.id,
                status=RepairStatus.AWAITING_SHIPMENT,
                version=1,
            )
        )
    await session.flush()
    return loan


async def take_in_faulty(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    *,
    serial: str,
    model: str,
    to: Location,
    work_order_id: uuid.UUID | None,
) -> Unit:
    """A customer's faulty device enters the books (a unit they own, never lent out)."""
    unit = await unit_by_serial(session, serial, lock=True)
    if unit is not None:
        await swaps.refuse_if_retained(session, unit)
    if unit is None:
        item = await device_item_for_model(session, model)
        unit = await new_unit(session, item.id, serial, UnitState.FAULTY, customer_owned=True)
        set_state(session, unit, actor, now, "taken_in", UnitState.FAULTY, work_order_id=work_order_id)
    # A unit the books place at a customer's site (reinstalled after an earlier repair) is taken
    # from there; one in any other location is in stock, not at the customer's.
    at_site = (
        unit is not None and unit.state is UnitState.INSTALLED and await _at_customer_site(session, unit)
    )
    if unit.location_id is not None and not at_site:
        raise field_error("faulty_serial", "a unit with that serial is already in stock")
    await ledger.move_unit(
        session,
        actor,
        now,
        unit,
        MoveKind.TRANSFER if at_site else MoveKind.RECEIVE,
        to=to.id,
        work_order_id=work_order_id,
        reason="customer's faulty unit taken in for repair",
    )
    if unit.state is not UnitState.FAULTY:
        set_state(session, unit, actor, now, "taken_in", UnitState.FAULTY, work_order_id=work_order_id)
    return unit


async def _at_customer_site(session: AsyncSession, unit: Unit) -> bool:
    location = await session.get(Location, unit.location_id) if unit.location_id else None
    return location is not None and location.kind is LocationKind.CUSTOMER_SITE


# Repair (RMA) ---------------------------------------------------------------------------------------


async def locked_case(session: AsyncSession, case_id: uuid.UUID) -> RepairCase:
    return await locked_or_404(session, RepairCase, case_id, "repair case")


def _case_expect(case: RepairCase, *allowed: RepairStatus) -> None:
    if case.status not in allowed:
        raise IllegalStockStep(
            f"A repair case that is {case.status.value} cannot take this step",
            current_status=case.status.value,
        )


async def ship_to_vendor(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    case_id: uuid.UUID,
    *,
    waybill: str,
    version: int | None = None,
) -> RepairCase:
    case = await locked_case(session, case_id)
    expect_version(case, version, "repair case")
    _case_expect(case, RepairStatus.AWAITING_SHIPMENT)
    unit = await locked_unit(session, case.unit_id)
    await swaps.send_to_vendor(
        session, actor, now, unit, work_order_id=case.work_order_id, reason=f"RMA waybill {waybill}"
    )
    set_state(
        session,
        unit,
        actor,
        now,
        "rma_shipped",
        UnitState.IN_REPAIR,
        work_order_id=case.work_order_id,
        data={"waybill": waybill, "repair_case_id": str(case.id)},
    )
    case.status, case.waybill, case.shipped_at = RepairStatus.SHIPPED, waybill, now
    await session.flush()
    return case


async def vendor_received(
    session: AsyncSession, actor: Actor, now: dt.datetime, case_id: uuid.UUID, *, version: int | None = None
) -> RepairCase:
    case = await locked_case(session, case_id)
    expect_version(case, version, "repair case")
    _case_expect(case, RepairStatus.SHIPPED)
    unit = await locked_unit(session, case.unit_id)
    set_state(
        session, unit, actor, now, "rma_at_vendor", UnitState.IN_REPAIR, work_order_id=case.work_order_id
    )
    case.status, case.at_vendor_since = RepairStatus.AT_VENDOR, now
    await session.flush()
    return case


async def returned_from_vendor(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    case_id: uuid.UUID,
    *,
    warehouse_id: uuid.UUID,
    version: int | None = None,
) -> RepairCase:
    """The repaired unit is back in a warehouse, held for its owner's swap-back."""
    case = await locked_case(session, case_id)
    expect_version(case, version, "repair case")
    _case_expect(case, RepairStatus.SHIPPED, RepairStatus.AT_VENDOR)
    warehouse = await session.get(Location, warehouse_id)
    if warehouse is None or warehouse.kind is not LocationKind.WAREHOUSE:
        raise field_error("warehouse_id", "no warehouse with that id")
    unit = await locked_unit(session, case.unit_id)
    await ledger.move_unit(
        session,
        actor,
        now,
        unit,
        MoveKind.RETURN,
        to=warehouse.id,
        work_order_id=case.work_order_id,
        reason="repaired, back from the vendor",
    )
    state = UnitState.RESERVED if unit.customer_owned else UnitState.QUARANTINED
    set_state(session, unit, actor, now, "rma_returned", state, work_order_id=case.work_order_id)
    case.status, case.returned_at = RepairStatus.RETURNED, now
    await session.flush()
    return case


async def write_off(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    case_id: uuid.UUID,
    *,
    note: str,
    version: int | None = None,
) -> RepairCase:
    case = await locked_case(session, case_id)
    expect_version(case, version, "repair case")
    _case_expect(case, RepairStatus.AWAITING_SHIPMENT, RepairStatus.SHIPPED, RepairStatus.AT_VENDOR)
    unit = await locked_unit(session, case.unit_id)
    if unit.location_id is not None:
        await ledger.move_unit(
            session,
            actor,
            now,
            unit,
            MoveKind.SCRAP,
            to=None,
            work_order_id=case.work_order_id,
            reason=f"written off: {note}",
        )
    set_state(session, unit, actor, now, "written_off", UnitState.SCRAPPED, work_order_id=case.work_order_id)
    case.status, case.note = RepairStatus.WRITTEN_OFF, note
    await session.flush()
    return case


# Swap-back, return to stock, wipe ---------------------------------------------------------------------


async def swap_back(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    loan_id: uuid.UUID,
    *,
    carrier: Location,
    visit_id: uuid.UUID | None,
) -> Loan:
    """The repaired unit goes back in; the backup leaves the site with the engineer, quarantined."""
    loan = await locked_loan(session, loan_id)
    _expect(loan, LoanStatus.OPEN)
    backup = await locked_unit(session, loan.unit_id)
    if loan.faulty_unit_id is not None:
        repaired = await locked_unit(session, loan.faulty_unit_id)
        if repaired.state is not UnitState.RESERVED or repaired.location_id is None:
            raise IllegalStockStep(
                f"The customer's unit {repaired.serial} is {repaired.state.value}, not back from repair",
                current_state=repaired.state.value,
            )
        await ledger.move_unit(
            session,
            actor,
            now,
            repaired,
            MoveKind.TRANSFER,
            to=loan.site_location_id,
            work_order_id=loan.work_order_id,
            visit_id=visit_id,
            reason="repaired unit reinstalled (swap-back)",
        )
        set_state(
            session,
            repaired,
            actor,
            now,
            "reinstalled",
            UnitState.INSTALLED,
            work_order_id=loan.work_order_id,
        )
    await ledger.move_unit(
        session,
        actor,
        now,
        backup,
        MoveKind.RETURN,
        to=carrier.id,
        work_order_id=loan.work_order_id,
        visit_id=visit_id,
        reason="backup unit collected (swap-back)",
    )
    set_state(
        session,
        backup,
        actor,
        now,
        "collected",
        UnitState.QUARANTINED,
        work_order_id=loan.work_order_id,
        data={"visit_id": str(visit_id) if visit_id else None},
    )
    loan.status, loan.returned_at, loan.swap_back_visit_id = LoanStatus.RETURNING, now, visit_id
    await session.flush()
    return loan


async def back_in_stock(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    unit_id: uuid.UUID,
    *,
    warehouse_id: uuid.UUID,
    version: int | None = None,
) -> Unit:
    """A returned unit reaches a warehouse; it stays quarantined until wiped."""
    unit = await locked_unit(session, unit_id)
    expect_version(unit, version, "unit")
    warehouse = await session.get(Location, warehouse_id)
    if warehouse is None or warehouse.kind is not LocationKind.WAREHOUSE:
        raise field_error("warehouse_id", "no warehouse with that id")
    if unit.location_id == warehouse.id:
        return unit
    if unit.state is not UnitState.QUARANTINED:
        raise IllegalStockStep(f"Unit {unit.serial} is {unit.state.value}, not a returned unit")
    await ledger.move_unit(
        session, actor, now, unit, MoveKind.RETURN, to=warehouse.id, reason="returned unit back in stock"
    )
    set_state(session, unit, actor, now, "back_in_stock", UnitState.QUARANTINED)
    await _close_if_done(session, actor, now, unit)
    await session.flush()
    return unit


async def record_wipe(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    unit_id: uuid.UUID,
    *,
    method: str,
    operator: str,
    version: int | None = None,
) -> Unit:
    unit = await locked_unit(session, unit_id)
    expect_version(unit, version, "unit")
    if unit.state is not UnitState.QUARANTINED:
        raise IllegalStockStep(f"Unit {unit.serial} is {unit.state.value}; only a quarantined unit is wiped")
    session.add(
        Wipe(
            id=uuid.uuid4(), unit_id=unit.id, at=now, method=method, operator=operator, actor_id=actor.user_id
        )
    )
    location = await session.get(Location, unit.location_id) if unit.location_id else None
    in_stock = location is not None and location.kind is LocationKind.WAREHOUSE
    set_state(
        session,
        unit,
        actor,
        now,
        "wiped",
        UnitState.AVAILABLE if in_stock else UnitState.QUARANTINED,
        data={"method": method, "operator": operator},
    )
    await _close_if_done(session, actor, now, unit)
    await session.flush()
    return unit


async def _close_if_done(session: AsyncSession, actor: Actor, now: dt.datetime, unit: Unit) -> None:
    """A loan closes when its unit is back in a warehouse and wiped."""
    loan = (
        await session.execute(
            select(Loan).where(Loan.unit_id == unit.id, Loan.status == LoanStatus.RETURNING).with_for_update()
        )
    ).scalar_one_or_none()
    if loan is None:
        return
    wiped = (
        await session.execute(select(Wipe.id).where(Wipe.unit_id == unit.id, Wipe.at >= loan.returned_at))
    ).first() is not None
    location = await session.get(Location, unit.location_id) if unit.location_id else None
    if wiped and location is not None and location.kind is LocationKind.WAREHOUSE:
        if unit.state is not UnitState.AVAILABLE:
            set_state(session, unit, actor, now, "released_from_quarantine", UnitState.AVAILABLE)
        loan.status, loan.closed_at = LoanStatus.CLOSED, now
        set_state(
            session, unit, actor, now, "loan_closed", UnitState.AVAILABLE, work_order_id=loan.work_order_id
        )
