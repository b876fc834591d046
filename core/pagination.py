"""Keyset pagination: `?limit=&cursor=`, stable under inserts, no OFFSET scans.

Cursors are sealed (HMAC with the session's cursor key): a client can hold and return them but
not make or edit one, so the values a cursor carries are always of the types this server wrote.
The sync pull's cursor is sealed the same way (offline_sync.changes).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Integer, Row, Select, and_, bindparam, or_
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


# Where a session carries the key its cursors are sealed with (see `make_sessionmaker`).
CURSOR_KEY = "cursor_key"
# For sessions made without one (scripts, direct service calls): valid in this process only.
_PROCESS_KEY = secrets.token_bytes(32)
_TAG_BYTES = 16
INT64 = 2**63 - 1


def cursor_key(secret: str) -> bytes:
    """The cursor key of a deployment, derived from its token secret so that every API process
    behind a load balancer accepts the others' cursors (and a new secret retires old ones)."""
    return hmac.new(secret.encode(), b"fieldservice cursor seal", hashlib.sha256).digest()


def key_of(session: AsyncSession) -> bytes:
    key = session.info.get(CURSOR_KEY)
    return key if isinstance(key, bytes) else _PROCESS_KEY


def unknown_cursor() -> InvalidInput:
    return InvalidInput(
        "The cursor is not one this server gave out",
        errors=[{"field": "cursor", "message": "unknown cursor"}],
    )


def _tag(key: bytes, purpose: str, body: bytes) -> bytes:
    return hmac.new(key, purpose.encode() + b"\0" + body, hashlib.sha256).digest()[:_TAG_BYTES]


def seal(key: bytes, payload: Any, purpose: str) -> str:
    """An opaque cursor: the payload as JSON behind an HMAC tag over it and its `purpose` (which
    list it pages), so that only cursors this server gave out for that list come back: a forged,
    edited or borrowed one is refused before its values are read."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(_tag(key, purpose, body) + body).decode().rstrip("=")


def unseal(key: bytes, cursor: str, purpose: str) -> Any:
    """The payload of a cursor `seal` made with this key for this purpose, or InvalidInput."""
    try:
        raw = base64.urlsafe_b64decode(cursor.encode("ascii") + b"===")
    except (ValueError, UnicodeEncodeError) as exc:
        raise unknown_cursor() from exc
    tag, body = raw[:_TAG_BYTES], raw[_TAG_BYTES:]
    if not body or not hmac.compare_digest(tag, _tag(key, purpose, body)):
        raise unknown_cursor()
    try:
        return json.loads(body)
    except ValueError as exc:
        raise unknown_cursor() from exc


def _restore(col: InstrumentedAttribute[Any], value: Any) -> Any:
    """A sort-key value back in its column's type; anything else is not a cursor of this list."""
    kind = col.type.python_type
    if value is None or (kind is str and isinstance(value, str)):
        return value
    if kind is int and type(value) is int and -INT64 <= value <= INT64:
        return value
    if not isinstance(value, str) or kind not in (uuid.UUID, dt.datetime, dt.date):
        raise unknown_cursor()
    try:
        restored = kind.fromisoformat(value) if kind is not uuid.UUID else uuid.UUID(value)
    except ValueError as exc:
        raise unknown_cursor() from exc
    if isinstance(restored, dt.datetime) and restored.utcoffset() is None:
        raise unknown_cursor()
    return restored


def _bounded(limit: int, max_limit: int) -> None:
    if not 1 <= limit <= max_limit:
        raise InvalidInput(
            f"limit must be between 1 and {max_limit}",
            errors=[{"field": "limit", "message": f"1 to {max_limit}"}],
        )


def _purpose(order: Sequence[InstrumentedAttribute[Any]]) -> str:
    # A cursor is sealed for the list it pages: one list's cursor is refused by another.
    return ",".join(f"{col.class_.__tablename__}.{col.key}" for col in order)


def _cursor_values(order: Sequence[InstrumentedAttribute[Any]], cursor: str, key: bytes) -> list[Any]:
    raw = unseal(key, cursor, _purpose(order))
    if not isinstance(raw, list) or len(raw) != len(order):
        raise unknown_cursor()
    return [_restore(col, v) for col, v in zip(order, raw, strict=True)]


def _past(order: Sequence[InstrumentedAttribute[Any]], values: Sequence[Any]) -> Any:
    # (a, b) > (x, y)  written out, so that it works for any column types
    clauses = []
    for i, col in enumerate(order):
        clauses.append(and_(*[order[j] == values[j] for j in range(i)], col > values[i]))
    return or_(*clauses)


def _after(
    stmt: Select[Any], order: Sequence[InstrumentedAttribute[Any]], cursor: str | None, key: bytes
) -> Select[Any]:
    if not cursor:
        return stmt
    return stmt.where(_past(order, _cursor_values(order, cursor, key)))


