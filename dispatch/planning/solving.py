"""A queue worker solves a plan: off its event loop in a child process, beating on the plan row.

A solve is CPU-bound C++ that holds the interpreter while it runs, so it goes to a separate
process (spawned: no inherited database connections); the child reports its best objective as
it improves, and the worker writes that progress to the plan row. While the solve runs the worker
touches the row every heartbeat; a row untouched for three heartbeats belongs to a worker that
died, and reads as failed (plans.fail_orphans), on any API process.
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

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch.planning.models import Plan, PlanStatus
from dispatch.planning.plans import STOPPED, PlanLimits
from dispatch.planning.problem import PlanInput, build, result_of
from routing import model as rm
from routing.options import SolveOptions
from routing.solver import solve as solve_problem

log = logging.getLogger("fieldservice.plans")


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
        out.put(("done", solve_problem(problem, options)))
    except Exception as exc:  # reported to the parent, which marks the plan failed
        out.put(("failed", f"{type(exc).__name__}: {exc}"))


async def _update(sessionmaker: async_sessionmaker[AsyncSession], plan_id: uuid.UUID, **values: Any) -> None:
    async with sessionmaker() as session, session.begin():
        plan = await session.get(Plan, plan_id, with_for_update=True)
        if plan is not None:
            for name, value in values.items():
                setattr(plan, name, value)


async def _start(
    sessionmaker: async_sessionmaker[AsyncSession], plan_id: uuid.UUID, runner_id: uuid.UUID, osrm_url: str
) -> tuple[Plan, PlanInput] | None:
    """Take the queued plan: read its inputs as they are now and mark it running by this worker.
    None when it is no longer queued (failed meanwhile, or taken by a retried job)."""
    async with sessionmaker() as session, session.begin():
        plan = await session.get(Plan, plan_id, with_for_update=True)
        if plan is None or plan.status is not PlanStatus.QUEUED:
            return None
        engineer_ids = [uuid.UUID(e) for e in plan.params.get("engineer_ids", [])] or None
        plan_input = await build(session, plan.origin, plan.horizon_s, engineer_ids, osrm_url=osrm_url)
        # The clock's time, not the transaction's start (now()): reading the inputs may take
        # longer than the heartbeats a running plan is allowed to miss.
        plan.status, plan.runner_id = PlanStatus.RUNNING, runner_id
        plan.heartbeat_at = func.clock_timestamp()
        plan.visit_versions, plan.inputs_hash = plan_input.visit_versions, plan_input.inputs_hash()
        return plan, plan_input


async def _beat(sessionmaker: async_sessionmaker[AsyncSession], plan_id: uuid.UUID, every_s: float) -> None:
    """Tell readers that this worker still solves the plan."""
    while True:
        await asyncio.sleep(every_s)
        try:
            async with sessionmaker() as session, session.begin():
                await session.execute(
                    update(Plan)
                    .where(Plan.id == plan_id, Plan.status == PlanStatus.RUNNING)
                    .values(heartbeat_at=func.now())
                )
        except Exception:  # the database is away: the next beat tries again
            log.warning("plan heartbeat failed", exc_info=True)


async def solve(
    sessionmaker: async_sessionmaker[AsyncSession],
    plan_id: uuid.UUID,
    limits: PlanLimits,
    runner_id: uuid.UUID,
    osrm_url: str = "",
) -> None:
    """Solve a queued plan and store its result or why it failed."""
    try:
        started = await _start(sessionmaker, plan_id, runner_id, osrm_url)
    except Exception as exc:
        log.exception("plan %s could not start", plan_id)
        await _finish(sessionmaker, plan_id, error=f"{type(exc).__name__}: {exc}")
        return
    if started is None:
        return
    plan, plan_input = started
    beat = asyncio.create_task(_beat(sessionmaker, plan_id, limits.heartbeat_s), name="plan-heartbeat")
    try:
        solution = await _run_child(
            sessionmaker,
            plan_id,
            plan_input.problem,
            float(plan.params["time_limit_s"]),
            plan.params.get("solution_limit"),
        )
        await _finish(sessionmaker, plan_id, result=result_of(plan_input, solution))
    except asyncio.CancelledError:
        # The worker is stopping: say so now rather than after the heartbeat lapses.
        await asyncio.shield(_finish(sessionmaker, plan_id, error=STOPPED))
        raise
    except Exception as exc:
        log.exception("plan %s failed", plan_id)
        await _finish(sessionmaker, plan_id, error=str(exc)[:2000])
    finally:
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat


async def _finish(
    sessionmaker: async_sessionmaker[AsyncSession],
    plan_id: uuid.UUID,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    async with sessionmaker() as session, session.begin():
        plan = await session.get(Plan, plan_id, with_for_update=True)
        if plan is None or plan.status not in {PlanStatus.QUEUED, PlanStatus.RUNNING}:
            return  # marked failed meanwhile (its heartbeat lapsed): that answer stands
        if result is not None:
            plan.status, plan.result = PlanStatus.DONE, result
        else:
            plan.status, plan.error = PlanStatus.FAILED, error
        plan.finished_at = dt.datetime.now(dt.UTC)


async def _run_child(
    sessionmaker: async_sessionmaker[AsyncSession],
    plan_id: uuid.UUID,
    problem: rm.Problem,
    time_limit_s: float,
    solution_limit: int | None,
) -> rm.Solution:
    context = multiprocessing.get_context("spawn")
    channel = context.Queue()
    process = context.Process(
        target=_solve_in_child, daemon=True, args=(problem, time_limit_s, solution_limit, channel)
    )
    process.start()
    answered = False
    try:
        while True:
            try:
                kind, payload = await asyncio.to_thread(channel.get, True, 0.5)
            except queue.Empty:
                if not process.is_alive():
                    raise RuntimeError("the solver process ended without an answer") from None
                continue
            if kind == "progress":
                await _update(sessionmaker, plan_id, progress=payload)
            elif kind == "done":
                answered = True
                solution: rm.Solution = payload
                return solution
            else:
                raise RuntimeError(payload)
    finally:
        # A solve nobody waits for any more ends now; joining happens in a thread so that a slow
        # exit never stalls the event loop.
        if not answered:
            process.kill()
        await asyncio.to_thread(process.join, 5)
        if process.is_alive():
            process.kill()


async def solve_in_process(
    sessionmaker: async_sessionmaker[AsyncSession],
    plan_id: uuid.UUID,
    runner_id: uuid.UUID,
    osrm_url: str = "",
) -> None:
    """Solve a queued plan here, holding this process for the time limit: for a caller with
    nothing else to serve meanwhile (the simulator replays its plans this way, hundreds a week,
    where a child process per plan would cost more than the solve)."""
    started = await _start(sessionmaker, plan_id, runner_id, osrm_url)
    if started is None:
        return
    plan, plan_input = started
    options = SolveOptions(
        time_limit_s=float(plan.params["time_limit_s"]), solution_limit=plan.params.get("solution_limit")
    )
    try:
        solution = solve_problem(plan_input.problem, options)
    except Exception as exc:
        log.exception("plan %s failed", plan_id)
        await _finish(sessionmaker, plan_id, error=str(exc)[:2000])
        return
    await _finish(sessionmaker, plan_id, result=result_of(plan_input, solution))
