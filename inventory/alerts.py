"""Loans past their return date, units stuck at the repair vendor, and defective parts due back
at the manufacturer (warned `WARN_BEFORE` ahead of the deadline, again once it passed): what the
worker reports."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.models import Loan, LoanStatus, PartSwap, RepairCase, RepairStatus, SwapDisposition, Unit
from inventory.swaps import WARN_BEFORE

STUCK_AFTER = dt.timedelta(days=21)


@dataclass(frozen=True)
class Alert:
    # "loan_overdue" | "stuck_at_vendor" | "defective_return_due" | "defective_return_overdue"
    kind: str
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
    returns = await session.execute(
        select(PartSwap)
        .where(
            PartSwap.disposition == SwapDisposition.RETURN,
            PartSwap.returned_at.is_(None),
            PartSwap.return_by <= (now + WARN_BEFORE).date(),
        )
        .order_by(PartSwap.return_by, PartSwap.id)
    )
    for swap in returns.scalars():
        assert swap.return_by is not None
        kind = "defective_return_overdue" if swap.return_by < now.date() else "defective_return_due"
        alerts.append(Alert(kind, swap.work_order_id, swap.removed_serial, swap.return_by, swap.id))
    return alerts
