"""Before a dispatcher drops a visit on an engineer: would the rules allow it, when would they get
there, and what does it do to this visit's SLA and to the engineer's other visits.

The same model as plans and emergency insertion (`problem.build`, `routing.insertion`), for one
engineer at a time. Hard rules refuse the assignment: the skills and licences the visit needs, the
site's list of admitted engineers and its barred ones, an engineer who is not ours or not active,
a time the engineer is away (an absence).
The rest are warnings the dispatcher weighs: parts to fetch on the way or nowhere in reach, no room
in the engineer's shifts, a deadline missed, other visits pushed past theirs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import Clock
from core.errors import Conflict
from core.identity.roles import Actor
from dispatch.planning.problem import PlanInput, build
from dispatch.planning.replanning import HORIZON_S, current_routes, modelled_visit
from dispatch.work_orders import visits
from dispatch.work_orders.models import Visit, WorkOrder
from dispatch.work_orders.service import add_event
from dispatch.work_orders.visits import IllegalVisitStep, owned_visit
from routing import model as rm
from routing.eligibility import missing_parts, skill_problem, start_windows
from routing.insertion import CurrentRoute, Insertion, best_insertion, insertion_at

Severity = Literal["refuse", "warn", "info"]


class AssignmentRefused(Conflict):
    slug = "assignment-refused"
    title = "The engineer may not take this visit"


@dataclass(frozen=True)
class Finding:
    rule: str  # engineer, skill, site_access, absence, parts, window, shift, deadline, others_late, pickup
    severity: Severity
    message: str


@dataclass(frozen=True)
class Moved:
    """Another visit of the engineer's that this one pushes later."""

    visit_id: uuid.UUID
    work_order_id: uuid.UUID | None
    problem_number: str | None
    planned_start_before: dt.datetime
    planned_start_after: dt.datetime
    deadline: dt.datetime | None
    late_minutes: float


@dataclass
class Verdict:
    visit_id: uuid.UUID
    engineer_id: uuid.UUID
    engineer_name: str | None
    username: str | None
    findings: list[Finding] = field(default_factory=list)
    planned_start: dt.datetime | None = None
    arrival: dt.datetime | None = None
    deadline: dt.datetime | None = None
    late_minutes: float | None = None
    added_travel_minutes: float | None = None
    pickup_warehouse_id: uuid.UUID | None = None
    pickup_warehouse: str | None = None
    pickup_at: dt.datetime | None = None
    others: list[Moved] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return not any(f.severity == "refuse" for f in self.findings)

    @property
    def fits(self) -> bool:
        """Allowed, with a place in the engineer's shifts, and nobody's deadline missed by it."""
        return (
            self.allowed
            and self.planned_start is not None
            and not any(f.severity == "warn" for f in self.findings)
        )


@dataclass
class _Context:
    plan: PlanInput
    visit: rm.Visit
    routes: dict[str, CurrentRoute]

    def at(self, seconds: float) -> dt.datetime:
        return self.plan.origin + dt.timedelta(seconds=seconds)


async def _context(session: AsyncSession, actor: Actor, clock: Clock, visit_id: uuid.UUID) -> _Context:
    visit, _ = await owned_visit(session, actor, visit_id)
    visits.check_reassignable(visit)
    plan = await build(session, clock.now(), HORIZON_S)
    modelled = modelled_visit(plan, visit_id)
    routes = {}
    for route in await current_routes(session, plan):
        # The visit leaves wherever it is now: the check is of its new place.
        route.stops = [s for s in route.stops if s.visit_id != str(visit_id)]
        routes[route.engineer.id] = route
    return _Context(plan, modelled, routes)


async def check(
    session: AsyncSession,
    actor: Actor,
    clock: Clock,
    visit_id: uuid.UUID,
    engineer_id: uuid.UUID,
    planned_start: dt.datetime | None = None,
) -> Verdict:
    """The verdict on giving the visit to this engineer (from `planned_start`, else as soon as
    they can); nothing is written."""
    ctx = await _context(session, actor, clock, visit_id)
    return _verdict(ctx, engineer_id, planned_start)