def _page(rows: list[Any], order: Sequence[InstrumentedAttribute[Any]], limit: int, key: bytes) -> Page[Any]:
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = seal(key, [jsonable(getattr(last, col.key)) for col in order], _purpose(order))
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
    key = key_of(session)
    stmt = _after(stmt, order, cursor, key).order_by(*order).limit(limit + 1)
    return _page(list((await session.execute(stmt)).scalars()), order, limit, key)


_LIMIT = "keyset_limit"


def _value_param(i: int) -> str:
    return f"keyset_after_{i}"


def page_bounds(order: Sequence[InstrumentedAttribute[Any]]) -> tuple[Any, Any]:
    """The page size and the "after the cursor" condition of a `Keyset`'s statements, as the same
    bound parameters: for a subquery that may stop where the page stops (the condition only in
    `Keyset.later`, whose parameters it uses)."""
    values: list[Any] = [bindparam(_value_param(i)) for i in range(len(order))]
    return bindparam(_LIMIT, type_=Integer), _past(order, values)


@dataclass(frozen=True)
class Keyset:
    """A statement of columns paged by `order` (ascending, not null; the last column unique), as
    the two statements its pages run: the first page, and the pages after a cursor. The page
    size and the cursor's values are bound parameters, so one Keyset made at import time serves
    every request: SQLAlchemy works out a statement's cache key once per statement object, and for
    a large statement that costs as much as decoding its rows."""

    order: tuple[InstrumentedAttribute[Any], ...]
    first: Select[Any]
    later: Select[Any]

    @classmethod
    def of(cls, stmt: Select[Any], order: Sequence[InstrumentedAttribute[Any]]) -> Keyset:
        limit = bindparam(_LIMIT, type_=Integer)
        values: list[Any] = [bindparam(_value_param(i)) for i in range(len(order))]  # typed by their columns
        return cls(
            order=tuple(order),
            first=stmt.order_by(*order).limit(limit),
            later=stmt.where(_past(order, values)).order_by(*order).limit(limit),
        )


async def keyset_rows(
    session: AsyncSession,
    keyset: Keyset,
    *,
    limit: int,
    cursor: str | None,
    max_limit: int = MAX_LIMIT,
) -> Page[Row[Any]]:
    """A page of `keyset` as whole result rows instead of ORM objects (no identity map, no
    instances to build), each holding the `order` columns under their own names. Run on the
    session's connection, past the ORM: flush first if the session may hold pending changes."""
    stmt, params = keyset_statement(session, keyset, limit=limit, cursor=cursor, max_limit=max_limit)
    connection = await session.connection()
    return _page(list((await connection.execute(stmt, params)).all()), keyset.order, limit, key_of(session))


def keyset_statement(
    session: AsyncSession, keyset: Keyset, *, limit: int, cursor: str | None, max_limit: int = MAX_LIMIT
) -> tuple[Select[Any], dict[str, Any]]:
    """The statement that reads a page of `keyset` (one row more than `limit`, which tells
    whether a next page exists) and its parameters."""
    _bounded(limit, max_limit)
    params: dict[str, Any] = {_LIMIT: limit + 1}
    if not cursor:
        return keyset.first, params
    values = _cursor_values(keyset.order, cursor, key_of(session))
    return keyset.later, params | {_value_param(i): value for i, value in enumerate(values)}


SortKey = tuple[str | int | float | bool | None, ...]


def list_page(
    session: AsyncSession,
    items: Sequence[T],
    key: Callable[[T], SortKey],
    *,
    purpose: str,
    limit: int,
    cursor: str | None,
    max_limit: int = MAX_LIMIT,
) -> Page[T]:
    """A page of a list that is worked out whole before it is sent (a ranking, the positions on
    the map, a phone's few visits), on the same contract as the keyset lists: `items` ordered by
    `key` (plain values, its last part unique), the page after the key the cursor holds. The
    cursor is sealed for `purpose`, so another list's is refused."""
    _bounded(limit, max_limit)
    seal_key = key_of(session)
    ordered = sorted(items, key=lambda i: _comparable(key(i)))
    if cursor:
        after = unseal(seal_key, cursor, f"list:{purpose}")
        if not isinstance(after, list):
            raise unknown_cursor()
        last = _comparable(tuple(after))
        ordered = [i for i in ordered if _comparable(key(i)) > last]
    page, rest = ordered[:limit], ordered[limit:]
    next_cursor = seal(seal_key, list(key(page[-1])), f"list:{purpose}") if rest else None
    return Page(items=page, next_cursor=next_cursor)


def _comparable(key: Sequence[Any]) -> tuple[tuple[int, Any], ...]:
    # None sorts first and never meets a value in a comparison.
    return tuple((0, 0) if v is None else (1, v) for v in key)
