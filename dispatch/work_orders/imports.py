"""Historical work orders: reports older than live intake takes (30 days), entered in bulk.

A service desk moving onto the system, or a paper backlog typed in after an outage, brings orders
whose clocks ran out long ago. They are stored like any other order (number, archive id, contract,
clocks computed from `reported_at` for the record), marked `imported`, with what happened to them
(responded, on site, restored, closed) as history. They never reach the live side: the SLA watch
skips them, and the import's transaction is quiet for the live-update triggers, so no notification,
escalation or live event comes from the past.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import Clock
from core.errors import DomainError, InvalidInput, field_error
from core.identity.roles import Actor
from core.jsonable import jsonable
from dispatch.contracts.models import Measure
from dispatch.sla.clocks import confirm_restored, meet, record_restored, stop_or_restart
from dispatch.work_orders import service
from dispatch.work_orders.models import Status, WorkOrder

MAX_ROWS = 1000


@dataclass(frozen=True)
class HistoricalOrder:
    intake: service.Intake
    responded_at: dt.datetime | None = None
    arrived_at: dt.datetime | None = None
    restored_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None


def _check_history(row: HistoricalOrder, now: dt.datetime) -> None:
    reported = row.intake.reported_at
    if reported is None:
        raise field_error("reported_at", "an imported order needs the time it was reported")
    for name in ("responded_at", "arrived_at", "restored_at", "closed_at"):
        value: dt.datetime | None = getattr(row, name)
        if value is not None and not reported <= value <= now:
            raise field_error(name, "between the report and now")
    if row.closed_at is not None and row.restored_at is not None and row.closed_at < row.restored_at:
        raise field_error("closed_at", "an order closes after service was restored")


def _apply_history(order: WorkOrder, row: HistoricalOrder) -> None:
    """What happened to the order, as the old records say; the paper record of a restore is its
    confirmation."""
    if row.responded_at is not None:
        meet(order, Measure.RESPONSE, row.responded_at)
        order.status = Status.TRIAGED
    if row.arrived_at is not None:
        meet(order, Measure.ON_SITE, row.arrived_at)
    if row.restored_at is not None:
        order.restored_at = order.resolved_at = row.restored_at
        record_restored(order, row.restored_at)
        confirm_restored(order, {"kind": "imported", "at": jsonable(row.restored_at)})
        order.status = Status.RESOLVED
    if row.closed_at is not None:
        order.closed_at = row.closed_at
        meet(order, Measure.PERMANENT_FIX, row.closed_at)
        order.status = Status.CLOSED
        stop_or_restart(order, row.closed_at)


def _at_row(index: int, exc: InvalidInput) -> InvalidInput:
    errors = [{**e, "field": f"items[{index}].{e['field']}"} for e in exc.extra.get("errors", [])]
    return InvalidInput(f"items[{index}]: {exc.detail}", errors=errors)


async def import_orders(
    session: AsyncSession, actor: Actor, clock: Clock, rows: list[HistoricalOrder]
) -> list[WorkOrder]:
    """Store the rows as imported orders, all or none (a bad row names its index)."""
    if not rows or len(rows) > MAX_ROWS:
        raise field_error("items", f"1 to {MAX_ROWS} orders per import")
    # The live-update triggers skip this transaction's changes: history is not news.
    await session.execute(text("SET LOCAL fsd.live_quiet = 'on'"))
    now = clock.now()
    orders = []
    for index, row in enumerate(rows):
        try:
            _check_history(row, now)
            order = await service.create(session, actor, clock, row.intake, imported=True)
        except InvalidInput as exc:
            raise _at_row(index, exc) from exc
        except DomainError as exc:
            raise type(exc)(f"items[{index}]: {exc.detail}", **exc.extra) from exc
        _apply_history(order, row)
        if order.status is not Status.NEW:
            service.add_event(
                session,
                order,
                actor,
                now,
                "imported_history",
                to_status=order.status,
                data={
                    name: jsonable(getattr(row, name))
                    for name in ("responded_at", "arrived_at", "restored_at", "closed_at")
                },
            )
        orders.append(order)
    await session.flush()
    return orders
