"""Background jobs on the PostgreSQL job queue (procrastinate), deferred from any session.

A job is inserted through procrastinate's own SQL function in the caller's transaction: it
exists exactly when the change that asked for it commits (a plan row and the job that solves it,
never one without the other), and its workers hear of it through procrastinate's NOTIFY.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

# The queues, each served by workers sized for its work: solves take a core each; sweeps and
# message sends are short and must not wait behind a solve.
PLANS = "plans"
SWEEPS = "sweeps"
OUTBOX = "outbox"


@dataclass(frozen=True)
class JobKind:
    """A task's name as registered with the queue, its queue, and its locks: `lock` lets one job
    of the kind run at a time across all workers; `queueing_lock` keeps at most one waiting."""

    name: str
    queue: str
    lock: str | None = None
    queueing_lock: str | None = None


_DEFER = text(
    "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, :lock, :queueing_lock, "
    "CAST(:args AS jsonb), NULL)::procrastinate_job_to_defer_v1])"
)


async def defer(session: AsyncSession, kind: JobKind, **args: Any) -> bool:
    """Queue a job in the session's transaction; False when its queueing lock already holds one
    that waits (that one will do)."""
    values = {
        "queue": kind.queue,
        "task": kind.name,
        "lock": kind.lock,
        "queueing_lock": kind.queueing_lock,
        "args": json.dumps(args),
    }
    if kind.queueing_lock is None:
        await session.execute(_DEFER, values)
        return True
    try:
        async with session.begin_nested():
            await session.execute(_DEFER, values)
    except IntegrityError:
        return False
    return True


# procrastinate keeps only the newest deferral of each periodic task, so a worker that lags a
# period behind the others can defer a period that already ran: the earliest job of a period
# that has not failed is the one that runs it.
_PERIOD_TAKEN = text(
    "SELECT EXISTS (SELECT FROM procrastinate_jobs WHERE task_name = :task AND id < :job "
    "AND args->'timestamp' = CAST(:timestamp AS jsonb) "
    "AND status IN ('todo', 'doing', 'succeeded'))"
)


async def period_taken(session: AsyncSession, kind: JobKind, job_id: int, timestamp: int) -> bool:
    """True when an earlier job of the kind already runs, ran or will run this period."""
    values = {"task": kind.name, "job": job_id, "timestamp": str(timestamp)}
    return bool((await session.execute(_PERIOD_TAKEN, values)).scalar_one())
