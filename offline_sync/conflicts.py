"""Field ownership: the engineer owns a visit's progress, the dispatcher its assignment,
schedule and cancellation. Progress recorded offline on a visit the dispatcher meanwhile
reassigned or cancelled is not applied over the dispatcher's decision and not dropped
either: it is kept here, with the server's view, for a dispatcher to review.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import get_locked
from core.errors import Conflict, Forbidden, NotFound
from core.identity.roles import Actor
from core.pagination import Page, keyset_page
from dispatch.work_orders.lifecycle import takes_notes
from dispatch.work_orders.models import Status, Visit, VisitStatus, WorkOrder, WorkOrderEvent
from offline_sync.models import SyncConflict


class FieldConflict(Exception):
    """The device's change meets a dispatcher's decision; carries the server's view."""

    def __init__(self, kind: str, visit: Visit, order: WorkOrder) -> None:
        super().__init__(kind)
        self.kind = kind
        self.visit_id = visit.id
        self.work_order_id = order.id
        self.server_view = server_view(visit, order)


def server_view(visit: Visit, order: WorkOrder) -> dict[str, Any]:
    return {
        "visit": {
            "id": str(visit.id),
            "status": visit.status.value,
            "engineer_id": str(visit.engineer_id) if visit.engineer_id else None,
            "partner_engineer_id": str(visit.partner_engineer_id) if visit.partner_engineer_id else None,
            "version": visit.version,
        },
        "work_order": {"id": str(order.id), "status": order.status.value, "version": order.version},
    }


async def _was_on(session: AsyncSession, user_id: uuid.UUID, visit: Visit) -> bool:
    data = WorkOrderEvent.data
    found = await session.scalar(
        select(WorkOrderEvent.id)
        .where(
            WorkOrderEvent.work_order_id == visit.work_order_id,
            WorkOrderEvent.kind == "visit_assignment",
            data["visit_id"].astext == str(visit.id),
            (data["engineer_id"].astext == str(user_id))
            | (data["partner_engineer_id"].astext == str(user_id)),
        )
        .limit(1)
    )
    return found is not None


async def gate(session: AsyncSession, actor: Actor, visit_id: uuid.UUID) -> tuple[Visit, WorkOrder]:
    """The visit, locked, if this engineer may record progress on it now. A visit they were
    once on but no longer (or that was cancelled) raises FieldConflict; anyone else's is 403."""
    visit = await get_locked(session, Visit, visit_id)
    if visit is None:
        raise NotFound(f"No visit with id {visit_id}")
    order = await get_locked(session, WorkOrder, visit.work_order_id)
    assert order is not None
    on_it = actor.user_id in (visit.engineer_id, visit.partner_engineer_id)
    if on_it and takes_notes(visit.status, order.status):
        return visit, order
    assert actor.user_id is not None
    if not (on_it or await _was_on(session, actor.user_id, visit)):
        raise Forbidden("This visit was never yours: nothing was applied")
    if visit.status is VisitStatus.CANCELLED or order.status is Status.CANCELLED:
        raise FieldConflict("cancelled", visit, order)
    if order.status is Status.CLOSED:
        raise FieldConflict("closed", visit, order)
    raise FieldConflict("reassigned", visit, order)


def record(
    session: AsyncSession,
    *,
    now: dt.datetime,
    device_pk: uuid.UUID,
    seq: int,
    user_id: uuid.UUID,
    name: str,
    args: dict[str, Any],
    conflict: FieldConflict,
) -> SyncConflict:
    row = SyncConflict(
        id=uuid.uuid4(),
        created_at=now,
        device_pk=device_pk,
        seq=seq,
        user_id=user_id,
        visit_id=conflict.visit_id,
        work_order_id=conflict.work_order_id,
        kind=conflict.kind,
        mutation_name=name,
        args=args,
        server_view=conflict.server_view,
    )
    session.add(row)
    return row


async def inbox(
    session: AsyncSession, *, open_only: bool, limit: int, cursor: str | None = None
) -> Page[SyncConflict]:
    """Oldest first."""
    stmt = select(SyncConflict)
    if open_only:
        stmt = stmt.where(SyncConflict.resolved_at.is_(None))
    # A push's conflicts share its time: in the order the phone recorded them.
    order = [SyncConflict.created_at, SyncConflict.device_pk, SyncConflict.seq, SyncConflict.id]
    return await keyset_page(session, stmt, order, limit=limit, cursor=cursor)


async def resolve(
    session: AsyncSession, actor: Actor, now: dt.datetime, conflict_id: uuid.UUID, resolution: str
) -> SyncConflict:
    row = await session.get(SyncConflict, conflict_id, with_for_update=True)
    if row is None:
        raise NotFound(f"No sync conflict with id {conflict_id}")
    if row.resolved_at is not None:
        raise Conflict("This conflict was already resolved", resolved_at=row.resolved_at.isoformat())
    row.resolved_at, row.resolved_by, row.resolution = now, actor.user_id, resolution
    await session.flush()
    return row
