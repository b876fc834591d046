"""Small record chores every service shares: fetch-or-404, lock-or-404 and versioned patches."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound, VersionConflict

T = TypeVar("T")


async def get_or_404(session: AsyncSession, model: type[T], record_id: uuid.UUID, what: str) -> T:
    record = await session.get(model, record_id)
    if record is None:
        raise NotFound(f"No {what} with id {record_id}")
    return record


async def locked_or_404(session: AsyncSession, model: type[T], record_id: uuid.UUID, what: str) -> T:
    """The record, locked for this transaction and read afresh (what another one committed while
    this waited for the lock counts), or 404."""
    record = await session.get(model, record_id, with_for_update=True, populate_existing=True)
    if record is None:
        raise NotFound(f"No {what} with id {record_id}")
    return record


async def get_versioned(
    session: AsyncSession, model: type[T], record_id: uuid.UUID, version: int, what: str
) -> T:
    """The record to change, locked, if the client's copy is current; else 409 naming the current version.

    The row lock makes the check and the UPDATE one step; the ORM's version column
    checks again in the UPDATE's WHERE clause."""
    record = await session.get(model, record_id, with_for_update=True)
    if record is None:
        raise NotFound(f"No {what} with id {record_id}")
    current: int = record.version  # type: ignore[attr-defined]
    if current != version:
        raise VersionConflict(
            f"You changed version {version} of this {what}, but it is at version {current}; reload it",
            current_version=current,
        )
    return record


def apply_changes(record: Any, changes: Mapping[str, Any]) -> None:
    for name, value in changes.items():
        setattr(record, name, value)


async def delete_record(session: AsyncSession, model: type[Any], record_id: uuid.UUID, what: str) -> None:
    """Delete a record nothing refers to any more; one still in use fails at flush (→ 409)."""
    record = await get_or_404(session, model, record_id, what)
    await session.delete(record)
    await session.flush()


def like_pattern(text: str) -> str:
    """A LIKE/ILIKE pattern that finds `text` anywhere, with its wildcards taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
