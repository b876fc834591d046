"""One request, one transaction.

This middleware opens the request's database session, authenticates the bearer
token, answers an `Idempotency-Key` retry from the stored response, and after the
handler has produced its response: commits (with the one audit row and the stored
idempotent response) when the status is below 400, rolls everything back otherwise.
The response is held until the commit succeeded, so a client never sees a success
that was not stored.

A read route marked `autocommit_reads=True` runs without BEGIN and COMMIT: it only reads, and
its audit row is written by its last statement or by the flush below, so a failure before that
leaves nothing behind either.

A GET route may name an `answer_first` (route option): called with the bearer token before any
session is opened, it answers the request whole (sign-in check, audit row and all, in its own
statement) or returns None and the request goes the usual way. The work order list answers a
kept page so (`api.routes.work_orders.list_pages.answer_kept`).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sqlalchemy.exc import DBAPIError, IntegrityError

from api.context import CONTEXT_KEY, AppContext, RequestContext
from api.problems import problem_messages
from core import audit, idempotency
from core.database import commit_lazily, rollback_and_keep, run_after_commit
from core.errors import DomainError, Unauthenticated
from core.identity.sessions import authenticate

log = logging.getLogger("fieldservice.api")

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
_AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT"}


def _header(scope: Any, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None for any other."""
    scheme, _, token = (header or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def _answer_first(scope: Any, app: AppContext, request_id: str) -> list[Message] | None:
    """The route's own answer before any session (its `answer_first`), or None."""
    handler = scope.get("route_handler")
    if handler is None or scope["method"] != "GET" or "answer_first" not in handler.opt:
        return None
    token = _bearer(_header(scope, b"authorization"))
    if token is None:
        return None
    answer: list[Message] | None = await handler.opt["answer_first"](scope, app, token, request_id)
    return answer


async def _send_all(send: Send, messages: list[Message], request_id: str) -> None:
    """The response's messages, its start naming the request's id."""
    for message in messages:
        if message["type"] == "http.response.start":
            message = {
                **message,
                "headers": [*message.get("headers", []), (b"x-request-id", request_id.encode())],
            }
        await send(message)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = bytes(message.get("body", b""))
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


class UnitOfWorkMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            await self.app(scope, receive, send)
            return
        ctx_app = cast(AppContext, scope["litestar_app"].state["context"])
        request_id = (_header(scope, b"x-request-id") or uuid.uuid4().hex)[:64]
        handler = scope.get("route_handler")
        first = await _answer_first(scope, ctx_app, request_id)
        if first is not None:
            await _send_all(send, first, request_id)
            return
        async with ctx_app.sessionmaker() as session:
            ctx = RequestContext(session=session, request_id=request_id)
            cast(dict[str, Any], scope)[CONTEXT_KEY] = ctx
            if handler is not None and (handler.opt.get("streaming") or handler.opt.get("own_transactions")):
                # A long-lived stream, or a handler that commits piece by piece (a sync push applies
                # each mutation in its own transaction): signed in like any request, but nothing
                # to buffer or commit here; it works through short sessions of its own.
                await self._authenticate(scope, ctx_app, ctx)
                await session.close()
                await self.app(scope, receive, send)
                return
            if _autocommits(handler, scope):
                # A read whose only write is its audit row, written by its last statement (or at
                # the end, below): each statement commits by itself, which saves BEGIN and COMMIT.
                await session.connection(execution_options=_AUTOCOMMIT)
            messages = await self._run(scope, receive, ctx_app, ctx)
        await _send_all(send, messages, ctx.request_id)

    async def _authenticate(self, scope: Any, app: AppContext, ctx: RequestContext) -> None:
        header = _header(scope, b"authorization")
        if not header:
            return
        token = _bearer(header)
        if token is None:
            ctx.auth_error = Unauthenticated("Use `Authorization: Bearer <access token>`", reason="scheme")
            return
        try:
            ctx.actor = await authenticate(ctx.session, app.tokens, token, app.clock.now())
        except Unauthenticated as exc:
            ctx.auth_error = exc

    async def _run(self, scope: Any, receive: Receive, app: AppContext, ctx: RequestContext) -> list[Message]:
        await self._authenticate(scope, app, ctx)
        key = _idempotency_key(scope)
        if isinstance(key, list):
            return key
        retry = None
        if key is not None:
            found = await _replay_or_claim(scope, receive, app, ctx, key)
            if isinstance(found, list):
                return found
            retry, receive = found
        messages = await self._handle(scope, receive, ctx)
        status = next((m["status"] for m in messages if m["type"] == "http.response.start"), 500)
        if status >= 400:
            await rollback_and_keep(ctx.session)
            return messages
        return await _commit(scope, app, ctx, retry, messages, status)

    async def _handle(self, scope: Any, receive: Receive, ctx: RequestContext) -> list[Message]:
        """The handler's response, held back until the transaction's fate is known."""
        messages: list[Message] = []

        async def capture(message: Message) -> None:
            messages.append(message)

        try:
            await self.app(scope, receive, capture)
        except BaseException:
            await rollback_and_keep(ctx.session)
            raise
        return messages


@dataclass(frozen=True, slots=True)
class _Retry:
    """What an idempotent POST's response is stored under once committed."""

    owner: uuid.UUID | None
    key: str
    fingerprint: str


def _idempotency_key(scope: Any) -> str | list[Message] | None:
    """The request's Idempotency-Key if it takes one (a POST), or the problem with it."""
    key = _header(scope, b"idempotency-key") if scope["method"] == "POST" else None
    if key is not None and not 1 <= len(key) <= 200:
        return problem_messages(
            422,
            "invalid-input",
            "Some fields are invalid",
            "Idempotency-Key must be 1 to 200 characters",
            errors=[{"field": "Idempotency-Key", "message": "1 to 200 characters"}],
        )
    handler = scope.get("route_handler")
    if handler is not None and handler.opt.get("idempotency") == "none":
        # Routes whose answers hold secrets (tokens) handle retries themselves; nothing is stored.
        return None
    return key


async def _replay_or_claim(
    scope: Any, receive: Receive, app: AppContext, ctx: RequestContext, key: str
) -> tuple[_Retry, Receive] | list[Message]:
    """A retry is answered with the stored response (or refused when its request differs);
    a first request holds the key until it commits, and its body is read for the fingerprint."""
    session = ctx.session
    # The key belongs to whoever presented it: the caller as authenticated before the handler
    # (a sign-in handler changes the request's actor, which must not move the key).
    owner = ctx.actor.user_id if ctx.actor else None
    body = await _read_body(receive, app.settings.max_body_bytes)
    if body is None:
        return problem_messages(
            413,
            "body-too-large",
            "Request body too large",
            f"The body exceeds {app.settings.max_body_bytes} bytes",
        )
    fingerprint = idempotency.request_fingerprint(
        idempotency.fingerprint_key(app.settings.jwt_secret),
        scope["method"],
        scope["path"],
        scope.get("query_string", b""),
        body,
    )
    try:
        stored = await idempotency.lock_and_find(
            session,
            owner,
            key,
            fingerprint,
            timedelta(seconds=app.settings.idempotency_ttl_seconds),
            app.clock.now(),
        )
    except DomainError as exc:
        await session.rollback()
        return problem_messages(exc.status, exc.slug, exc.title, exc.detail)
    if stored is not None:
        await session.rollback()
        return _replayed(stored)
    return _Retry(owner=owner, key=key, fingerprint=fingerprint), _replay(body)


def _replayed(stored: idempotency.StoredResponse) -> list[Message]:
    start = {
        "type": "http.response.start",
        "status": stored.status,
        "headers": [
            *stored.headers,
            (b"idempotency-replayed", b"true"),
            (b"content-length", str(len(stored.body)).encode()),
        ],
    }
    body = {"type": "http.response.body", "body": stored.body, "more_body": False}
    return [cast(Message, start), cast(Message, body)]


async def _commit(
    scope: Any,
    app: AppContext,
    ctx: RequestContext,
    retry: _Retry | None,
    messages: list[Message],
    status: int,
) -> list[Message]:
    """Commit the request's changes with its audit row and, for an idempotent POST, its
    stored response; a commit the database refuses answers 409 or 503 instead."""
    session = ctx.session
    method = scope["method"]
    try:
        await session.flush()
        if method in SAFE_METHODS and not app.settings.durable_read_audit and _only_reads(ctx):
            # The staff read's audit row is this transaction's only write: its commit need not
            # wait for the disk (the trade-off is documented at `commit_lazily`).
            await commit_lazily(session, unless_written=True)
        _write_trail(scope, ctx)
        if retry is not None:
            body = b"".join(bytes(m.get("body", b"")) for m in messages if m["type"] == "http.response.body")
            start = next(m for m in messages if m["type"] == "http.response.start")
            await idempotency.store(
                session,
                retry.owner,
                retry.key,
                retry.fingerprint,
                idempotency.StoredResponse(status=status, headers=list(start.get("headers", [])), body=body),
            )
        await session.commit()
        run_after_commit(session)
        if method not in SAFE_METHODS and app.worker is not None:
            app.worker.poke()
    except IntegrityError:
        await session.rollback()
        return problem_messages(
            409,
            "conflict",
            "Conflicts with the current state",
            "The change conflicts with another one that was stored first; reload and retry",
        )
    except DBAPIError as exc:
        await session.rollback()
        log.exception("commit failed", exc_info=exc)
        return problem_messages(
            503,
            "commit-failed",
            "Could not store the change",
            "The database refused the change; retry with the same Idempotency-Key",
            retry_after=5,
        )
    return messages


def _autocommits(handler: Any, scope: Any) -> bool:
    marked = handler is not None and bool(handler.opt.get("autocommit_reads"))
    return marked and scope["method"] in SAFE_METHODS


def _only_reads(ctx: RequestContext) -> bool:
    trail = audit.trail_of(ctx.session.sync_session)
    return bool(trail.reads) and not trail.changes


def audit_action(scope: Any) -> str:
    """What a request's audit row names as its action: the method and the route's path."""
    method: str = scope["method"]
    handler = scope.get("route_handler")
    path = getattr(handler, "paths", None)
    template = sorted(path)[0] if path else scope["path"]
    return f"{method} {template}" if handler is not None else method


def _write_trail(scope: Any, ctx: RequestContext) -> None:
    audit.write_trail(
        ctx.session.sync_session,
        action=audit_action(scope),
        actor=ctx.actor,
        request_id=ctx.request_id,
        always=scope["method"] not in SAFE_METHODS,
    )


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Any:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive
