"""Dispatch plans (OR-Tools, off the event loop), live progress, apply; real-time re-planning."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import ServerSentEvent

from api.auth import DESK, app_context
from api.params import AppClock, CurrentActor, Cursor, Limit, Now, Session
from api.schemas.common import out
from api.schemas.planning import (
    ApplyIn,
    AssignmentCheckIn,
    FindingOut,
    InsertIn,
    MovedOut,
    OverrunIn,
    PlanIn,
    PlanOut,
    ProposalOut,
    VerdictOut,
    VerdictPage,
)
from core import zones
from core.errors import field_error
from core.identity.roles import Role
from core.pagination import list_page
from core.times import FIRST_YEAR, LAST_YEAR
from dispatch.planning import assignment_check, comparison, progress, replanning, timeline
from dispatch.planning import plans as service
from dispatch.planning.models import Plan, PlanStatus


def plan_out(plan: Plan, queue_position: int | None = None) -> PlanOut:
    return out(PlanOut, plan, queue_position=queue_position if plan.status is PlanStatus.QUEUED else None)


async def plan_with_position(session: Session, plan: Plan, limits: service.PlanLimits) -> PlanOut:
    return plan_out(plan, await service.queue_position(session, plan, limits))


def verdict_out(v: assignment_check.Verdict) -> VerdictOut:
    return out(
        VerdictOut,
        v,
        allowed=v.allowed,
        fits=v.fits,
        findings=[out(FindingOut, f) for f in v.findings],
        others=[out(MovedOut, m) for m in v.others],
    )


def _proposal_out(p: replanning.Proposal) -> ProposalOut:
    shifted = [{"visit_id": str(v), "planned_start": s.isoformat()} for v, s in p.shifted]
    return out(ProposalOut, p, shifted=shifted)


@post(
    "/api/dispatch/plans",
    roles=DESK,
    tags=["dispatch"],
    status_code=202,
    summary="Plan the open visits (runs in the background, queued behind running plans; poll or "
    "stream the plan). 429 too-many-plans when the queue or your share of it is full",
)
async def create_plan(
    request: Request[Any, Any, Any], now: Now, session: Session, actor: CurrentActor, data: JSONBody[PlanIn]
) -> PlanOut:
    context = app_context(request)
    longest = context.settings.plan_max_seconds
    if data.time_limit_seconds > longest:
        raise field_error("time_limit_seconds", f"at most {longest:g} seconds on this server")
    plan = await service.create(
        session,
        actor,
        now,
        horizon_s=data.horizon_hours * 3600,
        engineer_ids=data.engineer_ids,
        time_limit_s=data.time_limit_seconds,
        solution_limit=data.solution_limit,
        limits=context.plans,
    )
    return await plan_with_position(session, plan, context.plans)


@get(
    "/api/dispatch/plans/{plan_id:uuid}", roles=DESK, tags=["dispatch"], summary="A plan: progress, or result"
)
async def get_plan(
    request: Request[Any, Any, Any], session: Session, plan_id: FromPath[uuid.UUID]
) -> PlanOut:
    limits = app_context(request).plans
    return await plan_with_position(session, await service.get(session, plan_id, limits), limits)


@get(
    "/api/dispatch/plans/{plan_id:uuid}/stream",
    roles=DESK,
    tags=["dispatch"],
    streaming=True,
    media_type="text/event-stream",
    summary="Server-sent events: the plan's progress until it is done",
)
async def stream_plan(request: Request[Any, Any, Any], plan_id: FromPath[uuid.UUID]) -> ServerSentEvent:
    context = app_context(request)
    async with context.sessionmaker() as session:
        await service.get(session, plan_id)  # 404 before the stream starts
    snapshots = progress.snapshots(context.sessionmaker, context.plans, plan_id)
    return ServerSentEvent((json.dumps(s) async for s in snapshots), event_type="progress")


@get(
    "/api/dispatch/plans/{plan_id:uuid}/comparison",
    roles=DESK,
    tags=["dispatch"],
    summary="The plan beside what is assigned now: the visits it moves, assigned, unassigned and "
    "predicted breaches before and after",
)
async def compare_plan(session: Session, plan_id: FromPath[uuid.UUID]) -> comparison.Comparison:
    return await comparison.compare(session, plan_id)


@post(
    "/api/dispatch/plans/{plan_id:uuid}/apply",
    roles=DESK,
    tags=["dispatch"],
    status_code=200,
    summary="Apply a plan — every route, or only the given engineers' (409 when its visits changed since)",
)
async def apply_plan(
    clock: AppClock,
    session: Session,
    actor: CurrentActor,
    plan_id: FromPath[uuid.UUID],
    data: JSONBody[ApplyIn | None] = None,
) -> PlanOut:
    engineer_ids = data.engineer_ids if data is not None else None
    return plan_out(await service.apply(session, actor, clock, plan_id, engineer_ids))


@post(
    "/api/dispatch/emergency-insertion",
    roles=DESK,
    tags=["dispatch"],
    status_code=200,
    summary="Best engineer and position for one urgent visit, now (apply: assign it)",
)
async def emergency(
    clock: AppClock, session: Session, actor: CurrentActor, data: JSONBody[InsertIn]
) -> ProposalOut:
    proposal = await replanning.emergency_insertion(session, actor, clock, data.visit_id, apply=data.apply)
    return _proposal_out(proposal)


@post(
    "/api/dispatch/engineers/{engineer_id:uuid}/unavailable",
    roles=DESK,
    tags=["dispatch"],
    status_code=200,
    summary="An engineer is out: their visits not started are re-assigned",
)
async def unavailable(
    clock: AppClock, session: Session, actor: CurrentActor, engineer_id: FromPath[uuid.UUID]
) -> list[ProposalOut | str]:
    outcomes = await replanning.engineer_unavailable(session, actor, clock, engineer_id)
    return [o if isinstance(o, str) else _proposal_out(o) for o in outcomes]


@post(
    "/api/visits/{visit_id:uuid}/overrun",
    roles=DESK | {Role.ENGINEER},
    tags=["dispatch"],
    status_code=200,
    summary="A visit takes longer: later visits of that engineer move back",
)
async def overrun(
    clock: AppClock,
    session: Session,
    actor: CurrentActor,
    visit_id: FromPath[uuid.UUID],
    data: JSONBody[OverrunIn],
) -> list[dict[str, str]]:
    moved = await replanning.overrun(
        session, actor, clock, visit_id, dt.timedelta(minutes=data.extra_minutes), version=data.version
    )
    return [{"visit_id": str(v), "planned_start": s.isoformat()} for v, s in moved]


@post(
    "/api/visits/{visit_id:uuid}/assignment/check",
    roles=DESK,
    tags=["dispatch"],
    status_code=200,
    summary="Dry run of an assignment: the rules, the arrival, the SLA effect on this visit and on "
    "the engineer's other visits (nothing is written)",
)
async def check_assignment(
    clock: AppClock,
    session: Session,
    actor: CurrentActor,
    visit_id: FromPath[uuid.UUID],
    data: JSONBody[AssignmentCheckIn],
) -> VerdictOut:
    verdict = await assignment_check.check(
        session, actor, clock, visit_id, data.engineer_id, data.planned_start
    )
    return verdict_out(verdict)


@get(
    "/api/visits/{visit_id:uuid}/candidates",
    roles=DESK,
    tags=["dispatch"],
    summary="Every engineer ranked for a visit by the assignment dry run (allowed and fitting first)",
)
async def assignment_candidates(
    clock: AppClock,
    session: Session,
    actor: CurrentActor,
    visit_id: FromPath[uuid.UUID],
    limit: Limit = 100,
    cursor: Cursor = None,
) -> VerdictPage:
    ranked = [verdict_out(v) for v in await assignment_check.candidates(session, actor, clock, visit_id)]
    rank = {v.engineer_id: i for i, v in enumerate(ranked)}
    page = list_page(
        session,
        ranked,
        lambda v: (rank[v.engineer_id], str(v.engineer_id)),
        purpose=f"candidates:{visit_id}",
        limit=limit,
        cursor=cursor,
    )
    return VerdictPage(page.items, page.next_cursor)


BoardDay = Annotated[
    dt.date | None, QueryParameter(name="from", description="the first day, in time_zone (default today)")
]
BoardDays = Annotated[int, QueryParameter(ge=1, le=7, description="how many days")]
BoardZone = Annotated[
    str | None, QueryParameter(max_length=64, description="IANA zone of the days (default Asia/Shanghai)")
]


@get(
    "/api/dispatch/board",
    roles=DESK,
    tags=["dispatch"],
    summary="Each engineer's days (shifts, standby, visits with the drive before each) and the "
    "queue of visits nobody has, nearest deadline first",
)
async def dispatch_board(
    now: Now,
    session: Session,
    start: BoardDay = None,
    days: BoardDays = 2,
    time_zone: BoardZone = None,
) -> timeline.Board:
    zone = zones.checked(time_zone, "time_zone") if time_zone else zones.DEFAULT_TIME_ZONE
    first = start or now.astimezone(zones.zone(zone)).date()
    if not FIRST_YEAR <= first.year <= LAST_YEAR:
        raise field_error("from", f"a day in {FIRST_YEAR}–{LAST_YEAR}")
    return await timeline.board(session, now, first, days, zone)


ROUTES = [
    create_plan,
    get_plan,
    stream_plan,
    apply_plan,
    compare_plan,
    emergency,
    unavailable,
    overrun,
    check_assignment,
    assignment_candidates,
    dispatch_board,
]
