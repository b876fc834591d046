"""What the stock screens list: an engineer's van, loans, repair cases, a unit's history."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from core.pagination import Page, keyset_page
from core.records import like_pattern
from inventory import items, ledger
from inventory.models import (
    CountStatus,
    Item,
    Loan,
    LoanStatus,
    Location,
    LocationKind,
    RepairCase,
    RepairStatus,
    StockBalance,
    StockCount,
    StockMove,
    Unit,
    UnitEvent,
)

# A unit's history shows at most this many ledger lines, oldest first.
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
    session: AsyncSession,
    *,
    status: LoanStatus | None,
    work_order_id: uuid.UUID | None,
    limit: int = 100,
    cursor: str | None = None,
) -> Page[Loan]:
    stmt = select(Loan)
    if status is not None:
        stmt = stmt.where(Loan.status == status)
    if work_order_id is not None:
        stmt = stmt.where(Loan.work_order_id == work_order_id)
    return await keyset_page(session, stmt, [Loan.created_at, Loan.id], limit=limit, cursor=cursor)


async def repair_cases(
    session: AsyncSession,
    *,
    work_order_id: uuid.UUID | None,
    status: RepairStatus | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> Page[RepairCase]:
    stmt = select(RepairCase)
    if work_order_id is not None:
        stmt = stmt.where(RepairCase.work_order_id == work_order_id)
    if status is not None:
        stmt = stmt.where(RepairCase.status == status)
    return await keyset_page(
        session, stmt, [RepairCase.created_at, RepairCase.id], limit=limit, cursor=cursor
    )


@dataclass(frozen=True, slots=True)
class BalanceFilter:
    location_id: uuid.UUID | None = None
    item_id: uuid.UUID | None = None
    location_kind: LocationKind | None = None
    # SKU, item name, model or the serial of a unit held there.
    q: str | None = None


def balance_statement(where: BalanceFilter) -> Select[Any]:
    """Balances that are not zero, filtered as the stock screen asks (joined to item and location)."""
    stmt = (
        select(StockBalance)
        .join(Item, Item.id == StockBalance.item_id)
        .join(Location, Location.id == StockBalance.location_id)
        .where((StockBalance.on_hand != 0) | (StockBalance.reserved != 0))
        .execution_options(populate_existing=True)
    )
    if where.location_id is not None:
        stmt = stmt.where(StockBalance.location_id == where.location_id)
    if where.item_id is not None:
        stmt = stmt.where(StockBalance.item_id == where.item_id)
    if where.location_kind is not None:
        stmt = stmt.where(Location.kind == where.location_kind)
    if where.q:
        pattern = like_pattern(where.q)
        held = select(Unit.id).where(
            Unit.item_id == StockBalance.item_id,
            Unit.location_id == StockBalance.location_id,
            Unit.serial.ilike(pattern),
        )
        stmt = stmt.where(
            Item.sku.ilike(pattern) | Item.name.ilike(pattern) | Item.model.ilike(pattern) | held.exists()
        )
    return stmt


async def balance_page(
    session: AsyncSession, where: BalanceFilter, *, limit: int, cursor: str | None
) -> Page[StockBalance]:
    """Balances by location then item."""
    order = [StockBalance.location_id, StockBalance.item_id]
    return await keyset_page(session, balance_statement(where), order, limit=limit, cursor=cursor)


async def move_page(
    session: AsyncSession,
    *,
    location_id: uuid.UUID | None,
    item_id: uuid.UUID | None,
    unit_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> Page[StockMove]:
    """Ledger lines, oldest first."""
    stmt = ledger.moves_touching(location_id=location_id, item_id=item_id, unit_id=unit_id)
    return await keyset_page(session, stmt, [StockMove.id], limit=limit, cursor=cursor)


async def location_page(
    session: AsyncSession, *, kind: LocationKind | None, q: str | None, limit: int, cursor: str | None
) -> Page[Location]:
    stmt = select(Location)
    if kind is not None:
        stmt = stmt.where(Location.kind == kind)
    if q:
        stmt = stmt.where(Location.code.ilike(like_pattern(q)) | Location.name.ilike(like_pattern(q)))
    return await keyset_page(session, stmt, [Location.code], limit=limit, cursor=cursor)


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
    lines = ledger.moves_touching(unit_id=unit_id).order_by(StockMove.id).limit(LIST_CAP)
    moves = list((await session.execute(lines)).scalars())
    return UnitHistory(unit=unit, events=events, moves=moves)


async def count_page(
    session: AsyncSession, *, status: CountStatus | None, limit: int, cursor: str | None
) -> Page[StockCount]:
    """Blind counts, oldest opened first."""
    stmt = select(StockCount)
    if status is not None:
        stmt = stmt.where(StockCount.status == status)
    return await keyset_page(session, stmt, [StockCount.opened_at, StockCount.id], limit=limit, cursor=cursor)
