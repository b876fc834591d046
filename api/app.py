"""The application factory: settings in, Litestar app out."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from api.auth import provide_actor, provide_session, role_guard
from api.console import console_router
from api.context import AppContext
from api.openapi import WallTimeSchema
from api.problems import EXCEPTION_HANDLERS
from api.routes import ROUTE_HANDLERS
from api.unit_of_work import UnitOfWorkMiddleware
from core.clock import Clock, SystemClock
from core.database import make_engine, make_sessionmaker
from core.identity.sessions import ThrottleLimits
from core.identity.tokens import TokenConfig
from core.settings import Settings, load_settings
from dispatch.outbox import LogSender, Sender, SmtpSender
from dispatch.plans import PlanRunner
from dispatch.worker import Worker, WorkerConfig


def build_context(settings: Settings, clock: Clock) -> AppContext:
    engine = make_engine(settings.database_url, settings.db_pool_size)
    sessionmaker = make_sessionmaker(engine)
    return AppContext(
        settings=settings,
        clock=clock,
        engine=engine,
        sessionmaker=sessionmaker,
        plans=PlanRunner(sessionmaker),
        tokens=TokenConfig(
            secret=settings.jwt_secret,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            access_ttl=timedelta(seconds=settings.access_token_seconds),
            refresh_ttl=timedelta(seconds=settings.refresh_token_seconds),
        ),
        throttle=ThrottleLimits(
            per_account=settings.login_failures_per_account,
            per_address=settings.login_failures_per_address,
            window_seconds=settings.login_window_seconds,
        ),
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
    )


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> Litestar:
    settings = settings or load_settings()
    context = build_context(settings, clock or SystemClock())

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        worker = None
        if settings.watch_interval_seconds > 0:
            worker = Worker(context.sessionmaker, context.clock, worker_config(settings))
            context.worker = worker
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                await worker.stop()
            await context.plans.stop()
            await context.engine.dispose()

    api = Router(
        path="/",
        route_handlers=ROUTE_HANDLERS,
        guards=[role_guard],
        middleware=[UnitOfWorkMiddleware],
        dependencies={"actor": Provide(provide_actor), "session": Provide(provide_session)},
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
            render_plugins=[SwaggerRenderPlugin(path="/")],
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
    return create_app()
