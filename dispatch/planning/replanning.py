"""Real-time re-planning: an emergency visit, an engineer going home, a visit overrunning.

Each answers at once from the current routes (assigned visits in planned order),
keeping everything started and pinned where it is.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import Clock
from core.errors import Conflict, NotFound
from core.identity.roles import Actor
from core.times import EARLIEST, usable
from dispatch.flows import restock
from dispatch.planning.problem import PlanInput, build
from dispatch.work_orders import visits as visit_service
from dispatch.work_orders.models import Visit, VisitStatus
from routing import model as rm
from routing.eligibility import engineer_admitted, start_windows
from routing.insertion import CurrentRoute, Insertion, PlannedStop, best_insertion
from routing.travel import TravelTimeProvider

HORIZON_S = 48 * 3600


class NotPlannable(Conflict):
    slug = "not-plannable"
    title = "The visit's stored data cannot be planned"


UNDER_WAY = {VisitStatus.ASSIGNED, VisitStatus.EN_ROUTE, VisitStatus.ON_SITE}


@dataclass
class Proposal:
    visit_id: uuid.UUID
    engineer_id: uuid.UUID
    username: str | None
    engineer_name: str | None
    planned_start: dt.datetime
    arrival: dt.datetime
    late_minutes: float
    added_travel_minutes: float
    shifted: list[tuple[uuid.UUID, dt.datetime]]
    applied: bool
    # Parts the engineer's van lacks, fetched from this warehouse on the way.
    pickup_warehouse_id: uuid.UUID | None = None
    pickup_at: dt.datetime | None = None


def _routes(plan: PlanInput, assigned: list[Visit]) -> list[CurrentRoute]:
    """The engineers' current routes from their assigned visits, in planned order."""
    by_id = {v.id: v for v in plan.problem.visits}
    routes = {e.id: CurrentRoute(engineer=e, position=e.start) for e in plan.problem.engineers}
    # A planned start no model can hold (see planning.unplannable) sorts first and is skipped below.
    for visit in sorted(assigned, key=lambda v: v.planned_start if usable(v.planned_start) else EARLIEST):
        route = routes.get(str(visit.engineer_id))
        modelled = by_id.get(str(visit.id))
        if route is None or modelled is None:
            continue
        if visit.status is VisitStatus.ON_SITE and visit.arrived_at is not None:
            start = (visit.arrived_at - plan.origin).total_seconds()
        elif visit.planned_start is not None:
            start = (visit.planned_start - plan.origin).total_seconds()
        else:
            continue
        latest = modelled.appointment[1] if modelled.appointment and modelled.confirmed else None
        route.stops.append(
            PlannedStop(
                visit_id=str(visit.id),
                point=modelled.point,
                start_s=start,
                duration_s=modelled.duration_s,
                latest_start_s=latest,
                locked=visit.status is not VisitStatus.ASSIGNED or visit.pinned,
            )
        )
    return list(routes.values())


def modelled_visit(plan: PlanInput, visit_id: uuid.UUID) -> rm.Visit:
    """The visit as the plan's model holds it; refused when no model can hold it or its order
    is not open."""
    if str(visit_id) in plan.skipped:
        raise NotPlannable(f"The visit cannot be planned: {plan.skipped[str(visit_id)]}")
    modelled = next((v for v in plan.problem.visits if v.id == str(visit_id)), None)
    if modelled is None:
        raise Conflict("The visit's work order is not open")
    return modelled


async def current_routes(session: AsyncSession, plan: PlanInput) -> list[CurrentRoute]:
    """Every engineer's route as it stands: their assigned and started visits in planned order."""
    assigned = list(
        (
            await session.execute(
                select(Visit).where(Visit.status.in_(UNDER_WAY), Visit.engineer_id.is_not(None))
            )
        ).scalars()
    )
    return _routes(plan, assigned)


async def emergency_insertion(
    session: AsyncSession,
    actor: Actor,
    clock: Clock,
    visit_id: uuid.UUID,
    *,
    apply: bool,
    travel: TravelTimeProvider | None = None,
    exclude: frozenset[str] = frozenset(),
) -> Proposal:
    """The visit's best place in the current routes; with `apply`, it is assigned there (later
    visits of that route shifted, parts held for a pick-up on the way)."""
    now = clock.now()
    target = await session.get(Visit, visit_id, with_for_update=apply)
    if target is None:
        raise NotFound(f"No visit with id {visit_id}")
    if target.status is not VisitStatus.PLANNED:
        raise Conflict(f"Only a visit not yet assigned can be inserted; this one is {target.status.value}")
    plan = await build(session, now, HORIZON_S)
    best = await _best_place(session, plan, visit_id, travel, exclude)
    at = plan.origin + dt.timedelta(seconds=best.start_s)
    shifted = [(uuid.UUID(v), plan.origin + dt.timedelta(seconds=s)) for v, s in best.shifted]
    if apply:
        await _apply(session, actor, clock, target, plan, best, at, shifted)
    return Proposal(
        visit_id=visit_id,
        engineer_id=uuid.UUID(best.engineer_id),
        username=plan.names.get(best.engineer_id),
        engineer_name=plan.display_names.get(best.engineer_id),
        planned_start=at,
        arrival=plan.origin + dt.timedelta(seconds=best.arrival_s),
        late_minutes=round(best.late_s / 60, 1),
        added_travel_minutes=round(best.added_travel_s / 60, 1),
        shifted=shifted,
        applied=apply,
        pickup_warehouse_id=uuid.UUID(best.pickup_warehouse_id) if best.pickup_warehouse_id else None,
        pickup_at=plan.origin + dt.timedelta(seconds=best.pickup_s) if best.pickup_s is not None else None,
    )


