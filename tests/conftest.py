"""Fixtures: one throwaway PostGIS cluster per test process, a migrated template
database, and a fresh copy of it per test module (CREATE DATABASE … TEMPLATE is
a file copy: milliseconds, and no test sees another module's rows)."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from hypothesis import settings as hypothesis_settings
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from api.app import create_app
from core.clock import ManualClock
from core.localdb import LocalCluster, throwaway_cluster
from core.settings import PROJECT_ROOT, Settings, load_settings
from tests.support.api import auth_headers
from tests.support.db import create_from_template, drop_database, migrate, seed_demo

hypothesis_settings.register_profile("ci", max_examples=60, derandomize=True, deadline=None, print_blob=True)
hypothesis_settings.register_profile("dev", max_examples=30, deadline=None)
hypothesis_settings.register_profile("long", max_examples=2000, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# Demo data is dated relative to this moment; tests move the clock from here.
DEMO_NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def cluster() -> Iterator[LocalCluster]:
    cluster = throwaway_cluster(PROJECT_ROOT / "var")
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def admin_dsn(cluster: LocalCluster) -> str:
    return cluster.url.replace("postgresql+asyncpg://", "postgresql://").rsplit("/", 1)[0] + "/postgres"


@pytest.fixture(scope="session")
def empty_template(cluster: LocalCluster, admin_dsn: str) -> str:
    """A migrated, empty database to copy from."""
    name = "tpl_empty"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    migrate(cluster.url.rsplit("/", 1)[0] + f"/{name}")
    return name


@pytest.fixture(scope="session")
def demo_template(cluster: LocalCluster, admin_dsn: str, empty_template: str) -> str:
    """The migrated schema with the demo data set loaded."""
    name = "tpl_demo"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{empty_template}"')
    seed_demo(cluster.url.rsplit("/", 1)[0] + f"/{name}", DEMO_NOW)
    return name


def _fresh(cluster: LocalCluster, admin_dsn: str, template: str) -> Iterator[str]:
    name = f"t_{secrets.token_hex(6)}"
    create_from_template(admin_dsn, name, template)
    try:
        yield cluster.url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        drop_database(admin_dsn, name)


@pytest.fixture(scope="module")
def demo_db(cluster: LocalCluster, admin_dsn: str, demo_template: str) -> Iterator[str]:
    """A private copy of the demo database for one test module (an asyncpg URL)."""
    yield from _fresh(cluster, admin_dsn, demo_template)


@pytest.fixture(scope="module")
async def db(demo_db: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the module's demo database, for what a test reads or writes beside the API."""
    engine = create_async_engine(demo_db)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
def empty_db(cluster: LocalCluster, admin_dsn: str, empty_template: str) -> Iterator[str]:
    yield from _fresh(cluster, admin_dsn, empty_template)


def settings_for(database_url: str, var_dir: Path, **overrides: object) -> Settings:
    # The queue's worker runs inside the app, with the test's clock: plans requested through the
    # test client are solved by it (tests/scaleout/ runs worker processes of their own).
    values: dict[str, object] = {"watch_interval_seconds": 0.0, "worker_in_process": True, **overrides}
    return load_settings(
        env={}, database_url=database_url, jwt_secret="test-secret-" + "x" * 32, var_dir=var_dir, **values
    )


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    return ManualClock(DEMO_NOW)


@pytest.fixture(scope="module")
def app(demo_db: str, clock: ManualClock, tmp_path_factory: pytest.TempPathFactory) -> Litestar:
    return create_app(settings_for(demo_db, tmp_path_factory.mktemp("var")), clock=clock)


@pytest.fixture(scope="module")
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
async def admin(client: AsyncTestClient[Litestar]) -> dict[str, str]:
    """Headers of the demo admin, signed in once per module."""
    return await auth_headers(client, "admin")


@pytest.fixture(scope="module")
async def dispatcher(client: AsyncTestClient[Litestar]) -> dict[str, str]:
    return await auth_headers(client, "dispatcher")
