"""Notifications for dispatchers and managers: raise (once per dedupe key), list and acknowledge."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound, field_error
from core.identity.roles import Actor
from core.pagination import Page, keyset_page
from dispatch.messaging.models import Notification
from dispatch.work_orders.models import WorkOrder


async def notify(
    session: AsyncSession,
    now: dt.datetime,
    *,
    kind: str,
    audience: str,
    order_id: uuid.UUID | None,
    message: str,
    dedupe_key: str,
    data: dict[str, object] | None = None,
) -> bool:
    """Add a notification once per dedupe key (a re-evaluation never raises it twice); True when new."""
    result = await session.execute(
        insert(Notification)
        .values(
            id=uuid.uuid4(),
            created_at=now,
            kind=kind,
            audience=audience,
            work_order_id=order_id,
            message=message,
            data=data or {},
            dedupe_key=dedupe_key,
        )
        .on_conflict_do_nothing(index_elements=[Notification.dedupe_key])
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


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


async def problem_numbers(session: AsyncSession, notifications: list[Notification]) -> dict[uuid.UUID, str]:
    """The problem numbers of the work orders these notifications are about, in one query."""
    ids = {n.work_order_id for n in notifications if n.work_order_id is not None}
    if not ids:
        return {}
    rows = await session.execute(select(WorkOrder.id, WorkOrder.problem_number).where(WorkOrder.id.in_(ids)))
    return {row.id: row.problem_number for row in rows}


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


# A desk clears a whole group at once; one request, one transaction, one audit row.
MAX_BULK_ACKNOWLEDGE = 500


async def acknowledge_many(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    *,
    ids: list[uuid.UUID] | None,
    kind: str | None,
) -> list[Notification]:
    """Acknowledge the open notifications named by id, or all open ones of a kind (oldest first,
    at most `MAX_BULK_ACKNOWLEDGE`); those already acknowledged are left as they were."""
    if not ids and not kind:
        raise field_error("ids", "name the notifications (ids) or their kind")
    stmt = select(Notification).where(Notification.acknowledged_at.is_(None))
    if ids:
        stmt = stmt.where(Notification.id.in_(ids))
    if kind:
        stmt = stmt.where(Notification.kind == kind)
    found = list(
        (
            await session.scalars(
                stmt.order_by(Notification.created_at, Notification.id)
                .limit(MAX_BULK_ACKNOWLEDGE)
                .with_for_update()
            )
        ).all()
    )
    for notification in found:
        notification.acknowledged_at, notification.acknowledged_by = now, actor.user_id
    await session.flush()
    return found
