"""One policy over one scenario on its own database copy."""

from __future__ import annotations

import time
from collections.abc import Callable

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
