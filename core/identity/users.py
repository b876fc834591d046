"""User accounts: created and managed by admins; everyone reads their own."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.errors import InvalidInput, NotFound
from core.identity.models import User
from core.identity.passwords import HashingPool
from core.identity.roles import Actor, Role
from core.identity.sessions import check_password_rules, end_sign_ins
from core.pagination import Page, keyset_page
from core.records import apply_changes, get_or_404, get_versioned

# Changing any of these ends the user's sign-ins: their tokens were granted under the old values.
SESSION_FIELDS = ("role", "customer_id", "active")


def _check_customer_link(role: Role, customer_id: uuid.UUID | None) -> None:
    if role is Role.CUSTOMER_CONTACT and customer_id is None:
        raise InvalidInput(
            "A customer contact belongs to a customer organisation",
            errors=[{"field": "customer_id", "message": "required for customer contacts"}],
        )
    if role is not Role.CUSTOMER_CONTACT and customer_id is not None:
        raise InvalidInput(
            "Only customer contacts belong to a customer organisation",
            errors=[{"field": "customer_id", "message": "only for customer contacts"}],
        )


async def list_users(
    session: AsyncSession, actor: Actor, *, role: Role | None, limit: int, cursor: str | None
) -> Page[User]:
    stmt = select(User)
    if role is not None:
        stmt = stmt.where(User.role == role)
    page = await keyset_page(session, stmt, [User.username, User.id], limit=limit, cursor=cursor)
    audit.note_read(session.sync_session, "app_user.contact", [u.id for u in page.items])
    return page


async def get_user(session: AsyncSession, actor: Actor, user_id: uuid.UUID) -> User:
    if actor.role is not Role.ADMIN and actor.user_id != user_id:
        raise NotFound(f"No user with id {user_id}")
    user = await get_or_404(session, User, user_id, "user")
    if actor.user_id != user_id:
        audit.note_read(session.sync_session, "app_user.contact", [user_id])
    return user


async def create_user(
    session: AsyncSession, actor: Actor, hashing: HashingPool, values: dict[str, Any], password: str
) -> User:
    _check_customer_link(values["role"], values.get("customer_id"))
    check_password_rules(password)
    user = User(**values, password_hash=await hashing.hash(password))
    session.add(user)
    await session.flush()
    return user


async def update_user(
    session: AsyncSession,
    actor: Actor,
    hashing: HashingPool,
    user_id: uuid.UUID,
    changes: dict[str, Any],
    password: str | None,
    now: datetime,
    *,
    version: int | None = None,
) -> User:
    """An admin's change; one of role, organisation, active flag or password ends the user's sign-ins.
    With `version`, a stale one is refused (409) before anything changes."""
    if password is not None:
        check_password_rules(password)
    if version is None:
        user = await get_or_404(session, User, user_id, "user")
    else:
        user = await get_versioned(session, User, user_id, version, "user")
    before = {name: getattr(user, name) for name in SESSION_FIELDS}
    apply_changes(user, changes)
    _check_customer_link(user.role, user.customer_id)
    if password is not None:
        user.password_hash = await hashing.hash(password)
    await session.flush()
    access_changed = any(getattr(user, name) != before[name] for name in SESSION_FIELDS)
    if access_changed or password is not None:
        # An admin setting their own password keeps the sign-in they are using, as
        # POST /api/users/me/password does; a change of access ends every sign-in.
        own = actor.user_id == user.id and not access_changed
        await end_sign_ins(session, user.id, now, keep_family=actor.session_id if own else None)
    return user
