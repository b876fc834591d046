"""What a dispatcher asks of the work orders: filtered, sorted by deadline, paginated."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.identity.roles import Actor, Role
from core.pagination import Page, keyset_page
from dispatch.customers import BBox, like_pattern
from dispatch.models import Customer, Severity, Site
from dispatch.order_models import SlaClock, SlaPause, Status, Visit, WorkOrder


@dataclass(frozen=True)
class OrderFilter:
    statuses: tuple[Status, ...] = ()
    severities: tuple[Severity, ...] = ()
    customer_id: uuid.UUID | None = None
    engineer_id: uuid.UUID | None = None
    at_risk: bool | None = None
    breached: bool | None = None
    open_only: bool = False
    bbox: BBox | None = None
    q: str | None = None


def _assigned_to(engineer_id: uuid.UUID) -> object:
    return exists().where(
        Visit.work_order_id == WorkOrder.id,
        or_(Visit.engineer_id == engineer_id, Visit.partner_engineer_id == engineer_id),
    )


def _scoped(stmt: Select[tuple[WorkOrder]], actor: Actor) -> Select[tuple[WorkOrder]]:
    if actor.role is Role.CUSTOMER_CONTACT:
        return stmt.where(WorkOrder.customer_id == actor.customer_id)
    if actor.role is Role.ENGINEER:
        assert actor.user_id is not None
        return stmt.where(_assigned_to(actor.user_id))  # type: ignore[arg-type]
    return stmt


def _filtered(stmt: Select[tuple[WorkOrder]], f: OrderFilter, now: dt.datetime) -> Select[tuple[WorkOrder]]:
    if f.statuses:
        stmt = stmt.where(WorkOrder.status.in_(f.statuses))
    if f.open_only:
        stmt = stmt.where(WorkOrder.status.not_in((Status.CLOSED, Status.CANCELLED)))
    if f.severities:
        stmt = stmt.where(WorkOrder.severity.in_(f.severities))
    if f.customer_id:
        stmt = stmt.where(WorkOrder.customer_id == f.customer_id)
    if f.engineer_id:
        stmt = stmt.where(_assigned_to(f.engineer_id))  # type: ignore[arg-type]
    open_clock = (SlaClock.work_order_id == WorkOrder.id, SlaClock.met_at.is_(None))
    if f.at_risk is not None:
        risky = exists().where(*open_clock, SlaClock.at_risk_since.is_not(None))
        stmt = stmt.where(risky if f.at_risk else ~risky)
    if f.breached is not None:
        late = exists().where(
            SlaClock.work_order_id == WorkOrder.id,
            or_(SlaClock.breached_at.is_not(None), (SlaClock.met_at.is_(None)) & (SlaClock.deadline < now)),
        )
        stmt = stmt.where(late if f.breached else ~late)
    if f.bbox is not None:
        envelope = func.ST_MakeEnvelope(f.bbox.west, f.bbox.south, f.bbox.east, f.bbox.north, 4326)
        stmt = stmt.where(
            exists().where(Site.id == WorkOrder.site_id, func.ST_Covers(envelope, func.geometry(Site.point)))
        )
    if f.q:
        pattern = like_pattern(f.q)
        stmt = stmt.where(
            or_(
                WorkOrder.problem_number.ilike(pattern),
                WorkOrder.asset_serial.ilike(pattern),
                exists().where(Customer.id == WorkOrder.customer_id, Customer.name.ilike(pattern)),
            )
        )
    return stmt


async def list_orders(
    session: AsyncSession, actor: Actor, f: OrderFilter, now: dt.datetime, *, limit: int, cursor: str | None
) -> Page[WorkOrder]:
    stmt = _filtered(_scoped(select(WorkOrder), actor), f, now)
    page = await keyset_page(session, stmt, [WorkOrder.due_at, WorkOrder.id], limit=limit, cursor=cursor)
    if actor.is_staff:
        audit.note_read(session.sync_session, "work_order.contact", [o.id for o in page.items])
    return page


async def paused_orders(session: AsyncSession, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    if not ids:
        return set()
    rows = await session.execute(
        select(SlaPause.work_order_id).where(SlaPause.work_order_id.in_(ids), SlaPause.ended_at.is_(None))
    )
    return set(rows.scalars())
