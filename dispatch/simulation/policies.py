"""The two ways of dispatching the simulated week.

`product`: what the system does — a plan over all open visits every `replan_minutes`, solved
with a short time limit and applied; critical faults inserted into the routes the moment they
are reported; every backup device the SLA watch proposes approved and delivered.

`plain`: a dispatcher without the system's planning — whenever an engineer is free, the open
visit with the earliest deadline goes to the nearest free engineer with the skill; nothing is
re-planned, parts are not routed, and only backups the engineer asks for are approved.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import select

from core.errors import DomainError
from dispatch.contracts.models import Severity
from dispatch.engineers.positions import on_shift
from dispatch.planning import freshness, plans, replanning, solving
from dispatch.work_orders import visits
from dispatch.work_orders.models import Visit, VisitKind, VisitStatus, WorkOrder
from inventory import loans
from inventory.models import Loan, LoanStatus

if TYPE_CHECKING:
    from dispatch.simulation.engine import Simulation
    from dispatch.simulation.world import Crew


class Policy(Protocol):
    name: str

    async def reported(self, sim: Simulation, visit_id: uuid.UUID, severity: Severity) -> None: ...

    async def dispatch(self, sim: Simulation, now: dt.datetime) -> None: ...


async def _approve(sim: Simulation, now: dt.datetime, *, engineer_declared_only: bool) -> None:
    async with sim.session() as session, session.begin():
        proposed = (await session.execute(select(Loan).where(Loan.status == LoanStatus.PROPOSED))).scalars()
        for loan in list(proposed):
            if engineer_declared_only and not loan.cause.startswith("engineer:"):
                continue
            await loans.approve(session, sim.world.desk, now, loan.id)
            sim.log.add(now, "backup_approved", fault=sim.fault_number(loan.work_order_id), cause=loan.cause)


@dataclass
class Product:
    replan_minutes: int = 30
    time_limit_s: float = 2.0
    solution_limit: int | None = None
    horizon_hours: int = 24
    name: str = "product"
    # Re-plan only when a plan's inputs moved since the last plan was applied (an arrival, a visit
    # started, finished or refused, a clock at risk, stock): otherwise its routes still stand.
    skip_unchanged: bool = True
    _applied: freshness.InputsState | None = field(default=None, init=False, repr=False, compare=False)

    async def reported(self, sim: Simulation, visit_id: uuid.UUID, severity: Severity) -> None:
        if severity is not Severity.CRITICAL:
            return
        now = sim.clock.now()
        async with sim.session() as session, session.begin():
            try:
                async with session.begin_nested():
                    proposal = await replanning.emergency_insertion(
                        session, sim.world.desk, sim.clock, visit_id, apply=True
                    )
                sim.log.add(now, "inserted", visit=sim.label(visit_id), engineer=proposal.username)
            except DomainError as exc:
                sim.log.add(now, "not_inserted", visit=sim.label(visit_id), reason=exc.detail)
        await sim.note_assignments(now)

    async def dispatch(self, sim: Simulation, now: dt.datetime) -> None:
        await _approve(sim, now, engineer_declared_only=False)
        minutes = round((now - sim.scenario.start).total_seconds() / 60)
        if minutes % self.replan_minutes:
            return
        async with sim.session() as session, session.begin():
            horizon_s = self.horizon_hours * 3600
            if self._applied and await freshness.inputs_state(session, now, horizon_s) == self._applied:
                sim.log.add(now, "plan_skipped")
                return
            self._applied = None
            try:
                plan = await plans.create(
                    session,
                    sim.world.desk,
                    now,
                    horizon_s=horizon_s,
                    engineer_ids=[c.engineer.id for c in sim.world.crews],
                    time_limit_s=self.time_limit_s,
                    solution_limit=self.solution_limit,
                    limits=plans.PlanLimits(queue=1000, per_user=1000),
                )
            except DomainError as exc:
                sim.log.add(now, "plan_refused", reason=exc.detail)
                return
        started = time.perf_counter()
        await solving.solve_in_process(sim.sessionmaker, plan.id, uuid.uuid4())
        sim.timings["solving"] = sim.timings.get("solving", 0.0) + time.perf_counter() - started
        async with sim.session() as session, session.begin():
            done = await plans.get(session, plan.id)
            if done.result is None:
                sim.log.add(now, "plan_failed", reason=done.error)
                return
            for item in done.result.get("unassigned", []):
                sim.unassigned_reasons[item["visit_id"]] = item.get("reason", "")
            kpis = done.result.get("kpis", {})
            # "greedy": the search came back worse than the rule of thumb and its plan was kept.
            sim.log.add(
                now, "planned", status=kpis.get("status"), visits=kpis.get("visits"),
                unassigned=kpis.get("unassigned"), predicted_breaches=kpis.get("predicted_breaches"),
            )  # fmt: skip
            try:
                async with session.begin_nested():
                    await plans.apply(session, sim.world.desk, sim.clock, plan.id)
                if self.skip_unchanged:
                    self._applied = await freshness.inputs_state(session, now, horizon_s)
            except DomainError as exc:
                sim.log.add(now, "plan_not_applied", reason=exc.detail)
        await sim.note_assignments(now)


def _suitable(crew: Crew, visit: Visit, day: dt.date) -> bool:
    skills = {s.skill for s in crew.engineer.skills if s.valid_until is None or s.valid_until >= day}
    return set(visit.required_skills) <= skills


@dataclass
class Plain:
    name: str = "plain"

    async def reported(self, sim: Simulation, visit_id: uuid.UUID, severity: Severity) -> None:
        return None

    async def dispatch(self, sim: Simulation, now: dt.datetime) -> None:
        await _approve(sim, now, engineer_declared_only=True)
        free = [c for c in sim.idle_crews() if on_shift(c.engineer, now) and not sim.sick(c, now)]
        if not free:
            return
        async with sim.session() as session, session.begin():
            busy = set(
                (
                    await session.execute(
                        select(Visit.engineer_id).where(Visit.status == VisitStatus.ASSIGNED)
                    )
                ).scalars()
            )
            free = [c for c in free if c.engineer.id not in busy]
            queue = await session.execute(
                select(Visit, WorkOrder)
                .join(WorkOrder, WorkOrder.id == Visit.work_order_id)
                .where(Visit.status == VisitStatus.PLANNED)
                .where((Visit.window_start.is_(None)) | (Visit.window_start <= now))
                .order_by(WorkOrder.due_at, WorkOrder.reported_at)
            )
            day = now.date()
            for visit, order in queue:
                if not free:
                    break
                if visit.kind is VisitKind.BACKUP_DELIVERY and not await sim.loan_approved(session, visit.id):
                    continue
                if visit.kind not in {VisitKind.REPAIR, VisitKind.BACKUP_DELIVERY, VisitKind.SWAP_BACK}:
                    continue
                fitting = [c for c in free if _suitable(c, visit, day)]
                if not fitting:
                    continue
                place = sim.place_of(order.id)
                crew = min(fitting, key=lambda c: sim.distance_km(c.point, place.point))
                free.remove(crew)
                await visits.assign(
                    session, sim.world.desk, sim.clock, visit.id, visit.version,
                    engineer_id=crew.engineer.id, partner_engineer_id=None, planned_start=now, pinned=False,
                )  # fmt: skip
        await sim.note_assignments(now)


def make(
    name: str,
    *,
    replan_minutes: int = 30,
    time_limit_s: float = 2.0,
    solution_limit: int | None = None,
    skip_unchanged: bool = True,
) -> Policy:
    if name == "product":
        return Product(
            replan_minutes=replan_minutes,
            time_limit_s=time_limit_s,
            solution_limit=solution_limit,
            skip_unchanged=skip_unchanged,
        )
    if name == "plain":
        return Plain()
    raise ValueError(f"no policy {name!r}: product or plain")
