"""The event loop of a simulated week on a virtual clock.

Time advances in ticks (5 simulated minutes); within a tick, arrivals and the engineers' steps
are played in time order at their exact times, then the policy dispatches, engineers whose next
visit is due set off, and every `sweep_minutes` the queue worker's sweeps run (SLA watch,
at-risk, backup proposals, escalations). Every change goes through the product's services on
the run's own database; the event log is what the checks and the report read.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import zones
from core.clock import ManualClock
from core.database import get_locked
from core.errors import DomainError
from dispatch.contracts.models import Contract
from dispatch.engineers import absences, positions
from dispatch.engineers.models import AbsenceKind
from dispatch.flows import backup
from dispatch.planning.problem import access_windows, travel_provider
from dispatch.simulation import field as fieldwork
from dispatch.simulation import loan_returns, restock
from dispatch.simulation.policies import Policy
from dispatch.simulation.pool import stock_backups
from dispatch.simulation.scenario import PARTS, Fault, Scenario
from dispatch.simulation.world import Crew, EventLog, Place, Point, World, load_world
from dispatch.sla.models import SlaClock
from dispatch.work_orders import service, visits
from dispatch.work_orders.lifecycle import OPEN, SERVICE_RESTORED
from dispatch.work_orders.models import Channel, Visit, VisitKind, VisitStatus, WorkOrder
from dispatch.worker import Worker, WorkerConfig
from inventory.loans import loan_for_order
from inventory.models import Loan, LoanStatus

TICK = dt.timedelta(minutes=5)
TZ = "Asia/Shanghai"
# What the desk plans for a repair before anyone has seen it: the category's usual time.
PLANNED_MINUTES = {"server": 90, "storage": 90, "network": 60, "ups_power": 90, "printer": 45}


@dataclass
class Sample:
    at: dt.datetime
    open_orders: int
    at_risk: int


@dataclass
class Outcome:
    """A run's answer: the log, the hourly samples and one row per fault."""

    policy: str
    log: EventLog
    samples: list[Sample]
    orders: list[dict[str, Any]]
    crews: list[dict[str, Any]]
    wall_seconds: float = 0.0
    unassigned_reasons: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def _refusal(exc: DomainError | IntegrityError) -> str:
    """The reason a step the product refused or failed is logged with: its problem's detail, or
    the database's first line."""
    return exc.detail if isinstance(exc, DomainError) else str(exc.orig).splitlines()[0]


