"""Visits: planning one, assigning it, and its progress on site."""

from __future__ import annotations

import uuid

import msgspec
from litestar import get, post, put
from litestar.params import FromPath, JSONBody

from api.auth import DESK, ENGINEERS, STAFF_ROLES
from api.params import AppClock, CurrentActor, Cursor, Limit, Session
from api.routes.work_orders.shapes import note_out, one_visit_out, visits_out
from api.schemas.work_orders import (
    ArriveIn,
    AssignmentIn,
    FinishIn,
    NoteIn,
    NoteOut,
    TravelIn,
    VisitIn,
    VisitOut,
    VisitPage,
)
from core.pagination import list_page
from dispatch.planning import assignment_check
from dispatch.work_orders import details, visits
from dispatch.work_orders.names import people_names


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
    return await one_visit_out(session, await visits.create_visit(session, actor, clock, order_id, plan))


@put(
    "/api/visits/{visit_id:uuid}/assignment",
    roles=DESK,
    problems={409: ("conflict", "version-conflict", "assignment-refused")},
    tags=["visits"],
    summary="Assign (and pin) a visit to an engineer, or unassign it with engineer_id null; a hard "
    "rule's refusal (409 assignment-refused) is overridden only with override_reason",
)
async def assign_visit(
    clock: AppClock,
    session: Session,
    actor: CurrentActor,
    visit_id: FromPath[uuid.UUID],
    data: JSONBody[AssignmentIn],
) -> VisitOut:
    visit = await assignment_check.assign_checked(
        session,
        actor,
        clock,
        visit_id,
        data.version,
        engineer_id=data.engineer_id,
        partner_engineer_id=data.partner_engineer_id,
        planned_start=data.planned_start,
        pinned=data.pinned,
        override_reason=data.override_reason,
    )
    return await one_visit_out(session, visit)


@get(
    "/api/engineers/me/visits",
    roles=ENGINEERS,
    tags=["visits"],
    summary="My visits (assigned or in progress)",
)
async def my_visits(
    session: Session, actor: CurrentActor, limit: Limit = 100, cursor: Cursor = None
) -> VisitPage:
    assert actor.user_id is not None
    found = await visits_out(session, await details.active_visits(session, actor.user_id))
    # Soonest first, as the service orders them; unplanned ones last.
    page = list_page(
        session,
        found,
        lambda v: (
            v.planned_start is None,
            v.planned_start.isoformat() if v.planned_start else "",
            str(v.id),
        ),
        purpose="my-visits",
        limit=limit,
        cursor=cursor,
    )
    return VisitPage(page.items, page.next_cursor)


@get(
    "/api/visits/{visit_id:uuid}",
    roles=STAFF_ROLES | ENGINEERS,
    tags=["visits"],
    summary="One visit (an engineer sees only the visits assigned to them)",
)
async def get_visit(session: Session, actor: CurrentActor, visit_id: FromPath[uuid.UUID]) -> VisitOut:
    return await one_visit_out(session, await visits.read_visit(session, actor, visit_id))


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
    visit = await visits.start_travel(session, actor, clock, visit_id, at=data.at, version=data.version)
    return await one_visit_out(session, visit)


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
        version=data.version,
    )
    return await one_visit_out(session, visit)


@post("/api/visits/{visit_id:uuid}/notes", roles=ENGINEERS, tags=["visits"], summary="Add a note")
async def add_note(
    clock: AppClock,
    session: Session,
    actor: CurrentActor,
    visit_id: FromPath[uuid.UUID],
    data: JSONBody[NoteIn],
) -> NoteOut:
    note = await visits.add_note(session, actor, clock, visit_id, body=data.body, note_id=data.id, at=data.at)
    return note_out(note, await people_names(session, [note.author_id]))


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
        version=data.version,
    )
    return await one_visit_out(session, visit)


ROUTES = [create_visit, assign_visit, my_visits, get_visit, start_travel, arrive, add_note, finish]
