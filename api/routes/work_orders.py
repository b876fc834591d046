"""Work orders: intake, lifecycle, SLA clocks, contacts, pauses; visits and their progress."""

from __future__ import annotations

import datetime as dt
import operator
import uuid
from typing import Annotated, Any

import msgspec
from litestar import get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import DESK, ENGINEERS
from api.params import AppClock, BBoxParam, CurrentActor, Cursor, Limit, Now, Search, Session
from api.schemas.common import GeoPoint, out
from api.schemas.work_orders import (
    ArriveIn,
    AssignmentIn,
    BackupOfferIn,
    ClockOut,
    ContactIn,
    DegradedIn,
    EventOut,
    FinishIn,
    NoteIn,
    NoteOut,
    PauseIn,
    SiteBrief,
    TransitionIn,
    TravelIn,
    VersionIn,
    VisitIn,
    VisitOut,
    WorkOrderIn,
    WorkOrderOut,
    WorkOrderPage,
)
from core import zones
from core.geo import BBox
from core.identity.roles import Role
from dispatch.contracts.models import Severity
from dispatch.sla.clocks import state_of
from dispatch.work_orders import details, queries, visits
from dispatch.work_orders import service as work_orders
from dispatch.work_orders.models import Status, Visit, WorkOrder, WorkOrderEvent

ORDER_READERS = DESK | {Role.ENGINEER, Role.CUSTOMER_CONTACT}
INTAKE = DESK | {Role.CUSTOMER_CONTACT}


def _local(at: dt.datetime | None, tz: str) -> str | None:
    return at.astimezone(zones.zone(tz)).isoformat() if at else None


def visit_out(visit: Visit) -> VisitOut:
    return out(VisitOut, visit, notes=[out(NoteOut, n) for n in visit.notes])


def _event_out(event: WorkOrderEvent) -> EventOut:
    return out(EventOut, event, location=GeoPoint.of(event.location) if event.location is not None else None)


def _clock_out(c: Any, now: dt.datetime, paused: bool, tz: str) -> ClockOut:
    """A clock as shown, from an `SlaClock` or a row of its columns."""
    return ClockOut(
        measure=c.measure,
        state=state_of(c, now, paused),
        started_at=c.started_at,
        deadline=c.deadline,
        deadline_local=_local(c.deadline, tz),
        remaining_seconds=(c.deadline - now).total_seconds() if c.deadline and c.met_at is None else None,
        met_at=c.met_at,
        breached_at=c.breached_at,
        customer_excused=c.customer_excused,
        target=c.target,
    )


def render(found: details.OrderDetail, now: dt.datetime) -> WorkOrderOut:
    """One work order as shown, with its timeline."""
    order, site = found.order, found.site
    return out(
        WorkOrderOut,
        order,
        site=SiteBrief(
            id=site.id,
            name=site.name,
            address=site.address,
            point=GeoPoint.of(site.point),
            time_zone=site.time_zone,
        ),
        reported_at_local=_local(order.reported_at, site.time_zone),
        clocks=[_clock_out(c, now, found.paused, site.time_zone) for c in order.clocks],
        visits=[visit_out(v) for v in order.visits],
        timeline=[_event_out(e) for e in found.timeline],
    )


# What a list row copies as is; the rest `render_rows` builds.
_BUILT = frozenset({"site", "reported_at_local", "clocks", "visits", "timeline"})
_COPIED = tuple(name for name in WorkOrderOut.__struct_fields__ if name not in _BUILT)
_copied = operator.itemgetter(*_COPIED)


def _visit_row(v: queries.VisitView) -> VisitOut:
    return msgspec.convert(v, VisitOut, from_attributes=True)


