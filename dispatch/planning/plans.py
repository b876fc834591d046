"""Plans: solved off the event loop in a worker process, stored, applied by a dispatcher.

A solve is CPU-bound C++ that holds the interpreter while it runs, so it goes to a
separate process (spawned: no inherited database connections); the process reports
its best objective as it improves, and the API process writes that progress to the
plan row, which polling clients and the live stream read.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import math
import multiprocessing
import queue
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, true, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import Clock
from core.errors import Conflict, NotFound, RateLimited, field_error
from core.identity.roles import Actor
from dispatch.flows import restock
from dispatch.planning.models import Plan, PlanStatus
from dispatch.planning.problem import PlanInput, build, result_of
from dispatch.work_orders import visits as visit_service
from dispatch.work_orders.models import Visit, VisitStatus
from inventory.errors import OutOfStock
from routing import model as rm
from routing.options import SolveOptions
from routing.solver import solve

log = logging.getLogger("fieldservice.plans")


class PlanStale(Conflict):
    slug = "plan-stale"
    title = "The plan was made from visits that changed since"


def _solve_in_child(problem: rm.Problem, time_limit_s: float, solution_limit: int | None, out: Any) -> None:
    def progress(p: rm.Progress) -> None:
        out.put(
            (
                "progress",
                {"objective": p.objective, "elapsed_s": round(p.elapsed_s, 2), "solutions": p.solutions},
            )
        )

    try:
        options = SolveOptions(time_limit_s=time_limit_s, solution_limit=solution_limit, progress=progress)
        out.put(("done", solve(problem, options)))
    except Exception as exc:  # reported to the parent, which marks the plan failed
        out.put(("failed", f"{type(exc).__name__}: {exc}"))


@dataclass(frozen=True)
class PlanLimits:
    """How much solving one API process takes on (see Settings.plan_*)."""

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


@dataclass
class _Job:
    plan_id: uuid.UUID
    user_id: uuid.UUID | None
    plan_input: PlanInput
    time_limit_s: float
    solution_limit: int | None
    admitted: float = field(default_factory=time.monotonic)
    committed: bool = False
    started: float | None = None

    def remaining_s(self, now: float) -> float:
        """Seconds until this job's solve ends at the latest (its whole time limit while waiting)."""
        return self.time_limit_s - (now - self.started if self.started is not None else 0.0)


# A job admitted by a request whose transaction never committed is forgotten after this long.
_UNCOMMITTED_S = 60.0


