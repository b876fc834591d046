"""Sync steps that run in transactions of their own rather than the request's one.

A pull reads in one REPEATABLE READ snapshot, then records the device's contact when due; a
reinstatement commits before the held pushes are replayed one by one; a blob is stored and
audited before the mutations waiting for it are applied, each in its own transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
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
    """One page of changes in a snapshot of its own, refusing a revoked device; the device's
    contact is recorded afterwards when it moved (`devices.contact_due`).

    The device is read in the snapshot's first statement, with the snapshot's horizon: a page
    is one round trip for the check and one for the change rows, without a transaction of its
    own for the contact on every page."""
    assert actor.user_id is not None
    async with sessionmaker() as session:
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        device = select(SyncDevice.id, SyncDevice.status, SyncDevice.last_contact_at)
        found = (
            await session.execute(
                device.add_columns(*changes.snapshot_columns()).where(
                    SyncDevice.device_id == device_id, SyncDevice.user_id == actor.user_id
                )
            )
        ).first()
        if found is None:
            raise devices.not_registered(device_id)
        devices.check_status(found.status)
        snapshot = changes.Snapshot.of(found[3], found[4])
        page = await changes.pull(session, actor.user_id, cursor, limit, records=records, snapshot=snapshot)
        await session.rollback()
    now = clock.now()
    if devices.contact_due(found.last_contact_at, now):
        async with sessionmaker() as session, session.begin():
            await devices.record_contact(session, found.id, now)
            # Bookkeeping of pulls: not worth a disk flush each (see `commit_lazily`).
            await commit_lazily(session)
    return Pulled(page=page, server_time=now)


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