def render_rows(rows: list[queries.OrderRow], now: dt.datetime) -> list[WorkOrderOut]:
    """What `render` shows, from the rows of `queries.list_orders` (no ORM objects, no queries).
    Written out rather than through `_clock_out` and `out`: a page builds some 250 clocks."""
    rendered = []
    for row in rows:
        order = row.order
        name = order.site_time_zone
        tz = zones.zone(name)
        paused = order.paused
        clocks = []
        views: list[Any] = row.clocks  # `state_of` reads a clock's columns, of a model or a view
        for c in views:
            deadline = c.deadline
            clocks.append(
                ClockOut(
                    measure=c.measure,
                    state=state_of(c, now, paused),
                    started_at=c.started_at,
                    deadline=deadline,
                    deadline_local=deadline.astimezone(tz).isoformat() if deadline else None,
                    remaining_seconds=(
                        (deadline - now).total_seconds() if deadline and c.met_at is None else None
                    ),
                    met_at=c.met_at,
                    breached_at=c.breached_at,
                    customer_excused=c.customer_excused,
                    target=c.target,
                )
            )
        rendered.append(
            WorkOrderOut(
                # by key: a third of the cost of attribute access on a row
                **dict(zip(_COPIED, _copied(order._mapping), strict=True)),
                site=SiteBrief(
                    id=order.site_id,
                    name=order.site_name,
                    address=order.site_address,
                    point=GeoPoint(type="Point", coordinates=(order.site_lon, order.site_lat)),
                    time_zone=name,
                ),
                reported_at_local=order.reported_at.astimezone(tz).isoformat(),
                clocks=clocks,
                visits=[_visit_row(v) for v in row.visits] if row.visits else [],
                timeline=None,
            )
        )
    return rendered


async def _one(session: AsyncSession, order: WorkOrder, now: dt.datetime) -> WorkOrderOut:
    return render(await details.after_change(session, order), now)


@post(
    "/api/work-orders",
    roles=INTAKE,
    tags=["work orders"],
    summary="Report a fault (hotline desk, customer contact or integration)",
)
async def create_work_order(
    clock: AppClock, session: Session, actor: CurrentActor, data: JSONBody[WorkOrderIn]
) -> WorkOrderOut:
    intake = msgspec.convert(data, work_orders.Intake, from_attributes=True)
    order = await work_orders.create(session, actor, clock, intake)
    return await _one(session, order, clock.now())


