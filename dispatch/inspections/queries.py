"""What the dispatcher sees of inspections: upcoming, due, overdue, planned, done or set aside."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import field_error
from core.pagination import Page, keyset_page
from dispatch.customers.models import Customer, Site
from dispatch.engineers.service import names_of
from dispatch.inspections.models import Inspection, InspectionStatus
from dispatch.work_orders.models import Visit, VisitStatus, WorkOrder

STATES = ("upcoming", "due", "overdue", "done", "cancelled", "skipped")


def _planned() -> Any:
    return exists().where(
        Visit.work_order_id == Inspection.work_order_id,
        Visit.engineer_id.is_not(None),
        Visit.status != VisitStatus.CANCELLED,
    )


async def list_inspections(
    session: AsyncSession,
    now: dt.datetime,
    *,
    state: str | None,
    planned: bool | None,
    contract_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> Page[Inspection]:
    """Inspections by window (earliest first), filtered by state, planned or not, and contract."""
    stmt = select(Inspection)
    open_ = Inspection.status == InspectionStatus.OPEN
    if state == "upcoming":
        stmt = stmt.where(open_, Inspection.window_start > now)
    elif state == "due":
        stmt = stmt.where(open_, Inspection.window_start <= now, Inspection.window_end > now)
    elif state == "overdue":
        stmt = stmt.where(open_, Inspection.window_end <= now)
    elif state is not None:
        if state not in STATES:
            raise field_error("state", f"one of {', '.join(STATES)}")
        stmt = stmt.where(Inspection.status == InspectionStatus(state))
    if planned is not None:
        stmt = stmt.where(_planned() if planned else ~_planned())
    if contract_id is not None:
        stmt = stmt.where(Inspection.contract_id == contract_id)
    return await keyset_page(
        session, stmt, [Inspection.window_start, Inspection.id], limit=limit, cursor=cursor
    )


async def visits_of(session: AsyncSession, order_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Visit]]:
    rows = await session.execute(
        select(Visit).where(Visit.work_order_id.in_(order_ids)).order_by(Visit.created_at, Visit.id)
    )
    by_order: dict[uuid.UUID, list[Visit]] = {}
    for visit in rows.scalars():
        by_order.setdefault(visit.work_order_id, []).append(visit)
    return by_order


async def numbers_of(session: AsyncSession, order_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    rows = await session.execute(
        select(WorkOrder.id, WorkOrder.problem_number).where(WorkOrder.id.in_(order_ids))
    )
    return {row.id: row.problem_number for row in rows}


@dataclass(frozen=True)
class Place:
    site_name: str
    customer_name: str
    time_zone: str


@dataclass
class Context:
    """What a dispatcher's row of an inspection shows beside its ids."""

    visits: dict[uuid.UUID, list[Visit]] = field(default_factory=dict)
    numbers: dict[uuid.UUID, str] = field(default_factory=dict)
    places: dict[uuid.UUID, Place] = field(default_factory=dict)
    engineers: dict[uuid.UUID, str] = field(default_factory=dict)


async def context_of(session: AsyncSession, inspections: list[Inspection]) -> Context:
    order_ids = [i.work_order_id for i in inspections if i.work_order_id]
    context = Context(await visits_of(session, order_ids), await numbers_of(session, order_ids))
    site_ids = {i.site_id for i in inspections}
    if site_ids:
        rows = await session.execute(
            select(Site.id, Site.name, Site.time_zone, Customer.name.label("customer"))
            .join(Customer, Customer.id == Site.customer_id)
            .where(Site.id.in_(site_ids))
        )
        context.places = {row.id: Place(row.name, row.customer, row.time_zone) for row in rows}
    engineer_ids = {v.engineer_id for vs in context.visits.values() for v in vs if v.engineer_id}
    if engineer_ids:
        names = await names_of(session, list(engineer_ids))
        context.engineers = {key: display for key, (_, display) in names.items()}
    return context
