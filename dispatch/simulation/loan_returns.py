"""The rest of a backup loan's lifecycle, as the warehouse and the repair desk run it with the
product once the backup unit is installed and the customer's faulty unit taken in
(`inventory.loans`, `dispatch.flows.backup`):

1. the faulty unit is shipped to the vendor `SHIP_AFTER` the install (`ship_to_vendor`), which
   receives it a day later (`vendor_received`);
2. the vendor repairs it in the fault's seeded repair time (`Fault.vendor_hours`, 2 to 5 days) and
   returns it to the warehouse nearest the site (`backup.repair_returned`): the product plans a
   `swap_back` visit, which the policy dispatches like any other;
3. the engineer on the swap-back visit reinstalls the repaired unit and collects the backup
   (`backup.complete_swap_back`, in the engine's field steps);
4. the engineer drops the backup at that warehouse `TO_WAREHOUSE` later (`back_in_stock`) and the
   warehouse wipes it `TO_WIPE` after that (`record_wipe`): the loan closes and the unit is
   lendable again.

Each step is a `Step` the engine plays at its time; a step the product refuses is logged."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import ManualClock
from core.identity.roles import Actor
from dispatch.flows import backup
from inventory import loans
from inventory.models import Loan, Location, LocationKind, RepairCase

SHIP_AFTER = dt.timedelta(hours=4)
COURIER = dt.timedelta(hours=24)
TO_WAREHOUSE = dt.timedelta(hours=2)
TO_WIPE = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Step:
    at: dt.datetime
    kind: str  # ship, at_vendor, returned, in_stock, wipe
    loan_id: uuid.UUID
    fault: int
    vendor_hours: int


async def _case(session: AsyncSession, loan_id: uuid.UUID) -> RepairCase | None:
    return (
        await session.execute(select(RepairCase).where(RepairCase.loan_id == loan_id))
    ).scalar_one_or_none()


async def nearest_warehouse(session: AsyncSession, loan: Loan) -> Location:
    """The warehouse nearest the loan's site (by PostGIS distance)."""
    site = await session.get(Location, loan.site_location_id) if loan.site_location_id else None
    stmt = select(Location).where(Location.kind == LocationKind.WAREHOUSE)
    if site is not None and site.point is not None:
        stmt = stmt.order_by(Location.point.op("<->")(site.point), Location.code)
    else:
        stmt = stmt.order_by(Location.code)
    return (await session.execute(stmt.limit(1))).scalar_one()


async def play(session: AsyncSession, desk: Actor, clock: ManualClock, step: Step) -> tuple[str, Step | None]:
    """Play one step: what happened (the event name) and the step after it, if the desk plays it."""
    now = clock.now()
    loan = await loans.locked_loan(session, step.loan_id)
    if step.kind in {"ship", "at_vendor", "returned"}:
        case = await _case(session, loan.id)
        if case is None:
            return "loan_without_faulty_unit", None
        if step.kind == "ship":
            await loans.ship_to_vendor(session, desk, now, case.id, waybill=f"SIM-RMA-{step.fault}")
            return "rma_shipped", _next(step, "at_vendor", COURIER)
        if step.kind == "at_vendor":
            await loans.vendor_received(session, desk, now, case.id)
            return "rma_at_vendor", _next(step, "returned", dt.timedelta(hours=step.vendor_hours))
        warehouse = await nearest_warehouse(session, loan)
        await backup.repair_returned(session, desk, clock, case.id, warehouse_id=warehouse.id)
        return "rma_returned", None
    warehouse = await nearest_warehouse(session, loan)
    if step.kind == "in_stock":
        await loans.back_in_stock(session, desk, now, loan.unit_id, warehouse_id=warehouse.id)
        return "backup_in_stock", _next(step, "wipe", TO_WIPE)
    await loans.record_wipe(session, desk, now, loan.unit_id, method="数据擦除", operator="仓管员")
    return "backup_wiped", None


def _next(step: Step, kind: str, after: dt.timedelta) -> Step:
    return Step(step.at + after, kind, step.loan_id, step.fault, step.vendor_hours)
