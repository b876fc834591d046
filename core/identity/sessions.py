"""Sign-in, refresh rotation with reuse detection, sign-out, and token checks.

Families, revocations and throttling counters live in PostgreSQL so that any
number of API processes agree on them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import AuditLog
from core.database import keep_after_rollback
from core.errors import RateLimited, Unauthenticated
from core.identity.models import LoginThrottle, RefreshToken, User
from core.identity.passwords import dummy_hash, verify_password
from core.identity.roles import Actor
from core.identity.tokens import (
    AccessClaims,
    TokenConfig,
    decode_access,
    encode_access,
    hash_refresh,
    new_refresh_secret,
)


@dataclass(frozen=True)
class ThrottleLimits:
    per_account: int
    per_address: int
    window_seconds: int


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User


async def _throttle_retry_after(
    session: AsyncSession, keys: list[tuple[str, int]], limits: ThrottleLimits, now: datetime
) -> int | None:
    rows = (
        await session.execute(select(LoginThrottle).where(LoginThrottle.key.in_([k for k, _ in keys])))
    ).scalars()
    by_key = {row.key: row for row in rows}
    for key, limit in keys:
        row = by_key.get(key)
        if row is None:
            continue
        elapsed = (now - row.window_start).total_seconds()
        if elapsed < limits.window_seconds and row.failures >= limit:
            return max(1, int(limits.window_seconds - elapsed))
    return None


def _record_failure(
    session: AsyncSession, keys: list[str], now: datetime, window: int, username: str
) -> None:
    async def count(side: AsyncSession) -> None:
        for key in keys:
            stmt = insert(LoginThrottle).values(key=key, window_start=now, failures=1)
            stale = LoginThrottle.window_start < now - timedelta(seconds=window)
            await side.execute(
                stmt.on_conflict_do_update(
                    index_elements=[LoginThrottle.key],
                    set_={
                        "failures": case((stale, 1), else_=LoginThrottle.failures + 1),
                        "window_start": case((stale, now), else_=LoginThrottle.window_start),
                    },
                )
            )
        side.add(
            AuditLog(
                action="auth.login_failed",
                actor_id=None,
                actor_role=None,
                changes=[],
                reads=[{"entity": "app_user", "username": username}],
            )
        )

    keep_after_rollback(session, count)


async def _issue(
    session: AsyncSession,
    config: TokenConfig,
    user: User,
    family_id: uuid.UUID,
    now: datetime,
    device_id: uuid.UUID | None = None,
) -> TokenPair:
    secret = new_refresh_secret()
    session.add(
        RefreshToken(
            family_id=family_id,
            user_id=user.id,
            token_hash=hash_refresh(secret),
            issued_at=now,
            expires_at=now + config.refresh_ttl,
            device_id=device_id,
        )
    )
    claims = AccessClaims(
        user_id=user.id,
        role=user.role,
        username=user.username,
        session_id=family_id,
        customer_id=user.customer_id,
    )
    return TokenPair(
        access_token=encode_access(config, claims, now),
        refresh_token=secret,
        expires_in=int(config.access_ttl.total_seconds()),
        user=user,
    )


async def login(
    session: AsyncSession,
    config: TokenConfig,
    limits: ThrottleLimits,
    *,
    username: str,
    password: str,
    address: str,
    now: datetime,
    device_id: uuid.UUID | None = None,
) -> TokenPair:
    """A new sign-in; `device_id` binds it to a phone (marking the phone lost ends it)."""
    account_key, address_key = f"user:{username.lower()}", f"addr:{address}"
    keys = [(account_key, limits.per_account), (address_key, limits.per_address)]
    retry_after = await _throttle_retry_after(session, keys, limits, now)
    if retry_after is not None:
        raise RateLimited("Too many failed sign-ins; try again later", retry_after=retry_after)
    user = (await session.execute(select(User).where(User.username == username))).scalar_one_or_none()
    ok = verify_password(user.password_hash if user else dummy_hash(), password)
    if user is None or not ok or not user.active:
        _record_failure(session, [account_key, address_key], now, limits.window_seconds, username)
        raise Unauthenticated("Unknown user name or wrong password", reason="bad-credentials")
    await session.execute(delete(LoginThrottle).where(LoginThrottle.key == account_key))
    return await _issue(session, config, user, uuid.uuid4(), now, device_id)


async def _revoke_family(session: AsyncSession, family_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def refresh(
    session: AsyncSession, config: TokenConfig, *, refresh_token: str, now: datetime
) -> TokenPair:
    row = (
        await session.execute(
            select(RefreshToken)
            .where(RefreshToken.token_hash == hash_refresh(refresh_token))
            .with_for_update()
        )
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise Unauthenticated("The refresh token is not valid; sign in again", reason="invalid-refresh")
    if row.used_at is not None:
        # A rotated token came back: someone holds a copy. End the whole sign-in.
        family_id, user_id = row.family_id, row.user_id

        async def revoke(side: AsyncSession) -> None:
            await _revoke_family(side, family_id, now)
            side.add(
                AuditLog(
                    action="auth.refresh_reuse",
                    actor_id=user_id,
                    actor_role=None,
                    changes=[{"entity": "refresh_token", "family_id": str(family_id), "op": "revoke-family"}],
                    reads=[],
                )
            )

        keep_after_rollback(session, revoke)
        raise Unauthenticated("The refresh token was already used; the session is revoked", reason="reused")
    user = await session.get(User, row.user_id)
    if user is None or not user.active:
        raise Unauthenticated("The account is disabled", reason="disabled")
    row.used_at = now
    return await _issue(session, config, user, row.family_id, now, row.device_id)


async def logout(session: AsyncSession, actor_session_id: uuid.UUID, now: datetime) -> None:
    await _revoke_family(session, actor_session_id, now)


async def authenticate(session: AsyncSession, config: TokenConfig, token: str, now: datetime) -> Actor:
    """The actor behind a bearer token, or Unauthenticated. Checks the sign-in is still live."""
    claims = decode_access(config, token, now)
    live = (
        await session.execute(
            select(User.active)
            .join(RefreshToken, RefreshToken.user_id == User.id)
            .where(
                User.id == claims.user_id,
                RefreshToken.family_id == claims.session_id,
                RefreshToken.revoked_at.is_(None),
            )
            .limit(1)
        )
    ).scalar_one_or_none()
    if not live:
        raise Unauthenticated("The session has ended; sign in again", reason="revoked")
    return Actor(
        user_id=claims.user_id,
        role=claims.role,
        username=claims.username,
        customer_id=claims.customer_id,
        session_id=claims.session_id,
    )
