"""A benchmark's kept database starts again on a new free port each run without its configuration
growing: the port goes on the server's command line, so postgresql.conf stays as the first run
left it however many runs follow."""

from __future__ import annotations

import secrets
import shutil

import psycopg

from bench.database import kept_database
from core.localdb import LocalCluster, data_home
from core.settings import PROJECT_ROOT
from tests.conftest import DEMO_NOW


def _work_orders(url: str) -> int:
    with psycopg.connect(url.replace("postgresql+asyncpg://", "postgresql://")) as conn:
        row = conn.execute("SELECT count(*) FROM work_order").fetchone()
        assert row is not None
        return int(row[0])


def test_starting_a_kept_database_again_leaves_its_configuration_as_it_was() -> None:
    datadir = data_home(PROJECT_ROOT / "var") / f"test-kept-{secrets.token_hex(3)}"
    conf = datadir / "postgresql.conf"
    try:
        with kept_database(DEMO_NOW, datadir) as (url, fresh):
            assert fresh
            orders = _work_orders(url)
        written = conf.read_bytes()
        for _ in range(2):
            with kept_database(DEMO_NOW, datadir) as (url, fresh):
                assert not fresh
                assert _work_orders(url) == orders  # the same data, on this run's port
            assert conf.read_bytes() == written
        assert not LocalCluster(datadir, 0, "").running()
    finally:
        LocalCluster(datadir, 0, "").stop()
        shutil.rmtree(datadir, ignore_errors=True)
