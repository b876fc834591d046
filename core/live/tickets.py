"""Single-use tickets that open a live stream: issued to a signed-in staff member with their
access token (a POST), redeemed once by the stream's GET within a minute. Only the ticket's hash
is stored; redeeming checks the sign-in is still live, as every request does."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Unauthenticated
from core.identity.roles import Actor
from core.identity.sessions import live_actor
from core.identity.tokens import secret_digest
from core.live.models import LiveTicket

LIFETIME = dt.timedelta(seconds=60)


async def issue(session: AsyncSession, actor: Actor, now: dt.datetime) -> tuple[str, dt.datetime]:
    """A new ticket for this sign-in: (the ticket, when it expires)."""
    assert actor.user_id is not None
    token = secrets.token_urlsafe(32)
    expires = now + LIFETIME
    session.add(
        LiveTicket(
            token_sha256=secret_digest(token),
            user_id=actor.user_id,
            session_id=actor.session_id,
            created_at=now,
            expires_at=expires,
        )
    )
    await session.flush()
    return token, expires


async def redeem(session: AsyncSession, token: str, now: dt.datetime) -> Actor:
    """The account behind a ticket, once: a used, expired or unknown ticket is Unauthenticated
    (all alike, so that a guess learns nothing)."""
    row = (
        await session.execute(
            update(LiveTicket)
            .where(
                LiveTicket.token_sha256 == secret_digest(token),
                LiveTicket.used_at.is_(None),
                LiveTicket.expires_at > now,
            )
            .values(used_at=now)
            .returning(LiveTicket.user_id, LiveTicket.session_id)
        )
    ).one_or_none()
    if row is None:
        raise Unauthenticated(
            "The stream ticket is unknown, used or expired; ask for a new one", reason="ticket"
        )
    return await live_actor(session, row.user_id, row.session_id)
