"""The application factory: settings in, Litestar app out."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import log_redaction
from api.auth import provide_actor, provide_clock, provide_now, provide_session, role_guard
from api.body_checks import BodyChecksMiddleware
from api.client_address import TrustedProxies
from api.console import api_docs, console_router
from api.context import AppContext
from api.openapi import WallTimeSchema
from api.params import check_query_times
from api.problems import EXCEPTION_HANDLERS
from api.routes import ROUTE_HANDLERS
from api.unit_of_work import UnitOfWorkMiddleware
from core.clock import Clock, SystemClock
from core.identity.passwords import HashingPool
from core.identity.sessions import ThrottleLimits
from core.identity.tokens import TokenConfig
from core.live.feed import LiveHub, listen_dsn
from core.settings import Settings, load_settings
from dispatch import jobs
from dispatch.customers.stored_zones import unknown_zones

log = logging.getLogger("fieldservice.api")
# How long an app waits for its in-process queue worker to stop (the worker's own grace is 2 s).
IN_PROCESS_STOP_SECONDS = 10.0
# Between two cancellations of a queue worker that has not stopped yet.
STOP_POLL_SECONDS = 0.5


async def stop_worker(task: asyncio.Task[None], within: float) -> bool:
    """Cancel the task until it has ended, for at most `within` seconds. procrastinate's worker
    can miss a cancellation that lands while it starts or stops its loop (its shutdown then waits
    on a loop that was never told); one left running also hangs the event loop's own close, which
    cancels every task and waits for them all. Cancelling again reaches it where it listens."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + within
    while not task.done() and loop.time() < give_up:
        task.cancel()
        await asyncio.wait({task}, timeout=STOP_POLL_SECONDS)
    return task.done()


def build_context(settings: Settings, clock: Clock) -> AppContext:
    engine, sessionmaker = jobs.sessions_for(settings)
    return AppContext(
        settings=settings,
        clock=clock,
        engine=engine,
        sessionmaker=sessionmaker,
        live=LiveHub(listen_dsn(settings.database_url)),
        plans=jobs.plan_limits(settings),
        tokens=TokenConfig(
            secret=settings.jwt_secret,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            access_ttl=timedelta(seconds=settings.access_token_seconds),
            refresh_ttl=timedelta(seconds=settings.refresh_token_seconds),
        ),
        throttle=ThrottleLimits(
            per_pair=settings.login_failures_per_account,
            pair_cap_seconds=settings.login_pair_delay_cap_seconds,
            per_address=settings.login_failures_per_address,
            per_account=settings.login_failures_account_wide,
            account_cap_seconds=settings.login_account_delay_cap_seconds,
            window_seconds=settings.login_window_seconds,
        ),
        hashing=HashingPool(settings.password_hash_threads, settings.password_hash_max_waiting),
        trusted_proxies=TrustedProxies.parse(settings.trusted_proxies),
    )


async def report_unknown_zones(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Stored time zones that are not zones (kept from before they were checked) read as UTC
    until someone corrects them: say which, once per start."""
    try:
        async with sessionmaker() as session:
            for line in await unknown_zones(session):
                log.warning("correct this record: %s (read as UTC until then)", line)
    except (OSError, DBAPIError):
        log.warning("could not check the stored time zones (database not reachable)")


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> Litestar:
    settings = settings or load_settings()
    context = build_context(settings, clock or SystemClock())

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await report_unknown_zones(context.sessionmaker)
        if settings.watch_interval_seconds > 0:
            context.worker = jobs.Trigger(context.sessionmaker)
        # Background work runs in worker processes (`make worker`); in-process only when asked
        # (tests, a one-process demo), with this app's clock.
        in_process = None
        if settings.worker_in_process:
            runtime = jobs.runtime_for(settings, context.sessionmaker, context.clock)
            in_process = asyncio.create_task(jobs.run_workers(settings, runtime), name="queue-worker")
        # What the started process holds (modules, routes, mappers, cached statements) lives as
        # long as it does: set aside from the collector, the full collections that a busy API's
        # garbage sets off no longer walk all of it (about a tenth of a list request's CPU time).
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()  # collectable again once the app stops (tests start many apps)
            if context.worker is not None:
                await context.worker.stop()
            if in_process is not None and not await stop_worker(in_process, IN_PROCESS_STOP_SECONDS):
                log.warning("the in-process queue worker did not stop in %s s", IN_PROCESS_STOP_SECONDS)
            await context.live.stop()
            context.hashing.close()
            await context.engine.dispose()

    api = Router(
        path="/",
        route_handlers=ROUTE_HANDLERS,
        guards=[role_guard],
        before_request=check_query_times,
        # Undecodable bodies are refused before a session is opened for them.
        middleware=[BodyChecksMiddleware, UnitOfWorkMiddleware],
        dependencies={
            "actor": Provide(provide_actor),
            "session": Provide(provide_session),
            "clock": Provide(provide_clock),
            "now": Provide(provide_now),
        },
    )
    return Litestar(
        # The console's static files at "/": routes with a fixed path (/api/…, /schema) win over it.
        route_handlers=[api, console_router(settings)],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[lifespan],
        plugins=[WallTimeSchema()],
        state=State({"context": context}),
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Field-service dispatch API",
            version="0.1.0",
            path="/schema",
            render_plugins=[api_docs()],
            components=Components(
                security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")}
            ),
            security=[{"bearer": []}],
        ),
        logging_config=None,
        debug=False,
    )


def app_from_env() -> Litestar:
    """Entry point for `uvicorn --factory api.app:app_from_env`."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    log_redaction.install()
    return create_app()
