"""A plan beside what is assigned now: which visits it moves (to another engineer, or by more
than the churn tolerance), and the figures before and after — visits assigned, visits left to
nobody, deadlines predicted to be missed — so a dispatcher applies it, or some of its routes,
knowing what changes.

"Before" is read from the visits as they are now and judged the same way as the plan's own
stops: an assigned visit starting after its deadline is a predicted breach, and so is a visit
nobody has whose deadline falls inside the plan's horizon. "After" is what applying the whole plan
does: the visits on its routes take their new engineer and start; a visit it leaves out is taken
back from its engineer when its promise falls inside the horizon (not a pinned one:
`plans.released_on_apply`), and keeps what it has otherwise.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, NotFound
from dispatch.engineers.service import names_of
from dispatch.planning.models import Plan, PlanStatus
from dispatch.planning.plans import released_on_apply
from dispatch.planning.problem import DEADLINE_OF
from dispatch.sla.models import SlaClock
from dispatch.work_orders.models import Visit, WorkOrder

# A start moved by less than this is the same promise (the solver's churn tolerance).
SAME_START = dt.timedelta(minutes=30)


class Figures(msgspec.Struct):
    assigned: int
    unassigned: int
    predicted_breaches: int


class Move(msgspec.Struct):
    visit_id: uuid.UUID
    work_order_id: uuid.UUID | None
    problem_number: str | None
    engineer_before_id: uuid.UUID | None
    engineer_before: str | None
    engineer_after_id: uuid.UUID | None
    engineer_after: str | None
    start_before: dt.datetime | None
    start_after: dt.datetime | None
    late_minutes_before: float | None
    late_minutes_after: float | None


class Comparison(msgspec.Struct):
    plan_id: uuid.UUID
    before: Figures
    after: Figures
    # Deadlines the plan keeps that the current assignment would miss, net of any it misses anew.
    breaches_avoided: int
    moved: list[Move]


def _late(start: dt.datetime | None, deadline: dt.datetime | None) -> float | None:
    if start is None or deadline is None:
        return None
    return round(max(0.0, (start - deadline).total_seconds()) / 60, 1)


def _proposed(result: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any], str | None]]:
    """Visit id -> (engineer id, its stop, engineer's name) in the plan."""
    out: dict[str, tuple[str, dict[str, Any], str | None]] = {}
    for route in result["routes"]:
        for stop in route["stops"]:
            if stop.get("kind") != "pickup":
                out.setdefault(stop["visit_id"], (route["engineer_id"], stop, route.get("engineer_name")))
    return out


async def _deadlines(session: AsyncSession, visits: list[Visit]) -> dict[uuid.UUID, dt.datetime | None]:
    """Each visit's deadline: its order's clock for the visit's kind, while not met."""
    clocks = await session.execute(
        select(SlaClock).where(SlaClock.work_order_id.in_({v.work_order_id for v in visits}))
    )
    by_order = {(c.work_order_id, c.measure): c for c in clocks.scalars()}
    out: dict[uuid.UUID, dt.datetime | None] = {}
    for visit in visits:
        measure = DEADLINE_OF.get(visit.kind)
        clock = by_order.get((visit.work_order_id, measure)) if measure is not None else None
        out[visit.id] = clock.deadline if clock is not None and clock.met_at is None else None
    return out


def _count(figures: Figures, assigned: bool, breach: bool) -> None:
    if assigned:
        figures.assigned += 1
    else:
        figures.unassigned += 1
    figures.predicted_breaches += breach


async def compare(session: AsyncSession, plan_id: uuid.UUID) -> Comparison:
    plan = await session.get(Plan, plan_id)
    if plan is None:
        raise NotFound(f"No plan with id {plan_id}")
    if plan.result is None or plan.status not in {PlanStatus.DONE, PlanStatus.APPLIED}:
        raise Conflict(
            f"A plan that is {plan.status.value} has nothing to compare", current_status=plan.status.value
        )
    ids = [uuid.UUID(v) for v in plan.visit_versions]
    visits = list((await session.execute(select(Visit).where(Visit.id.in_(ids)))).scalars())
    deadlines = await _deadlines(session, visits)
    proposed = _proposed(plan.result)
    names = await names_of(session, [v.engineer_id for v in visits if v.engineer_id is not None])
    numbers = {
        row.id: row.problem_number
        for row in await session.execute(
            select(WorkOrder.id, WorkOrder.problem_number).where(
                WorkOrder.id.in_({v.work_order_id for v in visits})
            )
        )
    }
    horizon_end = plan.origin + dt.timedelta(seconds=plan.horizon_s)
    covered = set(plan.result.get("engineer_ids", []))
    before = Figures(0, 0, 0)
    after = Figures(0, 0, 0)
    moved: list[Move] = []
    for visit in visits:
        deadline = deadlines[visit.id]
        missed_if_left = deadline is not None and deadline <= horizon_end
        now_start = visit.planned_start if visit.engineer_id is not None else None
        late_before = _late(now_start, deadline)
        _count(before, now_start is not None, bool(late_before) if now_start else missed_if_left)
        engineer_after, stop, name_after = proposed.get(str(visit.id), (None, None, None))
        if stop is None and not released_on_apply(plan, visit, covered):
            _count(after, now_start is not None, bool(late_before) if now_start else missed_if_left)
            continue
        start_after = dt.datetime.fromisoformat(stop["start"]) if stop else None
        late_after = float(stop["late_minutes"]) if stop else None
        _count(after, stop is not None, bool(late_after) if stop else missed_if_left)
        same_engineer = (str(visit.engineer_id) if visit.engineer_id else None) == engineer_after
        if same_engineer and now_start and start_after and abs(start_after - now_start) < SAME_START:
            continue
        moved.append(
            Move(
                visit.id,
                visit.work_order_id,
                numbers.get(visit.work_order_id),
                visit.engineer_id,
                names.get(visit.engineer_id, (None, None))[1] if visit.engineer_id else None,
                uuid.UUID(engineer_after) if engineer_after else None,
                name_after,
                now_start,
                start_after,
                late_before,
                late_after,
            )
        )
    moved.sort(key=lambda m: (m.start_after or m.start_before or horizon_end, str(m.visit_id)))
    return Comparison(plan.id, before, after, before.predicted_breaches - after.predicted_breaches, moved)
