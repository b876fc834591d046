"""The customer messages the contracts ask for, in the customer's language and time zone."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from core import zones
from dispatch.messaging.outbox import Outgoing, enqueue
from dispatch.work_orders.models import Visit, WorkOrder


def _local(at: dt.datetime, tz: str) -> str:
    return zones.local_minute(at, tz)


def appointment_confirmation(order: WorkOrder, visit: Visit, tz: str) -> Outgoing | None:
    """The customer's confirmation of the visit's planned start (none without one), to queue."""
    if visit.planned_start is None:
        return None
    when = _local(visit.planned_start, tz)
    return Outgoing(
        channel="sms",
        recipient=order.contact_phone,
        subject=f"{order.problem_number} 上门服务预约确认",
        body=f"{order.contact_name}您好：您报修的问题（{order.problem_number}）"
        f"已安排工程师于 {when} 上门服务。如需调整时间请回复或致电服务热线。",
        order_id=order.id,
        dedupe_key=f"appointment:{visit.id}:{visit.planned_start.isoformat()}",
    )


async def late_arrival_notice(
    session: AsyncSession, now: dt.datetime, order: WorkOrder, eta: dt.datetime | None, tz: str
) -> None:
    expected = f"，预计 {_local(eta, tz)} 到达" if eta else ""
    await enqueue(
        session,
        now,
        channel="sms",
        recipient=order.contact_phone,
        subject=f"{order.problem_number} 工程师到达时间变更",
        body=f"{order.contact_name}您好：非常抱歉，我们的工程师将晚于约定时间到达{expected}。"
        f"给您带来的不便，我们深表歉意。（{order.problem_number}）",
        order_id=order.id,
        dedupe_key=f"late:{order.id}",
    )
