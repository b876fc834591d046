"""The stock ledger: immutable double-entry movements and the balances they keep.

Every change of stock is one `stock_move` line: a quantity leaves one location and
enters another (a missing side is the world outside the books: a supplier, a work
order that used the part, the scrap bin, a count). The database keeps
`stock_balance` from the ledger in the same INSERT (a trigger), and its CHECK
constraints refuse any line that would take a location below zero or below its
reservations — also a raw SQL insert, also under concurrency. Only a `discrepancy`
location may go below zero. Corrections are new lines; the ledger rejects UPDATE
and DELETE.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from types import EllipsisType

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import field_error
from core.identity.roles import Actor
from inventory.errors import IllegalStockStep, OutOfStock
from inventory.models import (
    Item,
    ItemKind,
    Location,
    LocationKind,
    MoveKind,
    StockBalance,
    StockMove,
    Unit,
)

# Kinds a warehouse may post directly; reservations, picks and consumptions have their own services.
DIRECT_KINDS = frozenset(
    {MoveKind.RECEIVE, MoveKind.TRANSFER, MoveKind.ADJUST, MoveKind.SCRAP, MoveKind.RETURN}
)


@dataclass(frozen=True)
class Movement:
    kind: MoveKind
    item_id: uuid.UUID
    quantity: int
    from_location_id: uuid.UUID | None = None
    to_location_id: uuid.UUID | None = None
    from_reserved: bool = False
    unit_id: uuid.UUID | None = None
    reservation_id: uuid.UUID | None = None
    work_order_id: uuid.UUID | None = None
    visit_id: uuid.UUID | None = None
    reason: str | None = None


def _sqlstate(exc: IntegrityError) -> str | None:
    orig = exc.orig
    code = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "__cause__", None), "sqlstate", None)
    return str(code) if code else None


async def _location(session: AsyncSession, location_id: uuid.UUID, field: str) -> Location:
    location = await session.get(Location, location_id)
    if location is None:
        raise field_error(field, "no such location")
    return location


def _check_shape(m: Movement) -> None:
    if m.quantity <= 0:
        raise field_error("quantity", "must be at least 1")
    if m.kind in {MoveKind.RESERVE, MoveKind.RELEASE}:
        if m.from_location_id is None or m.to_location_id is not None:
            raise field_error("from_location_id", "a reservation names its location as from_location_id only")
        return
    if m.from_location_id is None and m.to_location_id is None:
        raise field_error("to_location_id", "a movement needs at least one location")
    if m.from_location_id is not None and m.from_location_id == m.to_location_id:
        raise field_error("to_location_id", "a movement goes between two different locations")
    needs_from = {MoveKind.TRANSFER, MoveKind.PICK, MoveKind.CONSUME, MoveKind.SCRAP, MoveKind.RETURN}
    needs_to = {MoveKind.RECEIVE, MoveKind.TRANSFER, MoveKind.PICK, MoveKind.RETURN}
    if m.kind in needs_from and m.from_location_id is None:
        raise field_error("from_location_id", f"a {m.kind.value} takes stock from a location")
    if m.kind in needs_to and m.to_location_id is None:
        raise field_error("to_location_id", f"a {m.kind.value} puts stock into a location")
    if m.kind in {MoveKind.CONSUME, MoveKind.SCRAP} and m.to_location_id is not None:
        raise field_error("to_location_id", f"a {m.kind.value} takes stock out of the books")
    if m.kind is MoveKind.RECEIVE and m.from_location_id is not None:
        raise field_error("from_location_id", "a receipt comes from outside the books")
    if m.kind is MoveKind.ADJUST and not m.reason:
        # After a count (one side), or booking a shortfall against a discrepancy location (two).
        raise field_error("reason", "an adjustment gives its reason")


async def record(session: AsyncSession, actor: Actor, now: dt.datetime, m: Movement) -> StockMove:
    """Post one movement, or refuse it with nothing written (409 out-of-stock when short)."""
    _check_shape(m)
    item = await session.get(Item, m.item_id)
    if item is None:
        raise field_error("item_id", "no such item")
    source = await _location(session, m.from_location_id, "from_location_id") if m.from_location_id else None
    if m.to_location_id:
        await _location(session, m.to_location_id, "to_location_id")
    unit: Unit | None = None
    if item.kind is ItemKind.DEVICE:
        if m.unit_id is None:
            raise field_error("unit_id", "a device moves as one serialized unit")
        if m.quantity != 1:
            raise field_error("quantity", "a serialized unit moves one at a time")
        unit = await session.get(Unit, m.unit_id, with_for_update=True, populate_existing=True)
        if unit is None or unit.item_id != item.id:
            raise field_error("unit_id", "no unit of this item with that id")
        if unit.location_id != m.from_location_id and m.kind not in {MoveKind.RESERVE, MoveKind.RELEASE}:
            raise IllegalStockStep(
                "The unit is not at the location it would leave",
                current_location_id=str(unit.location_id) if unit.location_id else None,
            )
    elif m.unit_id is not None:
        raise field_error("unit_id", "counted parts have no units")
    line = StockMove(
        at=now,
        kind=m.kind,
        item_id=m.item_id,
        quantity=m.quantity,
        from_location_id=m.from_location_id,
        to_location_id=m.to_location_id,
        from_reserved=m.from_reserved,
        unit_id=m.unit_id,
        reservation_id=m.reservation_id,
        work_order_id=m.work_order_id,
        visit_id=m.visit_id,
        reason=m.reason,
        actor_id=actor.user_id,
    )
    try:
        async with session.begin_nested():
            session.add(line)
            await session.flush()
    except IntegrityError as exc:
        if _sqlstate(exc) == "23514":
            where = source.code if source else "the location"
            raise OutOfStock(
                f"{where} does not hold {m.quantity} free of {item.sku} for this {m.kind.value}",
                item_id=str(item.id),
                location_id=str(m.from_location_id) if m.from_location_id else None,
            ) from exc
        raise
    if unit is not None and m.kind not in {MoveKind.RESERVE, MoveKind.RELEASE}:
        unit.location_id = m.to_location_id
    return line


async def move_stock(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    kind: MoveKind,
    item_id: uuid.UUID,
    quantity: int,
    *,
    source: uuid.UUID | None,
    to: uuid.UUID | None,
    reason: str,
    unit_id: uuid.UUID | None = None,
    reservation_id: uuid.UUID | None = None,
    work_order_id: uuid.UUID | None = None,
    visit_id: uuid.UUID | None = None,
) -> StockMove:
    """Post a movement of stock from `source` to `to` (either None: outside the books), out of
    the reserved share when it names its reservation."""
    return await record(
        session,
        actor,
        now,
        Movement(
            kind,
            item_id,
            quantity,
            from_location_id=source,
            to_location_id=to,
            from_reserved=reservation_id is not None,
            unit_id=unit_id,
            reservation_id=reservation_id,
            work_order_id=work_order_id,
            visit_id=visit_id,
            reason=reason[:500],
        ),
    )


async def move_unit(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    unit: Unit,
    kind: MoveKind,
    *,
    to: uuid.UUID | None,
    reason: str,
    source: uuid.UUID | EllipsisType | None = ...,
    work_order_id: uuid.UUID | None = None,
    visit_id: uuid.UUID | None = None,
    reservation_id: uuid.UUID | None = None,
) -> StockMove:
    """Post the movement of one serialized unit, from where it is now (`...`) or from `source`,
    which `record` refuses unless the unit is there; `to=None` takes it out of the books."""
    return await move_stock(
        session,
        actor,
        now,
        kind,
        unit.item_id,
        1,
        source=unit.location_id if source is ... else source,
        to=to,
        reason=reason,
        unit_id=unit.id,
        reservation_id=reservation_id,
        work_order_id=work_order_id,
        visit_id=visit_id,
    )


async def balance(session: AsyncSession, item_id: uuid.UUID, location_id: uuid.UUID) -> tuple[int, int]:
    """(on hand, reserved) of an item at a location, as the balance table holds it now."""
    row = (
        await session.execute(
            select(StockBalance.on_hand, StockBalance.reserved).where(
                StockBalance.item_id == item_id, StockBalance.location_id == location_id
            )
        )
    ).first()
    return (int(row[0]), int(row[1])) if row else (0, 0)


async def balances(
    session: AsyncSession, *, location_id: uuid.UUID | None = None, item_id: uuid.UUID | None = None
) -> list[StockBalance]:
    stmt = select(StockBalance).where((StockBalance.on_hand != 0) | (StockBalance.reserved != 0))
    if location_id is not None:
        stmt = stmt.where(StockBalance.location_id == location_id)
    if item_id is not None:
        stmt = stmt.where(StockBalance.item_id == item_id)
    rows = await session.execute(
        stmt.order_by(StockBalance.location_id, StockBalance.item_id).execution_options(
            populate_existing=True
        )
    )
    return list(rows.scalars())


async def on_hand_from_ledger(session: AsyncSession, item_id: uuid.UUID, location_id: uuid.UUID) -> int:
    """On hand summed from the ledger itself (what the cached balance must always equal)."""
    plain = StockMove.kind.not_in([MoveKind.RESERVE, MoveKind.RELEASE])
    total = await session.execute(
        select(
            func.coalesce(
                func.sum(
                    case((StockMove.to_location_id == location_id, StockMove.quantity), else_=0)
                    - case((StockMove.from_location_id == location_id, StockMove.quantity), else_=0)
                ),
                0,
            )
        ).where(StockMove.item_id == item_id, plain)
    )
    return int(total.scalar_one())


def touches_location(location_id: uuid.UUID) -> ColumnElement[bool]:
    """A ledger line that moved stock into or out of the location."""
    return (StockMove.from_location_id == location_id) | (StockMove.to_location_id == location_id)


def moves_touching(
    *,
    location_id: uuid.UUID | None = None,
    item_id: uuid.UUID | None = None,
    unit_id: uuid.UUID | None = None,
) -> Select[StockMove]:
    """Ledger lines into or out of a location, of an item, of a unit (each filter when given)."""
    stmt = select(StockMove)
    if location_id is not None:
        stmt = stmt.where(touches_location(location_id))
    if item_id is not None:
        stmt = stmt.where(StockMove.item_id == item_id)
    if unit_id is not None:
        stmt = stmt.where(StockMove.unit_id == unit_id)
    return stmt


# Locations created on demand ----------------------------------------------------------------------


async def _get_or_create(session: AsyncSession, code: str, make: Location) -> Location:
    found = (await session.execute(select(Location).where(Location.code == code))).scalar_one_or_none()
    if found is not None:
        return found
    session.add(make)
    await session.flush()
    return make


async def van_of(session: AsyncSession, engineer_id: uuid.UUID) -> Location:
    """The engineer's own stock (a van or a backpack), created on first need."""
    found = (
        await session.execute(
            select(Location)
            .where(Location.kind == LocationKind.VAN, Location.engineer_id == engineer_id)
            .order_by(Location.code)
            .limit(1)
        )
    ).scalar_one_or_none()
    if found is not None:
        return found
    code = f"VAN-{engineer_id.hex}"
    return await _get_or_create(
        session,
        code,
        Location(code=code, name="随车/随身库存", kind=LocationKind.VAN, engineer_id=engineer_id),
    )


async def discrepancy_of(session: AsyncSession, engineer_id: uuid.UUID) -> Location:
    """Where stock an engineer used but the books did not show is booked (may go below zero)."""
    code = f"DISC-{engineer_id.hex}"
    return await _get_or_create(
        session,
        code,
        Location(
            code=code, name="库存差异（待仓库核对）", kind=LocationKind.DISCREPANCY, engineer_id=engineer_id
        ),
    )


async def site_location(session: AsyncSession, site_id: uuid.UUID, name: str, point: object) -> Location:
    code = f"SITE-{site_id.hex}"
    return await _get_or_create(
        session,
        code,
        Location(code=code, name=name[:200], kind=LocationKind.CUSTOMER_SITE, site_id=site_id, point=point),
    )


async def vendor_location(session: AsyncSession) -> Location:
    return await _get_or_create(
        session,
        "VENDOR-RMA",
        Location(code="VENDOR-RMA", name="厂商维修中心（RMA）", kind=LocationKind.REPAIR_VENDOR),
    )
