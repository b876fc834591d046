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
import logging
import multiprocessing
import queue
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import Clock
from core.errors import Conflict, NotFound
from core.identity.roles import Actor
from dispatch import stock_flow
from dispatch import visits as visit_service
from dispatch.order_models import Visit, VisitStatus
from dispatch.plan_models import Plan, PlanStatus
from dispatch.planning import PlanInput, build, result_of
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


class PlanRunner:
    """Runs solves for this API process and records their progress and results."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self._tasks: set[asyncio.Task[None]] = set()
        self._processes: set[Any] = set()

    def start(
        self, plan_id: uuid.UUID, plan_input: PlanInput, time_limit_s: float, solution_limit: int | None
    ) -> None:
        task = asyncio.create_task(self._run(plan_id, plan_input, time_limit_s, solution_limit))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _update(self, plan_id: uuid.UUID, **values: Any) -> None:
        async with self.sessionmaker() as session, session.begin():
            plan = await session.get(Plan, plan_id, with_for_update=True)
            if plan is not None:
                for name, value in values.items():
                    setattr(plan, name, value)

    async def _run(
        self, plan_id: uuid.UUID, plan_input: PlanInput, time_limit_s: float, solution_limit: int | None
    ) -> None:
        context = multiprocessing.get_context("spawn")
        channel = context.Queue()
        process = context.Process(
            target=_solve_in_child,
            daemon=True,
            args=(plan_input.problem, time_limit_s, solution_limit, channel),
        )
        try:
            await self._update(plan_id, status=PlanStatus.RUNNING)
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
            await self._update(
                plan_id, status=PlanStatus.FAILED, error=str(exc)[:2000], finished_at=dt.datetime.now(dt.UTC)
            )
        finally:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
            self._processes.discard(process)

    async def stop(self) -> None:
        for process in list(self._processes):
            process.kill()
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def create(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    *,
    horizon_s: int,
    engineer_ids: list[uuid.UUID] | None,
    time_limit_s: float,
    osrm_url: str = "",
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
    )
    session.add(plan)
    await session.flush()
    return plan, plan_input


async def get(session: AsyncSession, plan_id: uuid.UUID) -> Plan:
    plan = await session.get(Plan, plan_id)
    if plan is None:
        raise NotFound(f"No plan with id {plan_id}")
    return plan


async def apply(session: AsyncSession, actor: Actor, clock: Clock, plan_id: uuid.UUID) -> Plan:
    """Write the plan's assignments and ETAs; refused whole when any of its visits changed since."""
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
    for route in plan.result["routes"]:
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
    # Pick-ups reserve their parts at the warehouse. The plan counts stock per
    # visit, so two visits may count on one last unit: what cannot be held is
    # listed on the plan (the next plan sees the smaller stock) instead of
    # refusing the assignments.
    short: list[str] = []
    for stop in pickups:
        try:
            async with session.begin_nested():
                await stock_flow.hold_for_pickup(
                    session,
                    actor,
                    clock.now(),
                    visit_id=uuid.UUID(stop["visit_id"]),
                    warehouse_id=uuid.UUID(stop["warehouse_id"]),
                    until=dt.datetime.fromisoformat(stop["start"]),
                )
        except OutOfStock:
            short.append(stop["problem_number"])
    if short:
        plan.result = {**plan.result, "pickups_not_held": sorted(set(short))}
    plan.status, plan.applied_at, plan.applied_by = PlanStatus.APPLIED, clock.now(), actor.user_id
    await session.flush()
    return plan