class Simulation:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        scenario: Scenario,
        policy: Policy,
        *,
        sweep_minutes: int = 15,
        progress: Callable[[float], None] | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.scenario = scenario
        self.policy = policy
        self.sweep_minutes = sweep_minutes
        self.progress = progress
        self.clock = ManualClock(scenario.start)
        self.travel = travel_provider(scenario.start, TZ)
        self.log = EventLog()
        self.samples: list[Sample] = []
        self.unassigned_reasons: dict[str, str] = {}
        # Wall seconds spent per phase of the loop (the report's run-time breakdown).
        self.timings: dict[str, float] = {}
        self.world: World
        self._orders: dict[uuid.UUID, tuple[Fault, Place]] = {}
        self._assigned: dict[uuid.UUID, tuple[uuid.UUID | None, dt.datetime | None]] = {}
        self._sick: set[tuple[uuid.UUID, dt.date]] = set()
        self._pending = sorted(scenario.faults, key=lambda f: (f.reported_at, f.n))
        self._callbacks: list[tuple[dt.datetime, uuid.UUID]] = []
        self._deliveries: list[restock.Order] = []
        self._loan_steps: list[loan_returns.Step] = []

    # --- what the policies ask -------------------------------------------------------------
    def session(self) -> AbstractAsyncContextManager[AsyncSession]:
        return self.sessionmaker()

    def fault_number(self, order_id: uuid.UUID) -> int | None:
        found = self._orders.get(order_id)
        return found[0].n if found else None

    def place_of(self, order_id: uuid.UUID) -> Place:
        return self._orders[order_id][1]

    def label(self, visit_id: uuid.UUID) -> str:
        return self.log.labels.get(visit_id, str(visit_id))

    def _name(self, visit_id: uuid.UUID, order_id: uuid.UUID) -> str:
        fault = self.fault_number(order_id)
        return self.log.label(visit_id, fault) if fault is not None else str(visit_id)

    def idle_crews(self) -> list[Crew]:
        return [c for c in self.world.crews if c.phase is None]

    def local_day(self, at: dt.datetime) -> dt.date:
        return at.astimezone(zones.zone(TZ)).date()

    def sick(self, crew: Crew, at: dt.datetime) -> bool:
        return (crew.engineer.id, self.local_day(at)) in self._sick

    def distance_km(self, a: Point, b: Point) -> float:
        return float(self.travel.distances([a], [b])[0, 0]) / 1000.0

    async def loan_approved(self, session: AsyncSession, visit_id: uuid.UUID) -> bool:
        status = await session.scalar(select(Loan.status).where(Loan.delivery_visit_id == visit_id))
        return status is LoanStatus.APPROVED

    async def note_assignments(self, now: dt.datetime) -> None:
        """Log every assignment that changed since the last look (who, planned start)."""
        async with self.session() as session:
            rows = await session.execute(
                select(
                    Visit.id,
                    Visit.work_order_id,
                    Visit.engineer_id,
                    Visit.planned_start,
                    Visit.kind,
                    Visit.required_skills,
                ).where(Visit.status == VisitStatus.ASSIGNED)
            )
            changed: list[dict[str, Any]] = []
            for visit_id, order_id, engineer_id, start, kind, skills in rows:
                if self._assigned.get(visit_id) == (engineer_id, start):
                    continue
                self._assigned[visit_id] = (engineer_id, start)
                crew = self.world.crew_of(engineer_id)
                changed.append(
                    {
                        "visit": self._name(visit_id, order_id),
                        "engineer": crew.actor.username if crew else str(engineer_id),
                        "planned_start": start.isoformat() if start else None,
                        "kind": kind.value,
                        "skills": sorted(skills),
                    }
                )
        # In label order, not the database's: two runs of one seed log alike.
        for row in sorted(changed, key=lambda r: str(r["visit"])):
            self.log.add(now, "assign", **row)

    # --- the loop --------------------------------------------------------------------------
    async def _timed(self, phase: str, work: Awaitable[None]) -> None:
        started = time.perf_counter()
        try:
            await work
        except (DomainError, IntegrityError) as exc:
            # Refused or failed in the product: logged with its reason; the week goes on.
            self.log.add(self.clock.now(), "failed", phase=phase, reason=_refusal(exc))
        self.timings[phase] = self.timings.get(phase, 0.0) + time.perf_counter() - started

    async def run(self) -> Outcome:
        async with self.session() as session, session.begin():
            self.world = await load_world(session, self.scenario.engineers, self.scenario.roster)
            if self.scenario.backup_pool:
                models = [p.asset.model for p in self.world.places]
                stocked = await stock_backups(
                    session, self.world.desk, self.scenario.start, models, self.scenario.backup_pool
                )
                for model, (had, added) in stocked.items():
                    self.log.add(self.scenario.start, "backup_pool", model=model, had=had, added=added)
            if self.scenario.restock_levels:
                skus = sorted({sku for parts in PARTS.values() for sku in parts})
                rules = await restock.set_rules(session, skus, *self.scenario.restock_levels)
                self.log.add(self.scenario.start, "stock_rules", skus=skus, rules=rules)
            await self._absences(session)
            for crew in self.world.crews:
                await positions.set_consent(session, crew.actor, self.scenario.start, True)
        total = (self.scenario.end - self.scenario.start) / TICK
        t, n = self.scenario.start, 0
        while t < self.scenario.end:
            minutes = round((t - self.scenario.start).total_seconds() / 60)
            await self._timed("field", self._play_until(t))
            self.clock.set(t)
            await self._timed("restock", self._restock(t))
            await self._timed("loans", self._loan_returns(t))
            await self._timed("dispatch", self.policy.dispatch(self, t))
            await self._timed("departures", self._departures(t))
            if minutes % self.sweep_minutes == 0:
                await self._timed("sweeps", self._sweep(t))
            if minutes % 60 == 0:
                await self._timed("samples", self._sample(t))
            t, n = t + TICK, n + 1
            if self.progress:
                self.progress(n / total)
        return await self._outcome()

    async def _restock(self, t: dt.datetime) -> None:
        """The night's order at ORDER_HOUR (site time), and the deliveries due by `t`."""
        if not self.scenario.restock_levels:
            return
        local = t.astimezone(zones.zone(TZ))
        if (local.hour, local.minute) == (restock.ORDER_HOUR, 0):
            morning = dt.datetime.combine(
                local.date() + dt.timedelta(days=1), dt.time(restock.DELIVERY_HOUR), local.tzinfo
            )
            async with self.session() as session, session.begin():
                orders = await restock.order_suggested(session, self.world.desk, t, morning)
            self._deliveries += orders
            for o in orders:
                self.log.add(t, "restock_ordered", location=o.location, lines=o.lines, eta=o.eta.isoformat())
        while self._deliveries and self._deliveries[0].eta <= t:
            order = self._deliveries.pop(0)
            async with self.session() as session, session.begin():
                await restock.receive(session, self.world.desk, t, order)
            self.log.add(t, "restock_received", location=order.location, lines=order.lines)

    async def _loan_returns(self, t: dt.datetime) -> None:
        """The loans' steps due by `t` (see loan_returns), each in its own transaction."""
        while self._loan_steps and self._loan_steps[0].at <= t:
            step = self._loan_steps.pop(0)
            try:
                async with self.session() as session, session.begin():
                    event, after = await loan_returns.play(session, self.world.desk, self.clock, step)
            except (DomainError, IntegrityError) as exc:
                self.log.add(t, "loan_step_failed", fault=step.fault, step=step.kind, reason=_refusal(exc))
                continue
            self.log.add(t, event, fault=step.fault)
            if after is not None:
                self._schedule(after)

    def _schedule(self, step: loan_returns.Step) -> None:
        self._loan_steps.append(step)
        self._loan_steps.sort(key=lambda s: (s.at, s.fault, s.kind))

    async def _absences(self, session: AsyncSession) -> None:
        tz = zones.zone(TZ)
        for index, day in self.scenario.sick:
            if index >= len(self.world.crews):
                continue
            crew = self.world.crews[index]
            local = self.local_day(self.scenario.start) + dt.timedelta(days=day)
            start = dt.datetime.combine(local, dt.time(0), tz)
            await absences.create_absence(
                session, self.world.desk, crew.engineer.id,
                starts_at=start, ends_at=start + dt.timedelta(days=1), kind=AbsenceKind.SICK, note="病假",
            )  # fmt: skip
            self._sick.add((crew.engineer.id, local))
            self.log.add(start, "sick", engineer=crew.actor.username, day=local.isoformat())

    async def _play_until(self, t: dt.datetime) -> None:
        """Arrivals, call-backs and the engineers' steps due by `t`, in time order."""
        while True:
            steps: list[tuple[dt.datetime, int, Any]] = []
            if self._pending and self._pending[0].reported_at <= t:
                steps.append((self._pending[0].reported_at, 0, None))
            if self._callbacks and self._callbacks[0][0] <= t:
                steps.append((self._callbacks[0][0], 1, None))
            due = [c for c in self.world.crews if c.until is not None and c.until <= t]
            if due:
                crew = min(due, key=lambda c: (c.until, c.actor.username))
                assert crew.until is not None
                steps.append((crew.until, 2, crew))
            if not steps:
                return
            at, kind, crew = min(steps, key=lambda s: (s[0], s[1]))
            self.clock.set(at)
            if kind == 0:
                await self._report(self._pending.pop(0))
            elif kind == 1:
                await self._call_back(self._callbacks.pop(0)[1])
            else:
                await self._step(crew)

    async def _report(self, fault: Fault) -> None:
        place = self.world.places[fault.place % len(self.world.places)]
        skill = place.category
        part = fault.part_of(skill)
        async with self.session() as session, session.begin():
            intake = service.Intake(
                site_id=place.site.id,
                contact_name="王经理",
                contact_phone="13800000000",
                fault_description=f"模拟故障 {fault.n}：{place.asset.model}",
                severity=fault.severity,
                channel=Channel.PHONE,
                asset_id=place.asset.id,
            )
            order = await service.create(session, self.world.desk, self.clock, intake)
            visit = await visits.create_visit(
                session,
                self.world.desk,
                self.clock,
                order.id,
                visits.VisitPlan(
                    VisitKind.REPAIR,
                    PLANNED_MINUTES.get(skill, 60),
                    required_skills={skill: 1},
                    required_parts=[{"sku": part, "quantity": 1}] if part else [],
                ),
            )
            self._orders[order.id] = (fault, place)
            label = self.log.label(visit.id, fault.n)
        self._callbacks.append((fault.reported_at + dt.timedelta(minutes=fault.callback_minutes), order.id))
        self._callbacks.sort(key=lambda c: c[0])
        self.log.add(
            fault.reported_at, "reported", fault=fault.n, severity=fault.severity.value,
            site=place.site.name, category=skill, model=place.asset.model, part=part, visit=label,
        )  # fmt: skip
        await self.policy.reported(self, visit.id, fault.severity)

    async def _call_back(self, order_id: uuid.UUID) -> None:
        async with self.session() as session, session.begin():
            await service.record_contact(
                session,
                self.world.desk,
                self.clock,
                order_id,
                person_name="调度员",
                channel="phone",
                note=None,
                at=None,
            )

    async def _job(self, session: AsyncSession, visit_id: uuid.UUID) -> fieldwork.Job:
        # Locked as the services the step calls lock them: they then read neither row again (a
        # work order's load is four statements, with its clocks, visits and their notes).
        visit = await get_locked(session, Visit, visit_id, populate_existing=True)
        assert visit is not None
        order = await get_locked(session, WorkOrder, visit.work_order_id, populate_existing=True)
        assert order is not None
        fault, place = self._orders[order.id]
        return fieldwork.Job(visit, order, fault, place, first=self._name(visit.id, order.id).endswith(".1"))

    async def _departures(self, t: dt.datetime) -> None:
        """Engineers with nothing under way leave for their next visit: on shift, for the next stop
        planned that day at once, as a real engineer does when a job ends (see `_leave_at`); off
        shift (standby), when its planned start is near."""
        idle = {c.engineer.id: c for c in self.idle_crews()}
        if not idle:
            return
        async with self.session() as session, session.begin():
            rows = await session.execute(
                select(
                    Visit.id, Visit.engineer_id, Visit.planned_start, Visit.window_start, Visit.work_order_id
                )
                .where(Visit.status == VisitStatus.ASSIGNED, Visit.engineer_id.in_(idle))
                .order_by(Visit.planned_start.nulls_last(), Visit.id)
            )
            for visit_id, engineer_id, start, window_start, order_id in list(rows):
                crew = idle.pop(engineer_id, None) if engineer_id else None
                if crew is None or order_id not in self._orders or self.sick(crew, t):
                    continue
                place = self.place_of(order_id)
                drive = fieldwork.travel_seconds(self.travel, self.scenario.start, crew.point, place.point, t)
                if self._leave_at(crew, place, t, start, window_start, drive) > t:
                    continue
                job = await self._job(session, visit_id)
                arrival, km = await fieldwork.set_off(
                    session, self.clock, crew, job, self.travel, self.scenario.start
                )
                crew.visit_id, crew.phase, crew.until = visit_id, "travel", arrival
                crew.km += km
                self.log.add(
                    t, "travel", visit=self.label(visit_id), engineer=crew.actor.username, fault=job.fault.n,
                    km=round(km, 2), arrival=arrival.isoformat(),
                )  # fmt: skip

    def _leave_at(
        self,
        crew: Crew,
        place: Place,
        t: dt.datetime,
        start: dt.datetime | None,
        window_start: dt.datetime | None,
        drive: float,
    ) -> dt.datetime:
        """When the engineer sets off for a visit planned at `start`. On shift and planned for the
        same day: now, or so as to arrive when the appointment starts and the site opens (the
        planned start is an estimate; waiting for it leaves the engineer idle after a job that
        ended early). Otherwise: so as to arrive at the planned start, and not before the
        appointment's window opens."""
        travel = dt.timedelta(seconds=drive)
        if (
            start is None
            or not positions.on_shift(crew.engineer, t)
            or self.local_day(start) != self.local_day(t)
        ):
            if window_start is not None and window_start > t:
                return window_start
            return t if start is None else max(t, start - travel)
        arrive = max(t + travel, window_start or t)
        if place.site.access_windows:
            opens = [
                t + dt.timedelta(seconds=max(lo, (arrive - t).total_seconds()))
                for lo, hi in access_windows(place.site, t, 86400.0)
                if t + dt.timedelta(seconds=hi) >= arrive
            ]
            # A site closed all day: the planned start, as planned.
            arrive = min(opens) if opens else max(arrive, start)
        return max(t, arrive - travel)

    async def _step(self, crew: Crew) -> None:
        """The engineer's next step; one the product refuses or fails is logged with its reason
        and the engineer moves on (the order stays where it was: a miss the report names)."""
        at = crew.until
        assert at is not None
        visit_id = crew.visit_id
        try:
            await self._do_step(crew)
        except (DomainError, IntegrityError) as exc:
            label = self.label(visit_id) if visit_id else None
            self.log.add(
                at,
                "step_failed",
                visit=label,
                engineer=crew.actor.username,
                phase=crew.phase,
                reason=_refusal(exc),
            )
            if crew.phase == "travel":
                self.log.add(
                    at, "arrive", visit=label, engineer=crew.actor.username, fault=None, kind="failed"
                )
            self.log.add(
                at, "finish", visit=label, engineer=crew.actor.username, fault=None, outcome="failed"
            )
            crew.visit_id = crew.phase = crew.until = None

    async def _do_step(self, crew: Crew) -> None:
        at = crew.until
        assert at is not None
        assert crew.visit_id is not None
        async with self.session() as session, session.begin():
            job = await self._job(session, crew.visit_id)
            label = self.label(job.visit.id)
            if crew.phase == "travel":
                await fieldwork.check_in(session, self.clock, crew, job)
                crew.point = job.place.point
                if positions.on_shift(crew.engineer, at):
                    await positions.record(session, crew.actor, at, [positions.Fix(at, crew.point, 15.0)])
                if job.visit.kind is VisitKind.BACKUP_DELIVERY:
                    minutes = fieldwork.INSTALL_MINUTES
                elif job.visit.kind is VisitKind.SWAP_BACK:
                    minutes = backup.SWAP_BACK_MINUTES
                else:
                    minutes = job.fault.true_minutes(job.place.category) + self._delay(job)
                crew.phase, crew.until = "site", at + dt.timedelta(minutes=minutes)
                self.log.add(
                    at,
                    "arrive",
                    visit=label,
                    engineer=crew.actor.username,
                    fault=job.fault.n,
                    kind=job.visit.kind.value,
                )
                return
            if job.visit.kind is VisitKind.BACKUP_DELIVERY:
                await fieldwork.install(session, self.clock, crew, job)
                outcome = "backup_installed"
                loan = await loan_for_order(session, job.order.id)
                assert loan is not None
                self._schedule(
                    loan_returns.Step(
                        at + loan_returns.SHIP_AFTER, "ship", loan.id, job.fault.n, job.fault.vendor_hours
                    )
                )
            elif job.visit.kind is VisitKind.SWAP_BACK:
                loan = await backup.complete_swap_back(
                    session, crew.actor, self.clock, job.visit.id, note=None
                )
                outcome = "swapped_back"
                self._schedule(
                    loan_returns.Step(
                        at + loan_returns.TO_WAREHOUSE,
                        "in_stock",
                        loan.id,
                        job.fault.n,
                        job.fault.vendor_hours,
                    )
                )
            else:
                if self._delay(job):
                    arrived = job.visit.arrived_at
                    assert arrived is not None
                    await fieldwork.gate_wait(session, self.clock, self.world.desk, job, arrived)
                outcome = await fieldwork.finish_repair(
                    session, self.clock, crew, self.world.desk, job, self.log, label
                )
            crew.visit_id = crew.phase = crew.until = None
            self.log.add(
                at, "finish", visit=label, engineer=crew.actor.username, fault=job.fault.n, outcome=outcome
            )

    @staticmethod
    def _delay(job: fieldwork.Job) -> int:
        return job.fault.gate_delay_minutes if job.first else 0

    async def _sweep(self, t: dt.datetime) -> None:
        from dispatch.messaging.models import Notification

        await Worker(self.sessionmaker, self.clock, WorkerConfig(interval=60.0), self.travel).run_sweeps()
        async with self.session() as session:
            rows = await session.execute(
                select(Notification.kind, Notification.work_order_id)
                .where(Notification.created_at == t)
                .order_by(Notification.kind, Notification.work_order_id)
            )
            notices = sorted(((kind, self.fault_number(o) if o else None) for kind, o in rows), key=str)
        for kind, fault in notices:
            self.log.add(t, "notice", notice=kind, fault=fault)

    async def _sample(self, t: dt.datetime) -> None:
        async with self.session() as session:
            # Not yet restored: an order resolved (or with a backup in) but not closed is no longer
            # waiting on the field.
            open_orders = await session.scalar(
                select(func.count(WorkOrder.id)).where(
                    WorkOrder.status.in_(OPEN - SERVICE_RESTORED), WorkOrder.restored_at.is_(None)
                )
            )
            at_risk = await session.scalar(
                select(func.count(SlaClock.id)).where(
                    SlaClock.at_risk_since.is_not(None),
                    SlaClock.met_at.is_(None),
                    SlaClock.breached_at.is_(None),
                )
            )
        self.samples.append(Sample(t, int(open_orders or 0), int(at_risk or 0)))

    async def _outcome(self) -> Outcome:
        """One row per fault from the database as the week left it: report, first arrival,
        restore, and each SLA clock's deadline, met and breach times."""
        orders: list[dict[str, Any]] = []
        async with self.session() as session:
            clocks: dict[uuid.UUID, dict[str, SlaClock]] = {}
            for clock in (await session.execute(select(SlaClock))).scalars():
                clocks.setdefault(clock.work_order_id, {})[clock.measure.value] = clock
            arrivals = dict(
                (
                    await session.execute(
                        select(Visit.work_order_id, func.min(Visit.arrived_at)).group_by(Visit.work_order_id)
                    )
                ).all()
            )
            kinds: dict[uuid.UUID | None, str] = {
                cid: kind.value
                for cid, kind in await session.execute(select(Contract.id, Contract.calendar_kind))
            }
            for order_id, (fault, place) in sorted(self._orders.items(), key=lambda kv: kv[1][0].n):
                order = await session.get(WorkOrder, order_id)
                assert order is not None
                row: dict[str, Any] = {
                    "fault": fault.n,
                    "severity": fault.severity.value,
                    "category": place.category,
                    "site": place.site.name,
                    "reported_at": order.reported_at,
                    "arrived_at": arrivals.get(order_id),
                    "restored_at": order.restored_at,
                    "status": order.status.value,
                    # The contract's calendar: 7x24 promises the elapsed 12 h / 48 h, 5x8 counts
                    # business hours (next business day).
                    "contract": kinds.get(order.contract_id, "none"),
                }
                for measure, clock in clocks.get(order_id, {}).items():
                    row[f"{measure}_deadline"] = clock.deadline
                    row[f"{measure}_met_at"] = clock.met_at
                    row[f"{measure}_breached"] = clock.breached_at is not None or (
                        clock.met_at is not None
                        and clock.deadline is not None
                        and clock.met_at > clock.deadline
                    )
                orders.append(row)
        crews = [
            {
                "engineer": c.actor.username,
                "km": round(c.km, 2),
                "shifts": [
                    {
                        "weekday": s.weekday,
                        "starts": s.starts.isoformat(),
                        "ends": s.ends.isoformat(),
                        "on_call": s.on_call,
                    }
                    for s in c.engineer.shifts
                ],
                "on_call": c.engineer.on_call,
                "overtime_cap_minutes": c.engineer.overtime_cap_minutes_day,
                "skills": {
                    s.skill: s.valid_until.isoformat() if s.valid_until else None for s in c.engineer.skills
                },
            }
            for c in self.world.crews
        ]
        reasons = await self._reasons()
        return Outcome(
            self.policy.name,
            self.log,
            self.samples,
            orders,
            crews,
            unassigned_reasons=reasons,
            timings=self.timings,
        )

    async def _reasons(self) -> dict[str, str]:
        """The last reason a plan gave for leaving each visit out, by visit label."""
        ids = [uuid.UUID(k) for k in self.unassigned_reasons]
        async with self.session() as session:
            orders = dict(
                (await session.execute(select(Visit.id, Visit.work_order_id).where(Visit.id.in_(ids)))).all()
            )
        return {
            self._name(v, orders[v]) if v in orders else str(v): self.unassigned_reasons[str(v)] for v in ids
        }
