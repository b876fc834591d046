"""The demo's day in progress: loaded through the services onto the demo data set, it gives the
console a real desk — orders in every state, routes, engineers on the way and on site, a
postponed customer, a missed deadline, a backup device — and loads once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg

from core.clock import ManualClock
from core.database import make_engine, make_sessionmaker
from dispatch.demo_day import ORDERS, load_day
from dispatch.worker import Worker, WorkerConfig

# A Monday, 10:30 in Zhengzhou: engineers are on their shifts.
MORNING = datetime(2026, 3, 2, 2, 30, tzinfo=UTC)


def _rows(dsn: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return list(conn.execute(sql).fetchall())


async def test_a_day_in_progress_has_every_state_a_desk_sees(demo_db):
    engine = make_engine(demo_db, pool_size=2)
    dsn = demo_db.replace("postgresql+asyncpg://", "postgresql://")
    try:
        sessions = make_sessionmaker(engine)
        async with sessions() as session, session.begin():
            made = await load_day(session, MORNING)
        assert made == ORDERS + 3
        async with sessions() as session, session.begin():
            assert await load_day(session, MORNING) == 0, "a second load adds nothing"
        # The watch sweeps as `make up`'s worker does.
        await Worker(sessions, ManualClock(MORNING), WorkerConfig(interval=0)).run_once()
    finally:
        await engine.dispose()

    statuses: dict[str, int] = dict(_rows(dsn, "SELECT status, count(*) FROM visit GROUP BY status"))
    assert {"planned", "assigned", "en_route", "on_site"} <= set(statuses), statuses
    assert statuses["planned"] >= 15  # the queue
    severities: dict[str, int] = dict(
        _rows(dsn, "SELECT severity, count(*) FROM work_order GROUP BY severity")
    )
    assert set(severities) == {"critical", "high", "medium", "low"}
    assert _rows(dsn, "SELECT count(*) FROM sla_pause WHERE ended_at IS NULL") == [(1,)]
    breached = _rows(
        dsn, "SELECT count(*) FROM sla_clock WHERE measure = 'on_site' AND breached_at IS NOT NULL"
    )
    assert breached[0][0] >= 1
    assert _rows(dsn, "SELECT count(*) FROM stock_loan")[0][0] >= 1
    # Engineers on the way or on site say where they are; routes hold several visits each.
    assert _rows(dsn, "SELECT count(DISTINCT engineer_id) FROM engineer_position")[0][0] >= 3
    busiest = _rows(dsn, "SELECT max(n) FROM (SELECT count(*) AS n FROM visit GROUP BY engineer_id) c")
    assert busiest[0][0] >= 2
    # One engineer is off sick all day (nothing of theirs on the road), another in training
    # this afternoon (nothing of theirs planned into it).
    away = dict(_rows(dsn, "SELECT kind::text, engineer_id FROM engineer_absence"))
    assert set(away) == {"sick", "training"}, away
    sick_visits = _rows(
        dsn,
        "SELECT count(*) FROM visit v JOIN engineer_absence a ON a.kind = 'sick' "
        "AND a.engineer_id IN (v.engineer_id, v.partner_engineer_id)",
    )
    assert sick_visits == [(0,)]
    clashes = _rows(
        dsn,
        "SELECT count(*) FROM visit v JOIN engineer_absence a ON a.engineer_id = v.engineer_id "
        "WHERE v.planned_start < a.ends_at "
        "AND v.planned_start + make_interval(mins => v.duration_minutes) > a.starts_at",
    )
    assert clashes == [(0,)]