async def candidates(session: AsyncSession, actor: Actor, clock: Clock, visit_id: uuid.UUID) -> list[Verdict]:
    """Every engineer of ours ranked for the visit: allowed and fitting first, then by lateness
    and added travel — the keyboard's alternative to dragging."""
    ctx = await _context(session, actor, clock, visit_id)
    verdicts = [_verdict(ctx, uuid.UUID(e.id), None) for e in ctx.plan.problem.engineers]
    return sorted(
        verdicts,
        key=lambda v: (
            not v.allowed,
            v.planned_start is None,
            not v.fits,
            v.late_minutes or 0.0,
            v.added_travel_minutes or 0.0,
            v.engineer_name or "",
        ),
    )


def _verdict(ctx: _Context, engineer_id: uuid.UUID, planned_start: dt.datetime | None) -> Verdict:
    plan, key = ctx.plan, str(engineer_id)
    verdict = Verdict(uuid.UUID(ctx.visit.id), engineer_id, None, None)
    verdict.engineer_name, verdict.username = plan.display_names.get(key), plan.names.get(key)
    route = ctx.routes.get(key)
    if route is None:
        why = plan.skipped_engineers.get(key, "not an active engineer of ours")
        verdict.findings.append(Finding("engineer", "refuse", why))
        return verdict
    verdict.findings += _rules(ctx, route.engineer)
    if planned_start is not None:
        verdict.findings += _absent(ctx, key, planned_start)
    probe = _probe(ctx, route.engineer, verdict.findings)
    if probe is None:
        return verdict
    houses, travel = plan.problem.warehouses, plan.problem.travel
    if planned_start is None:
        best = best_insertion([route], probe, travel, warehouses=houses)
    else:
        at_s = (planned_start - plan.origin).total_seconds()
        best = insertion_at(route, probe, travel, at_s, warehouses=houses)
    if best is None:
        after = " from the time asked" if planned_start else ""
        verdict.findings.append(
            Finding(
                "shift", "warn", f"no room in their shifts in the next 48 h{after} without breaking a promise"
            )
        )
        return verdict
    _timing(ctx, verdict, best)
    return verdict


def _rules(ctx: _Context, engineer: rm.Engineer) -> list[Finding]:
    """The hard rules (skills and licences, the site's admission), and parts out of reach."""
    visit, found = ctx.visit, []
    lacking = skill_problem(engineer, visit, 0.0)
    if lacking is not None:
        found.append(Finding("skill", "refuse", lacking))
    if engineer.id in visit.barred_engineers:
        found.append(Finding("site_access", "refuse", "barred from this site"))
    elif visit.allowed_engineers is not None and engineer.id not in visit.allowed_engineers:
        found.append(Finding("site_access", "refuse", "not on the site's list of admitted engineers"))
    missing = missing_parts(engineer, visit)
    if missing and not any(visit.parts <= w.stock for w in ctx.plan.problem.warehouses):
        found.append(
            Finding(
                "parts",
                "warn",
                f"{', '.join(sorted(missing))}: not in their van and no warehouse has it free",
            )
        )
    return found


def _absent(ctx: _Context, engineer_id: str, planned_start: dt.datetime) -> list[Finding]:
    """The engineer's absences the visit, started then, would fall in."""
    start_s = (planned_start - ctx.plan.origin).total_seconds()
    end_s = start_s + ctx.visit.duration_s
    return [
        Finding(
            "absence",
            "refuse",
            f"away ({kind}) from {ctx.at(a).isoformat(timespec='minutes')} "
            f"to {ctx.at(b).isoformat(timespec='minutes')}",
        )
        for a, b, kind in ctx.plan.absences.get(engineer_id, [])
        if a < end_s and start_s < b
    ]


def _probe(ctx: _Context, engineer: rm.Engineer, findings: list[Finding]) -> rm.Visit | None:
    """The visit as the insertion scan should see it for this engineer: skills and parts already
    judged (so the timing is shown even when refused), in the windows its rules leave."""
    plan = ctx.plan
    visit = dataclasses.replace(
        ctx.visit, pinned_engineer=None, pinned_partner=None, pinned_start_s=None, skills={}
    )
    if missing_parts(engineer, visit) and any(f.rule == "parts" for f in findings):
        visit = dataclasses.replace(visit, parts=frozenset())
    windows = start_windows(plan.problem, visit)
    if not windows:
        findings.append(
            Finding(
                "window",
                "warn",
                "no start time meets the site's access hours, registration lead and appointment",
            )
        )
        return None
    return dataclasses.replace(visit, windows=windows, appointment=None, confirmed=False)


