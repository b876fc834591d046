"""Plans: admitted and queued by a request, solved by a queue worker (solving.py), stored,
applied by a dispatcher.

The queue is the database's: a plan row and the job that solves it are written in one
transaction, the limits are counted from the plan rows, and any worker on any host may take the
job. The worker writes progress to the plan row, which polling clients and the live stream read.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select, text, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import jobs
from core.clock import Clock
from core.database import get_all_locked
from core.errors import Conflict, NotFound, RateLimited, field_error
from core.identity.roles import Actor
from dispatch.customers.models import Site
from dispatch.engineers.models import Engineer
from dispatch.flows import restock
from dispatch.planning.models import Plan, PlanStatus
from dispatch.work_orders import visits as visit_service
from dispatch.work_orders.models import Visit, VisitStatus, WorkOrder
from inventory.errors import OutOfStock

log = logging.getLogger("fieldservice.plans")


class PlanStale(Conflict):
    slug = "plan-stale"
    title = "The plan was made from visits that changed since"


@dataclass(frozen=True)
class PlanLimits:
    """How much solving the queue takes on (see Settings.plan_*): solver places (for the queue
    positions told), plans waiting beyond them, plans per user, and the heartbeat period."""

    workers: int = 1
    queue: int = 4
    per_user: int = 2
    heartbeat_s: float = 10.0

    @property
    def orphaned_after(self) -> dt.timedelta:
        return dt.timedelta(seconds=3 * self.heartbeat_s)


class TooManyPlans(RateLimited):
    slug = "too-many-plans"
    title = "Too many plans queued or running"


SOLVE = jobs.JobKind(name="plans.solve", queue=jobs.PLANS)

ACTIVE = (PlanStatus.QUEUED, PlanStatus.RUNNING)
STOPPED = "The worker solving the plan stopped before it finished; plan again"


async def _admit(
    session: AsyncSession, user_id: uuid.UUID | None, time_limit_s: float, limits: PlanLimits
) -> None:
    """Refuse (429) a plan beyond the queue or beyond the user's share, counted in the database
    so that every API process agrees; admissions take turns until their transaction ends, so two
    requests cannot both take the last place."""
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended("plan-admission", 0))))
    rows = (
        await session.execute(
            select(Plan.created_by, Plan.status, Plan.params, Plan.progress).where(Plan.status.in_(ACTIVE))
        )
    ).all()

    def remaining(params: dict[str, Any], progress: dict[str, Any]) -> float:
        return float(params.get("time_limit_s", time_limit_s)) - float(progress.get("elapsed_s", 0.0))

    running = [remaining(r.params, r.progress) for r in rows if r.status is PlanStatus.RUNNING]
    soonest = min(running, default=time_limit_s)
    mine = [r for r in rows if user_id is not None and r.created_by == user_id]
    if len(mine) >= limits.per_user:
        wait = min(
            remaining(r.params, r.progress) + (soonest if r.status is PlanStatus.QUEUED else 0) for r in mine
        )
        raise TooManyPlans(
            f"You have {len(mine)} plans queued or running (at most {limits.per_user}); "
            "wait for one to finish",
            retry_after=max(1, math.ceil(wait)),
            limit="per-user",
        )
    if len(rows) >= limits.workers + limits.queue:
        raise TooManyPlans(
            f"{len(rows)} plans are queued or running, the most this service takes; retry later",
            retry_after=max(1, math.ceil(soonest)),
            limit="queue",
        )


_JOBS_AHEAD = text(
    """
    SELECT count(*) FROM procrastinate_jobs AS job
    JOIN dispatch_plan AS plan ON plan.id = CAST(job.args->>'plan_id' AS uuid)
    WHERE job.queue_name = :queue AND job.task_name = :task AND job.status IN ('todo', 'doing')
      AND plan.status IN ('queued', 'running')
      AND job.id <= (SELECT max(id) FROM procrastinate_jobs
                     WHERE task_name = :task AND args->>'plan_id' = :plan_id)
    """
)


async def queue_position(session: AsyncSession, plan: Plan, limits: PlanLimits) -> int | None:
    """How many solves must end before this queued plan gets a solver (0: it starts as soon as a
    worker takes it); None when it is not queued."""
    if plan.status is not PlanStatus.QUEUED:
        return None
    ahead = await session.scalar(
        _JOBS_AHEAD, {"queue": SOLVE.queue, "task": SOLVE.name, "plan_id": str(plan.id)}
    )
    return max(0, int(ahead or 0) - limits.workers)


async def fail_orphans(
    session: AsyncSession, stale_after: dt.timedelta, plan_id: uuid.UUID | None = None
) -> int:
    """Mark failed the running plans (all, or the one given) whose worker stopped beating (it
    died or was killed). Queued plans wait in the job queue for any worker and are left as they are."""
    result = await session.execute(
        update(Plan)
        .where(
            Plan.status == PlanStatus.RUNNING,
            Plan.id == plan_id if plan_id is not None else true(),
            or_(Plan.heartbeat_at.is_(None), Plan.heartbeat_at < func.now() - stale_after),
        )
        .values(status=PlanStatus.FAILED, error=STOPPED, finished_at=func.now())
        .returning(Plan.id)
        .execution_options(synchronize_session=False)
    )
    return len(result.all())


async def fail_stopped(session: AsyncSession, plan_ids: list[uuid.UUID]) -> None:
    """These plans' solve jobs ended with their worker: they will not finish."""
    await session.execute(
        update(Plan)
        .where(Plan.id.in_(plan_ids), Plan.status.in_(ACTIVE))
        .values(status=PlanStatus.FAILED, error=STOPPED, finished_at=func.now())
        .execution_options(synchronize_session=False)
    )


