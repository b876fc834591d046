"""What the phone shows beside a work-order document: the customer's name and the SLA clocks
(on-site and restore deadlines count down on the device, with no network)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.jsonable import jsonable
from dispatch.customers.models import Customer, Site
from dispatch.sla.models import SlaClock


async def customers_of(session: AsyncSession, sites: list[Site]) -> dict[uuid.UUID, dict[str, Any]]:
    """By site id: the customer's id and name."""
    ids = {s.customer_id for s in sites}
    if not ids:
        return {}
    rows = {c.id: c for c in (await session.execute(select(Customer).where(Customer.id.in_(ids)))).scalars()}
    return {
        s.id: {"id": str(s.customer_id), "name": rows[s.customer_id].name}
        for s in sites
        if s.customer_id in rows
    }


async def clocks_of(
    session: AsyncSession, order_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """By order id: each SLA clock's measure, deadline, and when it was met or breached."""
    out: dict[uuid.UUID, list[dict[str, Any]]] = {}
    if not order_ids:
        return out
    stmt = select(SlaClock).where(SlaClock.work_order_id.in_(order_ids)).order_by(SlaClock.measure)
    for c in (await session.execute(stmt)).scalars():
        out.setdefault(c.work_order_id, []).append(
            {
                "measure": c.measure.value,
                "deadline": jsonable(c.deadline),
                "met_at": jsonable(c.met_at),
                "breached_at": jsonable(c.breached_at),
            }
        )
    return out
