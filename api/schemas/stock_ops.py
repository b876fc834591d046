"""Request and response bodies of part swaps, shipments, replenishment, counts and stock KPIs."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec

from api.schemas.common import Input, LongText, ShortText
from api.schemas.stock import MoveOut
from core.times import Day, Instant
from inventory.models import CountStatus, SwapDisposition

Quantity = Annotated[int, msgspec.Meta(ge=1, le=100_000)]
Count = Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]
Serial = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Waybill = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Mac = Annotated[str, msgspec.Meta(min_length=1, max_length=32, pattern=r"^[0-9A-Fa-f:.\-]+$")]


class PartSwapIn(Input):
    """A serialized part swapped on a visit: the new serial in, the faulty serial out."""

    visit_id: uuid.UUID
    installed_serial: Serial
    removed_serial: Serial
    # return (default), customer_retained (data-bearing at a site that retains media), destroyed
    disposition: SwapDisposition | None = None
    handed_to: Name | None = None
    signature: LongText | None = None
    destruction_method: Name | None = None
    destruction_witness: Name | None = None
    return_by: Day | None = None
    # The asset's new identity when the swap changed it (a main board, say).
    asset_serial: Serial | None = None
    asset_mac: Mac | None = None


class PartSwapOut(msgspec.Struct):
    id: uuid.UUID
    work_order_id: uuid.UUID
    visit_id: uuid.UUID | None
    at: dt.datetime
    item_id: uuid.UUID
    installed_unit_id: uuid.UUID
    installed_serial: str
    removed_unit_id: uuid.UUID
    removed_serial: str
    disposition: SwapDisposition
    bin_location_id: uuid.UUID | None
    return_by: dt.date | None
    returned_at: dt.datetime | None
    return_waybill: str | None
    handed_to: str | None
    destruction_method: str | None
    destruction_witness: str | None
    destroyed_at: dt.datetime | None


class DefectiveReturnIn(Input):
    waybill: Waybill


class DestructionIn(Input):
    method: Name
    witness: Name


class ShipmentLineIn(Input):
    item_id: uuid.UUID
    quantity: Quantity


class ShipmentIn(Input):
    """Parts on their way: from a location (courier) or from outside the books (the
    manufacturer), to a warehouse, a van (`to_location_id`) or a customer site (`site_id`)."""

    waybill: Waybill
    eta: Instant
    to_location_id: uuid.UUID | None = None
    site_id: uuid.UUID | None = None
    from_location_id: uuid.UUID | None = None
    lines: list[ShipmentLineIn] = []
    unit_ids: list[uuid.UUID] = []


class ShipmentOut(msgspec.Struct):
    id: uuid.UUID
    code: str
    waybill: str | None
    eta: dt.datetime | None
    destination_id: uuid.UUID | None
    site_id: uuid.UUID | None
    contents: dict[str, int]


class LevelIn(Input):
    item_id: uuid.UUID
    location_id: uuid.UUID
    min_quantity: Count
    max_quantity: Quantity


class LevelOut(msgspec.Struct):
    item_id: uuid.UUID
    location_id: uuid.UUID
    min_quantity: int
    max_quantity: int


class SuggestionOut(msgspec.Struct):
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


class RestockLineOut(msgspec.Struct):
    item_id: uuid.UUID | None
    sku: str
    needed: int
    in_van: int
    in_transit: int
    to_load: int
    from_location_id: uuid.UUID | None


class RestockListOut(msgspec.Struct):
    engineer_id: uuid.UUID
    username: str
    day: dt.date
    van_location_id: uuid.UUID | None
    visit_ids: list[uuid.UUID]
    lines: list[RestockLineOut]


class TransferLineIn(Input):
    item_id: uuid.UUID
    quantity: Quantity = 1
    unit_id: uuid.UUID | None = None


class TransferIn(Input):
    """Several transfers at once (warehouse → van restock): all or nothing."""

    from_location_id: uuid.UUID
    to_location_id: uuid.UUID
    lines: list[TransferLineIn]
    reason: ShortText | None = None


class CountOpenIn(Input):
    engineer_id: uuid.UUID


class CountLineIn(Input):
    item_id: uuid.UUID
    counted: Count


class CountLinesIn(Input):
    lines: list[CountLineIn]


class CountLineOut(msgspec.Struct):
    item_id: uuid.UUID
    counted: int
    # Shown to warehouse staff once the count is submitted; never to the counting engineer.
    book: int | None
    variance: int | None


class CountOut(msgspec.Struct):
    id: uuid.UUID
    location_id: uuid.UUID
    engineer_id: uuid.UUID | None
    status: CountStatus
    opened_at: dt.datetime
    submitted_at: dt.datetime | None
    approved_at: dt.datetime | None
    reason: str | None
    version: int
    lines: list[CountLineOut]


class CountApproveIn(Input):
    reason: ShortText


class CountApprovalOut(msgspec.Struct):
    count: CountOut
    adjustments: list[MoveOut]


class HandInIn(Input):
    warehouse_id: uuid.UUID


class HandInOut(msgspec.Struct):
    engineer_id: uuid.UUID
    van_location_id: uuid.UUID | None
    moves: list[MoveOut]
    # item id → what the engineer's discrepancy location shows (negative: used, never booked in)
    discrepancy: dict[str, int]


class StockKpisOut(msgspec.Struct):
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
    # How "within reach" is defined.
    reach: str
