"""The worker's sweeps drop sync change rows past `FSD_SYNC_CHANGE_RETENTION_DAYS` (so the log
does not grow for ever); a phone whose cursor is older gets 410 and bootstraps again (see
tests/api/test_sync.py for that path)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from core.clock import ManualClock
from core.database import make_engine, make_sessionmaker
from dispatch.worker import Worker, WorkerConfig
from offline_sync.models import SyncChange, SyncRetention


async def test_the_sweeps_keep_the_change_log_for_its_retention_period_only(demo_db: str) -> None:
    engine = make_engine(demo_db, pool_size=1)
    sessions = make_sessionmaker(engine)
    config = WorkerConfig(interval=1, sync_change_retention=dt.timedelta(days=30))
    # Change rows are stamped with the database's time; the demo data's were written just now.
    started = dt.datetime.now(dt.UTC)

    async def old_rows() -> int:
        async with sessions() as session:
            return int(await session.scalar(select(func.count()).where(SyncChange.at < started)) or 0)

    try:
        assert await old_rows() > 0
        await Worker(sessions, ManualClock(started + dt.timedelta(days=29)), config).run_sweeps()
        assert await old_rows() > 0  # within the retention period: kept
        await Worker(sessions, ManualClock(started + dt.timedelta(days=31)), config).run_sweeps()
        assert await old_rows() == 0
        async with sessions() as session:
            retention = await session.get(SyncRetention, 1)
        assert retention is not None
        assert retention.floor_xact > 0  # older cursors now get 410
    finally:
        await engine.dispose()
