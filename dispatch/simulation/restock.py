"""Overnight restocking, as a warehouse team runs it with the product: each night at
`ORDER_HOUR` (site time) the reorder the product suggests for every location with a stock rule
(`replenishment.suggestions`: below min → up to max, minus what is already on its way) is ordered
from the supplier as a shipment (`shipments.send`, no sending location: a receipt into transit)
with the next morning as its ETA, and received at its ETA (`shipments.arrive`). The demo has no
stock rules; the simulated company sets one (`min`, `max`) in every warehouse for each part its
faults use, where the product has none — a scenario setting, the same for every policy."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.roles import Actor
from inventory import replenishment, shipments
from inventory.models import Item, Location, LocationKind, StockLevel

# The night's order goes out at 22:00 and the courier delivers at 06:00 the next morning.
ORDER_HOUR = 22
DELIVERY_HOUR = 6


@dataclass(frozen=True)
class Order:
    """A night's order to one location: its shipment, ETA and lines (SKU → quantity)."""

    shipment_id: uuid.UUID
    location: str
    eta: dt.datetime
    lines: dict[str, int]


async def set_rules(session: AsyncSession, skus: list[str], min_quantity: int, max_quantity: int) -> int:
    """A rule (min, max) in every warehouse for each SKU that has none there yet; the rules the
    product already holds stay as they are. Returns the rules set."""
    warehouses = list(
        (await session.execute(select(Location.id).where(Location.kind == LocationKind.WAREHOUSE))).scalars()
    )
    items = list((await session.execute(select(Item.id).where(Item.sku.in_(skus)))).scalars())
    held = {(i, w) for i, w in await session.execute(select(StockLevel.item_id, StockLevel.location_id))}
    pairs = [(i, w) for i in items for w in warehouses if (i, w) not in held]
    for item_id, location_id in sorted(pairs):
        await replenishment.set_level(
            session,
            item_id=item_id,
            location_id=location_id,
            min_quantity=min_quantity,
            max_quantity=max_quantity,
        )
    return len(pairs)


async def order_suggested(
    session: AsyncSession, actor: Actor, now: dt.datetime, eta: dt.datetime
) -> list[Order]:
    """One supplier shipment per location the product says needs stock, with its suggested lines."""
    by_location: dict[uuid.UUID, list[replenishment.Suggestion]] = {}
    for suggestion in await replenishment.suggestions(session, None):
        by_location.setdefault(suggestion.location_id, []).append(suggestion)
    rows = await session.execute(select(Location.id, Location.code).where(Location.id.in_(by_location)))
    codes: dict[uuid.UUID, str] = dict(rows.all())
    orders: list[Order] = []
    # In code order, not the database's: two runs of one seed order alike.
    for location_id in sorted(by_location, key=lambda i: codes[i]):
        wanted = sorted(by_location[location_id], key=lambda s: s.sku)
        destination = await session.get(Location, location_id)
        assert destination is not None
        waybill = f"SIM-{now:%m%d}-{codes[location_id]}"
        transit = await shipments.send(
            session,
            actor,
            now,
            waybill=waybill,
            eta=eta,
            destination=destination,
            from_location_id=None,
            lines=[shipments.Line(s.item_id, s.order_quantity) for s in wanted],
            unit_ids=[],
        )
        orders.append(Order(transit.id, codes[location_id], eta, {s.sku: s.order_quantity for s in wanted}))
    return orders


async def receive(session: AsyncSession, actor: Actor, now: dt.datetime, order: Order) -> None:
    await shipments.arrive(session, actor, now, order.shipment_id)
