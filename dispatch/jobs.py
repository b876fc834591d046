"""The background work on the job queue: plan solves, the periodic sweeps and message delivery,
and the worker process that runs them (`python -m dispatch.worker`, `make worker`).

Each task is a thin shell over a plain async function (dispatch/worker.py's sweeps,
planning/solving.py's solve), so that tests call those with their own clock. Queues:
`plans` (one solve per place, `plan_workers` places per worker process), `sweeps` and `outbox`
(short passes, served apart so that they never wait behind a solve). The sweeps are periodic:
every worker offers each period's job, the database takes one, and the `sweeps` lock lets one
pass run at a time across all workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import procrastinate
from procrastinate import jobs as queue_jobs
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from completion.rendering import RENDERING_KEY, Rendering
from core import jobs
from core.clock import Clock, SystemClock
from core.database import make_engine, make_sessionmaker
from core.pagination import CURSOR_KEY, cursor_key
from core.settings import Settings, load_settings
from dispatch.messaging.outbox import LogSender, Sender, SmtpSender
from dispatch.planning import plans, solving
from dispatch.worker import Worker, WorkerConfig

log = logging.getLogger("fieldservice.worker")

SWEEP = jobs.JobKind(name="sweeps.run", queue=jobs.SWEEPS, lock="sweeps", queueing_lock="sweeps")
DELIVER = jobs.JobKind(name="outbox.deliver", queue=jobs.OUTBOX, lock="outbox", queueing_lock="outbox")
RECOVER = jobs.JobKind(
    name="sweeps.recover_plans", queue=jobs.SWEEPS, lock="recover", queueing_lock="recover"
)


def plan_limits(settings: Settings) -> plans.PlanLimits:
    return plans.PlanLimits(
        workers=settings.plan_workers,
        queue=settings.plan_queue,
        per_user=settings.plans_per_user,
        heartbeat_s=settings.plan_heartbeat_seconds,
    )


def worker_config(settings: Settings) -> WorkerConfig:
    email: Sender = (
        SmtpSender(settings.smtp_host, settings.smtp_port, settings.smtp_from)
        if settings.smtp_host
        else LogSender("email")
    )
    # No SMS gateway ships here: production plugs one in behind the same `Sender` interface.
    return WorkerConfig(
        interval=settings.watch_interval_seconds,
        senders={"email": email, "sms": LogSender("sms")},
        position_retention=timedelta(days=settings.position_retention_days),
        sync_change_retention=timedelta(days=settings.sync_change_retention_days),
        upload_expiry=timedelta(hours=settings.upload_expiry_hours),
    )


def sessions_for(settings: Settings) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    """The engine and sessions every process of ours uses (the API's and the workers' alike)."""
    engine = make_engine(settings.database_url, settings.db_pool_size)
    return engine, make_sessionmaker(
        engine,
        {
            CURSOR_KEY: cursor_key(settings.jwt_secret),
            RENDERING_KEY: Rendering(public_url=settings.public_url, font=settings.report_font),
        },
    )


def every(seconds: float) -> str:
    """A cron line for a period: whole seconds below a minute (the sixth field), else minutes."""
    whole = max(1, round(seconds))
    if whole < 60:
        return f"* * * * * */{whole}"
    return f"*/{max(1, round(whole / 60))} * * * *"


@dataclass
class Runtime:
    """What the tasks of one worker process work with."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: Clock
    sweeps: Worker
    limits: plans.PlanLimits
    id: uuid.UUID = field(default_factory=uuid.uuid4)


def queue_app(settings: Settings, runtime: Runtime) -> procrastinate.App:
    """The queue with our tasks bound to this process's runtime."""
    dsn = settings.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=dsn, min_size=1, max_size=4),
    )

    @app.task(name=plans.SOLVE.name, queue=plans.SOLVE.queue)
    async def solve_plan(plan_id: str) -> None:
        log.info("plan %s: solving pid=%s", plan_id, os.getpid())
        await solving.solve(
            runtime.sessionmaker, uuid.UUID(plan_id), runtime.limits, runtime.id, settings.osrm_url
        )

    @app.task(
        name=SWEEP.name,
        queue=SWEEP.queue,
        lock=SWEEP.lock,
        queueing_lock=SWEEP.queueing_lock,
        pass_context=True,
    )
    async def sweep(context: procrastinate.JobContext, timestamp: int | None = None) -> None:
        if timestamp is not None and context.job.id is not None:
            async with runtime.sessionmaker() as session:
                if await jobs.period_taken(session, SWEEP, context.job.id, timestamp):
                    log.info("sweep period=%s already taken; skipped", timestamp)
                    return
        report = await runtime.sweeps.run_sweeps()
        # One line per pass, with the period it belongs to (None: deferred by a request).
        log.info("sweep period=%s pid=%s", timestamp, os.getpid())
        if report.notifications:
            log.info("sla watch: %s", ", ".join(report.notifications))

    @app.task(name=DELIVER.name, queue=DELIVER.queue, lock=DELIVER.lock, queueing_lock=DELIVER.queueing_lock)
    async def deliver(timestamp: int | None = None) -> None:
        await runtime.sweeps.deliver()

    @app.task(name=RECOVER.name, queue=RECOVER.queue, lock=RECOVER.lock, queueing_lock=RECOVER.queueing_lock)
    async def recover_plans(timestamp: int | None = None) -> None:
        await recover(app, runtime)

    if settings.watch_interval_seconds > 0:
        app.periodic(cron=every(settings.watch_interval_seconds), periodic_id="sweep")(sweep)
        app.periodic(cron=every(settings.watch_interval_seconds), periodic_id="deliver")(deliver)
    app.periodic(cron=every(settings.plan_heartbeat_seconds), periodic_id="recover")(recover_plans)
    return app


