"""Database chores for the fixtures: migrate, seed, copy and drop databases."""

from __future__ import annotations

import asyncio
from datetime import datetime

import psycopg
from alembic import command
from alembic.config import Config

from core.settings import PROJECT_ROOT


def alembic_config(url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = url
    config.attributes["configure_logging"] = False
    return config


def migrate(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def seed_demo(url: str, now: datetime) -> None:
    from dispatch.demo import load_demo

    asyncio.run(load_demo(url, now=now))


def create_from_template(admin_dsn: str, name: str, template: str) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


def drop_database(admin_dsn: str, name: str) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def watch_once(url: str, clock: object) -> object:
    """One SLA-watch pass on its own engine (the test client runs the app on another event loop)."""
    from core.database import make_engine, make_sessionmaker
    from dispatch.worker import Worker, WorkerConfig

    engine = make_engine(url, pool_size=1)
    try:
        return await Worker(make_sessionmaker(engine), clock, WorkerConfig(interval=1)).run_once()  # type: ignore[arg-type]
    finally:
        await engine.dispose()
