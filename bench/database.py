"""The database every benchmark starts from: a throwaway cluster, migrated, with the demo data."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from core.localdb import throwaway_cluster
from core.settings import PROJECT_ROOT, Settings, load_settings


@contextmanager
def demo_database(now: dt.datetime) -> Iterator[str]:
    """The URL of a fresh cluster under ./var/ at the migrations' head with the demo data loaded
    as of `now`; the cluster is destroyed on exit."""
    from alembic import command
    from alembic.config import Config

    from dispatch.demo import load_demo

    cluster = throwaway_cluster(PROJECT_ROOT / "var")
    try:
        config = Config(str(PROJECT_ROOT / "alembic.ini"))
        config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
        config.attributes["database_url"] = cluster.url
        config.attributes["configure_logging"] = False
        command.upgrade(config, "head")
        asyncio.run(load_demo(cluster.url, now=now))
        yield cluster.url
    finally:
        cluster.destroy()


def bench_settings(database_url: str) -> Settings:
    """The app's settings for a benchmark: no environment read, no background sweeps, a fixed
    signing key and its own var/ directory."""
    return load_settings(
        env={},
        database_url=database_url,
        jwt_secret="bench-secret-" + "x" * 32,
        var_dir=PROJECT_ROOT / "var" / "bench",
        watch_interval_seconds=0.0,
    )