def _timing(ctx: _Context, verdict: Verdict, best: Insertion) -> None:
    """When the engineer gets there, the SLA effect on this visit, and who else moves."""
    plan, visit = ctx.plan, ctx.visit
    verdict.planned_start, verdict.arrival = ctx.at(best.start_s), ctx.at(best.arrival_s)
    verdict.added_travel_minutes = round(best.added_travel_s / 60, 1)
    if visit.deadline_s is not None:
        verdict.deadline = ctx.at(visit.deadline_s)
        verdict.late_minutes = round(max(0.0, best.start_s - visit.deadline_s) / 60, 1)
        if verdict.late_minutes > 0:
            verdict.findings.append(
                Finding("deadline", "warn", f"on site {verdict.late_minutes:g} min after the SLA deadline")
            )
    if best.pickup_warehouse_id is not None and best.pickup_s is not None:
        verdict.pickup_warehouse_id = uuid.UUID(best.pickup_warehouse_id)
        verdict.pickup_warehouse = plan.warehouses.get(best.pickup_warehouse_id)
        verdict.pickup_at = ctx.at(best.pickup_s)
        verdict.findings.append(
            Finding("pickup", "info", f"fetches the parts at {verdict.pickup_warehouse} on the way")
        )
    by_id = {v.id: v for v in plan.problem.visits}
    route = ctx.routes[best.engineer_id]
    before = {s.visit_id: s.start_s for s in route.stops}
    for other_id, start_s in best.shifted:
        other = by_id.get(other_id)
        deadline_s = other.deadline_s if other else None
        late = max(0.0, start_s - deadline_s) / 60 if deadline_s is not None else 0.0
        order_id, number = plan.orders.get(other_id, (None, None))
        verdict.others.append(
            Moved(
                uuid.UUID(other_id),
                uuid.UUID(order_id) if order_id else None,
                number,
                ctx.at(before[other_id]),
                ctx.at(start_s),
                ctx.at(deadline_s) if deadline_s is not None else None,
                round(late, 1),
            )
        )
        if late > 0 and (deadline_s is None or before[other_id] <= deadline_s):
            verdict.findings.append(
                Finding(
                    "others_late", "warn", f"{number or other_id} would be {late:.0f} min past its deadline"
                )
            )


async def assign_checked(
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
    override_reason: str | None,
) -> Visit:
    """A dispatcher's assignment by hand, refused (409 `assignment-refused`, with the findings)
    when a hard rule says no, unless the dispatcher overrides it with a reason — recorded on the
    order's timeline with what was overridden."""
    refused: list[Finding] = []
    for who in (engineer_id, partner_engineer_id):
        if who is None:
            continue
        try:
            verdict = await check(session, actor, clock, visit_id, who, planned_start)
        except IllegalVisitStep:
            raise
        except Conflict:
            # No model holds the visit (an order no longer open, data no plan can use):
            # `assign` answers with its own checks, as before there was a dry run.
            continue
        refused += [f for f in verdict.findings if f.severity == "refuse"]
    if refused and not override_reason:
        raise AssignmentRefused(
            "; ".join(f.message for f in refused),
            findings=[dataclasses.asdict(f) for f in refused],
        )
    visit = await visits.assign(
        session,
        actor,
        clock,
        visit_id,
        version,
        engineer_id=engineer_id,
        partner_engineer_id=partner_engineer_id,
        planned_start=planned_start,
        pinned=pinned,
    )
    if refused:
        order = await session.get(WorkOrder, visit.work_order_id)
        assert order is not None
        add_event(
            session,
            order,
            actor,
            clock.now(),
            "assignment_override",
            note=override_reason,
            data={"visit_id": str(visit_id), "overridden": [dataclasses.asdict(f) for f in refused]},
        )
        await session.flush()
    return visit
