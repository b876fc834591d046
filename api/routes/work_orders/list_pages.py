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
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import app_context
from api.context import RecentPages, request_context
from api.routes.work_orders.shapes import render_rows
from api.schemas.work_orders import WorkOrderPage
from api.unit_of_work import audit_action
from core import audit
from core.identity.roles import Actor, Role
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


def _trail(scope: Any, actor: Actor, kept: _Kept, lazy: bool) -> page_versions.ReadTrail | None:
    """The audit row a staff read of the kept page leaves (as the unit of work would write it)."""
    if not actor.is_staff or not kept.ids or actor.user_id is None or actor.role is None:
        return None
    return page_versions.ReadTrail(
        actor_id=actor.user_id,
        actor_role=actor.role.value,
        action=audit_action(scope),
        request_id=request_context(scope).request_id,
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
        trail = _trail(request.scope, actor, kept, not context.settings.durable_read_audit)
        counted = await page_versions.change_count_unless(session, kept.counted, trail)
        if counted == kept.counted:
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
    return _answered(kept, now, if_none_match)
