"""Sign-in, refresh rotation with reuse detection, sign-out, and token checks.

Families, revocations and throttling counters live in PostgreSQL so that any
number of API processes agree on them.

A sign-in follows its account: every request reads the user's role, organisation
and active flag together with the sign-in's liveness (one query), and a change of
password, role, organisation or active flag ends the user's other sign-ins.

Retried refreshes: a phone that lost the answer to a refresh sends the same
refresh token again. If it sends the same `Idempotency-Key` within the grace
window, and the pair issued by the first attempt has not been used, it gets a
fresh pair of the same sign-in (the undelivered pair is retired). Anything else
that brings back a rotated token (no key, another key, too late, or the
successor already in use) is treated as a stolen copy and ends the sign-in. Only
a hash of the key is stored, never a token.

Failed sign-ins slow the attacker, not the account's owner: delays grow per
(account, address) pair; an address that fails across many names is slowed too;
the account as a whole is slowed only a little (capped), so nobody can lock a user
out by guessing their password from elsewhere. Unknown names are counted under the
address alone, so made-up names leave no rows behind.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import AuditLog
from core.database import keep_after_rollback
from core.errors import InvalidInput, RateLimited, Unauthenticated
from core.identity.models import LoginThrottle, RefreshToken, User
from core.identity.passwords import HashingPool
from core.identity.roles import Actor
from core.identity.tokens import (
    AccessClaims,
    TokenConfig,
    decode_access,
    encode_access,
    new_refresh_secret,
    secret_digest,
)

MIN_PASSWORD = 10


@dataclass(frozen=True)
class ThrottleLimits:
    # Failures allowed without delay per (account, address); then 1 s, 2 s, 4 s … up to pair_cap.
    per_pair: int
    pair_cap_seconds: int
    # Failures per address (over all names) before its delays start; capped likewise.
    per_address: int
    # Failures per account (from all addresses) before it is slowed; capped low, never a lock-out.
    per_account: int
    account_cap_seconds: int
    # Counters are forgotten after this long without a failure.
    window_seconds: int


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User


@dataclass(frozen=True)
class _Counter:
    key: str
    free: int
    cap: int


def _counters(user: User | None, address: str, limits: ThrottleLimits) -> list[_Counter]:
    counters = [_Counter(f"addr:{address}", limits.per_address, limits.pair_cap_seconds)]
    if user is not None:
        counters += [
            _Counter(f"pair:{user.id}:{address}", limits.per_pair, limits.pair_cap_seconds),
            _Counter(f"acct:{user.id}", limits.per_account, limits.account_cap_seconds),
        ]
    return counters


def _delay(failures: int, counter: _Counter) -> float:
    if failures < counter.free:
        return 0.0
    return float(min(counter.cap, 2 ** min(failures - counter.free, 30)))


async def _throttle_retry_after(
    session: AsyncSession, counters: list[_Counter], limits: ThrottleLimits, now: datetime
) -> int | None:
    rows = (
        await session.execute(select(LoginThrottle).where(LoginThrottle.key.in_([c.key for c in counters])))
    ).scalars()
    by_key = {row.key: row for row in rows}
    wait = 0.0
    for counter in counters:
        row = by_key.get(counter.key)
        if row is None:
            continue
        last = row.last_failure_at or row.window_start
        if (now - last).total_seconds() >= limits.window_seconds:
            continue
        wait = max(wait, _delay(row.failures, counter) - (now - last).total_seconds())
    return math.ceil(wait) if wait > 0 else None


def _record_failure(
    session: AsyncSession, keys: list[str], now: datetime, window: int, username: str, action: str
) -> None:
    async def count(side: AsyncSession) -> None:
        for key in keys:
            stmt = insert(LoginThrottle).values(key=key, window_start=now, failures=1, last_failure_at=now)
            stale = case(
                (LoginThrottle.last_failure_at.is_(None), LoginThrottle.window_start),
                else_=LoginThrottle.last_failure_at,
            ) < now - timedelta(seconds=window)
            await side.execute(
                stmt.on_conflict_do_update(
                    index_elements=[LoginThrottle.key],
                    set_={
                        "failures": case((stale, 1), else_=LoginThrottle.failures + 1),
                        "window_start": case((stale, now), else_=LoginThrottle.window_start),
                        "last_failure_at": now,
                    },
                )
            )
        side.add(
            AuditLog(
                action=action,
                actor_id=None,
                actor_role=None,
                changes=[],
                reads=[{"entity": "app_user", "username": username}],
            )
        )

    keep_after_rollback(session, count)


async def _check_password(
    session: AsyncSession,
    limits: ThrottleLimits,
    hashing: HashingPool,
    *,
    user: User | None,
    username: str,
    password: str,
    address: str,
    now: datetime,
    action: str,
) -> bool:
    """Throttled password check; a failure is counted even though the request then fails."""
    counters = _counters(user, address, limits)
    retry_after = await _throttle_retry_after(session, counters, limits, now)
    if retry_after is not None:
        raise RateLimited("Too many failed sign-ins; try again later", retry_after=retry_after)
    ok = await hashing.verify(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        _record_failure(session, [c.key for c in counters], now, limits.window_seconds, username, action)
        return False
    # The owner got in from here; the address and account counters keep counting others' failures.
    await session.execute(delete(LoginThrottle).where(LoginThrottle.key == f"pair:{user.id}:{address}"))
    return True


async def _issue(
    session: AsyncSession,
    config: TokenConfig,
    user: User,
    family_id: uuid.UUID,
    now: datetime,
    *,
    session_version: int,
    device_id: uuid.UUID | None = None,
    parent_id: uuid.UUID | None = None,
) -> TokenPair:
    secret = new_refresh_secret()
    session.add(
        RefreshToken(
            family_id=family_id,
            user_id=user.id,
            token_hash=secret_digest(secret),
            issued_at=now,
            expires_at=now + config.refresh_ttl,
            device_id=device_id,
            session_version=session_version,
            parent_id=parent_id,
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
    hashing: HashingPool,
    *,
    username: str,
    password: str,
    address: str,
    now: datetime,
    device_id: uuid.UUID | None = None,
) -> TokenPair:
    """A new sign-in; `device_id` binds it to a phone (marking the phone lost ends it).

    A retried login simply signs in again: nothing of the first answer is stored."""
    user = (await session.execute(select(User).where(User.username == username))).scalar_one_or_none()
    ok = await _check_password(
        session,
        limits,
        hashing,
        user=user,
        username=username,
        password=password,
        address=address,
        now=now,
        action="auth.login_failed",
    )
    if not ok or user is None:
        raise Unauthenticated("Unknown user name or wrong password", reason="bad-credentials")
    return await _issue(
        session, config, user, uuid.uuid4(), now, session_version=user.session_version, device_id=device_id
    )


async def _revoke_family(session: AsyncSession, family_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def _retry_successor(
    session: AsyncSession, row: RefreshToken, retry_key: str | None, now: datetime, grace: timedelta
) -> RefreshToken | None:
    """The undelivered successor of `row` if this request retries the refresh that rotated it."""
    if retry_key is None or row.rotated_by_key is None or row.used_at is None:
        return None
    if row.rotated_by_key != secret_digest(retry_key) or now - row.used_at > grace:
        return None
    successor = (
        await session.execute(
            select(RefreshToken)
            .where(RefreshToken.parent_id == row.id, RefreshToken.revoked_at.is_(None))
            .with_for_update()
        )
    ).scalar_one_or_none()
    # Once the successor was used, its holder got the first answer: this is someone else.
    return successor if successor is not None and successor.used_at is None else None


def _reuse_detected(session: AsyncSession, row: RefreshToken, now: datetime) -> Unauthenticated:
    """A rotated token came back: someone holds a copy. The whole sign-in ends (kept although
    the request itself rolls back) and the caller raises the answer."""
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
    return Unauthenticated("The refresh token was already used; the session is revoked", reason="reused")


async def device_of_refresh(session: AsyncSession, refresh_token: str) -> uuid.UUID | None:
    """The phone a refresh token was issued to, whatever became of the token (None: not bound)."""
    return (
        await session.execute(
            select(RefreshToken.device_id).where(RefreshToken.token_hash == secret_digest(refresh_token))
        )
    ).scalar_one_or_none()


async def refresh(
    session: AsyncSession,
    config: TokenConfig,
    *,
    refresh_token: str,
    now: datetime,
    retry_key: str | None = None,
    grace: timedelta = timedelta(seconds=30),
) -> TokenPair:
    row = (
        await session.execute(
            select(RefreshToken)
            .where(RefreshToken.token_hash == secret_digest(refresh_token))
            .with_for_update()
        )
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise Unauthenticated("The refresh token is not valid; sign in again", reason="invalid-refresh")
    user = await session.get(User, row.user_id)
    if user is None or not user.active:
        raise Unauthenticated("The account is disabled", reason="disabled")
    if row.session_version != user.session_version:
        raise Unauthenticated("The account changed since this sign-in; sign in again", reason="revoked")
    if row.used_at is not None:
        successor = await _retry_successor(session, row, retry_key, now, grace)
        if successor is None:
            raise _reuse_detected(session, row, now)
        # The first answer never arrived: its pair is retired and this one replaces it.
        successor.revoked_at = now
    else:
        row.used_at = now
        row.rotated_by_key = secret_digest(retry_key) if retry_key is not None else None
    return await _issue(
        session,
        config,
        user,
        row.family_id,
        now,
        session_version=row.session_version,
        device_id=row.device_id,
        parent_id=row.id,
    )


async def logout(session: AsyncSession, actor_session_id: uuid.UUID, now: datetime) -> None:
    await _revoke_family(session, actor_session_id, now)


async def end_sign_ins(
    session: AsyncSession, user_id: uuid.UUID, now: datetime, *, keep_family: uuid.UUID | None = None
) -> None:
    """End every sign-in of the user (but `keep_family`): their access and refresh tokens stop working.

    The version bump also catches a sign-in or refresh that read the user before this
    change committed: its token carries the old version and is refused."""
    version = (
        await session.execute(
            update(User)
            .where(User.id == user_id)
            .values(session_version=User.session_version + 1)
            .returning(User.session_version)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one()
    others = RefreshToken.user_id == user_id
    if keep_family is not None:
        others &= RefreshToken.family_id != keep_family
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == keep_family, RefreshToken.revoked_at.is_(None))
            .values(session_version=version)
        )
    await session.execute(
        update(RefreshToken).where(others, RefreshToken.revoked_at.is_(None)).values(revoked_at=now)
    )


def check_password_rules(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            f"The password needs at least {MIN_PASSWORD} characters",
            errors=[{"field": field, "message": f"at least {MIN_PASSWORD} characters"}],
        )


async def change_own_password(
    session: AsyncSession,
    actor: Actor,
    limits: ThrottleLimits,
    hashing: HashingPool,
    *,
    current: str,
    new: str,
    address: str,
    now: datetime,
) -> None:
    """The signed-in user changes their password; their other sign-ins end, this one stays.

    A retry after a lost answer finds the new password already set and succeeds again
    without changing anything, so nothing about the request needs storing."""
    assert actor.user_id is not None
    check_password_rules(new, "new_password")
    user = await session.get(User, actor.user_id, with_for_update=True)
    if user is None:
        raise Unauthenticated("The account no longer exists", reason="revoked")
    ok = await _check_password(
        session,
        limits,
        hashing,
        user=user,
        username=user.username,
        password=current,
        address=address,
        now=now,
        action="auth.password_change_failed",
    )
    if not ok:
        if current != new and await hashing.verify(user.password_hash, new):
            return  # the same change, retried
        raise InvalidInput(
            "The current password is wrong",
            errors=[{"field": "current_password", "message": "wrong password"}],
        )
    user.password_hash = await hashing.hash(new)
    await end_sign_ins(session, user.id, now, keep_family=actor.session_id)


# Made once: every authenticated request runs it, and SQLAlchemy works out a statement's cache key
# once per statement object.
_LIVE_ACCOUNT = (
    select(User.username, User.role, User.customer_id, User.active)
    .join(RefreshToken, RefreshToken.user_id == User.id)
    .where(
        User.id == bindparam("user_id"),
        RefreshToken.family_id == bindparam("session_id"),
        RefreshToken.revoked_at.is_(None),
        RefreshToken.session_version == User.session_version,
    )
    .limit(1)
)
# The same check as text, for a statement that folds it into its own round trip
# (`dispatch.work_orders.page_versions.change_count_if_signed_in`; $1 the user's id, $2 the
# sign-in's): the account's role (as text) and organisation while the sign-in is live and the
# account active, no row otherwise.
LIVE_ACCOUNT_SQL = """SELECT CAST(u.role AS text) AS role, u.customer_id
    FROM app_user AS u JOIN refresh_token AS r ON r.user_id = u.id
    WHERE u.id = $1 AND r.family_id = $2 AND r.revoked_at IS NULL
      AND r.session_version = u.session_version AND u.active
    LIMIT 1"""


async def authenticate(session: AsyncSession, config: TokenConfig, token: str, now: datetime) -> Actor:
    """The actor behind a bearer token, or Unauthenticated. Checks the sign-in is still live and
    takes role and organisation from the account as it is now, not as it was at sign-in."""
    claims = decode_access(config, token, now)
    return await live_actor(session, claims.user_id, claims.session_id)


async def live_actor(session: AsyncSession, user_id: uuid.UUID, session_id: uuid.UUID | None) -> Actor:
    """The account as it is now, while that sign-in is live (not revoked, not signed out
    everywhere, the account active); Unauthenticated otherwise."""
    account = (
        await session.execute(_LIVE_ACCOUNT, {"user_id": user_id, "session_id": session_id})
    ).one_or_none()
    if account is None or not account.active:
        raise Unauthenticated("The session has ended; sign in again", reason="revoked")
    return Actor(
        user_id=user_id,
        role=account.role,
        username=account.username,
        customer_id=account.customer_id,
        session_id=session_id,
    )
