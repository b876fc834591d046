"""User accounts: created and managed by admins; everyone reads their own."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.errors import InvalidInput, NotFound
from core.identity.models import User
from core.identity.passwords import hash_password
from core.identity.roles import Actor, Role
from core.pagination import Page, keyset_page
from core.records import apply_changes, get_or_404

MIN_PASSWORD = 10


def _check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            f"The password needs at least {MIN_PASSWORD} characters",
            errors=[{"field": "password", "message": f"at least {MIN_PASSWORD} characters"}],
        )
    return hash_password(password)


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


async def create_user(session: AsyncSession, actor: Actor, values: dict[str, Any], password: str) -> User:
    _check_customer_link(values["role"], values.get("customer_id"))
    user = User(**values, password_hash=_check_password(password))
    session.add(user)
    await session.flush()
    return user


async def update_user(
    session: AsyncSession, actor: Actor, user_id: uuid.UUID, changes: dict[str, Any], password: str | None
) -> User:
    user = await get_or_404(session, User, user_id, "user")
    apply_changes(user, changes)
    _check_customer_link(user.role, user.customer_id)
    if password is not None:
        user.password_hash = _check_password(password)
    await session.flush()
    return user
