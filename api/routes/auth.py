"""Sign-in, token refresh and sign-out.

Login and refresh keep nothing in the Idempotency-Key store (their answers hold
tokens): a retried login signs in again, and a retried refresh is recognised by
its refresh token and key (see core/identity/sessions.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Request, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from api.auth import PUBLIC, SIGNED_IN, app_context
from api.context import request_context
from api.params import CurrentActor, Now, Session
from api.schemas.auth import LoginIn, RefreshIn, TokenOut
from core.errors import Unauthenticated
from core.identity import sessions
from core.identity.roles import Actor
from offline_sync import devices


def _signed_in(request: Request[Any, Any, Any], pair: sessions.TokenPair) -> TokenOut:
    # The audit row of this request names who just signed in.
    request_context(request.scope).actor = Actor(
        user_id=pair.user.id, role=pair.user.role, username=pair.user.username
    )
    return _out(pair)


def _out(pair: sessions.TokenPair) -> TokenOut:
    return TokenOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        token_type="Bearer",  # noqa: S106 (a scheme name, not a secret)
        expires_in=pair.expires_in,
        user_id=pair.user.id,
        role=pair.user.role.value,
    )


# `throttled`: failed sign-ins are counted, and too many answer 429 (documented in the OpenAPI).
@post(
    "/api/auth/login",
    roles=PUBLIC,
    throttled=True,
    status_code=HTTP_200_OK,
    tags=["auth"],
    summary="Sign in",
    idempotency="none",
)
async def login(
    request: Request[Any, Any, Any], now: Now, session: Session, data: JSONBody[LoginIn]
) -> TokenOut:
    app = app_context(request)
    pair = await sessions.login(
        session,
        app.tokens,
        app.throttle,
        app.hashing,
        username=data.username,
        password=data.password,
        address=app.trusted_proxies.client(request.scope),
        now=now,
        device_id=data.device_id,
    )
    return _signed_in(request, pair)


@post(
    "/api/auth/refresh",
    roles=PUBLIC,
    status_code=HTTP_200_OK,
    tags=["auth"],
    summary="Exchange a refresh token for a new pair (the old one stops working)",
    description=(
        "Send an `Idempotency-Key`: if the answer is lost, the same refresh token with the same key "
        "within the grace window gets a new pair of the same sign-in. Without the key, a second use "
        "of a refresh token ends the sign-in. A phone reported lost gets 403 `device-lost` (wipe)."
    ),
    idempotency="none",
    problems={401: ("unauthenticated",), 403: ("device-lost",)},
)
async def refresh(
    request: Request[Any, Any, Any], now: Now, session: Session, data: JSONBody[RefreshIn]
) -> TokenOut:
    app = app_context(request)
    try:
        pair = await sessions.refresh(
            session,
            app.tokens,
            refresh_token=data.refresh_token,
            now=now,
            retry_key=request.headers.get("idempotency-key"),
            grace=timedelta(seconds=app.settings.refresh_retry_grace_seconds),
        )
    except Unauthenticated:
        # A phone reported lost hears it at its next refresh, so it wipes what it holds at once
        # rather than waiting for someone to type the password into it.
        device_id = await sessions.device_of_refresh(session, data.refresh_token)
        if device_id is not None and await devices.reported_lost(session, device_id):
            raise devices.refuse_lost_refresh() from None
        raise
    return _signed_in(request, pair)


@post(
    "/api/auth/logout",
    roles=SIGNED_IN,
    status_code=HTTP_204_NO_CONTENT,
    tags=["auth"],
    summary="End this sign-in: its refresh tokens and access tokens stop working",
)
async def logout(now: Now, session: Session, actor: CurrentActor) -> None:
    assert actor.session_id is not None
    await sessions.logout(session, actor.session_id, now)
