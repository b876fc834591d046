"""Work orders: intake, status transitions with versions, the timeline, contacts, pauses."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Sequence, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core import zones
from core.clock import Clock
from core.database import get_locked
from core.errors import Conflict, Forbidden, InvalidInput, NotFound, VersionConflict, field_error
from core.geo import LonLat, to_geography
from core.identity.models import User
from core.identity.roles import Actor, Role
from core.jsonable import jsonable
from dispatch.contracts.models import Contract, Measure, Severity
from dispatch.customers.access import customer_scope
from dispatch.customers.models import Asset, Customer, Site
from dispatch.inspections.models import Inspection
from dispatch.sla.clocks import (
    confirm_restored,
    meet,
    pauses_of,
    record_restored,
    refresh_deadlines,
    start_clocks,
    stop_or_restart,
)
from dispatch.sla.models import PauseReason, SlaPause
from dispatch.work_orders.lifecycle import OPEN, allowed_next
from dispatch.work_orders.models import (
    BackupOffer,
    Channel,
    ContactRecord,
    Status,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderKind,
)

WORK_ORDER_NUMBER = Sequence("work_order_number_seq")
REPEAT_FAULT_WINDOW = dt.timedelta(days=7)
# A report "received" in the future is a client clock error, not a report.
CLOCK_TOLERANCE = dt.timedelta(minutes=5)
MAX_BACKDATE = dt.timedelta(days=30)


class PauseOverlaps(Conflict):
    slug = "pause-overlaps"
    title = "Overlaps another pause"


class IllegalTransition(Conflict):
    slug = "illegal-transition"
    title = "That status change is not allowed"


@dataclass(frozen=True)
class Intake:
    site_id: uuid.UUID
    contact_name: str
    contact_phone: str
    fault_description: str
    severity: Severity
    channel: Channel
    customer_id: uuid.UUID | None = None
    asset_id: uuid.UUID | None = None
    asset_model: str | None = None
    asset_serial: str | None = None
    purchase_date: dt.date | None = None
    impact_scope: str | None = None
    reported_at: dt.datetime | None = None


def add_event(
    session: AsyncSession,
    order: WorkOrder,
    actor: Actor,
    at: dt.datetime,
    kind: str,
    *,
    from_status: Status | None = None,
    to_status: Status | None = None,
    note: str | None = None,
    location: LonLat | None = None,
    data: dict[str, Any] | None = None,
) -> WorkOrderEvent:
    event = WorkOrderEvent(
        work_order_id=order.id,
        at=at,
        actor_id=actor.user_id,
        kind=kind,
        from_status=from_status.value if from_status else None,
        to_status=to_status.value if to_status else None,
        note=note,
        location=to_geography(location) if location else None,
        data=data or {},
    )
    session.add(event)
    return event


async def _contract_for(
    session: AsyncSession, site: Site, asset: Asset | None, on: dt.date
) -> Contract | None:
    if asset is not None and asset.contract_id is not None:
        return await session.get(Contract, asset.contract_id)
    rows = await session.execute(
        select(Contract)
        .where(Contract.customer_id == site.customer_id, Contract.starts_on <= on, Contract.ends_on >= on)
        .order_by(Contract.calendar_kind, Contract.contract_number)
        .limit(1)
    )
    return rows.scalar_one_or_none()


def _check_reported_at(reported_at: dt.datetime, now: dt.datetime, *, imported: bool) -> None:
    if reported_at > now + CLOCK_TOLERANCE:
        raise field_error("reported_at", "lies in the future")
    # Live intake raises live alarms, so it takes the last 30 days only; older reports (a service
    # desk moving onto the system, a paper backlog after an outage) come through the import.
    if not imported and reported_at < now - MAX_BACKDATE:
        raise field_error(
            "reported_at",
            "more than 30 days ago: live intake takes the last 30 days; "
            "enter older reports through POST /api/work-orders/imports",
        )


async def create(
    session: AsyncSession, actor: Actor, clock: Clock, intake: Intake, *, imported: bool = False
) -> WorkOrder:
    now = clock.now()
    reported_at = intake.reported_at or now
    _check_reported_at(reported_at, now, imported=imported)
    site = await session.get(Site, intake.site_id)
    scope = customer_scope(actor)
    if site is None or (scope is not None and site.customer_id != scope):
        raise NotFound(f"No site with id {intake.site_id}")
    if intake.customer_id is not None and intake.customer_id != site.customer_id:
        raise field_error("customer_id", "the site belongs to another customer")
    customer = await session.get(Customer, site.customer_id)
    assert customer is not None
    asset = await _asset(session, actor, intake, site)
    contract = await _contract_for(session, site, asset, reported_at.date())
    warranty_end = asset.warranty_end if asset else None
    number = int((await session.execute(select(WORK_ORDER_NUMBER.next_value()))).scalar_one())
    local_day = reported_at.astimezone(zones.zone(site.time_zone)).date()
    order = WorkOrder(
        id=uuid.uuid4(),
        problem_number=f"WO-{local_day.year}-{number:06d}",
        archive_id=f"{customer.customer_number}-{number:06d}-{local_day:%Y%m%d}",
        customer_id=site.customer_id,
        site_id=site.id,
        asset_id=asset.id if asset else None,
        contract_id=contract.id if contract else None,
        asset_model=asset.model if asset else intake.asset_model,
        asset_serial=asset.serial if asset else intake.asset_serial,
        purchase_date=(asset.purchase_date if asset else None) or intake.purchase_date,
        warranty_end=warranty_end,
        # Out of warranty, or nothing on file that covers it: the service is paid.
        # Out of warranty, or no warranty on file: the service is paid.
        billable=warranty_end is None or warranty_end < local_day,
        contact_name=intake.contact_name,
        contact_phone=intake.contact_phone,
        fault_description=intake.fault_description,
        impact_scope=intake.impact_scope,
        severity=intake.severity,
        channel=intake.channel,
        status=Status.NEW,
        reported_at=reported_at,
        reported_by=actor.user_id,
        imported=imported,
        version=1,
        clocks=[],
        visits=[],
    )
    session.add(order)
    await session.flush()
    await start_clocks(session, order, contract, site, start_from=reported_at)
    add_event(
        session,
        order,
        actor,
        now,
        "created",
        to_status=Status.NEW,
        data={"channel": intake.channel.value, "reported_at": reported_at.isoformat(), "imported": imported},
    )
    return order


async def _asset(session: AsyncSession, actor: Actor, intake: Intake, site: Site) -> Asset | None:
    if intake.asset_id is not None:
        asset = await session.get(Asset, intake.asset_id)
        owner = await session.get(Site, asset.site_id) if asset is not None else None
        scope = customer_scope(actor)
        if asset is None or owner is None or (scope is not None and owner.customer_id != scope):
            # Another organisation's asset does not exist for a customer contact.
            raise NotFound(f"No asset with id {intake.asset_id}")
        if owner.customer_id != site.customer_id:
            raise field_error("asset_id", "the asset belongs to another customer than the site")
        return asset
    if intake.asset_serial:
        # Known serial at this customer: link it, so warranty and contract come from the register.
        rows = await session.execute(
            select(Asset)
            .join(Site, Site.id == Asset.site_id)
            .where(Asset.serial == intake.asset_serial, Site.customer_id == site.customer_id)
        )
        found = rows.scalars().first()
        if found is not None:
            return found
    if not (intake.asset_model and intake.asset_serial):
        raise field_error("asset_id", "give the asset, or its model and serial number")
    return None


# Reading, with access rules --------------------------------------------------------------------


async def visible(
    session: AsyncSession, actor: Actor, order_id: uuid.UUID, *, lock: bool = False
) -> WorkOrder:
    """The work order if this actor may see it (others' do not exist for them)."""
    order = (
        await get_locked(session, WorkOrder, order_id, populate_existing=True)
        if lock
        else await session.get(WorkOrder, order_id)
    )
    if order is None or not await may_see(session, actor, order):
        raise NotFound(f"No work order with id {order_id}")
    return order


async def may_see(session: AsyncSession, actor: Actor, order: WorkOrder) -> bool:
    if actor.role is Role.CUSTOMER_CONTACT:
        return order.customer_id == actor.customer_id
    if actor.role is Role.ENGINEER:
        return any(actor.user_id in (v.engineer_id, v.partner_engineer_id) for v in order.visits)
    return actor.role in {Role.ADMIN, Role.SUPERVISOR, Role.DISPATCHER}


# Transitions --------------------------------------------------------------------------------------


async def locked_at_version(
    session: AsyncSession, actor: Actor, order_id: uuid.UUID, version: int
) -> WorkOrder:
    """The order, row-locked, if the client's version is current; else 409 with the current state."""
    order = await visible(session, actor, order_id, lock=True)
    if order.version != version:
        by, at = await last_change(session, order_id)
        raise VersionConflict(
            f"You acted on version {version}, but the work order is at version {order.version}"
            + (f" ({by} changed it)" if by else "")
            + "; reload it",
            current_version=order.version,
            current_status=order.status.value,
            changed_by=by,
            changed_at=at.isoformat() if at else None,
        )
    return order


async def last_change(session: AsyncSession, order_id: uuid.UUID) -> tuple[str | None, dt.datetime | None]:
    """Who made the order's latest timeline entry, and when: what a desk that lost a race is told."""
    row = (
        await session.execute(
            select(User.display_name, WorkOrderEvent.at)
            .join(User, User.id == WorkOrderEvent.actor_id, isouter=True)
            .where(WorkOrderEvent.work_order_id == order_id)
            .order_by(WorkOrderEvent.id.desc())
            .limit(1)
        )
    ).first()
    return (row[0], row[1]) if row else (None, None)


async def next_statuses(
    session: AsyncSession, actor: Actor, order_id: uuid.UUID
) -> tuple[WorkOrder, frozenset[Status]]:
    """The statuses the order may move to now (the state machine's answer, for buttons)."""
    order = await visible(session, actor, order_id)
    return order, allowed_next(order.status, order.resume_status)


def move(
    session: AsyncSession,
    order: WorkOrder,
    actor: Actor,
    at: dt.datetime,
    target: Status,
    *,
    note: str | None = None,
    location: LonLat | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Change status if the state machine allows it, with its event."""
    allowed = allowed_next(order.status, order.resume_status)
    if target not in allowed:
        raise IllegalTransition(
            f"A work order that is {order.status.value} cannot become {target.value}",
            current_status=order.status.value,
            allowed=sorted(s.value for s in allowed),
        )
    previous = order.status
    if target is Status.WAITING_CUSTOMER:
        order.resume_status = previous
    elif previous is Status.WAITING_CUSTOMER:
        order.resume_status = None
    order.status = target
    stop_or_restart(order, at)
    add_event(
        session,
        order,
        actor,
        at,
        "status",
        from_status=previous,
        to_status=target,
        note=note,
        location=location,
        data=data,
    )


async def transition(
    session: AsyncSession,
    actor: Actor,
    clock: Clock,
    order_id: uuid.UUID,
    version: int,
    target: Status,
    *,
    note: str | None = None,
    confirmed_by: str | None = None,
    confirmation_channel: str | None = None,
) -> WorkOrder:
    order = await locked_at_version(session, actor, order_id, version)
    now = clock.now()
    if actor.role is Role.CUSTOMER_CONTACT and target not in {Status.SIGNED, Status.CLOSED, Status.REOPENED}:
        raise Forbidden("Customers confirm, close or reopen; dispatch does the rest")
    if target is Status.WAITING_CUSTOMER:
        raise InvalidInput(
            "Waiting on the customer pauses the SLA clocks: "
            "use POST /api/work-orders/{id}/pauses with the customer-side cause",
            errors=[{"field": "to", "message": "use the pauses endpoint"}],
        )
    if order.status is Status.WAITING_CUSTOMER and target is order.resume_status:
        await resume(session, actor, now, order)
        await session.flush()
        return order
    if target is Status.SIGNED:
        if not (confirmed_by and confirmation_channel):
            raise field_error(
                "confirmed_by", "signing needs the customer's name and the channel of confirmation"
            )
        order.confirmed_by, order.confirmed_at, order.confirmed_channel = (
            confirmed_by,
            now,
            confirmation_channel,
        )
        confirm_restore(
            session, order, actor, now, Confirmation("signed", confirmed_by, confirmation_channel, None)
        )
    # A reopen within 7 days of closing is a repeat fault on the same work order.
    if (
        target is Status.REOPENED
        and order.closed_at is not None
        and now - order.closed_at <= REPEAT_FAULT_WINDOW
    ):
        order.repeat_faults += 1
    move(
        session,
        order,
        actor,
        now,
        target,
        note=note,
        data={"confirmed_by": confirmed_by, "channel": confirmation_channel} if confirmed_by else None,
    )
    if target in {Status.RESOLVED, Status.REMOTE_FIX}:
        order.resolved_at = now
        # A fix done on site or remotely restores service; the customer's confirmation meets the clock.
        if order.restored_at is None:
            order.restored_at = now
            record_restored(order, now)
    if target is Status.CLOSED:
        order.closed_at = now
        meet(order, Measure.PERMANENT_FIX, now)
    if target is Status.REOPENED:
        order.closed_at = None
        if order.kind is WorkOrderKind.INSPECTION:
            # Finishing set the sort key aside; reopened, the inspection waits for its window's end
            # again (already past: it sorts among the overdue).
            window_end = await session.scalar(
                select(Inspection.window_end).where(Inspection.work_order_id == order.id)
            )
            order.due_at = window_end or now
    await session.flush()
    return order


# Contacts, pauses, confirmations ----------------------------------------------------------------


async def record_contact(
    session: AsyncSession,
    actor: Actor,
    clock: Clock,
    order_id: uuid.UUID,
    *,
    person_name: str,
    channel: str,
    note: str | None,
    at: dt.datetime | None,
) -> ContactRecord:
    """A named person reached the reporter: meets the response target (an automatic reply does not)."""
    order = await visible(session, actor, order_id, lock=True)
    now = clock.now()
    when = at or now
    if when > now + CLOCK_TOLERANCE or when < order.reported_at:
        raise field_error("at", "between the report and now")
    contact = ContactRecord(
        work_order_id=order.id,
        at=when,
        by_user_id=actor.user_id,
        person_name=person_name,
        channel=channel,
        note=note,
    )
    session.add(contact)
    meet(order, Measure.RESPONSE, when)
    add_event(
        session, order, actor, now, "contact", note=note, data={"person": person_name, "channel": channel}
    )
    if order.status is Status.NEW:
        move(session, order, actor, now, Status.TRIAGED, note="responded")
    await session.flush()
    return contact


async def _order_context(session: AsyncSession, order: WorkOrder) -> tuple[Contract | None, Site]:
    site = await session.get(Site, order.site_id)
    assert site is not None
    contract = await session.get(Contract, order.contract_id) if order.contract_id else None
    return contract, site


@dataclass(frozen=True)
class PauseEvidence:
    """Who on the customer's side caused the pause, and the record of the call."""

    reason: PauseReason
    customer_name: str
    channel: str
    call_reference: str


def _pause_end(record: SlaPause) -> dt.datetime | None:
    """Where a pause ends on the order's history; None while it runs with no planned end."""
    return record.ended_at or record.until


def _check_pause_span(
    order: WorkOrder, others: list[SlaPause], now: dt.datetime, start: dt.datetime, end: dt.datetime | None
) -> None:
    """A pause lies in the order's history: after the report, not in the future, on no other pause."""
    if start < order.reported_at:
        raise field_error("started_at", "a pause cannot start before the fault was reported")
    if start > now:
        raise field_error("started_at", "a pause cannot start in the future")
    if end is not None and end > now:
        raise field_error("resumed_at", "lies in the future (use until for a planned end)")
    if end is not None and end <= start:
        raise field_error("resumed_at", "must lie after started_at")
    for other in others:
        other_end = _pause_end(other)
        if other.started_at < (end or dt.datetime.max.replace(tzinfo=dt.UTC)) and (
            other_end is None or start < other_end
        ):
            raise PauseOverlaps(
                "The clocks were already paused then: "
                f"{other.started_at.isoformat()} to {other_end.isoformat() if other_end else 'now'}"
            )


async def pause(
    session: AsyncSession,
    actor: Actor,
    clock: Clock,
    order_id: uuid.UUID,
    version: int,
    evidence: PauseEvidence,
    *,
    until: dt.datetime | None = None,
    started_at: dt.datetime | None = None,
    resumed_at: dt.datetime | None = None,
) -> SlaPause:
    """Pause every running clock for a customer-side cause; the order waits on the customer. Entered
    after the fact, the pause may have started earlier (`started_at`), and be over (`resumed_at`):
    then the order's status does not change, only its deadlines."""
    order = await locked_at_version(session, actor, order_id, version)
    now = clock.now()
    start = started_at or now
    if until is not None and (until <= now or resumed_at is not None):
        raise field_error("until", "must lie in the future, for a pause still running")
    if order.status not in OPEN:
        raise IllegalTransition("A closed or cancelled work order has no running clock")
    others = await pauses_of(session, order.id)
    if resumed_at is None and any(p.ended_at is None for p in others):
        raise Conflict("The clocks are already paused")
    _check_pause_span(order, others, now, start, resumed_at)
    record = SlaPause(
        work_order_id=order.id,
        reason=evidence.reason,
        customer_name=evidence.customer_name,
        channel=evidence.channel,
        call_reference=evidence.call_reference,
        started_at=start,
        until=until,
        ended_at=resumed_at,
        by_user_id=actor.user_id,
    )
    session.add(record)
    data = {
        "customer": evidence.customer_name,
        "channel": evidence.channel,
        "call_reference": evidence.call_reference,
        "until": until.isoformat() if until else None,
        "started_at": start.isoformat(),
        "resumed_at": resumed_at.isoformat() if resumed_at else None,
    }
    if resumed_at is None:
        move(session, order, actor, now, Status.WAITING_CUSTOMER, note=evidence.reason.value, data=data)
    else:
        add_event(session, order, actor, now, "pause_recorded", note=evidence.reason.value, data=data)
    await session.flush()
    contract, site = await _order_context(session, order)
    await refresh_deadlines(session, order, contract, site, now)
    return record


async def resume(
    session: AsyncSession, actor: Actor, now: dt.datetime, order: WorkOrder, *, at: dt.datetime | None = None
) -> None:
    """End the running pause (at `at`, default now); deadlines move by exactly the paused business time."""
    end = at or now
    rows = await session.execute(
        select(SlaPause).where(SlaPause.work_order_id == order.id, SlaPause.ended_at.is_(None))
    )
    for record in rows.scalars():
        if end < record.started_at:
            raise field_error("resumed_at", "must not lie before the pause started")
        record.ended_at = end
    if order.status is Status.WAITING_CUSTOMER:
        data = {"resumed_at": end.isoformat()} if at is not None else None
        move(
            session,
            order,
            actor,
            now,
            order.resume_status or Status.TRIAGED,
            note="clocks resumed",
            data=data,
        )
    await session.flush()
    contract, site = await _order_context(session, order)
    await refresh_deadlines(session, order, contract, site, now)


async def resume_by_request(
    session: AsyncSession,
    actor: Actor,
    clock: Clock,
    order_id: uuid.UUID,
    version: int,
    *,
    resumed_at: dt.datetime | None = None,
) -> WorkOrder:
    """End the pause now, or at `resumed_at` in the past (the customer's gate opened 40 minutes ago)."""
    order = await locked_at_version(session, actor, order_id, version)
    if order.status is not Status.WAITING_CUSTOMER:
        raise IllegalTransition(
            "The work order is not waiting on the customer", current_status=order.status.value, allowed=[]
        )
    now = clock.now()
    if resumed_at is not None and resumed_at > now:
        raise field_error("resumed_at", "lies in the future")
    await resume(session, actor, now, order, at=resumed_at)
    return order


@dataclass(frozen=True)
class Confirmation:
    """How the customer confirmed that service is restored. Kinds: `signed` (a report signature or
    the order signed with name and channel), `remote` (by phone or message, with the call record),
    `survey`, `by_default` (no answer within the contract's period)."""

    kind: str
    by: str | None
    channel: str | None
    call_reference: str | None

    def as_json(self, at: dt.datetime) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "by": self.by,
            "channel": self.channel,
            "call_reference": self.call_reference,
            "at": at.isoformat(),
        }


def confirm_restore(
    session: AsyncSession, order: WorkOrder, actor: Actor, now: dt.datetime, confirmation: Confirmation
) -> bool:
    """Record the customer's confirmation of a restore awaiting it (and say so on the timeline);
    False when no restore awaits confirmation."""
    clock = confirm_restored(order, confirmation.as_json(now))
    if clock is None:
        return False
    add_event(
        session,
        order,
        actor,
        now,
        "restore_confirmed",
        note=f"restore confirmed ({confirmation.kind})",
        data={
            **confirmation.as_json(now),
            "restored_at": jsonable(clock.met_at),
            "met": clock.breached_at is None,
        },
    )
    return True


async def confirm_restore_by_request(
    session: AsyncSession, actor: Actor, clock: Clock, order_id: uuid.UUID, confirmation: Confirmation
) -> WorkOrder:
    """The desk reached the customer, who confirmed the restore remotely (name, channel, call record)."""
    order = await visible(session, actor, order_id, lock=True)
    if not confirm_restore(session, order, actor, clock.now(), confirmation):
        raise Conflict("No restore of this work order awaits the customer's confirmation")
    await session.flush()
    return order


async def record_backup_offer(
    session: AsyncSession,
    actor: Actor,
    clock: Clock,
    order_id: uuid.UUID,
    *,
    unit_description: str,
    declined: bool,
    declined_by: str | None,
    evidence: str | None,
) -> BackupOffer:
    """An offered backup device; when the customer declines, a later restore breach is excused."""
    order = await visible(session, actor, order_id, lock=True)
    now = clock.now()
    if declined and not (declined_by and evidence):
        raise field_error("declined_by", "a declined offer needs who declined and a signature or call record")
    offer = BackupOffer(
        work_order_id=order.id,
        offered_at=now,
        unit_description=unit_description,
        declined=declined,
        declined_by=declined_by,
        evidence=evidence,
        by_user_id=actor.user_id,
    )
    session.add(offer)
    if declined:
        for clock_row in order.clocks:
            if clock_row.measure is Measure.RESTORE:
                clock_row.customer_excused = True
    add_event(
        session,
        order,
        actor,
        now,
        "backup_offer",
        note=unit_description,
        data={"declined": declined, "declined_by": declined_by, "evidence": evidence},
    )
    await session.flush()
    return offer


async def restore_degraded(
    session: AsyncSession,
    actor: Actor,
    clock: Clock,
    order_id: uuid.UUID,
    version: int,
    *,
    new_severity: Severity,
    note: str,
    confirmation: Confirmation | None = None,
) -> WorkOrder:
    """Service restored with a workaround: the restore is recorded (met once the customer confirms,
    which may come with it), the severity drops (an event, the original record kept) and the
    remaining clocks run anew from now under the lower severity."""
    order = await locked_at_version(session, actor, order_id, version)
    now = clock.now()
    order_rank = list(Severity)
    if order_rank.index(new_severity) <= order_rank.index(order.severity):
        raise field_error("severity", "a degraded restoration lowers the severity")
    previous = order.severity
    order.restored_at = now
    record_restored(order, now)
    if confirmation is not None:
        confirm_restore(session, order, actor, now, confirmation)
    order.severity = new_severity
    add_event(
        session,
        order,
        actor,
        now,
        "severity_change",
        note=note,
        data={"from": previous.value, "to": new_severity.value, "cause": "restored_degraded"},
    )
    contract, site = await _order_context(session, order)
    await start_clocks(session, order, contract, site, start_from=now, measures={Measure.PERMANENT_FIX})
    await session.flush()
    return order


async def timeline(session: AsyncSession, order_id: uuid.UUID) -> list[WorkOrderEvent]:
    rows = await session.execute(
        select(WorkOrderEvent).where(WorkOrderEvent.work_order_id == order_id).order_by(WorkOrderEvent.id)
    )
    return list(rows.scalars())


async def sequence_exists(session: AsyncSession) -> bool:
    found = await session.execute(text("SELECT to_regclass('work_order_number_seq') IS NOT NULL"))
    return bool(found.scalar_one())