class PlanRunner:
    """Runs this API process's solves: at most `workers` at once, the rest waiting in order in a
    bounded queue, each plan's row kept alive by a heartbeat and its progress recorded.

    The queue lives in this process (a later step moves it to a PostgreSQL job queue); what
    survives the process is the plan row, which reads as failed once its heartbeat stops.
    """

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], limits: PlanLimits | None = None
    ) -> None:
        self.sessionmaker = sessionmaker
        self.limits = limits or PlanLimits()
        self.id = uuid.uuid4()
        self._waiting: list[_Job] = []
        self._running: dict[uuid.UUID, _Job] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._processes: set[Any] = set()
        self._heartbeat: asyncio.Task[None] | None = None

    # Admission ---------------------------------------------------------------------------------

    def admit(
        self,
        plan_id: uuid.UUID,
        user_id: uuid.UUID | None,
        plan_input: PlanInput,
        time_limit_s: float,
        solution_limit: int | None,
    ) -> None:
        """Take a place for a new plan, or refuse (429) when the queue or the user's share is full.
        The plan starts once its row is committed (`start`)."""
        now = time.monotonic()
        self._waiting = [j for j in self._waiting if j.committed or now - j.admitted < _UNCOMMITTED_S]
        jobs = [*self._running.values(), *self._waiting]
        mine = [j for j in jobs if user_id is not None and j.user_id == user_id]
        soonest = min((j.remaining_s(now) for j in self._running.values()), default=time_limit_s)
        if len(mine) >= self.limits.per_user:
            wait = min(j.remaining_s(now) + (0 if j.started else soonest) for j in mine)
            raise TooManyPlans(
                f"You have {len(mine)} plans queued or running (at most {self.limits.per_user}); "
                "wait for one to finish",
                retry_after=max(1, math.ceil(wait)),
                limit="per-user",
            )
        if len(jobs) >= self.limits.workers + self.limits.queue:
            raise TooManyPlans(
                f"{len(jobs)} plans are queued or running, the most this server takes; retry later",
                retry_after=max(1, math.ceil(soonest)),
                limit="queue",
            )
        self._waiting.append(_Job(plan_id, user_id, plan_input, time_limit_s, solution_limit))

    def start(self, plan_id: uuid.UUID) -> None:
        """The plan's row is committed: it may run when its turn comes."""
        for job in self._waiting:
            if job.plan_id == plan_id:
                job.committed = True
        if self._heartbeat is None:
            self._heartbeat = asyncio.create_task(self._beat(), name="plan-heartbeat")
        self._pump()

    def queue_position(self, plan_id: uuid.UUID) -> int | None:
        """How many solves must end before this plan gets a solver (0: it starts now); None when it
        is not waiting here."""
        free = self.limits.workers - len(self._running)
        for index, job in enumerate(self._waiting):
            if job.plan_id == plan_id:
                return max(0, index + 1 - free)
        return None

    def _pump(self) -> None:
        while len(self._running) < self.limits.workers:
            job = next((j for j in self._waiting if j.committed), None)
            if job is None:
                return
            self._waiting.remove(job)
            job.started = time.monotonic()
            self._running[job.plan_id] = job
            task = asyncio.create_task(self._run(job))
            self._tasks.add(task)
            task.add_done_callback(functools.partial(self._finished, job.plan_id))

    def _finished(self, plan_id: uuid.UUID, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            self._running.pop(plan_id, None)
        else:
            self._release(plan_id)

    def _release(self, plan_id: uuid.UUID) -> None:
        """The solver's place is free: called before a plan's last status is written, so that
        whoever reads `done` or `failed` finds the place free too."""
        if self._running.pop(plan_id, None) is not None:
            self._pump()

    # Running -----------------------------------------------------------------------------------

    async def _update(self, plan_id: uuid.UUID, **values: Any) -> None:
        async with self.sessionmaker() as session, session.begin():
            plan = await session.get(Plan, plan_id, with_for_update=True)
            if plan is not None:
                for name, value in values.items():
                    setattr(plan, name, value)

    async def _beat(self) -> None:
        """Tell readers that this process still holds its queued and running plans."""
        while True:
            try:
                async with self.sessionmaker() as session, session.begin():
                    await session.execute(
                        update(Plan)
                        .where(Plan.runner_id == self.id, Plan.status.in_(ACTIVE))
                        .values(heartbeat_at=func.now())
                    )
            except Exception:  # the database is away: the next beat tries again
                log.warning("plan heartbeat failed", exc_info=True)
            await asyncio.sleep(self.limits.heartbeat_s)

    async def _run(self, job: _Job) -> None:
        plan_id, plan_input = job.plan_id, job.plan_input
        context = multiprocessing.get_context("spawn")
        channel = context.Queue()
        process = context.Process(
            target=_solve_in_child,
            daemon=True,
            args=(plan_input.problem, job.time_limit_s, job.solution_limit, channel),
        )
        try:
            await self._update(plan_id, status=PlanStatus.RUNNING, heartbeat_at=func.now())
            process.start()
            self._processes.add(process)
            while True:
                try:
                    kind, payload = await asyncio.to_thread(channel.get, True, 0.5)
                except queue.Empty:
                    if not process.is_alive():
                        raise RuntimeError("the solver process ended without an answer") from None
                    continue
                if kind == "progress":
                    await self._update(plan_id, progress=payload)
                elif kind == "done":
                    self._release(plan_id)
                    await self._update(
                        plan_id,
                        status=PlanStatus.DONE,
                        result=result_of(plan_input, payload),
                        finished_at=dt.datetime.now(dt.UTC),
                    )
                    return
                else:
                    raise RuntimeError(payload)
        except Exception as exc:
            log.exception("plan %s failed", plan_id)
            self._release(plan_id)
            await self._update(
                plan_id, status=PlanStatus.FAILED, error=str(exc)[:2000], finished_at=dt.datetime.now(dt.UTC)
            )
        finally:
            # A plan cancelled before its process started has nothing to reap; joining happens
            # in a thread so a slow exit never stalls the event loop.
            if process.pid is not None:
                await asyncio.to_thread(process.join, 5)
                if process.is_alive():
                    process.kill()
            self._processes.discard(process)

    async def recover(self) -> int:
        """At start-up: plans that a stopped process left queued or running are marked failed."""
        async with self.sessionmaker() as session, session.begin():
            return await fail_orphans(session, self.limits.orphaned_after, self.id)

    async def stop(self) -> None:
        for process in list(self._processes):
            process.kill()
        for task in [*self._tasks, *([self._heartbeat] if self._heartbeat else [])]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._heartbeat = None
        self._waiting.clear()
        # What this process held will not finish: say so now rather than after the heartbeat lapses.
        try:
            async with self.sessionmaker() as session, session.begin():
                await session.execute(
                    update(Plan)
                    .where(Plan.runner_id == self.id, Plan.status.in_(ACTIVE))
                    .values(status=PlanStatus.FAILED, error=STOPPED, finished_at=func.now())
                )
        except Exception:  # the database is away: the rows lapse through their heartbeat instead
            log.warning("could not mark this process's plans stopped", exc_info=True)


ACTIVE = (PlanStatus.QUEUED, PlanStatus.RUNNING)
STOPPED = "The server stopped before the plan finished; plan again"


async def fail_orphans(
    session: AsyncSession,
    stale_after: dt.timedelta,
    alive_runner: uuid.UUID | None,
    plan_id: uuid.UUID | None = None,
) -> int:
    """Mark failed the queued or running plans (all, or the one given) whose process stopped
    beating (it died or was killed); plans of `alive_runner`, this process, are left to it."""
    result = await session.execute(
        update(Plan)
        .where(
            Plan.status.in_(ACTIVE),
            Plan.id == plan_id if plan_id is not None else true(),
            Plan.runner_id.is_distinct_from(alive_runner),
            or_(Plan.heartbeat_at.is_(None), Plan.heartbeat_at < func.now() - stale_after),
        )
        .values(status=PlanStatus.FAILED, error=STOPPED, finished_at=func.now())
        .returning(Plan.id)
        .execution_options(synchronize_session=False)
    )
    return len(result.all())


async def create(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    *,
    horizon_s: int,
    engineer_ids: list[uuid.UUID] | None,
    time_limit_s: float,
    osrm_url: str = "",
    runner_id: uuid.UUID | None = None,
) -> tuple[Plan, PlanInput]:
    plan_input = await build(session, now, horizon_s, engineer_ids, osrm_url=osrm_url)
    plan = Plan(
        id=uuid.uuid4(),
        created_at=now,
        created_by=actor.user_id,
        status=PlanStatus.QUEUED,
        origin=now,
        horizon_s=horizon_s,
        params={"engineer_ids": [str(e) for e in engineer_ids or []], "time_limit_s": time_limit_s},
        visit_versions=plan_input.visit_versions,
        progress={},
        inputs_hash=plan_input.inputs_hash(),
        runner_id=runner_id,
        heartbeat_at=func.now(),
    )
    session.add(plan)
    await session.flush()
    return plan, plan_input


async def get(session: AsyncSession, plan_id: uuid.UUID, runner: PlanRunner | None = None) -> Plan:
    """The plan; with `runner`, a queued or running plan whose process died reads as failed."""
    if runner is not None:
        await fail_orphans(session, runner.limits.orphaned_after, runner.id, plan_id)
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
    changed = []
    for visit_id, stop in starts.items():
        visit = await session.get(Visit, uuid.UUID(visit_id), with_for_update=True)
        if visit is None or visit.version != plan.visit_versions.get(visit_id):
            changed.append(stop["problem_number"])
    if changed:
        raise PlanStale(
            "Visits changed after the plan was made; plan again", changed_work_orders=sorted(set(changed))
        )
    for visit_id, crew in crews.items():
        visit = await session.get(Visit, uuid.UUID(visit_id))
        assert visit is not None
        if visit.status not in {VisitStatus.PLANNED, VisitStatus.ASSIGNED}:
            continue  # work already under way stays as it is
        partner = uuid.UUID(crew[1]) if len(crew) > 1 else visit.partner_engineer_id
        await visit_service.assign(
            session,
            actor,
            clock,
            visit.id,
            visit.version,
            engineer_id=uuid.UUID(crew[0]),
            partner_engineer_id=partner,
            planned_start=dt.datetime.fromisoformat(starts[visit_id]["start"]),
            pinned=visit.pinned,
        )
    short = await _hold_pickups(session, actor, clock, pickups)
    result = {**plan.result, "applied_engineers": sorted(done)}
    if short:
        result["pickups_not_held"] = sorted({*plan.result.get("pickups_not_held", []), *short})
    plan.result = result
    if done >= {r["engineer_id"] for r in plan.result["routes"]}:
        plan.status, plan.applied_at, plan.applied_by = PlanStatus.APPLIED, clock.now(), actor.user_id
    await session.flush()
    return plan


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
