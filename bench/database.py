"""The database every benchmark starts from: a throwaway cluster, migrated, with the demo data."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.localdb import LocalCluster, free_port, throwaway_cluster
from core.settings import PROJECT_ROOT, Settings, load_settings


def migrate(url: str) -> None:
    """Bring the database at `url` to the migrations' head."""
    from alembic import command
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = url
    config.attributes["configure_logging"] = False
    command.upgrade(config, "head")


@contextmanager
def demo_database(now: dt.datetime) -> Iterator[str]:
    """The URL of a fresh cluster under ./var/ at the migrations' head with the demo data loaded
    as of `now`; the cluster is destroyed on exit."""
    from dispatch.demo import load_demo

    cluster = throwaway_cluster(PROJECT_ROOT / "var")
    try:
        migrate(cluster.url)
        asyncio.run(load_demo(cluster.url, now=now))
        yield cluster.url
    finally:
        cluster.destroy()


@contextmanager
def kept_database(now: dt.datetime, datadir: Path) -> Iterator[tuple[str, bool]]:
    """Like `demo_database`, but the cluster lives in `datadir` and outlives the run: stopped on
    exit, started again (and migrated to the current head) by the next run that names it. Yields
    the URL and whether the cluster was made just now."""
    from dispatch.demo import load_demo

    datadir = datadir.resolve()
    cluster = LocalCluster(datadir=datadir, port=free_port(), password=secrets.token_urlsafe(16))
    fresh = not cluster.initialised()
    if fresh:
        cluster.init()
        cluster.tune_for_tests()
    elif cluster.running():
        raise SystemExit(f"{datadir}: the cluster is already running (another run uses it)")
    cluster.start()
    try:
        migrate(cluster.url)
        if fresh:
            asyncio.run(load_demo(cluster.url, now=now))
        yield cluster.url, fresh
    finally:
        cluster.stop()


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