async def recover(app: procrastinate.App, runtime: Runtime) -> None:
    """Solves whose worker stopped beating: their jobs end as failed (so that they no longer count
    in the queue), and their plans, running or taken but not yet started, fail with the reason."""
    stale = runtime.limits.orphaned_after.total_seconds()
    stalled = await app.job_manager.get_stalled_jobs(queue=jobs.PLANS, seconds_since_heartbeat=stale)
    plan_ids = []
    for job in stalled:
        await app.job_manager.finish_job(job, status=queue_jobs.Status.FAILED, delete_job=False)
        log.warning("solve job %s: its worker stopped; the plan is failed", job.id)
        if job.task_name == plans.SOLVE.name and "plan_id" in job.task_kwargs:
            plan_ids.append(uuid.UUID(str(job.task_kwargs["plan_id"])))
    async with runtime.sessionmaker() as session, session.begin():
        await plans.fail_orphans(session, runtime.limits.orphaned_after)
        if plan_ids:
            await plans.fail_stopped(session, plan_ids)


# After the database went away (a restart, a failover), the queue's workers start again this soon.
RESTART_SECONDS = 2.0


async def run_workers(settings: Settings, runtime: Runtime) -> None:
    """Serve the three queues until cancelled: solves in `plan_workers` places, sweeps and sends
    beside them. Cancelling stops taking jobs; a running solve is stopped and its plan failed.
    A lost database connection ends procrastinate's workers: they start again once it is back."""
    while True:
        try:
            await _serve_queues(settings, runtime)
            return
        except Exception:
            log.warning("the queue worker stopped; starting again in %g s", RESTART_SECONDS, exc_info=True)
            await asyncio.sleep(RESTART_SECONDS)


async def _serve_queues(settings: Settings, runtime: Runtime) -> None:
    app = queue_app(settings, runtime)
    beat = max(0.2, settings.plan_heartbeat_seconds)
    common = {
        "install_signal_handlers": False,
        "update_heartbeat_interval": beat,
        "stalled_worker_timeout": 3 * beat,
        "shutdown_graceful_timeout": 2.0,
        # Finished jobs are not kept: the plan rows and the outbox are the record.
        "delete_jobs": queue_jobs.DeleteJobCondition.SUCCESSFUL,
    }
    async with app.open_async(), asyncio.TaskGroup() as group:
        # One failing ends the other too (TaskGroup), and both start again together.
        group.create_task(
            app.run_worker_async(
                queues=[jobs.PLANS],
                concurrency=settings.plan_workers,
                name="plans",
                **common,  # type: ignore[arg-type]
            )
        )
        group.create_task(
            app.run_worker_async(
                queues=[jobs.SWEEPS, jobs.OUTBOX],
                concurrency=2,
                name="sweeps",
                **common,  # type: ignore[arg-type]
            )
        )


def runtime_for(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> Runtime:
    return Runtime(
        settings=settings,
        sessionmaker=sessionmaker,
        clock=clock,
        sweeps=Worker(sessionmaker, clock, worker_config(settings)),
        limits=plan_limits(settings),
    )


class Trigger:
    """A request changed something a sweep looks at: queue a sweep and a delivery now rather than
    at the next period. At most one deferral is under way per process; pokes meanwhile fold into
    one more."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self._task: asyncio.Task[None] | None = None
        self._again = False

    def poke(self) -> None:
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.create_task(self._defer(), name="sweep-trigger")

    async def _defer(self) -> None:
        while True:
            self._again = False
            try:
                async with self.sessionmaker() as session, session.begin():
                    await jobs.defer(session, SWEEP)
                    await jobs.defer(session, DELIVER)
            except Exception:  # the periodic sweep comes anyway
                log.warning("could not queue a sweep", exc_info=True)
            if not self._again:
                return

    async def stop(self) -> None:
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def serve(settings: Settings, clock: Clock | None = None) -> None:
    """A worker process: run until SIGTERM or SIGINT."""
    engine, sessionmaker = sessions_for(settings)
    runtime = runtime_for(settings, sessionmaker, clock or SystemClock())
    task = asyncio.create_task(run_workers(settings, runtime))
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, task.cancel)
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        await engine.dispose()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("procrastinate").setLevel(logging.WARNING)
    asyncio.run(serve(load_settings()))
