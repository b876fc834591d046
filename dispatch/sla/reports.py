"""SLA compliance, raw and contractual side by side (docs/rules.md, "Refused backup devices")."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.contracts.models import Measure
from dispatch.sla.models import SlaClock
from dispatch.work_orders.models import WorkOrder


@dataclass(frozen=True)
class Compliance:
    measure: Measure
    clocks: int
    met: int
    breached: int
    excused: int
    running: int

    @property
    def raw(self) -> float | None:
        decided = self.met + self.breached
        return self.met / decided if decided else None

    @property
    def contractual(self) -> float | None:
        """Breaches the customer caused (a declined backup device) do not count against us."""
        decided = self.met + self.breached
        return (self.met + self.excused) / decided if decided else None


async def compliance(
    session: AsyncSession,
    now: dt.datetime,
    *,
    since: dt.datetime,
    until: dt.datetime,
    customer_id: uuid.UUID | None,
    scope: ColumnElement[bool] | None = None,
) -> list[Compliance]:
    """Clocks of the work orders reported in [since, until); `scope` narrows them further
    (a condition on WorkOrder, e.g. the sites of one region)."""
    # A restore awaiting only the customer's confirmation is neither met nor late yet: it counts as
    # running until confirmed (then met at its restore time) or confirmed by default.
    unmet = SlaClock.met_at.is_(None) & SlaClock.unconfirmed_at.is_(None)
    late = (SlaClock.breached_at.is_not(None)) | (unmet & (SlaClock.deadline < now))
    stmt = (
        select(
            SlaClock.measure,
            func.count(),
            func.count().filter(SlaClock.met_at.is_not(None) & SlaClock.breached_at.is_(None)),
            func.count().filter(late),
            func.count().filter(late & SlaClock.customer_excused),
            func.count().filter(SlaClock.met_at.is_(None) & ~late & SlaClock.deadline.is_not(None)),
        )
        .join(WorkOrder, WorkOrder.id == SlaClock.work_order_id)
        .where(WorkOrder.reported_at >= since, WorkOrder.reported_at < until)
        .group_by(SlaClock.measure)
        .order_by(case({m: i for i, m in enumerate(Measure)}, value=SlaClock.measure))
    )
    if customer_id is not None:
        stmt = stmt.where(WorkOrder.customer_id == customer_id)
    if scope is not None:
        stmt = stmt.where(scope)
    return [
        Compliance(m, total, met, breached, excused, running)
        for m, total, met, breached, excused, running in (await session.execute(stmt)).all()
    ]
