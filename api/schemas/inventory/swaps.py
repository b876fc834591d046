"""Part swaps and the defective part's fate."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec

from api.schemas.common import Input, LongText
from api.schemas.inventory.fields import Mac, Name, Serial, Version, Waybill
from core.times import Day
from inventory.models import SwapDisposition


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
    version: int = 1
    item_sku: str | None = None
    item_name: str | None = None
    bin_location_name: str | None = None
    # Past `return_by` and not yet returned (the manufacturer bills after it).
    overdue: bool = False


class PartSwapPage(msgspec.Struct):
    items: list[PartSwapOut]
    next_cursor: str | None


class DefectiveReturnIn(Input):
    waybill: Waybill
    version: Version | None = None


class DestructionIn(Input):
    method: Name
    witness: Name
    version: Version | None = None
