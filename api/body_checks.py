"""JSON bodies the decoder must never see: not UTF-8, or nested deeper than any request needs.

The decoder recurses once per level of nesting and raises outside its own error type on
bytes that are not UTF-8, so both are refused here, before it runs: invalid UTF-8 → 400
`/problems/malformed-body`, nesting deeper than `MAX_DEPTH` → 400 `/problems/body-too-deep`.
Only routes that decode a JSON body (a `data` parameter) are checked; uploads pass untouched.
"""

from __future__ import annotations

import re
from typing import Any

from litestar.handlers import HTTPRouteHandler
from litestar.types import ASGIApp, Receive, Scope, Send

from api.problems import problem_messages

# The deepest request body is a few levels (a list of structs holding a GeoJSON point).
MAX_DEPTH = 64
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# How much is read for the checks where no layer sets a body limit (the app always does).
UNLIMITED_READ = 10_000_000

# A JSON string, escapes included (possessive: no backtracking on long strings).
_STRINGS = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENING = frozenset(b"[{")


def too_deep(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays and objects nest deeper than `limit` (brackets inside strings do not count)."""
    brackets = _STRINGS.sub(b"", body).translate(None, _NOT_BRACKETS)
    if brackets.count(b"[") + brackets.count(b"{") <= limit:
        return False
    depth = 0
    for b in brackets:
        depth += 1 if b in _OPENING else -1
        if depth > limit:
            return True
    return False


async def _read(receive: Receive, limit: int) -> tuple[bytes | None, list[Any]]:
    """The body (None past `limit` bytes) and the messages read, to pass on as they came."""
    messages: list[Any] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return b"".join(bytes(m.get("body", b"")) for m in messages[:-1]), messages
        size += len(message.get("body", b""))
        if size > limit:
            return None, messages
        if not message.get("more_body", False):
            return b"".join(bytes(m.get("body", b"")) for m in messages), messages


class BodyChecksMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        if (
            not isinstance(handler, HTTPRouteHandler)
            or scope.get("method") not in BODY_METHODS
            or "data" not in handler.parsed_fn_signature.parameters
        ):
            await self.app(scope, receive, send)
            return
        limit = handler.resolve_request_max_body_size()
        body, messages = await _read(receive, UNLIMITED_READ if limit is None else limit)
        refusal = None
        if body is None:
            pass  # too large: the framework answers 413 when it reads past its limit
        elif not _utf8(body):
            refusal = problem_messages(
                400, "malformed-body", "Malformed JSON", "The request body is not UTF-8"
            )
        elif too_deep(body):
            refusal = problem_messages(
                400,
                "body-too-deep",
                "Body nested too deeply",
                f"Arrays and objects in the body nest deeper than {MAX_DEPTH} levels",
            )
        if refusal is not None:
            for message in refusal:
                await send(message)
            return
        await self.app(scope, _replay(messages, receive), send)


def _utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _replay(messages: list[Any], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Any:
        return pending.pop(0) if pending else await receive()

    return replay
