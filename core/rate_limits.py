"""Requests counted per key (e.g. a client address) in fixed windows, in PostgreSQL, so that every
API process counts against the same limit.

A refused or failed request still counts: the count is written again after the request's
rollback (an address guessing links gets 404s, and each one must count).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from sqlalchemy import Integer, String, delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base, keep_after_rollback
from core.errors import RateLimited


class RateWindow(Base):
    __tablename__ = "rate_window"
    __audited__ = False

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)


async def _count(session: AsyncSession, key: str, start: datetime) -> int:
    hits = await session.scalar(
        insert(RateWindow)
        .values(key=key, window_start=start, hits=1)
        .on_conflict_do_update(
            index_elements=[RateWindow.key, RateWindow.window_start], set_={"hits": RateWindow.hits + 1}
        )
        .returning(RateWindow.hits)
    )
    return int(hits or 0)


async def hit(
    session: AsyncSession, key: str, now: datetime, *, limit: int, window: timedelta, message: str
) -> None:
    """Count one request; beyond `limit` in the current window, RateLimited (429) with the seconds
    until the window ends."""
    seconds = window.total_seconds()
    start = datetime.fromtimestamp(math.floor(now.timestamp() / seconds) * seconds, UTC)

    async def count_again(fresh: AsyncSession) -> None:
        await _count(fresh, key, start)

    keep_after_rollback(session, count_again)
    if await _count(session, key, start) > limit:
        raise RateLimited(message, retry_after=max(1, math.ceil((start + window - now).total_seconds())))


async def forget_before(session: AsyncSession, when: datetime) -> None:
    """Windows that ended long ago count nothing any more."""
    await session.execute(delete(RateWindow).where(RateWindow.window_start < when))
