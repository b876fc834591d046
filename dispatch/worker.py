"""The background sweeps: the SLA watch, customer-message delivery, position retention, the
expiry of unfinished uploads, the stock chores (expired reservations, loan and
defective-return alerts), the default confirmation of unanswered customer surveys and the
generation of inspections due within their plans' lead time, each
pass in its own transaction.

They run as periodic jobs on the queue (dispatch/jobs.py: `python -m dispatch.worker`), and
whenever a request defers one; the queue's locks let one worker at a time sweep, and SKIP
LOCKED lets several deliver messages without sending one twice. Tests call `run_once` with
their own clock.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from completion import survey
from core import audit, rate_limits
from core.clock import Clock
from core.identity.roles import SYSTEM
from core.live import feed as live
from dispatch.engineers.positions import forget_older_than
from dispatch.flows.backup import raise_alerts
from dispatch.inspections.generation import GenerationReport, generate
from dispatch.messaging.outbox import LogSender, Sender, deliver_due
from dispatch.sla.watch import WatchReport, sweep_in_transactions
from dispatch.sla.watch_due import WatchSettings
from inventory.reservations import expire_due
from offline_sync import changes, uploads
from routing.travel import HaversineTravelTime, TravelTimeProvider

log = logging.getLogger("fieldservice.worker")

# What the consoles' live streams can catch up on after a disconnection.
LIVE_RETENTION = dt.timedelta(days=1)
# Request counts (per-address limits) outlive their windows by this long.
RATE_WINDOW_RETENTION = dt.timedelta(hours=1)


@dataclass
class WorkerConfig:
    # Seconds between sweeps (the queue's period for them).
    interval: float
    senders: dict[str, Sender] = field(
        default_factory=lambda: {"email": LogSender("email"), "sms": LogSender("sms")}
    )
    position_retention: dt.timedelta = dt.timedelta(days=30)
    # Sync change rows older than this are dropped (cursors from before then get 410).
    sync_change_retention: dt.timedelta = dt.timedelta(days=30)
    # Unfinished chunked uploads idle this long are deleted (the device starts again).
    upload_expiry: dt.timedelta = dt.timedelta(hours=24)
    watch: WatchSettings = field(default_factory=WatchSettings)


async def generate_inspections(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> GenerationReport:
    """The inspections due within their plans' lead time become work orders: a sweep of its own
    transaction, safe to run in several processes at once (see dispatch.inspections.generation)."""
    async with sessionmaker() as session, session.begin():
        report = await generate(session, clock)
    if report.blocked:
        log.warning("inspections not generated: %s", "; ".join(report.blocked))
    return report


class Worker:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        config: WorkerConfig,
        travel: TravelTimeProvider | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.config = config
        self.travel = travel or HaversineTravelTime()

    async def run_once(self) -> WatchReport:
        """Every sweep, then delivery: one whole pass."""
        report = await self.run_sweeps()
        await self.deliver()
        return report

    async def run_sweeps(self) -> WatchReport:
        """The SLA watch, retention and the stock, upload and survey chores (not delivery)."""
        now = self.clock.now()
        # The watch locks only the orders it acts on, a batch per short transaction.
        report = await sweep_in_transactions(self.sessionmaker, now, self.travel, self.config.watch)
        async with self.sessionmaker() as session, session.begin():
            await forget_older_than(session, now - self.config.position_retention)
            await live.forget_before(session, now - LIVE_RETENTION)
            await rate_limits.forget_before(session, now - RATE_WINDOW_RETENTION)
            audit.write_trail(
                session.sync_session,
                action="worker.retention",
                actor=SYSTEM,
                request_id=None,
                always=False,
            )
        # Stock and upload chores, in their own transaction so that they never hold the watch back:
        # held stock past its expiry goes back, unfinished uploads past theirs are deleted; overdue
        # loans, units stuck at the vendor and defective parts due back at the manufacturer become
        # notifications.
        async with self.sessionmaker() as session, session.begin():
            await expire_due(session, SYSTEM, now)
            await uploads.expire(session, now, self.config.upload_expiry)
            await changes.prune(session, now - self.config.sync_change_retention)
            await raise_alerts(session, now)
            # Customer surveys unanswered for 7 days: confirmed by default.
            await survey.confirm_unanswered(session, self.clock)
            audit.write_trail(
                session.sync_session,
                action="worker.stock_chores",
                actor=SYSTEM,
                request_id=None,
                always=False,
            )
        # Inspections due within their plans' lead time become work orders (idempotent).
        await generate_inspections(self.sessionmaker, self.clock)
        return report

    async def deliver(self) -> int:
        """Send the customer messages that are due."""
        # Sending talks to the outside world: its own transaction, after the watch committed.
        async with self.sessionmaker() as session, session.begin():
            return await deliver_due(session, self.clock.now(), self.config.senders)


if __name__ == "__main__":
    from dispatch.jobs import main

    main()
