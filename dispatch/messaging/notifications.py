"""Notifications for dispatchers and managers: list and acknowledge."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from core.identity.roles import Actor
from core.pagination import Page, keyset_page
from dispatch.messaging.models import Notification


async def list_notifications(
    session: AsyncSession,
    *,
    open_only: bool,
    audience: str | None,
    work_order_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> Page[Notification]:
    stmt = select(Notification)
    if open_only:
        stmt = stmt.where(Notification.acknowledged_at.is_(None))
    if audience:
        stmt = stmt.where(Notification.audience == audience)
    if work_order_id:
        stmt = stmt.where(Notification.work_order_id == work_order_id)
    return await keyset_page(
        session, stmt, [Notification.created_at, Notification.id], limit=limit, cursor=cursor
    )


async def acknowledge(
    session: AsyncSession, actor: Actor, notification_id: uuid.UUID, now: dt.datetime
) -> Notification:
    notification = await session.get(Notification, notification_id, with_for_update=True)
    if notification is None:
        raise NotFound(f"No notification with id {notification_id}")
    if notification.acknowledged_at is None:
        notification.acknowledged_at, notification.acknowledged_by = now, actor.user_id
    await session.flush()
    return notification
