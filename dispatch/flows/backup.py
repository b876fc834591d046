"""The backup-device flow: SLA risk → backup loan → delivery visit → RMA → swap-back.

Cross-domain choreography, so it lives in dispatch (inventory never imports dispatch):
when a work order's restore clock goes at risk, or an engineer declares that the repair
cannot finish in time, the nearest compatible available unit (warehouses and engineers'
stock, ranked by travel time) is reserved under a proposed loan and a `backup_delivery`
visit is planned whose window ends at the restore deadline; a dispatcher approves the
loan. Installing the unit with the customer's signature on the loan form restores
service (the restore clock is met, the order becomes `backup_installed`) and takes the
faulty unit in for repair. When it returns from the vendor a `swap_back` visit is
planned; the swap-back resolves the order; the loan closes once the backup unit is back
in a warehouse and wiped.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import zones
from core.clock import Clock
from core.errors import DomainError, InvalidInput, NotFound
from core.geo import lonlat
from core.identity.roles import SYSTEM, Actor, Role
from dispatch.contracts.models import Measure
from dispatch.customers.models import Site
from dispatch.engineers.positions import van_points
from dispatch.messaging.notifications import notify
from dispatch.work_orders.lifecycle import OPEN
from dispatch.work_orders.models import Visit, VisitKind, VisitStatus, WorkOrder
from dispatch.work_orders.service import Confirmation, add_event, confirm_restore, visible
from dispatch.work_orders.visits import Outcome, finish, owned_visit
from inventory import alerts, items, ledger, loans, nearest
from inventory.errors import OutOfStock, UnitUnavailable
from inventory.models import Loan, LoanStatus, RepairCase
from routing.travel import HaversineTravelTime, TravelTimeProvider

DELIVERY_MINUTES = 120
SWAP_BACK_MINUTES = 90
LOAN_DAYS = 30
POSITION_FRESH_FOR = dt.timedelta(minutes=30)


class NoBackupModel(DomainError):
    slug = "no-backup-model"
    status = 422
    title = "The work order names no device model"


@dataclass(frozen=True)
class Proposal:
    loan: Loan
    visit: Visit
    source: nearest.Candidate | None


def _restore_deadline(order: WorkOrder) -> dt.datetime | None:
    clock = next((c for c in order.clocks if c.measure is Measure.RESTORE), None)
    return clock.deadline if clock is not None and clock.met_at is None else None


def _plan_visit(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    order: WorkOrder,
    kind: VisitKind,
    minutes: int,
    window_end: dt.datetime | None,
) -> Visit:
    window_start = now if window_end is not None and window_end > now else None
    visit = Visit(
        id=uuid.uuid4(),
        work_order_id=order.id,
        kind=kind,
        status=VisitStatus.PLANNED,
        duration_minutes=minutes,
        required_skills={},
        required_parts=[],
        people_needed=1,
        window_start=window_start,
        window_end=window_end if window_start else None,
        window_confirmed=False,
        version=1,
        notes=[],
    )
    session.add(visit)
    order.visits.append(visit)
    add_event(
        session, order, actor, now, "visit_planned", data={"visit_id": str(visit.id), "kind": kind.value}
    )
    return visit


async def propose_backup(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    order: WorkOrder,
    *,
    cause: str,
    travel: TravelTimeProvider | None = None,
) -> Proposal:
    """Reserve the nearest compatible unit and plan its delivery before the restore deadline.
    Asking again while a loan is active returns that loan."""
    existing = await loans.loan_for_order(session, order.id)
    if existing is not None:
        visit = next((v for v in order.visits if v.id == existing.delivery_visit_id), None)
        if visit is not None:
            return Proposal(existing, visit, None)
    if not order.asset_model:
        raise NoBackupModel("The work order names no device model to find a backup for")
    site = await session.get(Site, order.site_id)
    assert site is not None
    compatible = await items.compatible_items(session, order.asset_model)
    found = await nearest.nearest(
        session, lonlat(site.point), compatible, travel or HaversineTravelTime(), van_points, limit=8
    )
    deadline = _restore_deadline(order)
    visit = _plan_visit(session, actor, now, order, VisitKind.BACKUP_DELIVERY, DELIVERY_MINUTES, deadline)
    await session.flush()
    for candidate in (c for c in found if c.unit_id is not None):
        assert candidate.unit_id is not None
        try:
            async with session.begin_nested():
                loan = await loans.propose(
                    session,
                    actor,
                    now,
                    unit_id=candidate.unit_id,
                    work_order_id=order.id,
                    delivery_visit_id=visit.id,
                    cause=cause,
                    hold=max((deadline or now) - now, dt.timedelta(hours=4)) + dt.timedelta(hours=4),
                )
        except UnitUnavailable:
            continue  # taken by someone else meanwhile: the next nearest
        order.backup_needed = True
        add_event(
            session,
            order,
            actor,
            now,
            "backup_reserved",
            note=cause,
            data={
                "loan_id": str(loan.id),
                "unit_id": str(candidate.unit_id),
                "serial": candidate.serial,
                "from_location": candidate.code,
                "travel_seconds": round(candidate.travel_seconds),
                "visit_id": str(visit.id),
                "deadline": deadline.isoformat() if deadline else None,
            },
        )
        await session.flush()
        return Proposal(loan, visit, candidate)
    raise OutOfStock(
        f"No compatible backup unit for {order.asset_model} is available in any warehouse or van",
        model=order.asset_model,
    )


async def request_backup(
    session: AsyncSession,
    actor: Actor,
    clock: Clock,
    order_id: uuid.UUID,
    *,
    reason: str,
    travel: TravelTimeProvider | None = None,
) -> Proposal:
    """The engineer (or the desk) declares that the repair cannot finish before the deadline."""
    order = await visible(session, actor, order_id, lock=True)
    if order.status not in OPEN:
        raise InvalidInput(
            "A closed or cancelled work order needs no backup",
            errors=[{"field": "work_order_id", "message": "not open"}],
        )
    return await propose_backup(session, actor, clock.now(), order, cause=reason, travel=travel)


async def on_restore_at_risk(
    session: AsyncSession, order: WorkOrder, now: dt.datetime, travel: TravelTimeProvider
) -> Proposal | None:
    """The SLA watch's hook: propose a backup; when none can be had, tell the warehouse."""
    order_id, number = order.id, order.problem_number
    try:
        async with session.begin_nested():
            return await propose_backup(
                session, SYSTEM, now, order, cause="restore clock at risk", travel=travel
            )
    except DomainError as exc:
        # The savepoint's rollback expired the order it touched (the planned delivery visit went
        # with it): read it again here, where I/O is allowed, before the watch goes on with it.
        await session.refresh(order)
        await notify(
            session,
            now,
            kind="backup_unavailable",
            audience="warehouse",
            order_id=order_id,
            message=f"{number}: no backup unit could be reserved — {exc.detail}",
            dedupe_key=f"{order_id}:backup_unavailable",
        )
        return None


