"""The SLA-rules revision reports business-hours contracts that name no holiday calendar, and
leaves them as they are for an admin to decide."""

from __future__ import annotations

import logging

import psycopg
import pytest
from alembic import command
from sqlalchemy import create_engine, pool, text

from core.database import sync_url
from tests.support.db import alembic_config, drop_database

BEFORE = "6d3a8b1f4e25"


def test_contracts_without_a_holiday_calendar_are_reported_not_changed(
    cluster, admin_dsn, caplog: pytest.LogCaptureFixture
) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute('CREATE DATABASE "sla_rules_migration"')
    url = cluster.url.rsplit("/", 1)[0] + "/sla_rules_migration"
    try:
        config = alembic_config(url)
        command.upgrade(config, BEFORE)
        engine = create_engine(sync_url(url), poolclass=pool.NullPool)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO customer (id, customer_number, name)"
                    " VALUES ('00000000-0000-4000-8000-000000000001', 'C-MIG', '迁移客户')"
                )
            )
            for number, kind in (("SC-MIG-5X8", "business_hours"), ("SC-MIG-7X24", "7x24")):
                conn.execute(
                    text(
                        "INSERT INTO contract (id, customer_id, contract_number, name, calendar_kind,"
                        " business_hours, starts_on, ends_on, escalation) VALUES (gen_random_uuid(),"
                        " '00000000-0000-4000-8000-000000000001', :number, :number, :kind,"
                        " '{\"mon\": [[\"09:00\", \"17:00\"]]}', '2026-01-01', '2026-12-31', '[]')"
                    ),
                    {"number": number, "kind": kind},
                )
        with caplog.at_level(logging.WARNING, logger="alembic.runtime.migration"):
            command.upgrade(config, "head")
        said = [r.getMessage() for r in caplog.records if "holiday calendar" in r.getMessage()]
        assert len(said) == 1
        assert "SC-MIG-5X8" in said[0]
        assert "SC-MIG-7X24" not in said[0]
        with engine.connect() as conn:
            left = conn.execute(
                text(
                    "SELECT holiday_calendar_id, restore_confirmation_hours FROM contract"
                    " WHERE contract_number = 'SC-MIG-5X8'"
                )
            ).one()
        engine.dispose()
        assert tuple(left) == (None, 72)
    finally:
        drop_database(admin_dsn, "sla_rules_migration")
