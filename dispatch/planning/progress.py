"""A plan's progress as it changes, for a live view."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch.planning import plans
from dispatch.planning.models import PlanStatus

# How often a running plan's row is read again.
POLL_SECONDS = 0.5


async def snapshots(
    sessionmaker: async_sessionmaker[AsyncSession], limits: plans.PlanLimits, plan_id: uuid.UUID
) -> AsyncIterator[dict[str, Any]]:
    """The plan's status and progress (and queue position while queued) each time they change,
    until it is no longer queued or running. Each read is a short transaction of its own: a
    stream outlives any request's."""
    last = None
    while True:
        async with sessionmaker() as session, session.begin():
            plan = await plans.get(session, plan_id, limits)
            snapshot: dict[str, Any] = {"status": plan.status.value, "progress": plan.progress}
            if plan.status is PlanStatus.QUEUED:
                snapshot["queue_position"] = await plans.queue_position(session, plan, limits)
        if snapshot != last:
            yield snapshot
            last = snapshot
        if plan.status not in {PlanStatus.QUEUED, PlanStatus.RUNNING}:
            return
        await asyncio.sleep(POLL_SECONDS)
