"""A periodic sweep runs once per period even when a lagging worker defers a period again.

procrastinate keeps only each periodic task's newest deferral, so a worker a period behind the
others can queue a period that already ran; the earliest job of a period that has not failed is
the one that runs it."""

from __future__ import annotations

import json

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core import jobs
from core.database import make_sessionmaker
from dispatch.jobs import SWEEP

_INSERT = text(
    "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status) "
    "VALUES (:queue, :task, CAST(:args AS jsonb), CAST(:status AS procrastinate_job_status)) "
    "RETURNING id"
)


async def _job(engine: AsyncEngine, timestamp: int, status: str) -> int:
    async with engine.begin() as connection:
        values = {
            "queue": SWEEP.queue,
            "task": SWEEP.name,
            "args": json.dumps({"timestamp": timestamp}),
            "status": status,
        }
        return int((await connection.execute(_INSERT, values)).scalar_one())


async def test_the_earliest_live_job_of_a_period_runs_it_and_a_later_one_is_skipped(
    db: AsyncEngine,
) -> None:
    period = 1_796_000_000
    first = await _job(db, period, "succeeded")
    again = await _job(db, period, "todo")
    next_period = await _job(db, period + 30, "todo")
    async with make_sessionmaker(db)() as session:
        assert not await jobs.period_taken(session, SWEEP, first, period)
        assert await jobs.period_taken(session, SWEEP, again, period)
        assert not await jobs.period_taken(session, SWEEP, next_period, period + 30)


async def test_a_period_whose_first_job_failed_runs_again(db: AsyncEngine) -> None:
    period = 1_796_000_600
    await _job(db, period, "failed")
    retry = await _job(db, period, "todo")
    async with make_sessionmaker(db)() as session:
        assert not await jobs.period_taken(session, SWEEP, retry, period)
