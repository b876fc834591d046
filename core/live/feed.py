"""The live feed: one LISTEN connection per API process fans the changes out to its open
streams; a stream that reconnects catches up from the `live_event` table.

Triggers (see the migration `live_updates`) write each change to `live_event` and announce it
with NOTIFY in the same transaction, so PostgreSQL delivers it at commit and never delivers a
change that was rolled back. Every API process listens for itself: nothing is shared between
processes but the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from sqlalchemy import delete, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.live.models import LiveEvent, LiveTicket

log = logging.getLogger("fieldservice.live")

CHANNEL = "live_event"
# A stream that falls this far behind is told to reload instead of growing without bound.
QUEUE_SIZE = 1000
RESYNC: dict[str, Any] = {"kind": "resync"}


def event_dict(event: LiveEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "kind": event.kind,
        "entity_id": str(event.entity_id),
        "work_order_id": str(event.work_order_id) if event.work_order_id else None,
    }


async def since(session: AsyncSession, last_id: int, limit: int = 1000) -> list[dict[str, Any]]:
    """The changes after `last_id`, oldest first (at most `limit`: beyond that, reload)."""
    rows = await session.execute(
        select(LiveEvent).where(LiveEvent.id > last_id).order_by(LiveEvent.id).limit(limit)
    )
    return [event_dict(e) for e in rows.scalars()]


def listen_dsn(database_url: str) -> str:
    """The plain libpq URL of the application's database URL (asyncpg takes no driver name)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class LiveHub:
    """Fans NOTIFY payloads out to the streams of this process. The LISTEN connection opens with
    the first stream and comes back after a drop (the streams are told to reload: changes may
    have been missed meanwhile)."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._queues: set[asyncio.Queue[dict[str, Any]]] = set()
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def subscription(self) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        """A queue of this process's changes from now on (the listener is up before it returns)."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self._queues.add(queue)
        try:
            if self._task is None or self._task.done():
                self._task = asyncio.create_task(self._listen(), name="live-listen")
            await asyncio.wait_for(self._ready.wait(), timeout=10)
            yield queue
        finally:
            self._queues.discard(queue)

    def _publish(self, event: dict[str, Any]) -> None:
        for queue in list(self._queues):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                # Too slow a reader: empty its queue and tell it to reload.
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(RESYNC)

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            self._publish(json.loads(payload))
        except ValueError:
            log.warning("live feed: unreadable payload %r", payload[:200])

    async def _listen(self) -> None:
        delay = 0.5
        while self._queues:
            try:
                conn = await asyncpg.connect(self.dsn)
            except (OSError, asyncpg.PostgresError):
                log.warning("live feed: cannot connect; retrying in %.1f s", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            lost = asyncio.Event()
            conn.add_termination_listener(lambda _c, lost=lost: lost.set())
            try:
                await conn.add_listener(CHANNEL, self._on_notify)
                if self._ready.is_set():
                    self._publish(RESYNC)  # back after a drop: what happened meanwhile is unknown
                self._ready.set()
                delay = 0.5
                while self._queues and not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), timeout=5)
            finally:
                with contextlib.suppress(Exception):
                    await conn.close()
        self._ready.clear()

    async def stop(self) -> None:
        self._queues.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None


async def changes(
    hub: LiveHub,
    sessionmaker: async_sessionmaker[AsyncSession],
    last_id: int | None,
    *,
    seconds: float,
    ping: float,
) -> AsyncIterator[dict[str, Any]]:
    """One stream: what changed after `last_id` (from the table), then each change as it is
    committed, a `ping` when nothing happened for `ping` seconds, and a closing `reconnect`
    after `seconds` (the client comes back with a new ticket and the last id it saw)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    async with hub.subscription() as queue:
        # Subscribed before reading the table: a change committed in between comes twice (the
        # second is skipped below), never not at all.
        seen = last_id if last_id is not None else 0
        if last_id is not None:
            async with sessionmaker() as session:
                caught_up = await since(session, last_id)
            if len(caught_up) >= 1000:
                yield RESYNC
            for event in caught_up:
                seen = max(seen, int(event["id"]))
                yield event
        while (left := end - loop.time()) > 0:
            try:
                event = await asyncio.wait_for(queue.get(), timeout=min(ping, left))
            except TimeoutError:
                yield {"kind": "ping"}
                continue
            if "id" in event and last_id is not None and int(event["id"]) <= seen:
                continue
            yield event
    yield {"kind": "reconnect"}


async def forget_before(session: AsyncSession, when: dt.datetime) -> None:
    """Changes and tickets older than `when`: a stream away that long reloads instead."""
    await session.execute(delete(LiveEvent).where(LiveEvent.at < when))
    await session.execute(delete(LiveTicket).where(LiveTicket.expires_at < when))
