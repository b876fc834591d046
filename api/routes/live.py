"""Live updates for the staff's screens: a single-use ticket (POST, with the access token), then
a server-sent event stream of what changed (GET, with the ticket), fed by the database's
LISTEN/NOTIFY."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.params import QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from api.auth import PUBLIC, STAFF_ROLES, app_context
from api.params import CurrentActor, Now, Session
from core.errors import Forbidden, field_error
from core.live import feed, tickets


class TicketOut(msgspec.Struct):
    ticket: str
    expires_at: dt.datetime
    # Open the stream with this path and the ticket as `ticket`.
    stream: str = "/api/live"


@post(
    "/api/live/tickets",
    roles=STAFF_ROLES,
    tags=["live"],
    status_code=201,
    summary="A single-use ticket, valid for a minute, that opens one live stream",
)
async def live_ticket(now: Now, session: Session, actor: CurrentActor) -> TicketOut:
    token, expires = await tickets.issue(session, actor, now)
    return TicketOut(ticket=token, expires_at=expires)


Ticket = Annotated[
    str, QueryParameter(min_length=10, max_length=100, description="from POST /api/live/tickets")
]
LastEventId = Annotated[
    int | None,
    QueryParameter(ge=0, description="the id of the last event seen (or the Last-Event-ID header)"),
]


def _last_event_id(request: Request[Any, Any, Any], given: int | None) -> int | None:
    header = request.headers.get("last-event-id")
    if given is not None or not header:
        return given
    if not header.isdigit() or len(header) > 18:
        raise field_error("Last-Event-ID", "an event id (a whole number)")
    return int(header)


@get(
    "/api/live",
    roles=PUBLIC,
    tags=["live"],
    # The ticket is the credential: spent, expired or unknown is 401; a non-staff account's, 403.
    problems={401: ("unauthenticated",), 403: ("forbidden",)},
    streaming=True,
    media_type="text/event-stream",
    summary="Server-sent events of what changed (orders, visits, SLA clocks, notifications, "
    "positions, plans); ends after a few minutes with `reconnect`",
)
async def live_stream(
    request: Request[Any, Any, Any], ticket: Ticket, last_event_id: LastEventId = None
) -> ServerSentEvent:
    context = app_context(request)
    last = _last_event_id(request, last_event_id)
    # Its own short transaction: the ticket is spent before the stream starts, and no
    # connection is held while it runs.
    async with context.sessionmaker() as session, session.begin():
        actor = await tickets.redeem(session, ticket, context.clock.now())
    if actor.role not in STAFF_ROLES:
        raise Forbidden("Live updates are for staff")
    settings = context.settings
    events = feed.changes(
        context.live,
        context.sessionmaker,
        last,
        seconds=settings.live_stream_seconds,
        ping=settings.live_ping_seconds,
    )
    return ServerSentEvent(_messages(events))


async def _messages(events: AsyncIterator[dict[str, Any]]) -> AsyncIterator[ServerSentEventMessage]:
    async for event in events:
        ident = str(event["id"]) if "id" in event else None
        yield ServerSentEventMessage(data=json.dumps(event), event=event["kind"], id=ident)


ROUTES = [live_ticket, live_stream]
