"""Serialized part swaps in the field, defective bins and the media a customer keeps.

A swap records both serials: the new part installed (out of the engineer's stock into
the customer's site) and the faulty one removed. Where the faulty part goes:

- `return` (the default): into the engineer's defective bin, with the manufacturer's
  return deadline (they bill for parts not back by then); the warehouse later records
  its return with the waybill, or its destruction;
- `customer_retained`: a data-bearing part at a site that retains media is handed to the
  customer, who signs for its serial; it never enters the defective bin or RMA;
- `destroyed`: a data-bearing part destroyed on site, with method and witness.

Work orders, visits and sites are ids or locations here; whether the site retains media
is the caller's (dispatch's) to say.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, field_error
from core.identity.roles import Actor
from core.pagination import Page, keyset_page
from core.records import locked_or_404
from inventory import ledger
from inventory.errors import IllegalStockStep, expect_version
from inventory.items import locked_unit, new_unit, set_state, unit_by_serial
from inventory.models import (
    Item,
    ItemKind,
    Location,
    LocationKind,
    MoveKind,
    PartSwap,
    Reservation,
    ReservationStatus,
    SwapDisposition,
    Unit,
    UnitState,
)

# Manufacturers bill for an advance-replacement part not returned within this.
RETURN_DAYS = 15
# Warn this long before the deadline.
WARN_BEFORE = dt.timedelta(days=3)


class MediaRetained(Conflict):
    slug = "media-retained"
    title = "A data-bearing part from this site stays with the customer"


async def defective_bin_of(session: AsyncSession, owner: Location | uuid.UUID) -> Location:
    """The defective bin of an engineer (by id) or of a warehouse (by location), created on need."""
    if isinstance(owner, Location):
        code, engineer_id, name = f"DEFECT-{owner.id.hex}", None, f"{owner.name} 故障件"[:200]
    else:
        code, engineer_id, name = f"DEFECT-{owner.hex}", owner, "故障件待返还"
    found = (await session.execute(select(Location).where(Location.code == code))).scalar_one_or_none()
    if found is not None:
        return found
    bin_ = Location(code=code, name=name, kind=LocationKind.DEFECTIVE_BIN, engineer_id=engineer_id)
    session.add(bin_)
    await session.flush()
    return bin_


async def retained_by_customer(session: AsyncSession, unit_id: uuid.UUID) -> bool:
    row = await session.execute(
        select(PartSwap.id).where(
            PartSwap.removed_unit_id == unit_id, PartSwap.disposition == SwapDisposition.CUSTOMER_RETAINED
        )
    )
    return row.first() is not None


async def refuse_if_retained(session: AsyncSession, unit: Unit) -> None:
    """The RMA guard: media a customer kept never goes to a vendor or a bin."""
    if await retained_by_customer(session, unit.id):
        raise MediaRetained(
            f"Part {unit.serial} holds the customer's data and was handed to them; it never enters RMA",
            serial=unit.serial,
        )


async def _install(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    unit: Unit,
    *,
    van: Location,
    site: Location,
    work_order_id: uuid.UUID,
    visit_id: uuid.UUID | None,
    replaces: str,
) -> None:
    if unit.location_id != van.id or unit.state not in {UnitState.AVAILABLE, UnitState.RESERVED}:
        raise IllegalStockStep(
            f"Part {unit.serial} is not available in your stock", current_state=unit.state.value
        )
    reservation = None
    if unit.state is UnitState.RESERVED:
        reservation = (
            await session.execute(
                select(Reservation)
                .where(Reservation.unit_id == unit.id, Reservation.status == ReservationStatus.ACTIVE)
                .with_for_update()
            )
        ).scalar_one_or_none()
        if reservation is not None and reservation.work_order_id not in (None, work_order_id):
            raise IllegalStockStep(f"Part {unit.serial} is reserved for another work order")
    await ledger.move_unit(
        session,
        actor,
        now,
        unit,
        MoveKind.TRANSFER,
        to=site.id,
        reservation_id=reservation.id if reservation else None,
        work_order_id=work_order_id,
        visit_id=visit_id,
        reason=f"installed, replacing {replaces}",
    )
    if reservation is not None:
        reservation.status, reservation.closed_at = ReservationStatus.CONSUMED, now
    set_state(
        session,
        unit,
        actor,
        now,
        "installed",
        UnitState.INSTALLED,
        work_order_id=work_order_id,
        data={"replaces": replaces, "visit_id": str(visit_id) if visit_id else None},
    )


async def _removed_unit(session: AsyncSession, item: Item, serial: str, site: Location) -> Unit:
    unit = await unit_by_serial(session, serial, lock=True)
    if unit is None:
        return await new_unit(session, item.id, serial, UnitState.FAULTY)
    if unit.location_id not in (None, site.id) or unit.state in {UnitState.AVAILABLE, UnitState.RESERVED}:
        raise field_error(
            "removed_serial", "a unit with that serial is in stock, not in the customer's equipment"
        )
    return unit


def _disposition(
    item: Item, retains_media: bool, asked: SwapDisposition | None, handed_to: str | None
) -> SwapDisposition:
    if item.data_bearing and retains_media:
        if asked not in (None, SwapDisposition.CUSTOMER_RETAINED):
            raise MediaRetained(
                "This site retains media: the faulty part holds the customer's data, is handed to the "
                "customer with its serial and their signature, and never enters RMA",
                required_disposition=SwapDisposition.CUSTOMER_RETAINED.value,
            )
        if not handed_to:
            raise field_error("handed_to", "the customer who takes the part signs for it")
        return SwapDisposition.CUSTOMER_RETAINED
    chosen = asked or SwapDisposition.RETURN
    if chosen is SwapDisposition.CUSTOMER_RETAINED:
        raise field_error("disposition", "only a data-bearing part at a site that retains media stays there")
    if chosen is SwapDisposition.DESTROYED and not item.data_bearing:
        raise field_error(
            "disposition", "only data-bearing parts are destroyed in the field; return this one"
        )
    return chosen


async def record_swap(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    *,
    engineer_id: uuid.UUID,
    work_order_id: uuid.UUID,
    visit_id: uuid.UUID | None,
    site: Location,
    retains_media: bool,
    installed_serial: str,
    removed_serial: str,
    disposition: SwapDisposition | None = None,
    handed_to: str | None = None,
    signature: str | None = None,
    destruction_method: str | None = None,
    destruction_witness: str | None = None,
    return_by: dt.date | None = None,
) -> PartSwap:
    """A serialized part swapped on a work order, both serials recorded."""
    if installed_serial == removed_serial:
        raise field_error("removed_serial", "the removed part has another serial than the new one")
    installed, item = await _serialized_unit(session, installed_serial)
    chosen = _disposition(item, retains_media, disposition, handed_to)
    if chosen is SwapDisposition.DESTROYED and not (destruction_method and destruction_witness):
        raise field_error("destruction_method", "a destruction names its method and its witness")
    if return_by is not None and return_by <= now.date():
        raise field_error("return_by", "the return deadline lies in the future")
    van = await ledger.van_of(session, engineer_id)
    await _install(
        session,
        actor,
        now,
        installed,
        van=van,
        site=site,
        work_order_id=work_order_id,
        visit_id=visit_id,
        replaces=removed_serial,
    )
    removed = await _removed_unit(session, item, removed_serial, site)
    swap = PartSwap(
        id=uuid.uuid4(),
        work_order_id=work_order_id,
        visit_id=visit_id,
        at=now,
        actor_id=actor.user_id,
        item_id=item.id,
        installed_unit_id=installed.id,
        installed_serial=installed.serial,
        removed_unit_id=removed.id,
        removed_serial=removed.serial,
        disposition=chosen,
    )
    if chosen is SwapDisposition.RETURN:
        await _to_defective_bin(
            session, actor, now, removed, swap, engineer_id=engineer_id, return_by=return_by
        )
    elif chosen is SwapDisposition.CUSTOMER_RETAINED:
        _hand_to_customer(session, actor, now, removed, swap, handed_to=handed_to, signature=signature)
    else:
        await _destroy(session, actor, now, removed, swap, destruction_method, destruction_witness)
    session.add(swap)
    await session.flush()
    return swap


async def _serialized_unit(session: AsyncSession, serial: str) -> tuple[Unit, Item]:
    """The unit about to be installed, locked, and its item (which must be a serialized part)."""
    unit = await unit_by_serial(session, serial, lock=True)
    if unit is None:
        raise field_error("installed_serial", "no unit with that serial in the books")
    item = await session.get(Item, unit.item_id)
    assert item is not None
    if item.kind is not ItemKind.DEVICE:
        raise field_error("installed_serial", "not a serialized part")
    return unit, item


async def _to_defective_bin(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    removed: Unit,
    swap: PartSwap,
    *,
    engineer_id: uuid.UUID,
    return_by: dt.date | None,
) -> None:
    """The faulty part goes into the engineer's defective bin, with the manufacturer's deadline."""
    bin_ = await defective_bin_of(session, engineer_id)
    await ledger.move_unit(
        session,
        actor,
        now,
        removed,
        MoveKind.TRANSFER if removed.location_id else MoveKind.RECEIVE,
        to=bin_.id,
        work_order_id=swap.work_order_id,
        visit_id=swap.visit_id,
        reason=f"faulty part removed, replaced by {swap.installed_serial}",
    )
    swap.bin_location_id = bin_.id
    swap.return_by = return_by or (now + dt.timedelta(days=RETURN_DAYS)).date()
    set_state(
        session,
        removed,
        actor,
        now,
        "removed_to_defective_bin",
        UnitState.FAULTY,
        work_order_id=swap.work_order_id,
        data={"replaced_by": swap.installed_serial, "return_by": swap.return_by.isoformat()},
    )


def _hand_to_customer(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    removed: Unit,
    swap: PartSwap,
    *,
    handed_to: str | None,
    signature: str | None,
) -> None:
    """A data-bearing part stays with the customer, who signs for its serial."""
    removed.customer_owned = True
    swap.handed_to, swap.signature = handed_to, signature
    set_state(
        session,
        removed,
        actor,
        now,
        "handed_to_customer",
        UnitState.FAULTY,
        work_order_id=swap.work_order_id,
        data={"serial": removed.serial, "signed_by": handed_to, "replaced_by": swap.installed_serial},
    )


async def _destroy(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    unit: Unit,
    swap: PartSwap,
    method: str | None,
    witness: str | None,
) -> None:
    if unit.location_id is not None:
        await ledger.move_unit(
            session,
            actor,
            now,
            unit,
            MoveKind.SCRAP,
            to=None,
            work_order_id=swap.work_order_id,
            reason=f"data-bearing part destroyed ({method}, witness {witness})",
        )
    swap.disposition = SwapDisposition.DESTROYED
    swap.destruction_method, swap.destruction_witness, swap.destroyed_at = method, witness, now
    set_state(
        session,
        unit,
        actor,
        now,
        "destroyed",
        UnitState.SCRAPPED,
        work_order_id=swap.work_order_id,
        data={"method": method, "witness": witness},
    )


async def locked_swap(session: AsyncSession, swap_id: uuid.UUID) -> PartSwap:
    return await locked_or_404(session, PartSwap, swap_id, "part swap")


def _in_bin(swap: PartSwap) -> None:
    if swap.disposition is SwapDisposition.CUSTOMER_RETAINED:
        raise MediaRetained(
            f"Part {swap.removed_serial} was handed to the customer; it never enters RMA",
            serial=swap.removed_serial,
        )
    if swap.disposition is not SwapDisposition.RETURN or swap.returned_at is not None:
        raise IllegalStockStep(
            f"Part {swap.removed_serial} is no longer in a defective bin",
            disposition=swap.disposition.value,
        )


async def send_to_vendor(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    unit: Unit,
    *,
    work_order_id: uuid.UUID | None,
    reason: str,
) -> None:
    """Book a unit out to the manufacturer / repair vendor; retained media never leave."""
    await refuse_if_retained(session, unit)
    vendor = await ledger.vendor_location(session)
    await ledger.move_unit(
        session, actor, now, unit, MoveKind.TRANSFER, to=vendor.id, work_order_id=work_order_id, reason=reason
    )


async def return_defective(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    swap_id: uuid.UUID,
    *,
    waybill: str,
    version: int | None = None,
) -> PartSwap:
    """The faulty part is shipped back to the manufacturer (before their deadline, one hopes)."""
    swap = await locked_swap(session, swap_id)
    expect_version(swap, version, "part swap")
    _in_bin(swap)
    unit = await locked_unit(session, swap.removed_unit_id)
    await send_to_vendor(
        session,
        actor,
        now,
        unit,
        work_order_id=swap.work_order_id,
        reason=f"defective part returned to the manufacturer, waybill {waybill}",
    )
    set_state(
        session,
        unit,
        actor,
        now,
        "returned_to_manufacturer",
        UnitState.FAULTY,
        work_order_id=swap.work_order_id,
        data={"waybill": waybill, "return_by": swap.return_by.isoformat() if swap.return_by else None},
    )
    swap.returned_at, swap.return_waybill = now, waybill
    await session.flush()
    return swap


async def destroy_defective(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    swap_id: uuid.UUID,
    *,
    method: str,
    witness: str,
    version: int | None = None,
) -> PartSwap:
    """A data-bearing part from a defective bin is destroyed instead of returned."""
    swap = await locked_swap(session, swap_id)
    expect_version(swap, version, "part swap")
    _in_bin(swap)
    unit = await locked_unit(session, swap.removed_unit_id)
    item = await session.get(Item, unit.item_id)
    if item is None or not item.data_bearing:
        raise field_error("swap_id", "only data-bearing parts are destroyed; return this one")
    await _destroy(session, actor, now, unit, swap, method, witness)
    await session.flush()
    return swap


async def list_swaps(
    session: AsyncSession,
    *,
    work_order_id: uuid.UUID | None,
    open_returns: bool,
    limit: int = 100,
    cursor: str | None = None,
) -> Page[PartSwap]:
    stmt = select(PartSwap)
    if work_order_id is not None:
        stmt = stmt.where(PartSwap.work_order_id == work_order_id)
    if open_returns:
        stmt = stmt.where(PartSwap.disposition == SwapDisposition.RETURN, PartSwap.returned_at.is_(None))
    return await keyset_page(session, stmt, [PartSwap.at, PartSwap.id], limit=limit, cursor=cursor)
