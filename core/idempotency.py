"""Stored responses for `Idempotency-Key`: a retried POST returns the first answer.

The record is written in the same transaction as the request's own writes, so
either both exist or neither does; an advisory lock on the key makes a concurrent
retry wait for the first attempt instead of running beside it.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import LargeBinary, SmallInteger, String, delete, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base
from core.errors import DomainError


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_key"
    __audited__ = False

    # Keys are per user: two users may pick the same key.
    owner: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(SmallInteger)
    headers: Mapped[list[list[str]]] = mapped_column(JSONB)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)


class IdempotencyKeyReused(DomainError):
    slug = "idempotency-key-reused"
    status = 422
    title = "This Idempotency-Key was used for a different request"


@dataclass(frozen=True)
class StoredResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


@functools.cache
def fingerprint_key(secret: str) -> bytes:
    return hashlib.sha256(b"idempotency-fingerprint\0" + secret.encode()).digest()


def request_fingerprint(key: bytes, method: str, path: str, query: bytes, body: bytes) -> str:
    """A keyed digest of the request: a body may hold a password (a new user's, say), and a plain
    hash of it kept for a day could be guessed offline; without the server's key it cannot."""
    digest = hmac.new(key, digestmod=hashlib.sha256)
    for part in (method.encode(), path.encode(), query, body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _owner(user_id: uuid.UUID | None) -> str:
    return str(user_id) if user_id else "anonymous"


async def lock_and_find(
    session: AsyncSession,
    user_id: uuid.UUID | None,
    key: str,
    fingerprint: str,
    ttl: timedelta,
    now: datetime,
) -> StoredResponse | None:
    owner = _owner(user_id)
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": f"idem:{owner}:{key}"}
    )
    row = await session.get(IdempotencyRecord, (owner, key))
    if row is None or row.created_at < now - ttl:
        return None
    if row.request_hash != fingerprint:
        raise IdempotencyKeyReused(
            "The Idempotency-Key was first used with another method, path or body; use a new key"
        )
    return StoredResponse(
        status=row.status, headers=[(k.encode(), v.encode()) for k, v in row.headers], body=row.body
    )


async def store(
    session: AsyncSession,
    user_id: uuid.UUID | None,
    key: str,
    fingerprint: str,
    response: StoredResponse,
) -> None:
    owner = _owner(user_id)
    await session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.owner == owner, IdempotencyRecord.key == key)
    )
    keep = {b"content-type", b"location"}
    session.add(
        IdempotencyRecord(
            owner=owner,
            key=key,
            request_hash=fingerprint,
            status=response.status,
            headers=[[k.decode(), v.decode()] for k, v in response.headers if k.lower() in keep],
            body=response.body,
        )
    )