async def _loan_of_visit(session: AsyncSession, visit: Visit, field: str) -> Loan:
    loan = await loans.loan_for_order(session, visit.work_order_id)
    if loan is None:
        raise InvalidInput(
            f"{field}: no active loan on this work order", errors=[{"field": field, "message": "no loan"}]
        )
    return loan


async def install_backup(
    session: AsyncSession,
    actor: Actor,
    clock: Clock,
    visit_id: uuid.UUID,
    *,
    serial: str,
    signed_by: str,
    configuration: str | None,
    return_by: dt.date | None,
    faulty_serial: str | None,
    restored_at: dt.datetime | None = None,
) -> Loan:
    """The engineer on site installs the backup unit and the customer signs the loan form."""
    # Ownership before anything about the visit is told (its kind, its loan).
    visit, _ = await owned_visit(session, actor, visit_id)
    if visit.kind is not VisitKind.BACKUP_DELIVERY:
        raise NotFound(f"No backup delivery visit with id {visit_id}")
    now = clock.now()
    loan = await _loan_of_visit(session, visit, "visit_id")
    # Finishing the visit checks the engineer, the state and the times; it records the restore.
    await finish(
        session,
        actor,
        clock,
        visit_id,
        outcome=Outcome.BACKUP_INSTALLED,
        note=f"backup unit {serial} installed, loan form signed by {signed_by}",
        restored_at=restored_at,
    )
    order = await visible(session, actor, visit.work_order_id, lock=True)
    # Installed, configured and confirmed: the customer's signature on the loan form meets the
    # restore target at the recorded restore time.
    confirm_restore(session, order, actor, now, Confirmation("signed", signed_by, "loan_form", None))
    site = await session.get(Site, order.site_id)
    assert site is not None
    assert actor.user_id is not None
    site_stock = await ledger.site_location(session, site.id, site.name, site.point)
    carrier = await ledger.van_of(session, actor.user_id)
    loan = await loans.install(
        session,
        actor,
        now,
        loan.id,
        serial=serial,
        signed_by=signed_by,
        configuration=configuration,
        return_by=return_by or (now + dt.timedelta(days=LOAN_DAYS)).date(),
        site=site_stock,
        faulty_serial=faulty_serial or order.asset_serial,
        faulty_model=order.asset_model,
        taken_to=carrier,
    )
    add_event(
        session,
        order,
        actor,
        now,
        "backup_installed",
        note=f"loan form signed by {signed_by}",
        data={
            "loan_id": str(loan.id),
            "serial": serial,
            "return_by": loan.return_by.isoformat() if loan.return_by else None,
        },
    )
    await session.flush()
    return loan


