"""Where stock meets work orders and visits: part swaps on site (with the asset they change),
shipments to a site, van restock lists from tomorrow's visits, and the stock KPIs.

Cross-domain, so it lives in dispatch (inventory never imports dispatch).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core import zones
from core.clock import Clock
from core.errors import Conflict, Forbidden, field_error
from core.identity.models import User
from core.identity.roles import Actor, Role
from dispatch.customers.models import Asset, Site
from dispatch.engineers.models import Engineer
from dispatch.work_orders.models import Visit, VisitStatus, WorkOrder
from dispatch.work_orders.service import add_event
from dispatch.work_orders.visits import order_and_visit, owned_visit
from inventory import ledger, reservations, shipments, swaps
from inventory.items import item_ids_by_sku
from inventory.models import (
    Item,
    Loan,
    LoanStatus,
    Location,
    LocationKind,
    PartSwap,
    Reservation,
    ReservationStatus,
    StockBalance,
    StockMove,
    SwapDisposition,
    Unit,
    UnitState,
)

STOCK_OUT_TARGET = 0.05


# Part swaps -----------------------------------------------------------------------------------------


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


# Van restock lists ----------------------------------------------------------------------------------


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


# KPIs ---------------------------------------------------------------------------------------------

# On hand and reserved of one item per location at a moment, replayed from the ledger.
_HELD_AT = text(
    """
    SELECT loc, sum(d_on)::int AS on_hand, sum(d_res)::int AS reserved FROM (
        SELECT to_location_id AS loc, quantity AS d_on, 0 AS d_res FROM stock_move
         WHERE item_id = :item AND at <= :at AND kind NOT IN ('reserve', 'release')
           AND to_location_id IS NOT NULL
        UNION ALL
        SELECT from_location_id, -quantity, CASE WHEN from_reserved THEN -quantity ELSE 0 END
          FROM stock_move
         WHERE item_id = :item AND at <= :at AND kind NOT IN ('reserve', 'release')
           AND from_location_id IS NOT NULL
        UNION ALL
        SELECT from_location_id, 0, CASE WHEN kind = 'reserve' THEN quantity ELSE -quantity END
          FROM stock_move
         WHERE item_id = :item AND at <= :at AND kind IN ('reserve', 'release')
    ) d
     WHERE loc = ANY(:locations)
     GROUP BY loc
    """
)

# What stayed reserved for one visit at a moment (reserved, minus released, picked or consumed).
_FOR_VISIT_AT = text(
    """
    SELECT coalesce(sum(CASE WHEN kind = 'reserve' THEN quantity
                             WHEN kind = 'release' OR from_reserved THEN -quantity ELSE 0 END), 0)::int
      FROM stock_move
     WHERE item_id = :item AND visit_id = :visit AND at <= :at
    """
)


@dataclass(frozen=True)
class StockKpis:
    since: dt.datetime
    until: dt.datetime
    visits_needing_parts: int
    stock_outs: int
    stock_out_rate: float | None
    stock_out_target: float
    within_target: bool | None
    stock_out_visit_ids: list[uuid.UUID]
    loans_open: int
    loans_overdue: int
    mean_loan_days: float | None
    units_in_repair: int


async def _within_reach(
    session: AsyncSession, visit: Visit, at: dt.datetime, warehouses: list[uuid.UUID]
) -> bool:
    van = None
    if visit.engineer_id is not None:
        van = (
            await session.execute(
                select(Location.id).where(
                    Location.kind == LocationKind.VAN, Location.engineer_id == visit.engineer_id
                )
            )
        ).scalar_one_or_none()
    for part in visit.required_parts:
        needed = int(part.get("quantity", 1))
        item_id = (
            await session.execute(select(Item.id).where(Item.sku == str(part["sku"])))
        ).scalar_one_or_none()
        if item_id is None:
            return False
        for_visit = (
            await session.execute(_FOR_VISIT_AT, {"item": item_id, "visit": visit.id, "at": at})
        ).scalar_one()
        places = [*warehouses, *([van] if van else [])]
        held = {
            r.loc: (r.on_hand, r.reserved)
            for r in await session.execute(_HELD_AT, {"item": item_id, "at": at, "locations": places})
        }
        in_van = held.get(van, (0, 0))[0] if van else 0
        best_free = max(
            (on_hand - reserved for loc, (on_hand, reserved) in held.items() if loc != van), default=0
        )
        if max(in_van, best_free, for_visit) < needed:
            return False
    return True


async def kpis(session: AsyncSession, now: dt.datetime, since: dt.datetime, until: dt.datetime) -> StockKpis:
    """Stock-out rate: of the visits needing parts whose moment (arrival, else planned start,
    else when the fault was reported) falls in [since, until), those for which some required part was not
    within reach at that moment — not in the engineer's van, not free in any one warehouse,
    and not reserved for the visit. Loans open and overdue now, mean duration of the loans
    that ended (installed → collected), units at repair now."""
    moment = func.coalesce(Visit.arrived_at, Visit.planned_start, WorkOrder.reported_at)
    rows = (
        await session.execute(
            select(Visit, moment)
            .join(WorkOrder, WorkOrder.id == Visit.work_order_id)
            .where(
                func.jsonb_array_length(Visit.required_parts) > 0,
                Visit.status != VisitStatus.CANCELLED,
                moment >= since,
                moment < until,
            )
            .order_by(moment, Visit.id)
        )
    ).all()
    warehouses = list(
        (await session.execute(select(Location.id).where(Location.kind == LocationKind.WAREHOUSE))).scalars()
    )
    outs = [visit.id for visit, at in rows if not await _within_reach(session, visit, at, warehouses)]
    needing = len(rows)
    rate = len(outs) / needing if needing else None
    loans_open = int(
        (await session.execute(select(func.count()).where(Loan.status == LoanStatus.OPEN))).scalar_one()
    )
    overdue = int(
        (
            await session.execute(
                select(func.count()).where(Loan.status == LoanStatus.OPEN, Loan.return_by < now.date())
            )
        ).scalar_one()
    )
    ended = func.coalesce(Loan.returned_at, Loan.closed_at)
    mean_seconds = (
        await session.execute(
            select(func.avg(func.extract("epoch", ended - Loan.opened_at))).where(
                Loan.opened_at.is_not(None), ended.is_not(None)
            )
        )
    ).scalar_one()
    in_repair = int(
        (await session.execute(select(func.count()).where(Unit.state == UnitState.IN_REPAIR))).scalar_one()
    )
    return StockKpis(
        since=since,
        until=until,
        visits_needing_parts=needing,
        stock_outs=len(outs),
        stock_out_rate=round(rate, 4) if rate is not None else None,
        stock_out_target=STOCK_OUT_TARGET,
        within_target=rate <= STOCK_OUT_TARGET if rate is not None else None,
        stock_out_visit_ids=outs,
        loans_open=loans_open,
        loans_overdue=overdue,
        mean_loan_days=round(float(mean_seconds) / 86400, 2) if mean_seconds is not None else None,
        units_in_repair=in_repair,
    )