async def create(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    *,
    horizon_s: int,
    engineer_ids: list[uuid.UUID] | None,
    time_limit_s: float,
    solution_limit: int | None = None,
    limits: PlanLimits,
) -> Plan:
    """A queued plan and, in the same transaction, the job that solves it (429 beyond the limits).
    The routing problem is built once, by the worker when the solve starts (solving.py), from the
    visits as they are then: a plan may wait in the queue, and what it was asked for changes."""
    await _admit(session, actor.user_id, time_limit_s, limits)
    plan = Plan(
        id=uuid.uuid4(),
        created_at=now,
        created_by=actor.user_id,
        status=PlanStatus.QUEUED,
        origin=now,
        horizon_s=horizon_s,
        params={
            "engineer_ids": [str(e) for e in engineer_ids or []],
            "time_limit_s": time_limit_s,
            "solution_limit": solution_limit,
        },
        # Set with the problem when the solve starts.
        visit_versions={},
        progress={},
        heartbeat_at=func.now(),
    )
    session.add(plan)
    await session.flush()
    await jobs.defer(session, SOLVE, plan_id=str(plan.id))
    return plan


async def get(session: AsyncSession, plan_id: uuid.UUID, limits: PlanLimits | None = None) -> Plan:
    """The plan; with `limits`, a running plan whose worker died reads as failed."""
    if limits is not None:
        await fail_orphans(session, limits.orphaned_after, plan_id)
    plan = await session.get(Plan, plan_id, populate_existing=True)
    if plan is None:
        raise NotFound(f"No plan with id {plan_id}")
    return plan


async def apply(
    session: AsyncSession,
    actor: Actor,
    clock: Clock,
    plan_id: uuid.UUID,
    engineer_ids: list[uuid.UUID] | None = None,
) -> Plan:
    """Write the plan's assignments and ETAs — every route, or only those of `engineer_ids` (the
    rest can be applied later from the same plan); refused whole when any visit it writes changed
    since. A joint visit goes with its routes only when all its engineers are chosen."""
    plan = await session.get(Plan, plan_id, with_for_update=True)
    if plan is None:
        raise NotFound(f"No plan with id {plan_id}")
    if plan.status is not PlanStatus.DONE or plan.result is None:
        raise Conflict(
            f"A plan that is {plan.status.value} cannot be applied", current_status=plan.status.value
        )
    # A joint visit appears once per engineer: group the crews by visit.
    crews: dict[str, list[str]] = {}
    starts: dict[str, dict[str, Any]] = {}
    pickups: list[dict[str, Any]] = []
    routes, done = _routes_to_apply(plan, engineer_ids)
    for route in routes:
        for stop in route["stops"]:
            if stop.get("kind") == "pickup":
                pickups.append(stop)
                continue
            crews.setdefault(stop["visit_id"], []).append(route["engineer_id"])
            starts.setdefault(stop["visit_id"], stop)
    left_out = _left_out(plan)
    locked = await _lock_all(
        session,
        [uuid.UUID(v) for v in starts] + left_out,
        {uuid.UUID(e) for crew in crews.values() for e in crew},
    )
    visits = locked.visits
    changed = [
        stop["problem_number"]
        for visit_id, stop in starts.items()
        if (visit := visits.get(uuid.UUID(visit_id))) is None
        or visit.version != plan.visit_versions.get(visit_id)
    ]
    if changed:
        raise PlanStale(
            "Visits changed after the plan was made; plan again", changed_work_orders=sorted(set(changed))
        )
    assignments = [
        visit_service.Assignment(
            visit.id,
            visit.version,
            engineer_id=uuid.UUID(crew[0]),
            partner_engineer_id=uuid.UUID(crew[1]) if len(crew) > 1 else visit.partner_engineer_id,
            planned_start=dt.datetime.fromisoformat(starts[visit_id]["start"]),
            pinned=visit.pinned,
        )
        for visit_id, crew in crews.items()
        # Work already under way stays as it is.
        if (visit := visits[uuid.UUID(visit_id)]).status in {VisitStatus.PLANNED, VisitStatus.ASSIGNED}
    ]
    applying = _engineers_applying(plan, engineer_ids, routes)
    released = [
        visit_service.Assignment(visit.id, visit.version, None, None, None, pinned=False)
        for visit_id in left_out
        if (visit := visits.get(visit_id)) is not None and released_on_apply(plan, visit, applying)
    ]
    await visit_service.assign_all(session, actor, clock, assignments + released)
    short = await _hold_pickups(session, actor, clock, pickups)
    result = {**plan.result, "applied_engineers": sorted(done)}
    if released:
        result["released"] = sorted({*plan.result.get("released", []), *(str(a.visit_id) for a in released)})
    if short:
        result["pickups_not_held"] = sorted({*plan.result.get("pickups_not_held", []), *short})
    plan.result = result
    if done >= {r["engineer_id"] for r in plan.result["routes"]}:
        plan.status, plan.applied_at, plan.applied_by = PlanStatus.APPLIED, clock.now(), actor.user_id
    await session.flush()
    return plan


