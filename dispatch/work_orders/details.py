"""One work order as it is shown: with its site, whether its clocks are paused, and its
timeline; and the visits an engineer has in hand."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.identity.roles import Actor
from dispatch.customers.models import Site
from dispatch.work_orders.models import Visit, WorkOrder, WorkOrderEvent
from dispatch.work_orders.names import people_names, people_of
from dispatch.work_orders.queries import paused_orders
from dispatch.work_orders.service import timeline, visible
from dispatch.work_orders.visits import ACTIVE


@dataclass(frozen=True, slots=True)
class OrderDetail:
    order: WorkOrder
    site: Site
    paused: bool
    timeline: list[WorkOrderEvent]
    names: dict[uuid.UUID, str]  # display names of the people its visits, notes and events name


async def detail(session: AsyncSession, order: WorkOrder) -> OrderDetail:
    site = await session.get(Site, order.site_id)
    assert site is not None  # a foreign key
    events = await timeline(session, order.id)
    return OrderDetail(
        order=order,
        site=site,
        paused=order.id in await paused_orders(session, [order.id]),
        timeline=events,
        names=await people_names(session, people_of(order.visits, events)),
    )


async def after_change(session: AsyncSession, order: WorkOrder) -> OrderDetail:
    """The order just changed: its clocks and visits read again, as they are now."""
    await session.refresh(order, ["clocks", "visits"])
    return await detail(session, order)


async def read(session: AsyncSession, actor: Actor, order_id: uuid.UUID) -> OrderDetail:
    """The order if this actor may see it; staff reading it is audited (it names a contact)."""
    order = await visible(session, actor, order_id)
    if actor.is_staff:
        audit.note_read(session.sync_session, "work_order.contact", [order.id])
    return await detail(session, order)


async def active_visits(session: AsyncSession, engineer_id: uuid.UUID) -> list[Visit]:
    """The engineer's visits not yet finished (as lead or partner), soonest first."""
    rows = await session.execute(
        select(Visit)
        .where((Visit.engineer_id == engineer_id) | (Visit.partner_engineer_id == engineer_id))
        .where(Visit.status.in_(ACTIVE))
        .order_by(Visit.planned_start.nulls_last(), Visit.id)
    )
    return list(rows.scalars())
