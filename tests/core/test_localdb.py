"""The private cluster of `make up`: a data directory that outlives its checkout still opens."""

from __future__ import annotations

import secrets
from pathlib import Path

import psycopg

from core.localdb import DB_NAME, DB_USER, LocalCluster, throwaway_cluster


def _connects(cluster: LocalCluster) -> bool:
    try:
        with psycopg.connect(
            host="127.0.0.1", port=cluster.port, user=DB_USER, password=cluster.password, dbname=DB_NAME
        ) as conn:
            return conn.execute("SELECT 1").fetchone() == (1,)
    except psycopg.OperationalError:
        return False


def test_a_new_checkouts_password_opens_an_existing_cluster(tmp_path: Path) -> None:
    # A fresh clone at the same path finds the old data directory but has a new password.
    first = throwaway_cluster(tmp_path / "var")
    try:
        assert _connects(first)
        again = LocalCluster(datadir=first.datadir, port=first.port, password=secrets.token_urlsafe(16))
        assert not _connects(again)
        again.start()  # already running: only the password on record is set
        assert _connects(again)
        first.stop()
        again.start()  # and from a stopped server
        assert _connects(again)
    finally:
        first.destroy()