async def _best_place(
    session: AsyncSession,
    plan: PlanInput,
    visit_id: uuid.UUID,
    travel: TravelTimeProvider | None,
    exclude: frozenset[str],
) -> Insertion:
    """The cheapest insertion of the visit into the routes of the engineers the site admits."""
    modelled = modelled_visit(plan, visit_id)
    # The site's whitelist, barred engineers and registration lead hold here too.
    routes = [
        r
        for r in await current_routes(session, plan)
        if r.engineer.id not in exclude and engineer_admitted(r.engineer, modelled)
    ]
    windows = start_windows(plan.problem, modelled)
    if not windows:
        raise Conflict("No start time meets the site's access windows, registration lead and appointment")
    modelled = dataclasses.replace(modelled, windows=windows)
    best: Insertion | None = best_insertion(
        routes, modelled, travel or plan.problem.travel, warehouses=plan.problem.warehouses
    )
    if best is None:
        raise Conflict("No engineer on shift can take this visit (skills, licences, parts or shifts)")
    return best


async def _apply(
    session: AsyncSession,
    actor: Actor,
    clock: Clock,
    target: Visit,
    plan: PlanInput,
    best: Insertion,
    at: dt.datetime,
    shifted: list[tuple[uuid.UUID, dt.datetime]],
) -> None:
    await visit_service.assign(
        session,
        actor,
        clock,
        target.id,
        target.version,
        engineer_id=uuid.UUID(best.engineer_id),
        partner_engineer_id=None,
        planned_start=at,
        pinned=False,
    )
    for other_id, new_start in shifted:
        other = await session.get(Visit, other_id, with_for_update=True)
        if other is not None and other.status is VisitStatus.ASSIGNED:
            other.planned_start = new_start
    if best.pickup_warehouse_id is not None and best.pickup_s is not None:
        # The parts wait at the warehouse for this visit (short stock refuses the whole call).
        await restock.hold_for_pickup(
            session,
            actor,
            clock.now(),
            visit_id=target.id,
            warehouse_id=uuid.UUID(best.pickup_warehouse_id),
            until=plan.origin + dt.timedelta(seconds=best.pickup_s),
        )
    await session.flush()


async def engineer_unavailable(
    session: AsyncSession, actor: Actor, clock: Clock, engineer_id: uuid.UUID
) -> list[Proposal | str]:
    """Their visits not yet started go back to planning and each gets its best new place."""
    rows = await session.execute(
        select(Visit)
        .where(
            Visit.engineer_id == engineer_id, Visit.status == VisitStatus.ASSIGNED, Visit.pinned.is_(False)
        )
        .order_by(Visit.planned_start)
    )
    released = list(rows.scalars())
    for visit in released:
        await visit_service.assign(
            session,
            actor,
            clock,
            visit.id,
            visit.version,
            engineer_id=None,
            partner_engineer_id=None,
            planned_start=None,
            pinned=False,
        )
    outcomes: list[Proposal | str] = []
    for visit in released:
        try:
            outcomes.append(
                await emergency_insertion(
                    session, actor, clock, visit.id, apply=True, exclude=frozenset({str(engineer_id)})
                )
            )
        except Conflict as exc:
            outcomes.append(f"{visit.id}: {exc.detail}")
    return outcomes


async def overrun(
    session: AsyncSession,
    actor: Actor,
    clock: Clock,
    visit_id: uuid.UUID,
    extra: dt.timedelta,
    version: int | None = None,
) -> list[tuple[uuid.UUID, dt.datetime]]:
    """A visit takes longer: the engineer's later visits move back by as much as they must.
    With `version`, only if the visit is still at it (else 409, nothing moved)."""
    visit, _ = await visit_service.owned_visit(session, actor, visit_id)
    if visit.engineer_id is None:
        raise NotFound(f"No assigned visit with id {visit_id}")
    if version is not None:
        visit_service.at_version(visit, version)
    visit.duration_minutes += int(extra.total_seconds() // 60)
    started = visit.arrived_at or visit.planned_start or clock.now()
    free_at = started + dt.timedelta(minutes=visit.duration_minutes)
    later = (
        await session.execute(
            select(Visit)
            .where(
                Visit.engineer_id == visit.engineer_id,
                Visit.status == VisitStatus.ASSIGNED,
                Visit.planned_start.is_not(None),
                Visit.id != visit.id,
            )
            .order_by(Visit.planned_start)
            .with_for_update()
        )
    ).scalars()
    moved = []
    for other in later:
        assert other.planned_start is not None
        if other.planned_start < started:
            continue
        if other.planned_start < free_at:
            other.planned_start = free_at
            moved.append((other.id, free_at))
        free_at = other.planned_start + dt.timedelta(minutes=other.duration_minutes)
    await session.flush()
    return moved
