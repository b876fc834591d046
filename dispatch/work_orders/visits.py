"""Visits: planned by dispatch, carried out by engineers. The work order follows its visits.

The engineer's actions (start travel, arrive, note, finish) are the services the
offline sync applies too, so they take the time of the action as an argument.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import Clock
from core.database import get_locked
from core.errors import Conflict, DomainError, Forbidden, NotFound, VersionConflict, field_error
from core.geo import LonLat, to_geography
from core.identity.roles import Actor, Role
from dispatch.contracts.models import Measure
from dispatch.customers.models import Site
from dispatch.engineers.models import Engineer
from dispatch.messaging.customer_messages import appointment_confirmation
from dispatch.messaging.outbox import Outgoing, enqueue_all
from dispatch.sla.clocks import meet, record_restored
from dispatch.work_orders.lifecycle import OPEN, takes_notes
from dispatch.work_orders.models import Status, Visit, VisitKind, VisitNote, VisitStatus, WorkOrder
from dispatch.work_orders.service import add_event, move, visible

ACTIVE = frozenset({VisitStatus.PLANNED, VisitStatus.ASSIGNED, VisitStatus.EN_ROUTE, VisitStatus.ON_SITE})


class Outcome(enum.StrEnum):
    RESOLVED = "resolved"
    BACKUP_INSTALLED = "backup_installed"
    # Another visit is needed: parts, a specialist, the customer's window.
    FOLLOW_UP = "follow_up"


class IllegalVisitStep(Conflict):
    slug = "illegal-visit-step"
    title = "That step does not fit the visit's state"


class DuplicateNote(Conflict):
    slug = "duplicate"
    title = "Already exists"


class PhotoRequired(DomainError):
    slug = "photo-required"
    status = 422
    title = "A resolved repair needs a photo"


class ProofMismatch(DomainError):
    slug = "proof-mismatch"
    status = 422
    title = "The arrival proof does not match the site"


# How an arrival is proven where there is no GPS fix: the QR code at the site's reception
# (its content is the site's reception code) or the customer's confirmation (their name).
PROOFS = frozenset({"gps", "qr_code", "customer_confirmation", "none"})


@dataclass(frozen=True)
class VisitPlan:
    kind: VisitKind
    duration_minutes: int
    required_skills: dict[str, int] = field(default_factory=dict)
    required_parts: list[dict[str, object]] = field(default_factory=list)
    people_needed: int = 1
    window_start: dt.datetime | None = None
    window_end: dt.datetime | None = None
    window_confirmed: bool = False


async def create_visit(
    session: AsyncSession, actor: Actor, clock: Clock, order_id: uuid.UUID, plan: VisitPlan
) -> Visit:
    order = await visible(session, actor, order_id, lock=True)
    if order.status not in OPEN:
        raise Conflict("A closed or cancelled work order gets no new visits")
    if (plan.window_start is None) != (plan.window_end is None):
        raise field_error("window_end", "give both ends of the window or neither")
    if plan.window_start and plan.window_end and plan.window_start >= plan.window_end:
        raise field_error("window_end", "the window must end after it starts")
    if plan.window_confirmed and plan.window_start is None:
        raise field_error("window_confirmed", "only a window can be confirmed")
    visit = Visit(
        id=uuid.uuid4(),
        work_order_id=order.id,
        kind=plan.kind,
        status=VisitStatus.PLANNED,
        duration_minutes=plan.duration_minutes,
        required_skills=plan.required_skills,
        required_parts=plan.required_parts,
        people_needed=plan.people_needed,
        window_start=plan.window_start,
        window_end=plan.window_end,
        window_confirmed=plan.window_confirmed,
        version=1,
        notes=[],
    )
    session.add(visit)
    order.visits.append(visit)
    add_event(
        session,
        order,
        actor,
        clock.now(),
        "visit_planned",
        data={"visit_id": str(visit.id), "kind": plan.kind.value},
    )
    await session.flush()
    return visit


async def read_visit(session: AsyncSession, actor: Actor, visit_id: uuid.UUID) -> Visit:
    """One visit for reading: staff see every visit, an engineer only the ones assigned to them
    (another's answers exactly like a visit that does not exist)."""
    visit = await session.get(Visit, visit_id)
    if visit is None or (
        actor.role is Role.ENGINEER and actor.user_id not in (visit.engineer_id, visit.partner_engineer_id)
    ):
        raise NotFound(f"No visit with id {visit_id}")
    return visit


async def owned_visit(
    session: AsyncSession, actor: Actor, visit_id: uuid.UUID, *, work_order_id: uuid.UUID | None = None
) -> tuple[Visit, WorkOrder]:
    """The visit and its work order, both locked, if this actor may act on them: an engineer on
    the visits they are assigned to, a customer contact within their organisation, the desk on all.
    Anyone else's visit answers exactly like a visit that does not exist. With `work_order_id`,
    the visit must also belong to that work order."""
    visit = await get_locked(session, Visit, visit_id)
    if visit is None:
        raise NotFound(f"No visit with id {visit_id}")
    if actor.role is Role.ENGINEER and actor.user_id not in (visit.engineer_id, visit.partner_engineer_id):
        raise NotFound(f"No visit with id {visit_id}")
    try:
        order = await visible(session, actor, visit.work_order_id, lock=True)
    except NotFound:
        raise NotFound(f"No visit with id {visit_id}") from None
    if work_order_id is not None and order.id != work_order_id:
        raise field_error("visit_id", "the visit belongs to another work order")
    return visit, order


async def order_and_visit(
    session: AsyncSession, actor: Actor, work_order_id: uuid.UUID | None, visit_id: uuid.UUID | None
) -> tuple[WorkOrder | None, Visit | None]:
    """A work order and a visit named together (either may be absent): each one this actor may
    act on, and the visit one of that order's. Without an order, the visit's own is returned."""
    order = await visible(session, actor, work_order_id, lock=True) if work_order_id is not None else None
    if visit_id is None:
        return order, None
    visit, visit_order = await owned_visit(session, actor, visit_id, work_order_id=work_order_id)
    return order or visit_order, visit


def at_version(visit: Visit, version: int) -> None:
    if visit.version != version:
        raise VersionConflict(
            f"You acted on version {version}, but the visit is at version {visit.version}; reload it",
            current_version=visit.version,
            current_status=visit.status.value,
        )


async def _engineer(session: AsyncSession, engineer_id: uuid.UUID, name: str) -> Engineer:
    engineer = await session.get(Engineer, engineer_id)
    if engineer is None or not engineer.active:
        raise field_error(name, "no active engineer with that id")
    return engineer


def check_reassignable(visit: Visit) -> None:
    """Only a visit not yet under way is given to an engineer by hand."""
    if visit.status not in {VisitStatus.PLANNED, VisitStatus.ASSIGNED}:
        raise IllegalVisitStep(
            f"A visit that is {visit.status.value} cannot be reassigned here",
            current_status=visit.status.value,
        )


@dataclass(frozen=True)
class Assignment:
    """One visit given to an engineer (or a crew of two) at a start, or taken back (`engineer_id`
    None), acting on the visit at `version`."""

    visit_id: uuid.UUID
    version: int
    engineer_id: uuid.UUID | None
    partner_engineer_id: uuid.UUID | None
    planned_start: dt.datetime | None
    pinned: bool


async def assign(
    session: AsyncSession,
    actor: Actor,
    clock: Clock,
    visit_id: uuid.UUID,
    version: int,
    *,
    engineer_id: uuid.UUID | None,
    partner_engineer_id: uuid.UUID | None,
    planned_start: dt.datetime | None,
    pinned: bool,
) -> Visit:
    """A dispatcher's manual assignment (and pin); None unassigns."""
    one = Assignment(visit_id, version, engineer_id, partner_engineer_id, planned_start, pinned)
    return (await assign_all(session, actor, clock, [one]))[0]


async def assign_all(
    session: AsyncSession, actor: Actor, clock: Clock, assignments: Sequence[Assignment]
) -> list[Visit]:
    """`assign` for many visits (a plan applied): each checked and changed in memory, the
    customers' confirmations queued in one statement, and one flush writes them all — with their
    timeline events, audit trail and the phones' change rows, as one flush per visit would. Rows
    already locked or loaded (visits, work orders, sites, engineers) are not read again."""
    now = clock.now()
    visits: list[Visit] = []
    messages: list[Outgoing] = []
    for assignment in assignments:
        visit, message = await _assign(session, actor, now, assignment)
        visits.append(visit)
        if message is not None:
            messages.append(message)
    await enqueue_all(session, now, messages)
    await session.flush()
    return visits


async def _assign(
    session: AsyncSession, actor: Actor, now: dt.datetime, a: Assignment
) -> tuple[Visit, Outgoing | None]:
    """One assignment made in memory, and the customer's appointment confirmation it calls for."""
    visit, order = await owned_visit(session, actor, a.visit_id)
    at_version(visit, a.version)
    check_reassignable(visit)
    message = None
    if a.engineer_id is None:
        visit.engineer_id = visit.partner_engineer_id = visit.planned_start = None
        visit.pinned = False
        visit.status = VisitStatus.PLANNED
    else:
        await _engineer(session, a.engineer_id, "engineer_id")
        if visit.people_needed > 1 and a.partner_engineer_id is None:
            raise field_error("partner_engineer_id", "a joint visit needs its second engineer")
        if a.partner_engineer_id is not None:
            if a.partner_engineer_id == a.engineer_id:
                raise field_error("partner_engineer_id", "the partner must be another engineer")
            await _engineer(session, a.partner_engineer_id, "partner_engineer_id")
        if (
            a.planned_start is not None
            and visit.window_confirmed
            and visit.window_start
            and visit.window_end
            and not (visit.window_start <= a.planned_start <= visit.window_end)
        ):
            raise field_error("planned_start", "outside the window the customer confirmed")
        visit.engineer_id, visit.partner_engineer_id = a.engineer_id, a.partner_engineer_id
        visit.planned_start, visit.pinned = a.planned_start, a.pinned
        visit.status = VisitStatus.ASSIGNED
        site = await session.get(Site, order.site_id)
        assert site is not None
        message = appointment_confirmation(order, visit, site.time_zone)
        if order.status in {Status.NEW, Status.TRIAGED, Status.REOPENED}:
            move(session, order, actor, now, Status.SCHEDULED, note="visit assigned")
    add_event(
        session,
        order,
        actor,
        now,
        "visit_assignment",
        data={
            "visit_id": str(visit.id),
            "engineer_id": str(a.engineer_id) if a.engineer_id else None,
            "partner_engineer_id": str(a.partner_engineer_id) if a.partner_engineer_id else None,
            "planned_start": a.planned_start.isoformat() if a.planned_start else None,
            "pinned": a.pinned,
        },
    )
    return visit, message


def _require_engineer(actor: Actor, visit: Visit) -> None:
    if actor.role is not Role.ENGINEER or actor.user_id not in (visit.engineer_id, visit.partner_engineer_id):
        raise Forbidden("Only the engineers assigned to the visit record its progress")


def _check_time(at: dt.datetime, order: WorkOrder, now: dt.datetime) -> None:
    if at > now + dt.timedelta(minutes=5):
        raise field_error("at", "lies in the future")
    if at < order.reported_at:
        raise field_error("at", "before the fault was reported")


async def _engineer_step(
    session: AsyncSession,
    actor: Actor,
    clock: Clock,
    visit_id: uuid.UUID,
    at: dt.datetime | None,
    version: int | None = None,
) -> tuple[Visit, WorkOrder, dt.datetime, dt.datetime]:
    """An assigned engineer's action on a visit: the visit, its order, now, and when it happened.
    A `version` given is the one the step changes (the sync protocol's steps carry none: it
    keeps conflicting offline work its own way)."""
    visit, order = await owned_visit(session, actor, visit_id)
    _require_engineer(actor, visit)
    if version is not None:
        at_version(visit, version)
    now = clock.now()
    when = at or now
    _check_time(when, order, now)
    return visit, order, now, when


async def start_travel(
    session: AsyncSession,
    actor: Actor,
    clock: Clock,
    visit_id: uuid.UUID,
    *,
    at: dt.datetime | None = None,
    version: int | None = None,
) -> Visit:
    visit, order, now, when = await _engineer_step(session, actor, clock, visit_id, at, version)
    if visit.status is not VisitStatus.ASSIGNED:
        raise IllegalVisitStep(
            f"Travel starts from an assigned visit, not from {visit.status.value}",
            current_status=visit.status.value,
        )
    visit.status, visit.en_route_at = VisitStatus.EN_ROUTE, when
    if order.status is Status.SCHEDULED:
        move(
            session,
            order,
            actor,
            now,
            Status.EN_ROUTE,
            data={"visit_id": str(visit.id), "at": when.isoformat()},
        )
    await session.flush()
    return visit


async def arrive(
    session: AsyncSession,
    actor: Actor,
    clock: Clock,
    visit_id: uuid.UUID,
    *,
    location: LonLat | None,
    at: dt.datetime | None = None,
    proof: str = "gps",
    proof_reference: str | None = None,
    version: int | None = None,
    backdated_reason: str | None = None,
) -> Visit:
    """Check-in at the site (gate or reception): meets the on-site target.

    Proof `qr_code` carries the scanned code, which must be the site's reception code;
    `customer_confirmation` carries the name of the customer who confirmed. An arrival
    recorded later (no phones in the room) carries its reason into the timeline."""
    visit, order, now, when = await _engineer_step(session, actor, clock, visit_id, at, version)
    if visit.status not in {VisitStatus.ASSIGNED, VisitStatus.EN_ROUTE}:
        raise IllegalVisitStep(
            f"Arrival follows assignment or travel, not {visit.status.value}",
            current_status=visit.status.value,
        )
    await _check_proof(session, order, proof, proof_reference)
    visit.status, visit.arrived_at = VisitStatus.ON_SITE, when
    visit.arrival_point = to_geography(location) if location else None
    if order.status in {Status.SCHEDULED, Status.EN_ROUTE, Status.BACKUP_INSTALLED}:
        move(
            session,
            order,
            actor,
            now,
            Status.ON_SITE,
            location=location,
            data=_step_data(visit, when, backdated_reason),
        )
    meet(order, Measure.ON_SITE, when)
    await session.flush()
    return visit


def _step_data(visit: Visit, when: dt.datetime, backdated_reason: str | None) -> dict[str, str]:
    """A field step's timeline data: the visit, when it happened, and why it was recorded later."""
    data = {"visit_id": str(visit.id), "at": when.isoformat()}
    if backdated_reason is not None:
        data["backdated_reason"] = backdated_reason
    return data


async def _check_proof(session: AsyncSession, order: WorkOrder, proof: str, reference: str | None) -> None:
    if proof not in PROOFS:
        raise field_error("proof", f"one of {', '.join(sorted(PROOFS))}")
    reference = (reference or "").strip() or None
    if proof == "customer_confirmation" and reference is None:
        raise field_error("proof_reference", "the name of the customer who confirmed the arrival")
    if proof == "qr_code":
        if reference is None:
            raise field_error("proof_reference", "the code scanned at reception")
        site = await session.get(Site, order.site_id)
        assert site is not None
        if site.reception_code is None or reference != site.reception_code:
            raise ProofMismatch(
                "The scanned code is not this site's reception code"
                if site.reception_code
                else "This site has no reception code on file; prove arrival another way"
            )


async def _photos(session: AsyncSession, visit_id: uuid.UUID) -> int:
    # Attachments are stored by the offline sync (table visit_attachment); read by name so
    # dispatch does not depend on that package.
    query = text("SELECT count(*) FROM visit_attachment WHERE visit_id = :id AND kind = 'photo'")
    return int((await session.execute(query, {"id": visit_id})).scalar_one())


async def add_note(
    session: AsyncSession,
    actor: Actor,
    clock: Clock,
    visit_id: uuid.UUID,
    *,
    body: str,
    note_id: uuid.UUID | None = None,
    at: dt.datetime | None = None,
) -> VisitNote:
    """A note of the visit's engineer, while the visit takes notes (`lifecycle.takes_notes`). A
    client-chosen `note_id` that names a note already is refused, not left to the INSERT: the note
    may be in the session already (loaded with its visit, or appended by the sync's one-statement
    path), and a second object under its identity would make the flush ambiguous."""
    visit, order = await owned_visit(session, actor, visit_id)
    _require_engineer(actor, visit)
    if not takes_notes(visit.status, order.status):
        raise IllegalVisitStep(
            f"No notes on a {visit.status.value} visit of a {order.status.value} work order",
            current_status=visit.status.value,
        )
    if note_id is not None and await session.get(VisitNote, note_id) is not None:
        raise DuplicateNote(f"A note with id {note_id} exists already")
    now = clock.now()
    note = VisitNote(
        id=note_id or uuid.uuid4(), visit_id=visit.id, at=at or now, author_id=actor.user_id, body=body
    )
    session.add(note)
    await session.flush()
    return note


async def finish(
    session: AsyncSession,
    actor: Actor,
    clock: Clock,
    visit_id: uuid.UUID,
    *,
    outcome: Outcome,
    note: str | None,
    restored_at: dt.datetime | None = None,
    at: dt.datetime | None = None,
    version: int | None = None,
    backdated_reason: str | None = None,
) -> Visit:
    """The engineer is done on site. Resolved or backup installed restores service at `restored_at`."""
    visit, order, now, when = await _engineer_step(session, actor, clock, visit_id, at, version)
    if visit.status is not VisitStatus.ON_SITE:
        raise IllegalVisitStep(
            f"A visit is finished on site, not when {visit.status.value}", current_status=visit.status.value
        )
    restored = restored_at or when
    if outcome is not Outcome.FOLLOW_UP and (
        visit.arrived_at is None or not visit.arrived_at <= restored <= when
    ):
        raise field_error("restored_at", "between arrival and the end of the visit")
    if visit.kind is VisitKind.REPAIR and outcome is Outcome.RESOLVED:
        site = await session.get(Site, order.site_id)
        assert site is not None
        # Secure rooms and banks ban cameras: there the photo is waived.
        if not site.no_photography and await _photos(session, visit.id) == 0:
            raise PhotoRequired(
                "A resolved repair needs at least one photo attached to the visit "
                "(visit.attach_photo@1) unless the site is flagged no_photography"
            )
    visit.status, visit.finished_at, visit.outcome = VisitStatus.DONE, when, outcome.value
    if note:
        session.add(VisitNote(visit_id=visit.id, at=when, author_id=actor.user_id, body=note))
    target = {
        Outcome.RESOLVED: Status.RESOLVED,
        Outcome.BACKUP_INSTALLED: Status.BACKUP_INSTALLED,
        Outcome.FOLLOW_UP: Status.SCHEDULED,
    }[outcome]
    if order.status is not target:
        data = {"visit_id": str(visit.id)}
        if backdated_reason is not None:
            data |= {"at": when.isoformat(), "backdated_reason": backdated_reason}
        move(session, order, actor, now, target, note=note, data=data)
    if outcome is not Outcome.FOLLOW_UP and order.restored_at is None:
        order.restored_at = restored
        # Met at `restored` once the customer confirms (signature, remote confirmation, survey).
        record_restored(order, restored)
    if outcome is Outcome.RESOLVED:
        order.resolved_at = when
    await session.flush()
    return visit
