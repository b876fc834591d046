"""Inspection compliance: of the inspections due in a period (by due date), how many were done
inside their window, done late, are still open, or were set aside — per contract, for the KPIs
and the monthly service report."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.contracts.models import Contract
from dispatch.inspections.models import Inspection, InspectionStatus
from dispatch.work_orders.models import WorkOrder


@dataclass(frozen=True)
class ComplianceLine:
    contract_number: str
    due: int
    done_in_window: int
    done_late: int
    open: int
    set_aside: int

    @property
    def share(self) -> float | None:
        """Done inside the window, of those due that were not set aside (cancelled or skipped)."""
        counted = self.due - self.set_aside
        return round(self.done_in_window / counted, 4) if counted else None


def _count(condition: Any) -> Any:
    return func.count().filter(condition)


async def compliance(
    session: AsyncSession,
    first_day: dt.date,
    last_day: dt.date,
    *,
    customer_id: uuid.UUID | None = None,
    scope: Any = None,
) -> list[ComplianceLine]:
    """Per contract, the inspections due from `first_day` through `last_day`; `scope` is a further
    condition on their work orders (the KPIs' customer or region)."""
    done = Inspection.status == InspectionStatus.DONE
    in_window = and_(
        done, Inspection.done_at >= Inspection.window_start, Inspection.done_at < Inspection.window_end
    )
    stmt = (
        select(
            Contract.contract_number,
            func.count(),
            _count(in_window),
            _count(and_(done, ~in_window)),
            _count(Inspection.status == InspectionStatus.OPEN),
            _count(Inspection.status.in_([InspectionStatus.CANCELLED, InspectionStatus.SKIPPED])),
        )
        .join(Contract, Contract.id == Inspection.contract_id)
        .join(WorkOrder, WorkOrder.id == Inspection.work_order_id)
        .where(Inspection.due_on >= first_day, Inspection.due_on <= last_day)
        .group_by(Contract.contract_number)
        .order_by(Contract.contract_number)
    )
    if customer_id is not None:
        stmt = stmt.where(Contract.customer_id == customer_id)
    if scope is not None:
        stmt = stmt.where(scope)
    rows = (await session.execute(stmt)).all()
    return [
        ComplianceLine(number, due, inside, late, open_, aside)
        for number, due, inside, late, open_, aside in rows
    ]


def total(lines: list[ComplianceLine]) -> tuple[int, int, float | None]:
    """(done in window, due and not set aside, their share) over all lines."""
    inside = sum(line.done_in_window for line in lines)
    counted = sum(line.due - line.set_aside for line in lines)
    return inside, counted, round(inside / counted, 4) if counted else None
