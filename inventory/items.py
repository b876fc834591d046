"""Items (counted parts and serialized device models), their units, and compatibility."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import field_error
from core.identity.roles import Actor
from core.pagination import Page, keyset_page
from core.records import get_or_404, like_pattern
from inventory import ledger
from inventory.models import Compatibility, Item, ItemKind, MoveKind, Unit, UnitEvent, UnitState


async def item_ids_by_sku(session: AsyncSession, skus: Iterable[str]) -> dict[str, uuid.UUID]:
    """SKU → item id for the SKUs that exist."""
    rows = await session.execute(select(Item.sku, Item.id).where(Item.sku.in_(list(skus))))
    return {row.sku: row.id for row in rows}


async def create_item(session: AsyncSession, actor: Actor, values: dict[str, Any]) -> Item:
    if values.get("kind") is ItemKind.PART and values.get("data_bearing") is None:
        values["data_bearing"] = False
    item = Item(**values)
    session.add(item)
    await session.flush()
    return item


async def list_items(
    session: AsyncSession, *, kind: ItemKind | None, q: str | None, limit: int, cursor: str | None
) -> Page[Item]:
    stmt = select(Item)
    if kind is not None:
        stmt = stmt.where(Item.kind == kind)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(Item.sku.ilike(pattern), Item.name.ilike(pattern), Item.model.ilike(pattern)))
    return await keyset_page(session, stmt, [Item.sku, Item.id], limit=limit, cursor=cursor)


async def add_compatibility(
    session: AsyncSession, actor: Actor, backup_item_id: uuid.UUID, customer_model: str
) -> Compatibility:
    item = await get_or_404(session, Item, backup_item_id, "item")
    if item.kind is not ItemKind.DEVICE:
        raise field_error("backup_item_id", "only a device model can stand in for a customer's device")
    found = await session.get(Compatibility, (backup_item_id, customer_model))
    if found is not None:
        return found
    row = Compatibility(backup_item_id=backup_item_id, customer_model=customer_model)
    session.add(row)
    await session.flush()
    return row


async def compatible_items(session: AsyncSession, customer_model: str) -> list[uuid.UUID]:
    """Device items that can stand in for `customer_model`: the same model, or declared compatible."""
    rows = await session.execute(
        select(Item.id)
        .where(
            Item.kind == ItemKind.DEVICE,
            or_(
                Item.model == customer_model,
                Item.id.in_(
                    select(Compatibility.backup_item_id).where(Compatibility.customer_model == customer_model)
                ),
            ),
        )
        .order_by(Item.sku)
    )
    return list(rows.scalars())


async def device_item_for_model(session: AsyncSession, model: str) -> Item:
    """The device item of a customer's model, created on first need (a faulty unit taken in)."""
    row = (
        await session.execute(
            select(Item).where(Item.kind == ItemKind.DEVICE, Item.model == model).order_by(Item.sku).limit(1)
        )
    ).scalar_one_or_none()
    if row is not None:
        return row
    item = Item(
        id=uuid.uuid4(),
        sku=f"MODEL-{uuid.uuid5(uuid.NAMESPACE_OID, model).hex[:16]}",
        name=model,
        kind=ItemKind.DEVICE,
        model=model,
        data_bearing=False,
        version=1,
    )
    session.add(item)
    await session.flush()
    return item


def set_state(
    session: AsyncSession,
    unit: Unit,
    actor: Actor,
    now: dt.datetime,
    kind: str,
    state: UnitState,
    *,
    work_order_id: uuid.UUID | None = None,
    data: dict[str, Any] | None = None,
) -> UnitEvent:
    """Change a unit's state with its history line (the history is append-only)."""
    event = UnitEvent(
        unit_id=unit.id,
        at=now,
        kind=kind,
        from_state=unit.state.value if unit.state else None,
        to_state=state.value,
        location_id=unit.location_id,
        actor_id=actor.user_id,
        work_order_id=work_order_id,
        data=data or {},
    )
    unit.state = state
    session.add(event)
    return event


async def locked_unit(session: AsyncSession, unit_id: uuid.UUID) -> Unit:
    unit = await session.get(Unit, unit_id, with_for_update=True, populate_existing=True)
    if unit is None:
        raise field_error("unit_id", "no such unit")
    return unit


async def unit_by_serial(session: AsyncSession, serial: str, *, lock: bool = False) -> Unit | None:
    stmt = select(Unit).where(Unit.serial == serial)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()


async def history(session: AsyncSession, unit_id: uuid.UUID) -> list[UnitEvent]:
    rows = await session.execute(select(UnitEvent).where(UnitEvent.unit_id == unit_id).order_by(UnitEvent.id))
    return list(rows.scalars())


async def new_unit(
    session: AsyncSession,
    item_id: uuid.UUID,
    serial: str,
    state: UnitState,
    *,
    customer_owned: bool = False,
    configuration: str | None = None,
) -> Unit:
    """A unit entering the books, nowhere yet (its first movement says where)."""
    unit = Unit(
        id=uuid.uuid4(),
        item_id=item_id,
        serial=serial,
        state=state,
        location_id=None,
        customer_owned=customer_owned,
        configuration=configuration,
        version=1,
    )
    session.add(unit)
    await session.flush()
    return unit


async def register_unit(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    *,
    item_id: uuid.UUID,
    serial: str,
    location_id: uuid.UUID,
    configuration: str | None,
) -> Unit:
    """A new serialized unit received into stock (available)."""
    item = await get_or_404(session, Item, item_id, "item")
    if item.kind is not ItemKind.DEVICE:
        raise field_error("item_id", "counted parts are received as a quantity, not as units")
    if await unit_by_serial(session, serial) is not None:
        raise field_error("serial", "a unit with this serial number exists")
    unit = await new_unit(session, item.id, serial, UnitState.AVAILABLE, configuration=configuration)
    await ledger.record(
        session,
        actor,
        now,
        ledger.Movement(MoveKind.RECEIVE, item.id, 1, to_location_id=location_id, unit_id=unit.id),
    )
    set_state(session, unit, actor, now, "received", UnitState.AVAILABLE)
    await session.flush()
    return unit


@dataclass(frozen=True, slots=True)
class UnitFilter:
    item_id: uuid.UUID | None = None
    state: UnitState | None = None
    location_id: uuid.UUID | None = None
    # the exact serial (a scan) or part of one (a search)
    serial: str | None = None
    q: str | None = None


async def list_units(
    session: AsyncSession, where: UnitFilter, *, limit: int, cursor: str | None
) -> Page[Unit]:
    stmt = select(Unit)
    if where.item_id is not None:
        stmt = stmt.where(Unit.item_id == where.item_id)
    if where.state is not None:
        stmt = stmt.where(Unit.state == where.state)
    if where.location_id is not None:
        stmt = stmt.where(Unit.location_id == where.location_id)
    if where.serial:
        stmt = stmt.where(Unit.serial == where.serial)
    if where.q:
        stmt = stmt.where(Unit.serial.ilike(like_pattern(where.q)))
    return await keyset_page(session, stmt, [Unit.serial, Unit.id], limit=limit, cursor=cursor)
