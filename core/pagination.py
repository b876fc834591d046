"""Keyset pagination: `?limit=&cursor=`, stable under inserts, no OFFSET scans."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Row, Select, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from core.errors import InvalidInput
from core.jsonable import jsonable

T = TypeVar("T")
MAX_LIMIT = 500


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def _decode(cursor: str, width: int) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"==="))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            "The cursor is not one this server gave out",
            errors=[{"field": "cursor", "message": "unknown cursor"}],
        ) from exc
    if not isinstance(values, list) or len(values) != width:
        raise InvalidInput(
            "The cursor is not one this server gave out",
            errors=[{"field": "cursor", "message": "unknown cursor"}],
        )
    return values


def _restore(col: InstrumentedAttribute[Any], value: Any) -> Any:
    kind = col.type.python_type
    try:
        if value is None or isinstance(value, kind):
            return value
        if kind in (dt.datetime, dt.date):
            return kind.fromisoformat(value)
        return kind(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            "The cursor is not one this server gave out",
            errors=[{"field": "cursor", "message": "unknown cursor"}],
        ) from exc


def _encode(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps([jsonable(v) for v in values]).encode()).decode().rstrip("=")


def _bounded(limit: int, max_limit: int) -> None:
    if not 1 <= limit <= max_limit:
        raise InvalidInput(
            f"limit must be between 1 and {max_limit}",
            errors=[{"field": "limit", "message": f"1 to {max_limit}"}],
        )


def _after(stmt: Select[Any], order: Sequence[InstrumentedAttribute[Any]], cursor: str | None) -> Select[Any]:
    if not cursor:
        return stmt
    raw = _decode(cursor, len(order))
    values = [_restore(col, v) for col, v in zip(order, raw, strict=True)]
    # (a, b) > (x, y)  written out, so that it works for any column types
    clauses = []
    for i, col in enumerate(order):
        clauses.append(and_(*[order[j] == values[j] for j in range(i)], col > values[i]))
    return stmt.where(or_(*clauses))


def _page(rows: list[Any], order: Sequence[InstrumentedAttribute[Any]], limit: int) -> Page[Any]:
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode([getattr(last, col.key) for col in order])
    return Page(items=rows, next_cursor=next_cursor)


async def keyset_page(
    session: AsyncSession,
    stmt: Select[Any],
    order: Sequence[InstrumentedAttribute[Any]],
    *,
    limit: int,
    cursor: str | None,
    max_limit: int = MAX_LIMIT,
) -> Page[Any]:
    """Rows of `stmt` ordered by `order` (ascending; the last column must be unique)."""
    _bounded(limit, max_limit)
    stmt = _after(stmt, order, cursor).order_by(*order).limit(limit + 1)
    return _page(list((await session.execute(stmt)).scalars()), order, limit)


async def keyset_rows(
    session: AsyncSession,
    stmt: Select[Any],
    order: Sequence[InstrumentedAttribute[Any]],
    *,
    limit: int,
    cursor: str | None,
    max_limit: int = MAX_LIMIT,
) -> Page[Row[Any]]:
    """`keyset_page` for a statement of columns: whole result rows instead of ORM objects (no
    identity map, no instances to build), each holding the `order` columns under their own names."""
    _bounded(limit, max_limit)
    stmt = _after(stmt, order, cursor).order_by(*order).limit(limit + 1)
    return _page(list((await session.execute(stmt)).all()), order, limit)
