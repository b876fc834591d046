"""Restores the customer did not confirm within the contract's period count as confirmed by default.

Restored means the engineer's `restored_at` and the customer's confirmation (REQUIREMENTS.md); a
customer who never answers must not hold the clock open for ever, so each contract names how long
a restore may wait (`restore_confirmation_hours`, 72 h unless set; orders without a contract wait
as long). The sweep runs with the SLA watch.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.roles import SYSTEM
from dispatch.contracts.models import Contract
from dispatch.sla.models import SlaClock
from dispatch.work_orders import service as work_orders
from dispatch.work_orders.models import WorkOrder

DEFAULT_CONFIRMATION_HOURS = 72
BATCH = 200


async def confirm_by_default(session: AsyncSession, now: dt.datetime) -> int:
    """Confirm by default every restore awaiting confirmation past its contract's period."""
    rows = await session.execute(
        select(SlaClock.work_order_id, SlaClock.unconfirmed_at, Contract.restore_confirmation_hours)
        .join(WorkOrder, WorkOrder.id == SlaClock.work_order_id)
        .outerjoin(Contract, Contract.id == WorkOrder.contract_id)
        .where(SlaClock.unconfirmed_at.is_not(None), SlaClock.met_at.is_(None))
        .order_by(SlaClock.unconfirmed_at)
        .limit(BATCH)
    )
    due = [
        order_id
        for order_id, restored_at, hours in rows
        if restored_at is not None
        and restored_at + dt.timedelta(hours=hours or DEFAULT_CONFIRMATION_HOURS) <= now
    ]
    done = 0
    for order_id in due:
        order = await session.get(WorkOrder, order_id, with_for_update={"skip_locked": True})
        if order is None:
            continue
        confirmation = work_orders.Confirmation("by_default", None, None, None)
        done += work_orders.confirm_restore(session, order, SYSTEM, now, confirmation)
    if done:
        await session.flush()
    return done
