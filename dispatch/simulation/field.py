"""The engineers' side of the simulation: travel, check-in, work and its outcome, each through
the services the API and the offline sync use (visits, parts, backups, photos by sync)."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import ManualClock
from core.database import get_locked
from core.errors import DomainError
from core.geo import lonlat
from core.identity.roles import Actor
from dispatch.flows import backup
from dispatch.simulation.scenario import Fault
from dispatch.simulation.world import Crew, EventLog, Place, Point
from dispatch.sla.models import PauseReason
from dispatch.work_orders import service, visits
from dispatch.work_orders.models import Visit, VisitKind, WorkOrder
from inventory import ledger, reservations
from inventory.items import item_ids_by_sku
from inventory.loans import loan_for_order
from inventory.models import Location, Reservation, ReservationStatus, Unit
from offline_sync import blobs, mutations
from routing.travel import TravelTimeProvider

PHOTO = b"simulated repair photo"
PHOTO_SHA = hashlib.sha256(PHOTO).hexdigest()
PICKUP_MINUTES = 10
INSTALL_MINUTES = 45
FOLLOW_UP_MINUTES = 60
FOLLOW_UP_WINDOW = dt.timedelta(days=5)


@dataclass(frozen=True)
class Job:
    """A visit as the engineer meets it: the fault behind it and where it is."""

    visit: Visit
    order: WorkOrder
    fault: Fault
    place: Place
    first: bool  # the order's first repair visit


def travel_seconds(
    travel: TravelTimeProvider, origin: dt.datetime, a: Point, b: Point, at: dt.datetime
) -> float:
    seconds = float(travel.matrix([a], [b])[0, 0])
    # The providers the planner uses slow down in the rush hours; the simulated drive does too.
    factor = getattr(travel, "factor_at", None)
    return seconds / float(factor((at - origin).total_seconds())) if factor else seconds


async def _pickup_point(session: AsyncSession, visit_id: uuid.UUID) -> tuple[Reservation, Point] | None:
    """A part held for the visit at a warehouse: the engineer collects it on the way."""
    row = (
        await session.execute(
            select(Reservation, Location)
            .join(Location, Location.id == Reservation.location_id)
            .where(Reservation.visit_id == visit_id, Reservation.status == ReservationStatus.ACTIVE)
            .where(Location.engineer_id.is_(None))
            .limit(1)
        )
    ).first()
    if row is None or row[1].point is None:
        return None
    return row[0], lonlat(row[1].point)


async def set_off(
    session: AsyncSession,
    clock: ManualClock,
    crew: Crew,
    job: Job,
    travel: TravelTimeProvider,
    origin: dt.datetime,
) -> tuple[dt.datetime, float]:
    """Start travel (by way of a warehouse holding parts for the visit): the arrival time and km."""
    now = clock.now()
    await visits.start_travel(session, crew.actor, clock, job.visit.id)
    legs = [crew.point, job.place.point]
    pause = 0.0
    pickup = await _pickup_point(session, job.visit.id)
    if pickup is not None:
        reservation, point = pickup
        van = await ledger.van_of(session, crew.engineer.id)
        await reservations.pick(session, crew.actor, now, reservation.id, van.id)
        legs = [crew.point, point, job.place.point]
        pause = PICKUP_MINUTES * 60.0
    seconds, km, at = pause, 0.0, now
    for a, b in itertools.pairwise(legs):
        leg = travel_seconds(travel, origin, a, b, at)
        seconds += leg
        at += dt.timedelta(seconds=leg)
        km += float(travel.distances([a], [b])[0, 0]) / 1000.0
    return now + dt.timedelta(seconds=round(seconds)), km


async def check_in(session: AsyncSession, clock: ManualClock, crew: Crew, job: Job) -> None:
    await visits.arrive(session, crew.actor, clock, job.visit.id, location=job.place.point)


async def _photo(session: AsyncSession, clock: ManualClock, crew: Crew, visit_id: uuid.UUID) -> None:
    """The repair photo, sent the way the phone sends it (blob, then the sync mutation)."""
    now = clock.now()
    await blobs.store(session, crew.actor, now, PHOTO_SHA, PHOTO, "image/jpeg")
    mutation, args = mutations.parse(
        "visit.attach_photo@1",
        {
            "visit_id": str(visit_id),
            "photo_id": str(uuid.uuid4()),
            "sha256": PHOTO_SHA,
            "at": now.isoformat(),
        },
    )
    context = mutations.Context(session, crew.actor, clock, now, now, dt.timedelta(0))
    await mutation.apply(context, args)


async def part_in_reach(session: AsyncSession, crew: Crew, visit: Visit) -> bool:
    """The visit's part is held for it (picked on the way) or free in the engineer's own stock."""
    for part in visit.required_parts:
        items = await item_ids_by_sku(session, {str(part["sku"]): 1})
        item_id = items.get(str(part["sku"]))
        if item_id is None:
            return False
        van = await ledger.van_of(session, crew.engineer.id)
        held = await session.scalar(
            select(Reservation.id).where(
                Reservation.visit_id == visit.id,
                Reservation.item_id == item_id,
                Reservation.location_id == van.id,
                Reservation.status == ReservationStatus.ACTIVE,
            )
        )
        on_hand, reserved = await ledger.balance(session, item_id, van.id)
        if held is None and on_hand - reserved < int(part.get("quantity", 1)):
            return False
    return True


async def _use_parts(session: AsyncSession, clock: ManualClock, crew: Crew, job: Job) -> None:
    for part in job.visit.required_parts:
        items = await item_ids_by_sku(session, {str(part["sku"]): 1})
        item_id = items[str(part["sku"])]
        held = await session.scalar(
            select(Reservation.id).where(
                Reservation.visit_id == job.visit.id,
                Reservation.item_id == item_id,
                Reservation.status == ReservationStatus.ACTIVE,
            )
        )
        await reservations.consume(
            session,
            crew.actor,
            clock.now(),
            engineer_id=crew.engineer.id,
            item_id=item_id,
            quantity=int(part.get("quantity", 1)),
            work_order_id=job.order.id,
            visit_id=job.visit.id,
            reservation_id=held,
            from_device=True,
        )


async def gate_wait(
    session: AsyncSession, clock: ManualClock, desk_actor: Actor, job: Job, arrived: dt.datetime
) -> None:
    """The customer kept the engineer at the gate: a pause entered after the fact."""
    order = await get_locked(session, WorkOrder, job.order.id)
    assert order is not None
    await service.pause(
        session,
        desk_actor,
        clock,
        order.id,
        order.version,
        service.PauseEvidence(PauseReason.ESCORT_DELAY, "门卫", "phone", f"SIM-GATE-{job.fault.n}"),
        started_at=arrived,
        resumed_at=arrived + dt.timedelta(minutes=job.fault.gate_delay_minutes),
    )


async def finish_repair(
    session: AsyncSession, clock: ManualClock, crew: Crew, desk: Actor, job: Job, log: EventLog, label: str
) -> str:
    """The end of a repair visit: resolved, or a follow-up (part missing, or the unit goes to
    the vendor and the engineer declares it cannot be restored in time). Returns the outcome."""
    now = clock.now()
    # Read before anything may roll a savepoint back (which expires what the session loaded).
    again = _Again(job.order.id, dict(job.visit.required_skills), list(job.visit.required_parts))
    # A backup unit already restored service: the repair closes the visit with nothing left for
    # the customer to confirm (the service refuses a second confirmation).
    restored = job.order.restored_at is not None
    if not await part_in_reach(session, crew, job.visit):
        log.add(now, "stockout", visit=label, engineer=crew.actor.username, fault=job.fault.n)
        await visits.finish(
            session, crew.actor, clock, job.visit.id, outcome=visits.Outcome.FOLLOW_UP, note="缺少备件"
        )
        await _follow_up(session, clock, desk, again, now)
        return "follow_up_part"
    if job.first and job.fault.cannot_fix:
        await visits.finish(
            session, crew.actor, clock, job.visit.id, outcome=visits.Outcome.FOLLOW_UP, note="需返厂维修"
        )
        try:
            async with session.begin_nested():
                await backup.request_backup(
                    session, crew.actor, clock, job.order.id, reason="engineer: 需返厂维修"
                )
            log.add(now, "backup_requested", fault=job.fault.n, by="engineer")
        except DomainError as exc:
            log.add(now, "backup_unavailable", fault=job.fault.n, reason=exc.detail)
            # No backup: the engineer comes back once the vendor has repaired the unit. With one,
            # the loan's swap-back is that return visit.
            await _follow_up(session, clock, desk, again, now + dt.timedelta(hours=job.fault.vendor_hours))
        return "follow_up_vendor"
    await _use_parts(session, clock, crew, job)
    await _photo(session, clock, crew, job.visit.id)
    await visits.finish(
        session, crew.actor, clock, job.visit.id, outcome=visits.Outcome.RESOLVED, note="已修复"
    )
    if restored:
        return "resolved"
    await service.confirm_restore_by_request(
        session,
        desk,
        clock,
        job.order.id,
        service.Confirmation("remote", "王经理", "phone", f"SIM-OK-{job.fault.n}"),
    )
    return "resolved"


@dataclass(frozen=True)
class _Again:
    order_id: uuid.UUID
    skills: dict[str, int]
    parts: list[dict[str, object]]


async def _follow_up(
    session: AsyncSession, clock: ManualClock, desk: Actor, again: _Again, from_: dt.datetime
) -> None:
    await visits.create_visit(
        session,
        desk,
        clock,
        again.order_id,
        visits.VisitPlan(
            VisitKind.REPAIR,
            FOLLOW_UP_MINUTES,
            required_skills=again.skills,
            required_parts=again.parts,
            window_start=from_,
            window_end=from_ + FOLLOW_UP_WINDOW,
        ),
    )


async def install(session: AsyncSession, clock: ManualClock, crew: Crew, job: Job) -> None:
    """The backup unit goes in; the customer signs the loan form."""
    loan = await loan_for_order(session, job.order.id)
    assert loan is not None
    unit = await session.get(Unit, loan.unit_id)
    assert unit is not None
    await backup.install_backup(
        session,
        crew.actor,
        clock,
        job.visit.id,
        serial=unit.serial,
        signed_by="王经理",
        configuration=unit.configuration,
        return_by=None,
        faulty_serial=None,
    )