@get(
    "/api/work-orders",
    roles=ORDER_READERS,
    tags=["work orders"],
    summary="Work orders by nearest deadline; filters: status, severity, customer, engineer, risk, map, text",
)
async def list_work_orders(
    now: Now,
    session: Session,
    actor: CurrentActor,
    status: Annotated[list[Status] | None, QueryParameter()] = None,
    severity: Annotated[list[Severity] | None, QueryParameter()] = None,
    customer_id: FromQuery[uuid.UUID | None] = None,
    engineer_id: FromQuery[uuid.UUID | None] = None,
    at_risk: FromQuery[bool | None] = None,
    breached: FromQuery[bool | None] = None,
    open_only: FromQuery[bool] = False,
    bbox: BBoxParam = None,
    q: Search = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> WorkOrderPage:
    f = queries.OrderFilter(
        statuses=tuple(status or ()),
        severities=tuple(severity or ()),
        customer_id=customer_id,
        engineer_id=engineer_id,
        at_risk=at_risk,
        breached=breached,
        open_only=open_only,
        bbox=BBox.parse(bbox) if bbox else None,
        q=q,
    )
    page = await queries.list_orders(session, actor, f, now, limit=limit, cursor=cursor)
    return WorkOrderPage(items=render_rows(page.items, now), next_cursor=page.next_cursor)


@get(
    "/api/work-orders/{order_id:uuid}",
    roles=ORDER_READERS,
    tags=["work orders"],
    summary="One work order with its visits, SLA clocks and timeline",
)
async def get_work_order(
    now: Now, session: Session, actor: CurrentActor, order_id: FromPath[uuid.UUID]
) -> WorkOrderOut:
    return render(await details.read(session, actor, order_id), now)


@post(
    "/api/work-orders/{order_id:uuid}/transitions",
    roles=INTAKE,
    tags=["work orders"],
    status_code=200,
    summary="Change status, with the version you saw (409 when stale or not allowed)",
)
async def transition(
    clock: AppClock,
    session: Session,
    actor: CurrentActor,
    order_id: FromPath[uuid.UUID],
    data: JSONBody[TransitionIn],
) -> WorkOrderOut:
    order = await work_orders.transition(
        session,
        actor,
        clock,
        order_id,
        data.version,
        data.to,
        note=data.note,
        confirmed_by=data.confirmed_by,
        confirmation_channel=data.confirmation_channel,
    )
    return await _one(session, order, clock.now())


@post(
    "/api/work-orders/{order_id:uuid}/contacts",
    roles=DESK,
    tags=["work orders"],
    summary="A named person contacted the reporter (meets the response target)",
)
async def add_contact(
    clock: AppClock,
    session: Session,
    actor: CurrentActor,
    order_id: FromPath[uuid.UUID],
    data: JSONBody[ContactIn],
) -> WorkOrderOut:
    await work_orders.record_contact(
        session,
        actor,
        clock,
        order_id,
        person_name=data.person_name,
        channel=data.channel,
        note=data.note,
        at=data.at,
    )
    return await _one(session, await work_orders.visible(session, actor, order_id), clock.now())


@post(
    "/api/work-orders/{order_id:uuid}/pauses",
    roles=DESK,
    tags=["work orders"],
    summary="Pause the SLA clocks for a customer-side cause (optionally until a given time)",
)
async def pause(
    clock: AppClock,
    session: Session,
    actor: CurrentActor,
    order_id: FromPath[uuid.UUID],
    data: JSONBody[PauseIn],
) -> WorkOrderOut:
    await work_orders.pause(
        session,
        actor,
        clock,
        order_id,
        data.version,
        reason=data.reason,
        customer_name=data.customer_name,
        channel=data.channel,
        call_reference=data.call_reference,
        until=data.until,
    )
    return await _one(session, await work_orders.visible(session, actor, order_id), clock.now())


@post(
    "/api/work-orders/{order_id:uuid}/resume",
    roles=DESK,
    tags=["work orders"],
    status_code=200,
    summary="End the customer-side pause",
)
async def resume(
    clock: AppClock,
    session: Session,
    actor: CurrentActor,
    order_id: FromPath[uuid.UUID],
    data: JSONBody[VersionIn],
) -> WorkOrderOut:
    order = await work_orders.resume_by_request(session, actor, clock, order_id, data.version)
    return await _one(session, order, clock.now())


@post(
    "/api/work-orders/{order_id:uuid}/backup-offers",
    roles=DESK,
    tags=["work orders"],
    summary="Record a backup-device offer (a declined one excuses a later restore breach)",
)
async def backup_offer(
    clock: AppClock,
    session: Session,
    actor: CurrentActor,
    order_id: FromPath[uuid.UUID],
    data: JSONBody[BackupOfferIn],
) -> WorkOrderOut:
    await work_orders.record_backup_offer(
        session,
        actor,
        clock,
        order_id,
        unit_description=data.unit_description,
        declined=data.declined,
        declined_by=data.declined_by,
        evidence=data.evidence,
    )
    return await _one(session, await work_orders.visible(session, actor, order_id), clock.now())


@post(
    "/api/work-orders/{order_id:uuid}/restored-degraded",
    roles=DESK,
    tags=["work orders"],
    status_code=200,
    summary="Service restored with a workaround: restore met, severity lowered",
)
async def restored_degraded(
    clock: AppClock,
    session: Session,
    actor: CurrentActor,
    order_id: FromPath[uuid.UUID],
    data: JSONBody[DegradedIn],
) -> WorkOrderOut:
    order = await work_orders.restore_degraded(
        session, actor, clock, order_id, data.version, new_severity=data.severity, note=data.note
    )
    return await _one(session, order, clock.now())


@post("/api/work-orders/{order_id:uuid}/visits", roles=DESK, tags=["visits"], summary="Plan a visit")
async def create_visit(
    clock: AppClock,
    session: Session,
    actor: CurrentActor,
    order_id: FromPath[uuid.UUID],
    data: JSONBody[VisitIn],
) -> VisitOut:
    plan = visits.VisitPlan(
        kind=data.kind,
        duration_minutes=data.duration_minutes,
        required_skills=dict(data.required_skills),
        required_parts=[msgspec.to_builtins(p) for p in data.required_parts],
        people_needed=data.people_needed,
        window_start=data.window_start,
        window_end=data.window_end,
        window_confirmed=data.window_confirmed,
    )
    return visit_out(await visits.create_visit(session, actor, clock, order_id, plan))


@put(
    "/api/visits/{visit_id:uuid}/assignment",
    roles=DESK,
    tags=["visits"],
    summary="Assign (and pin) a visit to an engineer, or unassign it with engineer_id null",
)
async def assign_visit(
    clock: AppClock,
    session: Session,
    actor: CurrentActor,
    visit_id: FromPath[uuid.UUID],
    data: JSONBody[AssignmentIn],
) -> VisitOut:
    visit = await visits.assign(
        session,
        actor,
        clock,
        visit_id,
        data.version,
        engineer_id=data.engineer_id,
        partner_engineer_id=data.partner_engineer_id,
        planned_start=data.planned_start,
        pinned=data.pinned,
    )
    return visit_out(visit)


@get(
    "/api/engineers/me/visits",
    roles=ENGINEERS,
    tags=["visits"],
    summary="My visits (assigned or in progress)",
)
async def my_visits(session: Session, actor: CurrentActor) -> list[VisitOut]:
    assert actor.user_id is not None
    return [visit_out(v) for v in await details.active_visits(session, actor.user_id)]


@post(
    "/api/visits/{visit_id:uuid}/start-travel",
    roles=ENGINEERS,
    tags=["visits"],
    status_code=200,
    summary="On my way",
)
async def start_travel(
    clock: AppClock,
    session: Session,
    actor: CurrentActor,
    visit_id: FromPath[uuid.UUID],
    data: JSONBody[TravelIn],
) -> VisitOut:
    return visit_out(await visits.start_travel(session, actor, clock, visit_id, at=data.at))


@post(
    "/api/visits/{visit_id:uuid}/arrive",
    roles=ENGINEERS,
    tags=["visits"],
    status_code=200,
    summary="Checked in at the site (meets the on-site target)",
)
async def arrive(
    clock: AppClock,
    session: Session,
    actor: CurrentActor,
    visit_id: FromPath[uuid.UUID],
    data: JSONBody[ArriveIn],
) -> VisitOut:
    location = data.location.lonlat if data.location else None
    visit = await visits.arrive(
        session,
        actor,
        clock,
        visit_id,
        location=location,
        at=data.at,
        proof=data.proof,
        proof_reference=data.proof_reference,
    )
    return visit_out(visit)


@post("/api/visits/{visit_id:uuid}/notes", roles=ENGINEERS, tags=["visits"], summary="Add a note")
async def add_note(
    clock: AppClock,
    session: Session,
    actor: CurrentActor,
    visit_id: FromPath[uuid.UUID],
    data: JSONBody[NoteIn],
) -> NoteOut:
    note = await visits.add_note(session, actor, clock, visit_id, body=data.body, note_id=data.id, at=data.at)
    return out(NoteOut, note)


@post(
    "/api/visits/{visit_id:uuid}/finish",
    roles=ENGINEERS,
    tags=["visits"],
    status_code=200,
    summary="Done on site: resolved, backup installed, or a follow-up visit is needed",
)
async def finish(
    clock: AppClock,
    session: Session,
    actor: CurrentActor,
    visit_id: FromPath[uuid.UUID],
    data: JSONBody[FinishIn],
) -> VisitOut:
    visit = await visits.finish(
        session,
        actor,
        clock,
        visit_id,
        outcome=data.outcome,
        note=data.note,
        restored_at=data.restored_at,
        at=data.at,
    )
    return visit_out(visit)


ROUTES = [
    create_work_order,
    list_work_orders,
    get_work_order,
    transition,
    add_contact,
    pause,
    resume,
    backup_offer,
    restored_degraded,
    create_visit,
    assign_visit,
    my_visits,
    start_travel,
    arrive,
    add_note,
    finish,
]
