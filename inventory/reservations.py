"""Reservations against work orders and visits (by id only), picks, consumption and returns.

A reservation moves stock from the free to the reserved share of its location (a
`reserve` line); the balance's CHECK makes over-reservation fail in the database, so
of many concurrent claims on the last unit exactly one wins. Reservations expire;
the unused part of a consumed reservation goes back to free stock.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound, field_error
from core.identity.roles import Actor
from core.records import get_or_404
from inventory import ledger
from inventory.errors import IllegalStockStep, OutOfStock, UnitUnavailable
from inventory.items import locked_unit, set_state
from inventory.models import (
    Item,
    ItemKind,
    MoveKind,
    Reservation,
    ReservationStatus,
    StockBalance,
    StockMove,
    UnitState,
)

DEFAULT_HOLD = dt.timedelta(days=2)


async def reserve_part(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    *,
    item_id: uuid.UUID,
    location_id: uuid.UUID,
    quantity: int,
    work_order_id: uuid.UUID | None = None,
    visit_id: uuid.UUID | None = None,
    hold: dt.timedelta = DEFAULT_HOLD,
) -> Reservation:
    item = await get_or_404(session, Item, item_id, "item")
    if item.kind is not ItemKind.PART:
        raise field_error("item_id", "reserve a device by its unit")
    return await _hold(
        session,
        actor,
        now,
        item_id=item_id,
        location_id=location_id,
        quantity=quantity,
        unit_id=None,
        work_order_id=work_order_id,
        visit_id=visit_id,
        hold=hold,
    )


async def reserve_unit(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    *,
    unit_id: uuid.UUID,
    work_order_id: uuid.UUID | None = None,
    visit_id: uuid.UUID | None = None,
    hold: dt.timedelta = DEFAULT_HOLD,
) -> Reservation:
    """Hold one serialized unit. The row lock makes concurrent claims queue; the first wins."""
    unit = await locked_unit(session, unit_id)
    if unit.state is not UnitState.AVAILABLE or unit.customer_owned or unit.location_id is None:
        raise UnitUnavailable(
            f"Unit {unit.serial} is {unit.state.value}, not available", current_state=unit.state.value
        )
    reservation = await _hold(
        session,
        actor,
        now,
        item_id=unit.item_id,
        location_id=unit.location_id,
        quantity=1,
        unit_id=unit.id,
        work_order_id=work_order_id,
        visit_id=visit_id,
        hold=hold,
    )
    set_state(
        session,
        unit,
        actor,
        now,
        "reserved",
        UnitState.RESERVED,
        work_order_id=work_order_id,
        data={"reservation_id": str(reservation.id), "visit_id": str(visit_id) if visit_id else None},
    )
    await session.flush()
    return reservation


async def _hold(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    *,
    item_id: uuid.UUID,
    location_id: uuid.UUID,
    quantity: int,
    unit_id: uuid.UUID | None,
    work_order_id: uuid.UUID | None,
    visit_id: uuid.UUID | None,
    hold: dt.timedelta,
) -> Reservation:
    """The reservation row and its `reserve` line (refused with nothing written when short)."""
    reservation = Reservation(
        id=uuid.uuid4(),
        item_id=item_id,
        location_id=location_id,
        unit_id=unit_id,
        quantity=quantity,
        work_order_id=work_order_id,
        visit_id=visit_id,
        status=ReservationStatus.ACTIVE,
        created_at=now,
        expires_at=now + hold,
        actor_id=actor.user_id,
    )
    session.add(reservation)
    await session.flush()
    await ledger.record(
        session,
        actor,
        now,
        ledger.Movement(
            MoveKind.RESERVE,
            item_id,
            quantity,
            from_location_id=location_id,
            unit_id=unit_id,
            reservation_id=reservation.id,
            work_order_id=work_order_id,
            visit_id=visit_id,
        ),
    )
    return reservation


async def active_reservation(
    session: AsyncSession, reservation_id: uuid.UUID, *, at_location: uuid.UUID | None = None
) -> Reservation:
    """The reservation, locked, if it is active; with `at_location`, one held elsewhere (another
    engineer's van) answers like one that does not exist, before anything about it is told."""
    reservation = await session.get(Reservation, reservation_id, with_for_update=True, populate_existing=True)
    if reservation is None or (at_location is not None and reservation.location_id != at_location):
        raise NotFound(f"No reservation with id {reservation_id}")
    if reservation.status is not ReservationStatus.ACTIVE:
        raise IllegalStockStep(
            f"The reservation is {reservation.status.value}", current_status=reservation.status.value
        )
    return reservation


async def release(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    reservation_id: uuid.UUID,
    *,
    status: ReservationStatus = ReservationStatus.RELEASED,
    quantity: int | None = None,
) -> Reservation:
    """Give reserved stock back to free stock (all of it, or the unused `quantity`)."""
    reservation = await active_reservation(session, reservation_id)
    amount = reservation.quantity if quantity is None else quantity
    if amount > 0:
        await ledger.record(
            session,
            actor,
            now,
            ledger.Movement(
                MoveKind.RELEASE,
                reservation.item_id,
                amount,
                from_location_id=reservation.location_id,
                unit_id=reservation.unit_id,
                reservation_id=reservation.id,
                work_order_id=reservation.work_order_id,
                visit_id=reservation.visit_id,
            ),
        )
    if reservation.unit_id is not None and status is not ReservationStatus.CONSUMED:
        unit = await locked_unit(session, reservation.unit_id)
        if unit.state is UnitState.RESERVED:
            set_state(session, unit, actor, now, status.value, UnitState.AVAILABLE)
    reservation.status, reservation.closed_at = status, now
    await session.flush()
    return reservation


async def expire_due(session: AsyncSession, actor: Actor, now: dt.datetime) -> int:
    """Release every active reservation past its expiry (the worker's chore)."""
    rows = await session.execute(
        select(Reservation.id).where(
            Reservation.status == ReservationStatus.ACTIVE, Reservation.expires_at <= now
        )
    )
    ids = list(rows.scalars())
    for reservation_id in ids:
        await release(session, actor, now, reservation_id, status=ReservationStatus.EXPIRED)
    return len(ids)


async def pick(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    reservation_id: uuid.UUID,
    to_location_id: uuid.UUID,
) -> Reservation:
    """Take reserved stock to another location (warehouse → van); it stays reserved there."""
    reservation = await active_reservation(session, reservation_id)
    await ledger.record(
        session,
        actor,
        now,
        ledger.Movement(
            MoveKind.PICK,
            reservation.item_id,
            reservation.quantity,
            from_location_id=reservation.location_id,
            to_location_id=to_location_id,
            from_reserved=True,
            unit_id=reservation.unit_id,
            reservation_id=reservation.id,
            work_order_id=reservation.work_order_id,
            visit_id=reservation.visit_id,
        ),
    )
    await ledger.record(
        session,
        actor,
        now,
        ledger.Movement(
            MoveKind.RESERVE,
            reservation.item_id,
            reservation.quantity,
            from_location_id=to_location_id,
            unit_id=reservation.unit_id,
            reservation_id=reservation.id,
            work_order_id=reservation.work_order_id,
            visit_id=reservation.visit_id,
        ),
    )
    reservation.location_id = to_location_id
    await session.flush()
    return reservation


async def _locked_balance(
    session: AsyncSession, item_id: uuid.UUID, location_id: uuid.UUID
) -> tuple[int, int]:
    row = (
        await session.execute(
            select(StockBalance.on_hand, StockBalance.reserved)
            .where(StockBalance.item_id == item_id, StockBalance.location_id == location_id)
            .with_for_update()
        )
    ).first()
    return (int(row[0]), int(row[1])) if row else (0, 0)


async def consume(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    *,
    engineer_id: uuid.UUID,
    item_id: uuid.UUID,
    quantity: int,
    work_order_id: uuid.UUID,
    visit_id: uuid.UUID | None = None,
    reservation_id: uuid.UUID | None = None,
    from_device: bool = False,
    at: dt.datetime | None = None,
) -> list[StockMove]:
    """Parts used on a work order, from the engineer's own stock.

    Online, a consumption the books cannot cover is refused (409). A consumption pushed
    late from a device already happened in the field and is never refused: the shortfall
    is first booked from the engineer's discrepancy location (which goes below zero) for
    the warehouse to resolve, then consumed.
    """
    item = await get_or_404(session, Item, item_id, "item")
    if item.kind is not ItemKind.PART:
        raise field_error("item_id", "devices are installed through the loan and swap services, not consumed")
    if quantity <= 0:
        raise field_error("quantity", "must be at least 1")
    van = await ledger.van_of(session, engineer_id)
    when = at or now
    use = _Use(item, van.id, work_order_id, visit_id, when)
    lines: list[StockMove] = []
    from_reserved = 0
    reservation = None
    if reservation_id is not None:
        reservation = await active_reservation(session, reservation_id, at_location=van.id)
        if reservation.item_id != item_id:
            raise field_error("reservation_id", "a reservation of another part")
        from_reserved = min(quantity, reservation.quantity)
    free_needed = quantity - from_reserved
    if from_device and free_needed > 0:
        lines += await _cover_shortfall(session, actor, use, engineer_id, free_needed)
    if reservation is not None and from_reserved:
        lines.append(await _consume_reserved(session, actor, now, use, reservation, from_reserved))
    if free_needed:
        lines.append(await _consume_free(session, actor, use, free_needed))
    await session.flush()
    return lines


@dataclass(frozen=True)
class _Use:
    """What every line of one consumption shares."""

    item: Item
    van_id: uuid.UUID
    work_order_id: uuid.UUID
    visit_id: uuid.UUID | None
    at: dt.datetime

    def consume(self, quantity: int, reservation_id: uuid.UUID | None = None) -> ledger.Movement:
        return ledger.Movement(
            MoveKind.CONSUME,
            self.item.id,
            quantity,
            from_location_id=self.van_id,
            from_reserved=reservation_id is not None,
            reservation_id=reservation_id,
            work_order_id=self.work_order_id,
            visit_id=self.visit_id,
        )


async def _cover_shortfall(
    session: AsyncSession, actor: Actor, use: _Use, engineer_id: uuid.UUID, free_needed: int
) -> list[StockMove]:
    """Book what the van's free stock lacks from the engineer's discrepancy location."""
    # Serialise with other writers of this balance, then cover what the books lack.
    on_hand, reserved = await _locked_balance(session, use.item.id, use.van_id)
    shortfall = free_needed - max(on_hand - reserved, 0)
    if shortfall <= 0:
        return []
    discrepancy = await ledger.discrepancy_of(session, engineer_id)
    line = await ledger.record(
        session,
        actor,
        use.at,
        ledger.Movement(
            MoveKind.ADJUST,
            use.item.id,
            shortfall,
            from_location_id=discrepancy.id,
            to_location_id=use.van_id,
            work_order_id=use.work_order_id,
            visit_id=use.visit_id,
            reason="used in the field, not on the books (late device sync)",
        ),
    )
    return [line]


async def _consume_reserved(
    session: AsyncSession, actor: Actor, now: dt.datetime, use: _Use, reservation: Reservation, quantity: int
) -> StockMove:
    """Consume from the reservation; what it held beyond that goes back to free stock."""
    line = await ledger.record(session, actor, use.at, use.consume(quantity, reservation.id))
    unused = reservation.quantity - quantity
    if unused:
        await release(session, actor, now, reservation.id, status=ReservationStatus.CONSUMED, quantity=unused)
    else:
        reservation.status, reservation.closed_at = ReservationStatus.CONSUMED, now
    return line


async def _consume_free(session: AsyncSession, actor: Actor, use: _Use, quantity: int) -> StockMove:
    try:
        return await ledger.record(session, actor, use.at, use.consume(quantity))
    except OutOfStock as exc:
        raise OutOfStock(
            f"Your stock does not show {quantity} × {use.item.sku}; record it from the device "
            "(it is booked to your discrepancy location) or ask the warehouse",
            item_id=str(use.item.id),
            location_id=str(use.van_id),
        ) from exc
