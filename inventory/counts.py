"""Blind counts of an engineer's stock, and handing in all of it when an engineer leaves.

A count is opened for a van (or backpack) by warehouse staff; the engineer enters what
they find, never seeing the book quantity. Submitting freezes the book quantities and
the variances (counted − book); approval by warehouse staff posts one `adjust` movement
per variance with the reason, so the books follow the shelf from the moment of the
count on (movements after the count stay as they are). Counts cover counted parts;
serialized units are traced by serial.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound, field_error
from core.identity.roles import Actor, Role
from inventory import ledger, reservations, swaps
from inventory.errors import IllegalStockStep, expect_version
from inventory.models import (
    CountStatus,
    Item,
    ItemKind,
    Location,
    LocationKind,
    MoveKind,
    PartSwap,
    Reservation,
    ReservationStatus,
    StockBalance,
    StockCount,
    StockCountLine,
    StockMove,
    SwapDisposition,
    Unit,
)


async def open_count(
    session: AsyncSession, actor: Actor, now: dt.datetime, *, engineer_id: uuid.UUID
) -> StockCount:
    van = await ledger.van_of(session, engineer_id)
    running = (
        await session.execute(
            select(StockCount.id).where(
                StockCount.location_id == van.id,
                StockCount.status.in_([CountStatus.OPEN, CountStatus.SUBMITTED]),
            )
        )
    ).first()
    if running is not None:
        raise IllegalStockStep("A count of this stock is already under way", count_id=str(running[0]))
    count = StockCount(
        id=uuid.uuid4(),
        location_id=van.id,
        engineer_id=engineer_id,
        status=CountStatus.OPEN,
        opened_at=now,
        opened_by=actor.user_id,
        version=1,
    )
    session.add(count)
    await session.flush()
    return count


async def count_for(
    session: AsyncSession, actor: Actor, count_id: uuid.UUID, *, lock: bool = True
) -> StockCount:
    """The count if this actor may see it: an engineer only the counts of their own stock
    (another engineer's answers like one that does not exist), warehouse staff every count."""
    count = await session.get(StockCount, count_id, with_for_update=lock, populate_existing=lock)
    if count is None or (actor.role is Role.ENGINEER and count.engineer_id != actor.user_id):
        raise NotFound(f"No stock count with id {count_id}")
    return count


def _expect(count: StockCount, status: CountStatus) -> None:
    if count.status is not status:
        raise IllegalStockStep(f"The count is {count.status.value}", current_status=count.status.value)


async def lines_of(session: AsyncSession, count_id: uuid.UUID) -> list[StockCountLine]:
    rows = await session.execute(
        select(StockCountLine)
        .where(StockCountLine.count_id == count_id)
        .order_by(StockCountLine.item_id)
        .execution_options(populate_existing=True)
    )
    return list(rows.scalars())


async def enter(
    session: AsyncSession,
    count: StockCount,
    counted: Mapping[uuid.UUID, int],
    *,
    version: int | None = None,
) -> list[StockCountLine]:
    """Counted quantities (each replaces an earlier entry of the same item)."""
    expect_version(count, version, "count")
    _expect(count, CountStatus.OPEN)
    for item_id, quantity in counted.items():
        item = await session.get(Item, item_id)
        if item is None or item.kind is not ItemKind.PART:
            raise field_error("lines", "count counted parts; serialized units are traced by serial")
        if quantity < 0:
            raise field_error("lines", "a count is zero or more")
        line = await session.get(StockCountLine, (count.id, item_id))
        if line is None:
            session.add(StockCountLine(count_id=count.id, item_id=item_id, counted=quantity))
        else:
            line.counted = quantity
    await session.flush()
    return await lines_of(session, count.id)


async def submit(
    session: AsyncSession, now: dt.datetime, count: StockCount, *, version: int | None = None
) -> list[StockCountLine]:
    """Counting is done: the book quantities are frozen (parts on the books but not counted: 0)."""
    expect_version(count, version, "count")
    _expect(count, CountStatus.OPEN)
    rows = await session.execute(
        select(StockBalance.item_id, StockBalance.on_hand)
        .join(Item, Item.id == StockBalance.item_id)
        .where(StockBalance.location_id == count.location_id, Item.kind == ItemKind.PART)
        .with_for_update(of=StockBalance)
    )
    book = {item_id: int(on_hand) for item_id, on_hand in rows}
    lines = {line.item_id: line for line in await lines_of(session, count.id)}
    for item_id, on_hand in book.items():
        if item_id not in lines and on_hand != 0:
            lines[item_id] = StockCountLine(count_id=count.id, item_id=item_id, counted=0)
            session.add(lines[item_id])
    for item_id, line in lines.items():
        line.book = book.get(item_id, 0)
    count.status, count.submitted_at = CountStatus.SUBMITTED, now
    await session.flush()
    return await lines_of(session, count.id)


async def approve(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    count: StockCount,
    *,
    reason: str,
    version: int | None = None,
) -> list[StockMove]:
    """Post every variance as an `adjust` movement with the reason."""
    expect_version(count, version, "count")
    _expect(count, CountStatus.SUBMITTED)
    posted = []
    for line in await lines_of(session, count.id):
        variance = line.counted - (line.book or 0)
        if variance == 0:
            continue
        posted.append(
            await ledger.move_stock(
                session,
                actor,
                now,
                MoveKind.ADJUST,
                line.item_id,
                abs(variance),
                source=count.location_id if variance < 0 else None,
                to=count.location_id if variance > 0 else None,
                reason=f"blind count {count.opened_at.date().isoformat()}: {reason}",
            )
        )
    count.status, count.approved_at, count.approved_by, count.reason = (
        CountStatus.APPROVED,
        now,
        actor.user_id,
        reason,
    )
    await session.flush()
    return posted


# An engineer leaves --------------------------------------------------------------------------------


@dataclass(frozen=True)
class HandIn:
    van_id: uuid.UUID | None
    moves: list[StockMove]
    # What the engineer's discrepancy location still shows (negative: used but never on the books).
    discrepancy: dict[uuid.UUID, int]


async def hand_in(
    session: AsyncSession, actor: Actor, now: dt.datetime, *, engineer_id: uuid.UUID, warehouse_id: uuid.UUID
) -> HandIn:
    """All of an engineer's stock goes to a warehouse in one go: reserved stock with its
    reservation, then the free stock and every unit, then their defective bin into the
    warehouse's (return deadlines kept)."""
    warehouse = await session.get(Location, warehouse_id)
    if warehouse is None or warehouse.kind is not LocationKind.WAREHOUSE:
        raise field_error("warehouse_id", "no warehouse with that id")
    van = (
        await session.execute(
            select(Location).where(Location.kind == LocationKind.VAN, Location.engineer_id == engineer_id)
        )
    ).scalar_one_or_none()
    moves: list[StockMove] = []
    if van is not None:
        held = (
            await session.execute(
                select(Reservation.id)
                .where(Reservation.location_id == van.id, Reservation.status == ReservationStatus.ACTIVE)
                .order_by(Reservation.created_at, Reservation.id)
            )
        ).scalars()
        for reservation_id in list(held):
            await reservations.pick(session, actor, now, reservation_id, warehouse.id)
        moves += await _empty(session, actor, now, van, warehouse, "engineer leaves: stock handed in")
    bin_ = (
        await session.execute(
            select(Location).where(
                Location.kind == LocationKind.DEFECTIVE_BIN, Location.engineer_id == engineer_id
            )
        )
    ).scalar_one_or_none()
    if bin_ is not None:
        target = await swaps.defective_bin_of(session, warehouse)
        moved = await _empty(session, actor, now, bin_, target, "engineer leaves: defective parts handed in")
        if moved:
            for swap in (
                await session.execute(
                    select(PartSwap).where(
                        PartSwap.bin_location_id == bin_.id,
                        PartSwap.disposition == SwapDisposition.RETURN,
                        PartSwap.returned_at.is_(None),
                    )
                )
            ).scalars():
                swap.bin_location_id = target.id
        moves += moved
    discrepancy = {}
    disc = (
        await session.execute(
            select(Location.id).where(
                Location.kind == LocationKind.DISCREPANCY, Location.engineer_id == engineer_id
            )
        )
    ).scalar_one_or_none()
    if disc is not None:
        discrepancy = {b.item_id: b.on_hand for b in await ledger.balances(session, location_id=disc)}
    await session.flush()
    return HandIn(van.id if van else None, moves, discrepancy)


async def _empty(
    session: AsyncSession, actor: Actor, now: dt.datetime, source: Location, target: Location, reason: str
) -> list[StockMove]:
    moves = []
    units = (
        await session.execute(select(Unit).where(Unit.location_id == source.id).order_by(Unit.serial))
    ).scalars()
    unit_items = set()
    for unit in list(units):
        unit_items.add(unit.item_id)
        moves.append(
            await ledger.move_unit(session, actor, now, unit, MoveKind.TRANSFER, to=target.id, reason=reason)
        )
    for balance in await ledger.balances(session, location_id=source.id):
        free = balance.on_hand - balance.reserved
        if balance.item_id in unit_items or free <= 0:
            continue
        moves.append(
            await ledger.move_stock(
                session,
                actor,
                now,
                MoveKind.TRANSFER,
                balance.item_id,
                free,
                source=source.id,
                to=target.id,
                reason=reason,
            )
        )
    return moves
