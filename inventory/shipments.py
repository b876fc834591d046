"""Parts in transit: by courier from a warehouse, or from the manufacturer straight to a site.

A shipment is an `in_transit` location with the waybill, the expected arrival (ETA) and
its destination (a warehouse, a van, or a customer site's location). Sending posts
the parts into it (a transfer from the sending location, or a receipt when they come
from outside the books); arrival moves everything on to the destination. Until then
the optimizer treats the ETA as the earliest start of a visit at that site needing one
of those parts (`arrivals_at_sites`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound, field_error
from core.identity.roles import Actor
from inventory import ledger
from inventory.errors import IllegalStockStep, UnitUnavailable, expect_version
from inventory.items import locked_unit, set_state
from inventory.models import Item, ItemKind, Location, LocationKind, MoveKind, StockBalance, Unit, UnitState

DESTINATIONS = frozenset({LocationKind.WAREHOUSE, LocationKind.VAN, LocationKind.CUSTOMER_SITE})


@dataclass(frozen=True)
class Line:
    item_id: uuid.UUID
    quantity: int


async def send(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    *,
    waybill: str,
    eta: dt.datetime,
    destination: Location,
    from_location_id: uuid.UUID | None,
    lines: Sequence[Line],
    unit_ids: Sequence[uuid.UUID],
) -> Location:
    if destination.kind not in DESTINATIONS:
        raise field_error("destination", "a shipment goes to a warehouse, a van or a customer site")
    if not lines and not unit_ids:
        raise field_error("lines", "a shipment carries at least one part or unit")
    if unit_ids and from_location_id is None:
        raise field_error("unit_ids", "register new units first, then ship them from where they are")
    if from_location_id == destination.id:
        raise field_error("from_location_id", "the shipment goes somewhere else")
    transit = Location(
        code=f"TRANSIT-{uuid.uuid4().hex[:24]}",
        name=f"在途 {waybill}"[:200],
        kind=LocationKind.IN_TRANSIT,
        waybill=waybill,
        eta=eta,
        destination_id=destination.id,
        site_id=destination.site_id,
        engineer_id=destination.engineer_id,
    )
    session.add(transit)
    await session.flush()
    for line in lines:
        item = await session.get(Item, line.item_id)
        if item is None or item.kind is not ItemKind.PART:
            raise field_error("lines", "counted parts only; serialized units go in unit_ids")
        await ledger.move_stock(
            session,
            actor,
            now,
            MoveKind.TRANSFER if from_location_id else MoveKind.RECEIVE,
            line.item_id,
            line.quantity,
            source=from_location_id,
            to=transit.id,
            reason=f"shipped, waybill {waybill}",
        )
    for unit_id in unit_ids:
        unit = await locked_unit(session, unit_id)
        if unit.state is not UnitState.AVAILABLE:
            raise UnitUnavailable(f"Unit {unit.serial} is {unit.state.value}", current_state=unit.state.value)
        await ledger.move_unit(
            session,
            actor,
            now,
            unit,
            MoveKind.TRANSFER,
            to=transit.id,
            source=from_location_id,
            reason=f"shipped, waybill {waybill}",
        )
        set_state(session, unit, actor, now, "shipped", UnitState.IN_TRANSIT, data={"waybill": waybill})
    await session.flush()
    return transit


async def shipment(session: AsyncSession, shipment_id: uuid.UUID, *, lock: bool = False) -> Location:
    found = await session.get(Location, shipment_id, with_for_update=lock)
    if found is None or found.kind is not LocationKind.IN_TRANSIT:
        raise NotFound(f"No shipment with id {shipment_id}")
    return found


async def arrive(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    shipment_id: uuid.UUID,
    *,
    version: int | None = None,
) -> Location:
    """Everything in the shipment moves on to its destination."""
    transit = await shipment(session, shipment_id, lock=True)
    expect_version(transit, version, "shipment")
    transit.version += 1
    if transit.destination_id is None:
        raise IllegalStockStep("The shipment names no destination")
    held = await contents(session, [transit.id])
    if not held.get(transit.id):
        raise IllegalStockStep("The shipment has already arrived (it holds nothing)")
    units = (
        await session.execute(select(Unit).where(Unit.location_id == transit.id).order_by(Unit.serial))
    ).scalars()
    unit_items: set[uuid.UUID] = set()
    for unit in list(units):
        unit_items.add(unit.item_id)
        await ledger.move_unit(
            session,
            actor,
            now,
            unit,
            MoveKind.TRANSFER,
            to=transit.destination_id,
            reason=f"arrived, waybill {transit.waybill}",
        )
        set_state(
            session, unit, actor, now, "arrived", UnitState.AVAILABLE, data={"waybill": transit.waybill}
        )
    for item_id, quantity in held[transit.id].items():
        if item_id in unit_items or quantity <= 0:
            continue
        await ledger.move_stock(
            session,
            actor,
            now,
            MoveKind.TRANSFER,
            item_id,
            quantity,
            source=transit.id,
            to=transit.destination_id,
            reason=f"arrived, waybill {transit.waybill}",
        )
    await session.flush()
    return transit


async def contents(
    session: AsyncSession, location_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[uuid.UUID, int]]:
    """On hand per in-transit location and item."""
    rows = await session.execute(
        select(StockBalance.location_id, StockBalance.item_id, StockBalance.on_hand).where(
            StockBalance.location_id.in_(location_ids), StockBalance.on_hand > 0
        )
    )
    held: dict[uuid.UUID, dict[uuid.UUID, int]] = {}
    for location_id, item_id, on_hand in rows:
        held.setdefault(location_id, {})[item_id] = int(on_hand)
    return held


async def open_shipments(session: AsyncSession, destination_id: uuid.UUID | None = None) -> list[Location]:
    """Shipments still holding something, soonest first."""
    stmt = (
        select(Location)
        .where(
            Location.kind == LocationKind.IN_TRANSIT,
            Location.id.in_(select(StockBalance.location_id).where(StockBalance.on_hand > 0)),
        )
        .order_by(Location.eta, Location.code)
    )
    if destination_id is not None:
        stmt = stmt.where(Location.destination_id == destination_id)
    return list((await session.execute(stmt)).scalars())


async def in_transit_to(
    session: AsyncSession, destination_ids: Sequence[uuid.UUID]
) -> dict[tuple[uuid.UUID, uuid.UUID], int]:
    """(destination, item) → quantity on its way there."""
    rows = await session.execute(
        select(Location.destination_id, StockBalance.item_id, func.sum(StockBalance.on_hand))
        .join(StockBalance, StockBalance.location_id == Location.id)
        .where(
            Location.kind == LocationKind.IN_TRANSIT,
            Location.destination_id.in_(destination_ids),
            StockBalance.on_hand > 0,
        )
        .group_by(Location.destination_id, StockBalance.item_id)
    )
    return {(dest, item): int(q) for dest, item, q in rows if dest is not None}


async def arrivals_at_sites(
    session: AsyncSession, site_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, dt.datetime]]:
    """Site → SKU → the latest ETA of that part on its way to the site (what a visit waits for)."""
    if not site_ids:
        return {}
    rows = await session.execute(
        select(Location.site_id, Item.sku, func.max(Location.eta))
        .join(StockBalance, StockBalance.location_id == Location.id)
        .join(Item, Item.id == StockBalance.item_id)
        .where(
            Location.kind == LocationKind.IN_TRANSIT,
            Location.site_id.in_(site_ids),
            Location.eta.is_not(None),
            StockBalance.on_hand > 0,
        )
        .group_by(Location.site_id, Item.sku)
    )
    found: dict[uuid.UUID, dict[str, dt.datetime]] = {}
    for site_id, sku, eta in rows:
        if site_id is not None and eta is not None:
            found.setdefault(site_id, {})[sku] = eta
    return found
