"""Notifications: SLA at risk, breaches, escalations, backup device needed."""

from __future__ import annotations

import uuid

from litestar import get, post
from litestar.params import FromPath, FromQuery, JSONBody

from api.auth import STAFF_ROLES
from api.params import CurrentActor, Cursor, Limit, Now, Session
from api.schemas.common import out
from api.schemas.notifications import AcknowledgedOut, AcknowledgeManyIn, NotificationOut, NotificationPage
from dispatch.messaging import notifications as service
from dispatch.messaging.models import Notification


def _shown(notification: Notification, numbers: dict[uuid.UUID, str]) -> NotificationOut:
    order = notification.work_order_id
    return out(NotificationOut, notification, work_order_problem_number=numbers.get(order) if order else None)


@get(
    "/api/notifications",
    roles=STAFF_ROLES,
    tags=["notifications"],
    summary="Notifications, oldest first (open ones by default)",
)
async def list_notifications(
    session: Session,
    open_only: FromQuery[bool] = True,
    audience: FromQuery[str | None] = None,
    work_order_id: FromQuery[uuid.UUID | None] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> NotificationPage:
    page = await service.list_notifications(
        session,
        open_only=open_only,
        audience=audience,
        work_order_id=work_order_id,
        limit=limit,
        cursor=cursor,
    )
    numbers = await service.problem_numbers(session, page.items)
    return NotificationPage(items=[_shown(n, numbers) for n in page.items], next_cursor=page.next_cursor)


@post(
    "/api/notifications/{notification_id:uuid}/acknowledge",
    roles=STAFF_ROLES,
    tags=["notifications"],
    status_code=200,
    summary="Acknowledge a notification (stops its escalation)",
)
async def acknowledge(
    now: Now,
    session: Session,
    actor: CurrentActor,
    notification_id: FromPath[uuid.UUID],
) -> NotificationOut:
    notification = await service.acknowledge(session, actor, notification_id, now)
    return _shown(notification, await service.problem_numbers(session, [notification]))


@post(
    "/api/notifications/acknowledge",
    roles=STAFF_ROLES,
    tags=["notifications"],
    status_code=200,
    summary="Acknowledge open notifications by id or by kind, all at once",
)
async def acknowledge_many(
    now: Now, session: Session, actor: CurrentActor, data: JSONBody[AcknowledgeManyIn]
) -> AcknowledgedOut:
    found = await service.acknowledge_many(session, actor, now, ids=data.ids, kind=data.kind)
    return AcknowledgedOut(acknowledged=len(found), ids=[n.id for n in found])


ROUTES = [list_notifications, acknowledge, acknowledge_many]
