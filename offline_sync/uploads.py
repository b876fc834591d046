"""Chunked, resumable blob uploads: the partial bytes, their per-user limits and their expiry.

A large blob is sent in chunks with `Content-Range: bytes START-END/TOTAL`; the chunks are
appended to the uploading user's `sync_upload` row. `HEAD` reports how many bytes arrived, a
chunk that does not start there is refused with the received length, and when the last byte
arrives the row is removed and the whole blob handed back to be verified and stored.

Partial uploads are bounded per user (how many at once, and their declared bytes together),
and one idle longer than the expiry is deleted by the background worker: the device then
starts that upload again from byte 0.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, InvalidInput, RateLimited
from offline_sync.models import SyncUpload

MAX_BLOB_BYTES = 8 * 1024 * 1024
CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


@dataclass(frozen=True)
class UploadLimits:
    per_user: int = 4
    bytes_per_user: int = 4 * MAX_BLOB_BYTES
    expiry: dt.timedelta = dt.timedelta(hours=24)


class UploadOffsetMismatch(Conflict):
    slug = "upload-offset-mismatch"
    title = "This chunk does not start where the upload stands"


class TooManyUploads(RateLimited):
    slug = "too-many-uploads"
    title = "Too many unfinished uploads"


def parse_range(header: str) -> tuple[int, int, int]:
    """`bytes START-END/TOTAL` (END inclusive) as (start, end + 1, total)."""
    match = CONTENT_RANGE.match(header.strip())
    if match is None:
        raise InvalidInput(
            "Content-Range: bytes START-END/TOTAL",
            errors=[{"field": "Content-Range", "message": "bytes START-END/TOTAL"}],
        )
    start, end, total = (int(g) for g in match.groups())
    if not start <= end < total:
        raise InvalidInput(
            "Content-Range: START ≤ END < TOTAL",
            errors=[{"field": "Content-Range", "message": "START ≤ END < TOTAL"}],
        )
    if total > MAX_BLOB_BYTES:
        raise InvalidInput(
            f"Content-Range: larger than {MAX_BLOB_BYTES} bytes (compress the image on the device)",
            errors=[{"field": "Content-Range", "message": "too large"}],
        )
    return start, end + 1, total


async def received(session: AsyncSession, user_id: uuid.UUID, sha256: str) -> int:
    """How many bytes of this blob the user's partial upload holds."""
    have = await session.scalar(
        select(func.length(SyncUpload.data)).where(SyncUpload.user_id == user_id, SyncUpload.sha256 == sha256)
    )
    return int(have or 0)


async def _open(
    session: AsyncSession, user_id: uuid.UUID, sha256: str, total: int, now: dt.datetime, limits: UploadLimits
) -> None:
    """Make the user's partial upload of this blob, within the user's limits."""
    mine = SyncUpload.user_id == user_id
    # One user's uploads take turns here, so that two first chunks cannot both pass the limit.
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(f"upload:{user_id}", 0))))
    count, declared, oldest = (
        await session.execute(
            select(
                func.count(), func.coalesce(func.sum(SyncUpload.total), 0), func.min(SyncUpload.updated_at)
            ).where(mine)
        )
    ).one()
    if count >= limits.per_user or declared + total > limits.bytes_per_user:
        # The oldest unfinished upload expires by then, unless the device goes on with it.
        wait = (oldest + limits.expiry - now).total_seconds() if oldest is not None else 0
        raise TooManyUploads(
            f"You have {count} unfinished uploads holding {declared} bytes (at most {limits.per_user} "
            f"and {limits.bytes_per_user} bytes): finish one first",
            retry_after=max(1, int(wait)),
            unfinished=int(count),
            unfinished_bytes=int(declared),
        )
    await session.execute(
        insert(SyncUpload)
        .values(user_id=user_id, sha256=sha256, total=total, data=b"", started_at=now, updated_at=now)
        .on_conflict_do_nothing()
    )


async def append_chunk(
    session: AsyncSession,
    user_id: uuid.UUID,
    now: dt.datetime,
    sha256: str,
    content_range: str,
    data: bytes,
    limits: UploadLimits,
) -> bytes | None:
    """Add a chunk to the user's partial upload. Returns the whole blob when this chunk completed
    it (the partial upload is then removed), None while bytes are still missing. A chunk that does
    not start at the received length is refused (409, with `received`); a chunk that repeats
    bytes already received is accepted as a no-op only when it ends within them."""
    start, end, total = parse_range(content_range)
    if len(data) != end - start:
        raise InvalidInput(
            "body: its length does not match Content-Range",
            errors=[{"field": "body", "message": f"{len(data)} bytes for a range of {end - start}"}],
        )
    key = (SyncUpload.user_id == user_id, SyncUpload.sha256 == sha256)
    query = select(SyncUpload.total, func.length(SyncUpload.data)).where(*key).with_for_update()
    row = (await session.execute(query)).one_or_none()
    if row is None:
        await _open(session, user_id, sha256, total, now, limits)
        row = (await session.execute(query)).one()
    declared, have = int(row[0]), int(row[1])
    if declared != total:
        raise InvalidInput(
            f"Content-Range: this upload is of {declared} bytes",
            errors=[{"field": "Content-Range", "message": f"the total is {declared}"}],
        )
    if start != have and not (start < have and end <= have):
        raise UploadOffsetMismatch(
            f"This upload holds {have} bytes; send the chunk starting there", received=have
        )
    if start == have:
        # Appended in the database: the bytes already there are not sent back and forth.
        await session.execute(
            update(SyncUpload).where(*key).values(data=SyncUpload.data.concat(data), updated_at=now)
        )
        have = end
    if have < total:
        return None
    whole = await session.scalar(delete(SyncUpload).where(*key).returning(SyncUpload.data))
    assert whole is not None
    return bytes(whole)


async def expire(session: AsyncSession, now: dt.datetime, expiry: dt.timedelta) -> int:
    """Delete partial uploads idle longer than `expiry`; returns how many."""
    result = await session.execute(
        delete(SyncUpload).where(SyncUpload.updated_at < now - expiry).returning(SyncUpload.sha256)
    )
    return len(result.all())
