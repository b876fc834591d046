"""Request and response bodies of the stock routes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from api.schemas.common import Input, LongText, ShortText
from core.times import Day, Instant
from inventory.models import ItemKind, LoanStatus, MoveKind, RepairStatus, ReservationStatus, UnitState

Quantity = Annotated[int, msgspec.Meta(ge=1, le=100_000)]
Serial = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Sku = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._\-]+$")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class ItemIn(Input):
    sku: Sku
    name: ShortText
    kind: ItemKind
    model: Name | None = None
    data_bearing: bool = False


class ItemOut(msgspec.Struct):
    id: uuid.UUID
    sku: str
    name: str
    kind: ItemKind
    model: str | None
    data_bearing: bool
    version: int


class ItemPage(msgspec.Struct):
    items: list[ItemOut]
    next_cursor: str | None


class CompatibilityIn(Input):
    customer_model: Name


class UnitIn(Input):
    """A serialized unit received into a location."""

    item_id: uuid.UUID
    serial: Serial
    location_id: uuid.UUID
    configuration: LongText | None = None


class UnitOut(msgspec.Struct):
    id: uuid.UUID
    item_id: uuid.UUID
    serial: str
    state: UnitState
    location_id: uuid.UUID | None
    customer_owned: bool
    configuration: str | None
    version: int


class UnitEventOut(msgspec.Struct):
    id: int
    at: dt.datetime
    kind: str
    from_state: str | None
    to_state: str | None
    location_id: uuid.UUID | None
    actor_id: uuid.UUID | None
    work_order_id: uuid.UUID | None
    data: dict[str, object]


class MoveOut(msgspec.Struct):
    id: int
    at: dt.datetime
    kind: MoveKind
    item_id: uuid.UUID
    quantity: int
    from_location_id: uuid.UUID | None
    to_location_id: uuid.UUID | None
    from_reserved: bool
    unit_id: uuid.UUID | None
    reservation_id: uuid.UUID | None
    work_order_id: uuid.UUID | None
    visit_id: uuid.UUID | None
    reason: str | None


class UnitHistoryOut(msgspec.Struct):
    unit: UnitOut
    events: list[UnitEventOut]
    moves: list[MoveOut]


class MoveIn(Input):
    """A movement the warehouse posts: receive, transfer, adjust (with reason), scrap, return."""

    kind: Literal["receive", "transfer", "adjust", "scrap", "return"]
    item_id: uuid.UUID
    quantity: Quantity
    from_location_id: uuid.UUID | None = None
    to_location_id: uuid.UUID | None = None
    unit_id: uuid.UUID | None = None
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)] | None = None


class BalanceOut(msgspec.Struct):
    item_id: uuid.UUID
    location_id: uuid.UUID
    on_hand: int
    reserved: int
    free: int


class ReservationIn(Input):
    item_id: uuid.UUID
    location_id: uuid.UUID
    quantity: Quantity = 1
    work_order_id: uuid.UUID | None = None
    visit_id: uuid.UUID | None = None
    hold_hours: Annotated[int, msgspec.Meta(ge=1, le=24 * 14)] = 48


class ReservationOut(msgspec.Struct):
    id: uuid.UUID
    item_id: uuid.UUID
    location_id: uuid.UUID
    unit_id: uuid.UUID | None
    quantity: int
    work_order_id: uuid.UUID | None
    visit_id: uuid.UUID | None
    status: ReservationStatus
    expires_at: dt.datetime


class ConsumptionIn(Input):
    """Parts used on a work order from the engineer's own stock."""

    item_id: uuid.UUID
    quantity: Quantity
    work_order_id: uuid.UUID
    visit_id: uuid.UUID | None = None
    reservation_id: uuid.UUID | None = None
    # Recorded on the device, possibly long ago: never refused (shortfall → discrepancy).
    from_device: bool = False
    at: Instant | None = None


class NearestOut(msgspec.Struct):
    location_id: uuid.UUID
    code: str
    kind: str
    item_id: uuid.UUID
    unit_id: uuid.UUID | None
    serial: str | None
    free: int
    metres: float
    travel_seconds: float


class BackupRequestIn(Input):
    work_order_id: uuid.UUID
    reason: ShortText


class LoanOut(msgspec.Struct):
    id: uuid.UUID
    unit_id: uuid.UUID
    work_order_id: uuid.UUID
    delivery_visit_id: uuid.UUID | None
    swap_back_visit_id: uuid.UUID | None
    status: LoanStatus
    cause: str
    signed_by: str | None
    configuration: str | None
    return_by: dt.date | None
    opened_at: dt.datetime | None
    closed_at: dt.datetime | None
    faulty_unit_id: uuid.UUID | None
    version: int


class BackupProposalOut(msgspec.Struct):
    loan: LoanOut
    visit_id: uuid.UUID
    window_end: dt.datetime | None
    from_location: str | None
    serial: str | None


class InstallIn(Input):
    visit_id: uuid.UUID
    serial: Serial
    signed_by: Name
    configuration: LongText | None = None
    return_by: Day | None = None
    faulty_serial: Serial | None = None
    restored_at: Instant | None = None


class SwapBackIn(Input):
    visit_id: uuid.UUID
    note: LongText | None = None


class RepairCaseOut(msgspec.Struct):
    id: uuid.UUID
    unit_id: uuid.UUID
    work_order_id: uuid.UUID | None
    loan_id: uuid.UUID | None
    status: RepairStatus
    waybill: str | None
    shipped_at: dt.datetime | None
    returned_at: dt.datetime | None
    version: int


class ShipIn(Input):
    waybill: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class WarehouseIn(Input):
    warehouse_id: uuid.UUID


class WriteOffIn(Input):
    note: LongText


class RepairReturnOut(msgspec.Struct):
    case: RepairCaseOut
    swap_back_visit_id: uuid.UUID | None


class WipeIn(Input):
    method: Name
    operator: Name


class AlertOut(msgspec.Struct):
    kind: str
    work_order_id: uuid.UUID | None
    serial: str
    since: str
    record_id: uuid.UUID
