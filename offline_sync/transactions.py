"""Sync steps that run in transactions of their own rather than the request's one.

A pull reads in one REPEATABLE READ snapshot after recording the device's contact; a
reinstatement commits before the held pushes are replayed one by one; a blob is stored and
audited before the mutations waiting for it are applied, each in its own transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import audit
from core.clock import Clock
from core.database import commit_lazily
from core.identity.roles import Actor
from offline_sync import blobs, changes, devices, uploads
from offline_sync import push as pushing
from offline_sync.models import SyncDevice

Sessions = async_sessionmaker[AsyncSession]


async def reinstate(
    sessionmaker: Sessions,
    clock: Clock,
    request_id: str,
    device_pk: uuid.UUID,
    *,
    reviewer: Actor,
    apply: bool,
    version: int | None = None,
) -> tuple[SyncDevice, list[dict[str, Any]]]:
    """Let a suspended device push again, then apply (or discard) the pushes held meanwhile:
    the device as it is afterwards, and the outcomes of the applied pushes."""
    async with sessionmaker() as session, session.begin():
        await devices.reinstate(session, device_pk, version)
        audit.write_trail(
            session.sync_session,
            action="sync.device reinstated",
            actor=reviewer,
            request_id=request_id,
            always=True,
        )
    outcomes = await pushing.review_held(
        sessionmaker, clock, request_id, device_pk, reviewer=reviewer, apply=apply
    )
    async with sessionmaker() as session:
        return await devices.by_pk(session, device_pk), outcomes


@dataclass(frozen=True, slots=True)
class Pulled:
    page: changes.PullPage
    server_time: dt.datetime


async def pull(
    sessionmaker: Sessions,
    clock: Clock,
    actor: Actor,
    device_id: uuid.UUID,
    cursor: str | None,
    limit: int,
    *,
    records: bool = False,
) -> Pulled:
    """Record the device's contact (refusing a revoked one), then read one page of changes
    in a snapshot of its own."""
    assert actor.user_id is not None
    async with sessionmaker() as session, session.begin():
        device = await devices.of_user(session, actor, device_id, lock=True)
        devices.check_usable(device)
        device.last_contact_at = clock.now()
        # Bookkeeping of every pull: not worth a disk flush each (see `commit_lazily`).
        await commit_lazily(session)
    async with sessionmaker() as session:
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        page = await changes.pull(session, actor.user_id, cursor, limit, records=records)
        await session.rollback()
    return Pulled(page=page, server_time=clock.now())


@dataclass(frozen=True, slots=True)
class Partial:
    """A chunk was taken; `received` bytes of the blob are in so far."""

    received: int


@dataclass(frozen=True, slots=True)
class Stored:
    size: int
    # False when the blob was already there.
    stored: bool
    applied_waiting: int


async def receive_blob(
    sessionmaker: Sessions,
    clock: Clock,
    actor: Actor,
    request_id: str,
    *,
    sha: str,
    data: bytes,
    content_type: str,
    content_range: str | None,
    limits: uploads.UploadLimits,
) -> Partial | Stored:
    """A whole blob, or one chunk of it (`content_range`): once whole, it is stored if its
    bytes hash to `sha`, and the mutations that waited for it are applied."""
    if content_range is not None:
        assert actor.user_id is not None
        async with sessionmaker() as session, session.begin():
            whole = await uploads.append_chunk(
                session, actor.user_id, clock.now(), sha, content_range, data, limits
            )
            have = await uploads.received(session, actor.user_id, sha)
        if whole is None:
            return Partial(received=have)
        data = whole
    async with sessionmaker() as session, session.begin():
        stored = await blobs.store(session, actor, clock.now(), sha, data, content_type)
        audit.write_trail(
            session.sync_session,
            action="PUT /api/sync/blobs/{sha256}",
            actor=actor,
            request_id=request_id,
            always=stored,
        )
    applied = await blobs.apply_waiting(sessionmaker, clock, sha, request_id)
    return Stored(size=len(data), stored=stored, applied_waiting=applied)
