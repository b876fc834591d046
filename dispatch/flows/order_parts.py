"""Parts for a work order: held for it, used on it from the engineer's own stock, swapped on site
(with the asset they change), and the site's own stock location for shipments.

Cross-domain, so it lives in dispatch (inventory never imports dispatch).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import Clock
from core.errors import Conflict, Forbidden, field_error
from core.identity.roles import Actor, Role
from dispatch.customers.models import Asset, Site
from dispatch.work_orders.models import VisitStatus
from dispatch.work_orders.service import add_event
from dispatch.work_orders.visits import order_and_visit, owned_visit
from inventory import ledger, reservations, swaps
from inventory.models import (
    Location,
    PartSwap,
    Reservation,
    StockMove,
    SwapDisposition,
)


@dataclass(frozen=True)
class SwapInput:
    visit_id: uuid.UUID
    installed_serial: str
    removed_serial: str
    disposition: SwapDisposition | None = None
    handed_to: str | None = None
    signature: str | None = None
    destruction_method: str | None = None
    destruction_witness: str | None = None
    return_by: dt.date | None = None
    # A board swap that changes the asset's identity.
    asset_serial: str | None = None
    asset_mac: str | None = None


async def site_stock(session: AsyncSession, site_id: uuid.UUID) -> Location:
    site = await session.get(Site, site_id)
    if site is None:
        raise field_error("site_id", "no such site")
    return await ledger.site_location(session, site.id, site.name, site.point)


async def reserve_for(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    *,
    item_id: uuid.UUID,
    location_id: uuid.UUID,
    quantity: int,
    work_order_id: uuid.UUID | None,
    visit_id: uuid.UUID | None,
    hold: dt.timedelta,
) -> Reservation:
    """Parts held for a work order or visit; a visit must be one of the named order's."""
    await order_and_visit(session, actor, work_order_id, visit_id)
    return await reservations.reserve_part(
        session,
        actor,
        now,
        item_id=item_id,
        location_id=location_id,
        quantity=quantity,
        work_order_id=work_order_id,
        visit_id=visit_id,
        hold=hold,
    )


async def consume_on_order(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    *,
    item_id: uuid.UUID,
    quantity: int,
    work_order_id: uuid.UUID,
    visit_id: uuid.UUID | None,
    reservation_id: uuid.UUID | None,
    from_device: bool,
    at: dt.datetime | None,
) -> list[StockMove]:
    """Parts the signed-in engineer used on a work order (and visit) of theirs, from their own stock.
    Another engineer's order or visit answers like one that does not exist; a visit must be one of
    the named order's."""
    if actor.role is not Role.ENGINEER or actor.user_id is None:
        raise Forbidden("Only an engineer consumes from their own stock")
    order, _ = await order_and_visit(session, actor, work_order_id, visit_id)
    assert order is not None
    return await reservations.consume(
        session,
        actor,
        now,
        engineer_id=actor.user_id,
        item_id=item_id,
        quantity=quantity,
        work_order_id=order.id,
        visit_id=visit_id,
        reservation_id=reservation_id,
        from_device=from_device,
        at=at,
    )


async def record_part_swap(session: AsyncSession, actor: Actor, clock: Clock, data: SwapInput) -> PartSwap:
    """The engineer on a visit swapped a serialized part: both serials, the faulty one's fate,
    and the asset's new serial or MAC when the swap changed them."""
    if actor.role is not Role.ENGINEER or actor.user_id is None:
        raise Forbidden("Only the engineer on the visit records a part swap")
    visit, order = await owned_visit(session, actor, data.visit_id)
    if visit.status not in {VisitStatus.ON_SITE, VisitStatus.DONE}:
        raise Conflict(f"The visit is {visit.status.value}: a part is swapped on site")
    site = await session.get(Site, order.site_id)
    assert site is not None
    now = clock.now()
    swap = await swaps.record_swap(
        session,
        actor,
        now,
        engineer_id=actor.user_id,
        work_order_id=order.id,
        visit_id=visit.id,
        site=await ledger.site_location(session, site.id, site.name, site.point),
        retains_media=site.retains_media,
        installed_serial=data.installed_serial,
        removed_serial=data.removed_serial,
        disposition=data.disposition,
        handed_to=data.handed_to,
        signature=data.signature,
        destruction_method=data.destruction_method,
        destruction_witness=data.destruction_witness,
        return_by=data.return_by,
    )
    changed: dict[str, list[str | None]] = {}
    if data.asset_serial or data.asset_mac:
        if order.asset_id is None:
            raise field_error("asset_serial", "the work order names no registered asset to update")
        asset = await session.get(Asset, order.asset_id, with_for_update=True)
        assert asset is not None
        if data.asset_serial and data.asset_serial != asset.serial:
            clash = (
                await session.execute(
                    select(Asset.id).where(
                        Asset.model == asset.model, Asset.serial == data.asset_serial, Asset.id != asset.id
                    )
                )
            ).first()
            if clash is not None:
                raise Conflict(f"Another {asset.model} already has serial {data.asset_serial}")
            changed["serial"] = [asset.serial, data.asset_serial]
            asset.serial = data.asset_serial
        if data.asset_mac and data.asset_mac != asset.mac:
            changed["mac"] = [asset.mac, data.asset_mac]
            asset.mac = data.asset_mac
    add_event(
        session,
        order,
        actor,
        now,
        "part_swap",
        note=f"{swap.removed_serial} → {swap.installed_serial} ({swap.disposition.value})",
        data={
            "swap_id": str(swap.id),
            "visit_id": str(visit.id),
            "installed_serial": swap.installed_serial,
            "removed_serial": swap.removed_serial,
            "disposition": swap.disposition.value,
            "handed_to": swap.handed_to,
            "return_by": swap.return_by.isoformat() if swap.return_by else None,
            "asset_changed": changed,
        },
    )
    await session.flush()
    return swap
