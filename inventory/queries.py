"""What the stock screens list: an engineer's van, loans, repair cases, a unit's history."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from inventory import items, ledger
from inventory.models import (
    Loan,
    LoanStatus,
    Location,
    LocationKind,
    RepairCase,
    StockBalance,
    StockMove,
    Unit,
    UnitEvent,
)

# Lists without paging show at most this many rows, oldest first.
LIST_CAP = 500


async def van_of(session: AsyncSession, engineer_id: uuid.UUID | None) -> uuid.UUID | None:
    """The location id of the engineer's van, if they have one."""
    found = await session.execute(
        select(Location.id).where(Location.kind == LocationKind.VAN, Location.engineer_id == engineer_id)
    )
    return found.scalars().first()


async def carried_by(session: AsyncSession, engineer_id: uuid.UUID | None) -> list[StockBalance]:
    """What the engineer carries: their van's balances (none without a van)."""
    van = await van_of(session, engineer_id)
    return [] if van is None else await ledger.balances(session, location_id=van)


async def loans(
    session: AsyncSession, *, status: LoanStatus | None, work_order_id: uuid.UUID | None
) -> list[Loan]:
    stmt = select(Loan).order_by(Loan.created_at, Loan.id).limit(LIST_CAP)
    if status is not None:
        stmt = stmt.where(Loan.status == status)
    if work_order_id is not None:
        stmt = stmt.where(Loan.work_order_id == work_order_id)
    return list((await session.execute(stmt)).scalars())


async def repair_cases(session: AsyncSession, *, work_order_id: uuid.UUID | None) -> list[RepairCase]:
    stmt = select(RepairCase).order_by(RepairCase.created_at, RepairCase.id).limit(LIST_CAP)
    if work_order_id is not None:
        stmt = stmt.where(RepairCase.work_order_id == work_order_id)
    return list((await session.execute(stmt)).scalars())


@dataclass(frozen=True, slots=True)
class UnitHistory:
    unit: Unit
    events: list[UnitEvent]
    moves: list[StockMove]


async def unit_history(session: AsyncSession, unit_id: uuid.UUID) -> UnitHistory:
    """Everything that happened to a serial number: its events and its ledger lines."""
    unit = await session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"No unit with id {unit_id}")
    events = await items.history(session, unit_id)
    moves = await ledger.moves(
        session, location_id=None, item_id=None, unit_id=unit_id, limit=LIST_CAP, after=None
    )
    return UnitHistory(unit=unit, events=events, moves=moves)
