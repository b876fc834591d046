"""Van restock lists from tomorrow's visits, and parts held at a warehouse for an engineer to pick up."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import zones
from core.identity.models import User
from core.identity.roles import Actor
from dispatch.engineers.models import Engineer
from dispatch.work_orders.models import Visit, VisitStatus
from inventory import ledger, reservations, shipments
from inventory.items import item_ids_by_sku
from inventory.models import (
    Location,
    LocationKind,
    Reservation,
    ReservationStatus,
    StockBalance,
)


@dataclass
class RestockLine:
    item_id: uuid.UUID | None
    sku: str
    needed: int
    in_van: int
    in_transit: int
    to_load: int
    # The warehouse with the most free stock of it (None: no warehouse has it).
    from_location_id: uuid.UUID | None


@dataclass
class RestockList:
    engineer_id: uuid.UUID
    username: str
    day: dt.date
    van_location_id: uuid.UUID | None
    visit_ids: list[uuid.UUID] = field(default_factory=list)
    lines: list[RestockLine] = field(default_factory=list)


async def hold_for_pickup(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    *,
    visit_id: uuid.UUID,
    warehouse_id: uuid.UUID,
    until: dt.datetime,
) -> list[Reservation]:
    """Reserve at the warehouse what a planned pick-up collects for the visit: its parts
    not already held for it anywhere. Held until a day after the pick-up; short stock
    refuses (the plan is stale)."""
    visit = await session.get(Visit, visit_id)
    if visit is None or not visit.required_parts:
        return []
    already = set(
        (
            await session.execute(
                select(Reservation.item_id).where(
                    Reservation.visit_id == visit_id, Reservation.status == ReservationStatus.ACTIVE
                )
            )
        ).scalars()
    )
    skus = {str(p["sku"]): int(p.get("quantity", 1)) for p in visit.required_parts}
    items = await item_ids_by_sku(session, skus)
    held = []
    for sku, quantity in sorted(skus.items()):
        item_id = items.get(sku)
        if item_id is None or item_id in already:
            continue
        held.append(
            await reservations.reserve_part(
                session,
                actor,
                now,
                item_id=item_id,
                location_id=warehouse_id,
                quantity=quantity,
                work_order_id=visit.work_order_id,
                visit_id=visit_id,
                hold=max(dt.timedelta(hours=1), until + dt.timedelta(days=1) - now),
            )
        )
    return held


async def restock_lists(
    session: AsyncSession, now: dt.datetime, day: dt.date | None = None
) -> list[RestockList]:
    """Per engineer: the parts their visits planned for `day` (default: tomorrow in the
    engineer's time zone) need, minus what their van holds for them and what is on its way
    to it — what to load."""
    window = (now - dt.timedelta(days=1), now + dt.timedelta(days=3))
    if day is not None:
        start = dt.datetime.combine(day, dt.time(0), dt.UTC)
        window = (start - dt.timedelta(days=1), start + dt.timedelta(days=2))
    rows = (
        await session.execute(
            select(Visit, Engineer, User.username)
            .join(Engineer, Engineer.id == Visit.engineer_id)
            .join(User, User.id == Engineer.id)
            .where(
                Visit.status.in_([VisitStatus.PLANNED, VisitStatus.ASSIGNED]),
                Visit.planned_start >= window[0],
                Visit.planned_start < window[1],
                func.jsonb_array_length(Visit.required_parts) > 0,
            )
            .order_by(User.username, Visit.planned_start)
        )
    ).all()
    lists: dict[uuid.UUID, RestockList] = {}
    needs: dict[uuid.UUID, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for visit, engineer, username in rows:
        tz = zones.zone(engineer.time_zone)
        wanted = day or (now.astimezone(tz).date() + dt.timedelta(days=1))
        assert visit.planned_start is not None
        if visit.planned_start.astimezone(tz).date() != wanted:
            continue
        entry = lists.setdefault(engineer.id, RestockList(engineer.id, username, wanted, None))
        entry.visit_ids.append(visit.id)
        for part in visit.required_parts:
            needs[engineer.id][str(part["sku"])] += int(part.get("quantity", 1))
    if not lists:
        return []
    skus = {sku for need in needs.values() for sku in need}
    items = await item_ids_by_sku(session, skus)
    vans = {
        loc.engineer_id: loc
        for loc in (
            await session.execute(
                select(Location).where(
                    Location.kind == LocationKind.VAN, Location.engineer_id.in_(list(lists))
                )
            )
        ).scalars()
    }
    coming = await shipments.in_transit_to(session, [v.id for v in vans.values()])
    best = await _best_warehouses(session, list(items.values()))
    for engineer_id, entry in lists.items():
        van = vans.get(engineer_id)
        entry.van_location_id = van.id if van else None
        held = await _van_holding(session, van, entry.visit_ids) if van else {}
        for sku, needed in sorted(needs[engineer_id].items()):
            item_id = items.get(sku)
            in_van = held.get(item_id, 0) if item_id else 0
            in_transit = coming.get((van.id, item_id), 0) if van and item_id else 0
            to_load = max(0, needed - in_van - in_transit)
            entry.lines.append(
                RestockLine(
                    item_id=item_id,
                    sku=sku,
                    needed=needed,
                    in_van=in_van,
                    in_transit=in_transit,
                    to_load=to_load,
                    from_location_id=best.get(item_id) if item_id and to_load else None,
                )
            )
    return list(lists.values())


async def _van_holding(
    session: AsyncSession, van: Location, visit_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Free stock in the van, plus what is reserved there for these very visits."""
    held = {b.item_id: b.on_hand - b.reserved for b in await ledger.balances(session, location_id=van.id)}
    rows = await session.execute(
        select(Reservation.item_id, func.sum(Reservation.quantity))
        .where(
            Reservation.location_id == van.id,
            Reservation.status == ReservationStatus.ACTIVE,
            Reservation.visit_id.in_(visit_ids),
        )
        .group_by(Reservation.item_id)
    )
    for item_id, quantity in rows:
        held[item_id] = held.get(item_id, 0) + int(quantity)
    return held


async def _best_warehouses(
    session: AsyncSession, item_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    rows = await session.execute(
        select(StockBalance.item_id, StockBalance.location_id)
        .join(Location, Location.id == StockBalance.location_id)
        .where(
            StockBalance.item_id.in_(item_ids),
            Location.kind == LocationKind.WAREHOUSE,
            StockBalance.on_hand > StockBalance.reserved,
        )
        .order_by(StockBalance.item_id, (StockBalance.on_hand - StockBalance.reserved).desc(), Location.code)
    )
    best: dict[uuid.UUID, uuid.UUID] = {}
    for item_id, location_id in rows:
        best.setdefault(item_id, location_id)
    return best