def _left_out(plan: Plan) -> list[uuid.UUID]:
    """The visits the plan weighed and put on nobody's route."""
    assert plan.result is not None
    routed = {stop["visit_id"] for route in plan.result["routes"] for stop in route["stops"]}
    return [uuid.UUID(v) for v in plan.visit_versions if v not in routed]


def _engineers_applying(
    plan: Plan, engineer_ids: list[uuid.UUID] | None, routes: list[dict[str, Any]]
) -> set[str]:
    """The engineers whose work this call settles: those whose routes it writes and, applied
    whole, every engineer the plan covered (one left with no route too)."""
    assert plan.result is not None
    applying = {route["engineer_id"] for route in routes}
    if engineer_ids is None:
        applying |= set(plan.result.get("engineer_ids", []))
    return applying


def released_on_apply(plan: Plan, visit: Visit, applying: set[str]) -> bool:
    """Whether applying the plan takes the visit back from its engineer: assigned to one of the
    engineers applied, not pinned, unchanged since the plan, and promised inside the plan's
    horizon (or before it). The plan found no room for it, so the old promise is not kept: left in
    place it stays on the engineer's phone, and on a route the engineer was never told changed.
    A promise beyond the horizon is not the plan's to judge."""
    horizon_end = plan.origin + dt.timedelta(seconds=plan.horizon_s)
    return (
        visit.status is VisitStatus.ASSIGNED
        and not visit.pinned
        and str(visit.engineer_id) in applying
        and visit.version == plan.visit_versions.get(str(visit.id))
        and (visit.planned_start is None or visit.planned_start < horizon_end)
    )


@dataclass
class _Locked:
    visits: dict[uuid.UUID, Visit]
    # The rows assigning them looks up, held while it does: the session's identity map keeps a
    # row only while someone refers to it.
    held: list[Any]


async def _lock_all(
    session: AsyncSession, visit_ids: list[uuid.UUID], engineer_ids: set[uuid.UUID]
) -> _Locked:
    """The plan's visits and their work orders, locked in one statement each (assigning them one
    by one then reads neither again), with their sites and the plan's engineers."""
    visits = await get_all_locked(session, Visit, visit_ids)
    orders = await get_all_locked(
        session, WorkOrder, [v.work_order_id for v in visits.values()], populate_existing=True
    )
    site_ids = {o.site_id for o in orders.values()}
    sites = (await session.execute(select(Site).where(Site.id.in_(site_ids)))).scalars()
    engineers = (await session.execute(select(Engineer).where(Engineer.id.in_(engineer_ids)))).scalars()
    return _Locked(visits, [*orders.values(), *sites, *engineers])


async def _hold_pickups(
    session: AsyncSession, actor: Actor, clock: Clock, pickups: list[dict[str, Any]]
) -> list[str]:
    """Pick-ups reserve their parts at the warehouse. The plan counts stock per visit, so two
    visits may count on one last unit: what cannot be held is returned, to be listed on the plan
    (the next plan sees the smaller stock), instead of refusing the assignments."""
    short: list[str] = []
    for stop in pickups:
        try:
            async with session.begin_nested():
                await restock.hold_for_pickup(
                    session,
                    actor,
                    clock.now(),
                    visit_id=uuid.UUID(stop["visit_id"]),
                    warehouse_id=uuid.UUID(stop["warehouse_id"]),
                    until=dt.datetime.fromisoformat(stop["start"]),
                )
        except OutOfStock:
            short.append(stop["problem_number"])
    return short


def _routes_to_apply(
    plan: Plan, engineer_ids: list[uuid.UUID] | None
) -> tuple[list[dict[str, Any]], set[str]]:
    """The routes this call writes, and every engineer whose route is applied once it has."""
    assert plan.result is not None
    applied = set(plan.result.get("applied_engineers", []))
    everyone = {r["engineer_id"] for r in plan.result["routes"]}
    chosen = everyone if engineer_ids is None else {str(e) for e in engineer_ids} & everyone
    if engineer_ids is not None and not chosen:
        raise field_error("engineer_ids", "none of these engineers has a route in this plan")
    # A joint visit's crew is applied together: leave out routes whose joint visits need others.
    crews: dict[str, set[str]] = {}
    for route in plan.result["routes"]:
        for stop in route["stops"]:
            crews.setdefault(stop["visit_id"], set()).add(route["engineer_id"])
    wanted = chosen - applied
    routes = [
        r
        for r in plan.result["routes"]
        if r["engineer_id"] in wanted and all(crews[s["visit_id"]] <= wanted | applied for s in r["stops"])
    ]
    return routes, applied | {r["engineer_id"] for r in routes}
