"""Replenishment: min/max levels per item and location, reorder suggestions, batch transfers.

A location whose free stock (on hand − reserved) of an item is below its `min_quantity`
is refilled up to `max_quantity`, minus what is already on its way there (open
shipments to it): that difference, when positive, is the suggested order.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import field_error
from core.identity.roles import Actor
from core.pagination import Page, keyset_page
from core.records import get_or_404
from inventory import ledger, shipments
from inventory.models import Item, Location, MoveKind, StockBalance, StockLevel, StockMove


class Suggestion(msgspec.Struct, frozen=True):
    """What to order for one item at one location; the API answers with this shape as it is."""

    item_id: uuid.UUID
    sku: str
    location_id: uuid.UUID
    on_hand: int
    reserved: int
    free: int
    in_transit: int
    min_quantity: int
    max_quantity: int
    order_quantity: int


async def set_level(
    session: AsyncSession, *, item_id: uuid.UUID, location_id: uuid.UUID, min_quantity: int, max_quantity: int
) -> StockLevel:
    await get_or_404(session, Item, item_id, "item")
    await get_or_404(session, Location, location_id, "location")
    if max_quantity < min_quantity or max_quantity <= 0:
        raise field_error("max_quantity", "at least min_quantity, and above zero")
    await session.execute(
        insert(StockLevel)
        .values(
            item_id=item_id, location_id=location_id, min_quantity=min_quantity, max_quantity=max_quantity
        )
        .on_conflict_do_update(
            index_elements=[StockLevel.item_id, StockLevel.location_id],
            set_={"min_quantity": min_quantity, "max_quantity": max_quantity},
        )
    )
    level = await session.get(StockLevel, (item_id, location_id), populate_existing=True)
    assert level is not None
    return level


async def levels(
    session: AsyncSession, location_id: uuid.UUID | None, *, limit: int = 100, cursor: str | None = None
) -> Page[StockLevel]:
    stmt = select(StockLevel)
    if location_id is not None:
        stmt = stmt.where(StockLevel.location_id == location_id)
    order = [StockLevel.location_id, StockLevel.item_id]
    return await keyset_page(session, stmt, order, limit=limit, cursor=cursor)


async def suggestions(session: AsyncSession, location_id: uuid.UUID | None) -> list[Suggestion]:
    """What to order (or send) where: below min → up to max, minus what is in transit there."""
    stmt = (
        select(StockLevel, Item.sku, StockBalance.on_hand, StockBalance.reserved)
        .join(Item, Item.id == StockLevel.item_id)
        .outerjoin(
            StockBalance,
            (StockBalance.item_id == StockLevel.item_id)
            & (StockBalance.location_id == StockLevel.location_id),
        )
        .order_by(StockLevel.location_id, Item.sku)
    )
    if location_id is not None:
        stmt = stmt.where(StockLevel.location_id == location_id)
    rows = (await session.execute(stmt)).all()
    coming = await shipments.in_transit_to(session, list({level.location_id for level, *_ in rows}))
    found = []
    for level, sku, on_hand, reserved in rows:
        on_hand, reserved = int(on_hand or 0), int(reserved or 0)
        free = on_hand - reserved
        if free >= level.min_quantity:
            continue
        in_transit = coming.get((level.location_id, level.item_id), 0)
        order = level.max_quantity - free - in_transit
        if order <= 0:
            continue
        found.append(
            Suggestion(
                item_id=level.item_id,
                sku=sku,
                location_id=level.location_id,
                on_hand=on_hand,
                reserved=reserved,
                free=free,
                in_transit=in_transit,
                min_quantity=level.min_quantity,
                max_quantity=level.max_quantity,
                order_quantity=order,
            )
        )
    return found


@dataclass(frozen=True)
class TransferLine:
    item_id: uuid.UUID
    quantity: int = 1
    unit_id: uuid.UUID | None = None


async def transfer(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    *,
    from_location_id: uuid.UUID,
    to_location_id: uuid.UUID,
    lines: Sequence[TransferLine],
    reason: str,
) -> list[StockMove]:
    """Several ledger transfers at once (a van's restock): all of them or none."""
    if not lines:
        raise field_error("lines", "at least one line")
    return [
        await ledger.move_stock(
            session,
            actor,
            now,
            MoveKind.TRANSFER,
            line.item_id,
            line.quantity,
            source=from_location_id,
            to=to_location_id,
            unit_id=line.unit_id,
            reason=reason,
        )
        for line in lines
    ]
