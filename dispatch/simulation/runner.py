"""One policy over one scenario on its own database copy; several policies side by side, each
in its own process (the runs share nothing but the arrivals, so a machine with two cores plays
two weeks in the time of one)."""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing.queues import Queue

from core.database import make_engine, make_sessionmaker
from dispatch.simulation.engine import Outcome, Simulation
from dispatch.simulation.policies import Policy
from dispatch.simulation.scenario import Scenario


async def run_policy(
    url: str,
    scenario: Scenario,
    policy: Policy,
    *,
    sweep_minutes: int = 15,
    progress: Callable[[float], None] | None = None,
) -> Outcome:
    engine = make_engine(url, pool_size=2)
    started = time.perf_counter()
    try:
        simulation = Simulation(
            make_sessionmaker(engine), scenario, policy, sweep_minutes=sweep_minutes, progress=progress
        )
        outcome = await simulation.run()
    finally:
        await engine.dispose()
    outcome.wall_seconds = time.perf_counter() - started
    return outcome


@dataclass(frozen=True)
class Run:
    """One policy's run: its database copy, the arrivals and the policy."""

    url: str
    scenario: Scenario
    policy: Policy
    sweep_minutes: int


# The progress queue a worker process reports to (set when the process starts).
_reports: Queue[tuple[str, float]] | None = None


def _listen(reports: Queue[tuple[str, float]]) -> None:
    global _reports
    _reports = reports


def _report(name: str) -> Callable[[float], None]:
    last = [-1.0]

    def send(done: float) -> None:
        # A report per tenth of a percent is enough for a bar; the queue stays small.
        if _reports is not None and (done - last[0] >= 0.001 or done >= 1):
            last[0] = done
            _reports.put((name, done))

    return send


def _play(run: Run) -> Outcome:
    return asyncio.run(
        run_policy(
            run.url,
            run.scenario,
            run.policy,
            sweep_minutes=run.sweep_minutes,
            progress=_report(run.policy.name),
        )
    )


def run_side_by_side(runs: list[Run], progress: Callable[[str, float], None], *, jobs: int) -> list[Outcome]:
    """Each run in a process of its own (at most `jobs` at once); outcomes in the order of `runs`.
    `progress(policy, done)` is called in this process as the runs report."""
    context = multiprocessing.get_context("spawn")
    reports: Queue[tuple[str, float]] = context.Queue()
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=_listen, initargs=(reports,)
    ) as pool:
        futures = [pool.submit(_play, run) for run in runs]
        while not all(f.done() for f in futures):
            _drain(reports, progress, timeout=0.5)
        _drain(reports, progress, timeout=0.0)
        return [f.result() for f in futures]


def _drain(
    reports: Queue[tuple[str, float]], progress: Callable[[str, float], None], *, timeout: float
) -> None:
    try:
        name, done = reports.get(timeout=timeout) if timeout else reports.get_nowait()
        progress(name, done)
        while True:
            name, done = reports.get_nowait()
            progress(name, done)
    except queue.Empty:
        return
