"""The dispatcher's list, answered from the page this process built last time when the database
says nothing behind it has changed.

A console asks for the same first page again and again. Building it (the page's statement, its
rows decoded, 50 orders and some 250 clocks rendered) is most of a request's cost; checking that
it is still current is one short statement (`page_versions`). So each API process keeps the pages
it built, keyed by who may see them (staff alike; a customer's contacts their organisation's; an
engineer their own) and by the query, and serves one again only when the database says nothing
behind it changed: nothing lives only in one process, and any write by anyone is seen at the next
request. First the list's change counter (bumped at commit by every transaction that writes a
table a page shows): while it stands, the kept page is answered after one statement, which also
writes the staff read's audit row, without BEGIN or COMMIT. When it moved, the digest of the rows
behind the page decides: a page whose own rows did not change stays, under the new count.

What depends on the time is worked out at answer time: an open clock's `remaining_seconds`, and
its `state`, which changes only when a deadline passes, so a kept page is used only until the
earliest deadline on it. Lists whose rows depend on the time (`breached`) are not kept.

The answer carries a weak ETag naming the rows' digest, the caller's scope, the query and the
passed deadlines; a client that sends it back in `If-None-Match` gets 304 Not Modified while
nothing shown has changed but the countdown (`remaining_seconds` is the deadline less the time of
the answer's `Date`; a client counts it down itself). A staff read leaves its audit row either
way, naming the orders on the page.

A console asking again with the same sign-in and the same query string is answered before the
framework parses the request (`answer_kept`, called by the unit of work before it opens a
session): the query string is the one a page was kept for under this sign-in, so it means the
same filter; one statement on the pooled connection's driver checks the sign-in (the account
still active, the sign-in live, role and organisation as they were), reads the change counter
and writes the staff read's audit row when both stand, and the kept bytes go out. When anything
differs (no such page, a moved counter, a disabled account, a changed role, an expired token),
nothing is written and the request takes the full path, which refuses or rebuilds as before.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.status_codes import HTTP_200_OK, HTTP_304_NOT_MODIFIED
from litestar.types import Message
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.util import greenlet_spawn

from api.auth import app_context
from api.context import AppContext, RecentPages, request_context
from api.routes.work_orders.shapes import render_rows
from api.schemas.work_orders import WorkOrderPage
from api.unit_of_work import audit_action
from core import audit
from core.database import database_unavailable
from core.errors import Unauthenticated
from core.identity.roles import Actor, Role
from core.identity.tokens import decode_access
from dispatch.work_orders import page_versions, queries

_ENCODE = msgspec.json.Encoder().encode
_JSON = "application/json"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)
# The countdown's place in a kept page's JSON: the page is encoded once with this value in
# every countdown and split around it (a JSON string cannot hold the key's bare quotes, so no
# text a user wrote can look like it).
_PLACEHOLDER = 1.7976931348623157e308
_COUNTDOWN = b'"remaining_seconds":'
# As the handler's `If-None-Match` parameter allows; a longer one takes the full path (and its 422).
_MAX_IF_NONE_MATCH = 2000
_NO_CACHE = (b"cache-control", b"private, no-cache")
_JSON_TYPE = (b"content-type", _JSON.encode())


def _micros(at: dt.datetime) -> int:
    return (at - _EPOCH) // _MICROSECOND


@dataclass(slots=True)
class _Kept:
    version: str
    # The list's change counter read before the page was last known current.
    counted: str
    etag: str
    ids: list[uuid.UUID]
    # The audit row's `reads` for a staff read of the page (JSON).
    reads: str
    # The page's JSON around its countdowns (each piece but the last ends with the countdown's
    # key), and each countdown's deadline in microseconds: `remaining_seconds` is
    # `(deadline - now).total_seconds()`, worked out the same way.
    pieces: list[bytes]
    deadlines: list[int]
    # The states shown hold from `since` until the earliest deadline still ahead (`until`).
    since: dt.datetime
    until: dt.datetime | None

    def holds_at(self, now: dt.datetime) -> bool:
        return self.since <= now and (self.until is None or now < self.until)

    def body(self, now: dt.datetime) -> bytes:
        if not self.deadlines:
            return self.pieces[0]
        at = _micros(now)
        # One encoding of all the countdowns (as the page's own encoder writes a float), spliced
        # between the pieces.
        counts = _ENCODE([(deadline - at) / 1_000_000 for deadline in self.deadlines])[1:-1].split(b",")
        out = [b""] * (2 * len(counts) + 1)
        out[0::2] = self.pieces
        out[1::2] = counts
        return b"".join(out)


def _scope(actor: Actor) -> tuple[object, ...]:
    """Whose rows the caller sees (`queries._scoped`): all staff the same list."""
    if actor.role is Role.CUSTOMER_CONTACT:
        return ("customer", actor.customer_id)
    if actor.role is Role.ENGINEER:
        return ("engineer", actor.user_id)
    return ("staff",)


def _built(
    key: tuple[object, ...], page: WorkOrderPage, version: str, counted: str, now: dt.datetime
) -> _Kept:
    counting = [c for o in page.items for c in o.clocks if c.remaining_seconds is not None]
    deadlines = [c.deadline for c in counting if c.deadline is not None]
    for clock in counting:
        clock.remaining_seconds = _PLACEHOLDER
    split = _ENCODE(page).split(_COUNTDOWN + _ENCODE(_PLACEHOLDER))
    pieces = [piece + _COUNTDOWN for piece in split[:-1]] + split[-1:]
    assert len(pieces) == len(deadlines) + 1 == len(counting) + 1
    until = min((d for d in deadlines if d > now), default=None)
    ids = [o.id for o in page.items]
    return _Kept(
        version=version,
        counted=counted,
        etag=f'W/"{hashlib.sha256(repr((key, version, until)).encode()).hexdigest()[:32]}"',
        ids=ids,
        reads=_ENCODE([{"entity": "work_order.contact", "ids": [str(i) for i in ids]}]).decode(),
        pieces=pieces,
        deadlines=[_micros(d) for d in deadlines],
        since=now,
        until=until,
    )


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    bare = etag.removeprefix("W/")
    return any(
        tag.strip() == "*" or tag.strip().removeprefix("W/") == bare for tag in if_none_match.split(",")
    )


async def _fresh(
    session: AsyncSession,
    actor: Actor,
    f: queries.OrderFilter,
    now: dt.datetime,
    *,
    limit: int,
    cursor: str | None,
) -> WorkOrderPage:
    """The page built from the database now (records the staff read's audit row)."""
    page = await queries.list_orders(session, actor, f, now, limit=limit, cursor=cursor)
    return WorkOrderPage(items=render_rows(page.items, now), next_cursor=page.next_cursor)


def _trail(
    scope: Any, actor: Actor, kept: _Kept, lazy: bool, request_id: str
) -> page_versions.ReadTrail | None:
    """The audit row a staff read of the kept page leaves (as the unit of work would write it)."""
    if not actor.is_staff or not kept.ids or actor.user_id is None or actor.role is None:
        return None
    return page_versions.ReadTrail(
        actor_id=actor.user_id,
        actor_role=actor.role.value,
        action=audit_action(scope),
        request_id=request_id,
        reads=kept.reads,
        lazy=lazy,
    )


def _answered(kept: _Kept, now: dt.datetime, if_none_match: str | None) -> Response[bytes]:
    headers = {"ETag": kept.etag, "Cache-Control": "private, no-cache"}
    if _matches(if_none_match, kept.etag):
        return Response(b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(kept.body(now), status_code=HTTP_200_OK, media_type=_JSON, headers=headers)


async def answer(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    actor: Actor,
    f: queries.OrderFilter,
    now: dt.datetime,
    *,
    limit: int,
    cursor: str | None,
    if_none_match: str | None,
) -> Response[bytes]:
    """The page as JSON, from the kept page when it is current, or 304 when the client's is."""
    if f.breached is not None:
        fresh = await _fresh(session, actor, f, now, limit=limit, cursor=cursor)
        return Response(_ENCODE(fresh), media_type=_JSON)
    context = app_context(request)
    pages: RecentPages[_Kept] = context.list_pages
    key = (_scope(actor), f, limit, cursor)
    kept = pages.get(key)
    if kept is not None and kept.holds_at(now):
        # Nothing shown changed anywhere since the page was built: one statement checks that
        # and leaves the staff read's audit row.
        lazy = not context.settings.durable_read_audit
        trail = _trail(request.scope, actor, kept, lazy, request_context(request.scope).request_id)
        counted = await page_versions.change_count_unless(session, kept.counted, trail)
        if counted == kept.counted:
            _remember(request, context, actor, key)
            return _answered(kept, now, if_none_match)
    else:
        counted = await page_versions.change_count(session)
    # Something changed somewhere: the page stands while the rows behind it are the same.
    version = await page_versions.page_version(session, actor, f, now, limit=limit, cursor=cursor)
    if kept is None or kept.version != version or not kept.holds_at(now):
        fresh = await _fresh(session, actor, f, now, limit=limit, cursor=cursor)
        kept = _built(key, fresh, version, counted, now)
        pages.put(key, kept)
    else:
        # The counter was read before the digest, so the page is current as of `counted`.
        kept.counted = counted
        if actor.is_staff:
            # As `list_orders` records it: one audit row for the page, naming every order read.
            audit.note_read(session.sync_session, "work_order.contact", kept.ids)
    _remember(request, context, actor, key)
    return _answered(kept, now, if_none_match)


@dataclass(frozen=True, slots=True)
class _Shortcut:
    """A query string a sign-in was answered a kept page for, and that page's key."""

    sign_in: page_versions.SignIn
    actor: Actor
    key: tuple[object, ...]


def _remember(
    request: Request[Any, Any, Any], context: AppContext, actor: Actor, key: tuple[object, ...]
) -> None:
    """Lets `answer_kept` answer this sign-in's next request with the same query string."""
    if actor.user_id is None or actor.session_id is None or actor.role is None:
        return
    sign_in = page_versions.SignIn(actor.user_id, actor.session_id, actor.role.value, actor.customer_id)
    query: bytes = request.scope.get("query_string", b"")
    context.list_shortcuts.put((actor.user_id, actor.session_id, query), _Shortcut(sign_in, actor, key))


def _only_header(scope: Any, name: bytes) -> tuple[bool, str | None]:
    """The request's one header `name` (None when absent); False when it is sent more than once."""
    found = [value for key, value in scope["headers"] if key.lower() == name]
    if len(found) > 1:
        return False, None
    return True, bytes(found[0]).decode("latin-1") if found else None


def _kept_messages(kept: _Kept, now: dt.datetime, if_none_match: str | None) -> list[Message]:
    """What `_answered`'s response sends, written out."""
    headers = [(b"etag", kept.etag.encode()), _NO_CACHE]
    if _matches(if_none_match, kept.etag):
        start: Any = {"type": "http.response.start", "status": HTTP_304_NOT_MODIFIED, "headers": headers}
        return [start, {"type": "http.response.body", "body": b"", "more_body": False}]
    body = kept.body(now)
    headers += [_JSON_TYPE, (b"content-length", str(len(body)).encode())]
    start = {"type": "http.response.start", "status": HTTP_200_OK, "headers": headers}
    return [start, {"type": "http.response.body", "body": body, "more_body": False}]


async def answer_kept(scope: Any, context: AppContext, token: str, request_id: str) -> list[Message] | None:
    """The kept page's answer to a sign-in that was answered it for this query string before,
    when its one statement finds the sign-in and the list unchanged (and writes the staff read's
    audit row); None, with nothing written, when the request must take the full path."""
    now = context.clock.now()
    try:
        claims = decode_access(context.tokens, token, now)
    except Unauthenticated:
        return None
    asked = (claims.user_id, claims.session_id, scope["query_string"])
    shortcut: _Shortcut | None = context.list_shortcuts.get(asked)
    kept: _Kept | None = context.list_pages.get(shortcut.key) if shortcut is not None else None
    if shortcut is None or kept is None or not kept.holds_at(now):
        return None
    one, if_none_match = _only_header(scope, b"if-none-match")
    if not one or (if_none_match is not None and len(if_none_match) > _MAX_IF_NONE_MATCH):
        return None
    trail = _trail(scope, shortcut.actor, kept, not context.settings.durable_read_audit, request_id)
    # The pooled connection itself, without an engine connection around it (a third of what is
    # left of the answer's CPU); it goes back through the pool's own return (SQLAlchemy's calls
    # that may wait on the driver run in its greenlet).
    pooled = await context.engine.raw_connection()
    try:
        driver = pooled.driver_connection
        assert driver is not None  # a pooled connection holds its driver's
        signed_in, counted = await page_versions.change_count_if_signed_in(
            driver, shortcut.sign_in, kept.counted, trail
        )
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        # A connection that died while pooled: dropped, and the full path answers (with a fresh
        # one, or 503 while the database is away).
        await greenlet_spawn(pooled.invalidate, exc)
        return None
    finally:
        await greenlet_spawn(pooled.close)
    if not signed_in or counted != kept.counted:
        return None
    return _kept_messages(kept, now, if_none_match)
