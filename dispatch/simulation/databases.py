"""A database per run: one throwaway cluster, a migrated template with the demo data set, and a
copy of the template for each policy (CREATE DATABASE … TEMPLATE, as the tests do)."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from core.localdb import LocalCluster, throwaway_cluster
from core.settings import PROJECT_ROOT

TEMPLATE = "sim_template"


def _admin_dsn(cluster: LocalCluster) -> str:
    return cluster.url.replace("postgresql+asyncpg://", "postgresql://").rsplit("/", 1)[0] + "/postgres"


def _url(cluster: LocalCluster, name: str) -> str:
    return cluster.url.rsplit("/", 1)[0] + f"/{name}"


class Databases:
    def __init__(self, cluster: LocalCluster) -> None:
        self.cluster = cluster
        self.admin = _admin_dsn(cluster)

    def _sql(self, statement: str) -> None:
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(statement)  # names made here, never input

    def make_template(self, demo_now: dt.datetime) -> None:
        from alembic import command
        from alembic.config import Config

        from dispatch.demo import load_demo

        self._sql(f'CREATE DATABASE "{TEMPLATE}"')
        config = Config(str(PROJECT_ROOT / "alembic.ini"))
        config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
        config.attributes["database_url"] = _url(self.cluster, TEMPLATE)
        config.attributes["configure_logging"] = False
        command.upgrade(config, "head")
        asyncio.run(load_demo(_url(self.cluster, TEMPLATE), now=demo_now))

    @contextmanager
    def copy(self, template: str = TEMPLATE) -> Iterator[str]:
        """A fresh copy of the template for one run; dropped afterwards."""
        name = f"sim_{secrets.token_hex(4)}"
        self._sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        try:
            yield _url(self.cluster, name)
        finally:
            self._sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def demo_cluster(demo_now: dt.datetime) -> Iterator[Databases]:
    cluster = throwaway_cluster(PROJECT_ROOT / "var")
    try:
        databases = Databases(cluster)
        databases.make_template(demo_now)
        yield databases
    finally:
        cluster.destroy()
