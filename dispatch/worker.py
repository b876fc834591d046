"""The background worker: the SLA watch on a timer, in its own transactions.

It runs inside every API process (`make up` starts it with the server); an
advisory lock lets one process at a time sweep, so several processes agree.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import audit
from core.clock import Clock
from dispatch.watch import WatchReport, WatchSettings, sweep
from routing.travel import HaversineTravelTime, TravelTimeProvider

log = logging.getLogger("fieldservice.worker")


class Worker:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        interval: float,
        travel: TravelTimeProvider | None = None,
        settings: WatchSettings | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.interval = interval
        self.travel = travel or HaversineTravelTime()
        self.settings = settings or WatchSettings()
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def run_once(self) -> WatchReport:
        async with self.sessionmaker() as session, session.begin():
            report = await sweep(session, self.clock.now(), self.travel, self.settings)
            audit.write_trail(
                session.sync_session,
                action="worker.sla_watch",
                actor_id=None,
                actor_role=None,
                request_id=None,
                always=False,
            )
        return report

    async def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                report = await self.run_once()
                if report.notifications:
                    log.info("sla watch: %s", ", ".join(report.notifications))
            except Exception:  # a failed sweep must not end the worker; the next one retries
                log.exception("sla watch failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.interval)

    def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._loop(), name="sla-watch")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None
