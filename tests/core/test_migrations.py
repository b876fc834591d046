"""The migrations build the schema the models describe, and undo it cleanly."""

from __future__ import annotations

import psycopg
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine, inspect, pool

from core.database import Base, sync_url
from core.schema_filter import include_object
from tests.support.db import alembic_config, drop_database


def _new_database(admin_dsn: str, url: str, name: str) -> str:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + f"/{name}"


def test_upgrade_downgrade_upgrade_round_trip(cluster, admin_dsn):
    url = _new_database(admin_dsn, cluster.url, "roundtrip")
    try:
        config = alembic_config(url)
        command.upgrade(config, "head")
        command.downgrade(config, "base")
        engine = create_engine(sync_url(url), poolclass=pool.NullPool)
        with engine.connect() as conn:
            left = set(inspect(conn).get_table_names()) - {"alembic_version", "spatial_ref_sys"}
        assert left == set()
        command.upgrade(config, "head")
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
        engine.dispose()
        assert {"app_user", "site", "asset", "contract", "engineer", "audit_log"} <= tables
    finally:
        drop_database(admin_dsn, "roundtrip")


def test_models_and_migrations_agree(empty_db):
    engine = create_engine(sync_url(empty_db), poolclass=pool.NullPool)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "include_object": include_object,
                "compare_type": True,
                "compare_server_default": True,
                "render_item": alembic_helpers.render_item,
            },
        )
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []
