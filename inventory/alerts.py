"""Loans past their return date and units stuck at the repair vendor: what the worker reports."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.models import Loan, LoanStatus, RepairCase, RepairStatus, Unit

STUCK_AFTER = dt.timedelta(days=21)


@dataclass(frozen=True)
class Alert:
    kind: str  # "loan_overdue" | "stuck_at_vendor"
    work_order_id: uuid.UUID | None
    serial: str
    since: dt.datetime | dt.date
    record_id: uuid.UUID


async def due(
    session: AsyncSession, now: dt.datetime, *, stuck_after: dt.timedelta = STUCK_AFTER
) -> list[Alert]:
    alerts: list[Alert] = []
    overdue = await session.execute(
        select(Loan, Unit.serial)
        .join(Unit, Unit.id == Loan.unit_id)
        .where(Loan.status == LoanStatus.OPEN, Loan.return_by < now.date())
        .order_by(Loan.return_by)
    )
    for loan, serial in overdue:
        assert loan.return_by is not None
        alerts.append(Alert("loan_overdue", loan.work_order_id, serial, loan.return_by, loan.id))
    stuck = await session.execute(
        select(RepairCase, Unit.serial)
        .join(Unit, Unit.id == RepairCase.unit_id)
        .where(
            RepairCase.status.in_([RepairStatus.SHIPPED, RepairStatus.AT_VENDOR]),
            func.coalesce(RepairCase.shipped_at, RepairCase.created_at) < now - stuck_after,
        )
        .order_by(RepairCase.shipped_at)
    )
    for case, serial in stuck:
        alerts.append(
            Alert("stuck_at_vendor", case.work_order_id, serial, case.shipped_at or case.created_at, case.id)
        )
    return alerts
