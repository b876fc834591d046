"""Pages of lists computed in Python (restock lists, suggestions, alerts, open shipments) on the
same `{items, next_cursor}` contract as keyset pages: the cursor is sealed like theirs and carries
the sort key of the last row given out, so a page never repeats or skips a row that stays listed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import InvalidInput
from core.pagination import MAX_LIMIT, Page, key_of, seal, unknown_cursor, unseal

T = TypeVar("T")


def page_of(
    session: AsyncSession,
    rows: Sequence[T],
    sort_key: Callable[[T], str],
    *,
    limit: int,
    cursor: str | None,
    purpose: str,
) -> Page[T]:
    """The rows after the cursor's key, in `sort_key` order (the key must be unique per row)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(
            f"limit must be between 1 and {MAX_LIMIT}",
            errors=[{"field": "limit", "message": f"1 to {MAX_LIMIT}"}],
        )
    key = key_of(session)
    ordered = sorted(rows, key=sort_key)
    if cursor:
        after = unseal(key, cursor, purpose)
        if not isinstance(after, str):
            raise unknown_cursor()
        ordered = [r for r in ordered if sort_key(r) > after]
    if len(ordered) <= limit:
        return Page(items=list(ordered), next_cursor=None)
    kept = list(ordered[:limit])
    return Page(items=kept, next_cursor=seal(key, sort_key(kept[-1]), purpose))