async def repair_returned(
    session: AsyncSession,
    actor: Actor,
    clock: Clock,
    case_id: uuid.UUID,
    *,
    warehouse_id: uuid.UUID,
    version: int | None = None,
) -> tuple[RepairCase, Visit | None]:
    """The faulty unit is back from the vendor: plan the swap-back visit."""
    now = clock.now()
    case = await loans.returned_from_vendor(
        session, actor, now, case_id, warehouse_id=warehouse_id, version=version
    )
    if case.loan_id is None:
        return case, None
    loan = await loans.locked_loan(session, case.loan_id)
    if loan.status is not LoanStatus.OPEN:
        return case, None
    order = await session.get(WorkOrder, loan.work_order_id, with_for_update=True, populate_existing=True)
    assert order is not None
    visit = _plan_visit(session, actor, now, order, VisitKind.SWAP_BACK, SWAP_BACK_MINUTES, None)
    loan.swap_back_visit_id = visit.id
    add_event(
        session,
        order,
        actor,
        now,
        "swap_back_planned",
        data={"loan_id": str(loan.id), "visit_id": str(visit.id)},
    )
    await session.flush()
    return case, visit


async def complete_swap_back(
    session: AsyncSession, actor: Actor, clock: Clock, visit_id: uuid.UUID, *, note: str | None
) -> Loan:
    """On the swap-back visit: the repaired unit goes back in, the backup comes out; resolved."""
    if actor.role is not Role.ENGINEER or actor.user_id is None:
        raise NotFound(f"No swap-back visit with id {visit_id}")
    visit, _ = await owned_visit(session, actor, visit_id)
    if visit.kind is not VisitKind.SWAP_BACK:
        raise NotFound(f"No swap-back visit with id {visit_id}")
    loan = await _loan_of_visit(session, visit, "visit_id")
    await finish(session, actor, clock, visit_id, outcome=Outcome.RESOLVED, note=note or "swap-back done")
    carrier = await ledger.van_of(session, actor.user_id)
    loan = await loans.swap_back(session, actor, clock.now(), loan.id, carrier=carrier, visit_id=visit.id)
    order = await visible(session, actor, visit.work_order_id)
    add_event(session, order, actor, clock.now(), "swap_back", data={"loan_id": str(loan.id)})
    await session.flush()
    return loan


ALERT_WORDS = {
    "loan_overdue": "loan overdue since",
    "stuck_at_vendor": "at the repair vendor since",
    "defective_return_due": "defective part due back at the manufacturer (they bill after) by",
    "defective_return_overdue": "defective part not returned to the manufacturer by its deadline",
}


async def _site_zones(session: AsyncSession, order_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The time zone of each order's site, for times in the words people read."""
    if not order_ids:
        return {}
    rows = await session.execute(
        select(WorkOrder.id, Site.time_zone)
        .join(Site, Site.id == WorkOrder.site_id)
        .where(WorkOrder.id.in_(order_ids))
    )
    return {row.id: row.time_zone for row in rows}


async def raise_alerts(session: AsyncSession, now: dt.datetime) -> int:
    """Overdue loans, units stuck at the vendor and defective parts due back become notifications
    (once each)."""
    count = 0
    due = await alerts.due(session, now)
    zones_of = await _site_zones(session, {a.work_order_id for a in due if a.work_order_id is not None})
    for alert in due:
        what = ALERT_WORDS[alert.kind]
        since = alert.since
        if isinstance(since, dt.datetime):
            tz = zones_of.get(alert.work_order_id) if alert.work_order_id else None
            when = zones.local_minute(since, tz or zones.DEFAULT_TIME_ZONE)
        else:
            when = since.isoformat()
        count += await notify(
            session,
            now,
            kind=alert.kind,
            audience="dispatcher" if alert.kind == "loan_overdue" else "warehouse",
            order_id=alert.work_order_id,
            message=f"Unit {alert.serial}: {what} {when}",
            dedupe_key=f"{alert.record_id}:{alert.kind}",
        )
    return count
