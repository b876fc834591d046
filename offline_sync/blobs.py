"""Blobs: photos and signature images, addressed by the SHA-256 of their bytes.

The device uploads a blob once (a retry of the same bytes is a no-op) and its mutations
refer to the hash. A mutation that arrived before its blob was stored as `pending_blob`;
when the blob arrives, each such mutation is applied in its own transaction, as its
device's user, at the time computed when it was received.

Uploads resume after a dropped connection: a large blob is sent in chunks (see uploads.py);
the hash is verified when the last byte arrives (a mismatch discards the partial upload).
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import audit
from core.clock import Clock
from core.database import run_after_commit
from core.errors import InvalidInput
from core.identity.models import User
from core.identity.roles import Actor
from offline_sync import mutations
from offline_sync.models import SyncBlob, SyncDevice, SyncMutation
from offline_sync.push import apply_one
from offline_sync.uploads import MAX_BLOB_BYTES


async def size_of(session: AsyncSession, sha256: str) -> int | None:
    """The stored blob's size, or None when it has not been uploaded."""
    size = await session.scalar(select(SyncBlob.size).where(SyncBlob.sha256 == sha256))
    return None if size is None else int(size)


async def store(
    session: AsyncSession, actor: Actor, now: dt.datetime, sha256: str, data: bytes, content_type: str
) -> bool:
    """Store the blob if its bytes hash to `sha256`; False when it was already there."""
    if len(data) > MAX_BLOB_BYTES:
        raise InvalidInput(
            f"body: larger than {MAX_BLOB_BYTES} bytes (compress the image on the device)",
            errors=[{"field": "body", "message": "too large"}],
        )
    if not data:
        raise InvalidInput("body: empty", errors=[{"field": "body", "message": "empty"}])
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise InvalidInput(
            "body: its SHA-256 does not match the address",
            errors=[{"field": "sha256", "message": f"the body hashes to {actual}"}],
        )
    if await session.get(SyncBlob, sha256) is not None:
        return False
    session.add(
        SyncBlob(
            sha256=sha256,
            size=len(data),
            content_type=content_type[:100],
            data=data,
            uploaded_at=now,
            uploaded_by=actor.user_id,
        )
    )
    await session.flush()
    return True


async def apply_waiting(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, sha256: str, request_id: str
) -> int:
    """Apply the mutations that waited for this blob; returns how many left the waiting state."""
    async with sessionmaker() as session:
        waiting = list(
            (
                await session.execute(
                    select(SyncMutation.device_pk, SyncMutation.seq)
                    .where(SyncMutation.status == "pending_blob", SyncMutation.blob_sha256 == sha256)
                    .order_by(SyncMutation.received_at, SyncMutation.seq)
                )
            ).all()
        )
    done = 0
    for device_pk, seq in waiting:
        async with sessionmaker() as session:
            async with session.begin():
                row = await session.get(SyncMutation, (device_pk, seq), with_for_update=True)
                device = await session.get(SyncDevice, device_pk)
                if row is None or device is None or row.status != "pending_blob" or device.status == "lost":
                    continue
                user = await session.get(User, device.user_id)
                assert user is not None
                actor = Actor(user_id=user.id, role=user.role, username=user.username)
                now = clock.now()
                ctx = mutations.Context(
                    session=session,
                    actor=actor,
                    clock=clock,
                    received_at=row.received_at,
                    last_contact=row.received_at,
                    clock_offset=dt.timedelta(0),
                    fixed_at=row.effective_at,
                )
                applied = await apply_one(session, ctx, device, row.seq, row.name, dict(row.args))
                if applied.status == "pending_blob":
                    continue
                if applied.status != "applied":
                    session.sync_session.info.pop(audit.TRAIL_KEY, None)
                row.status, row.outcome = applied.status, applied.outcome
                row.applied_at = now if applied.status == "applied" else None
                await session.flush()
                audit.write_trail(
                    session.sync_session,
                    action=f"sync {row.name} ({applied.status}, blob arrived)",
                    actor=actor,
                    request_id=request_id,
                    always=True,
                )
            run_after_commit(session)
            done += 1
    return done
