"""Shipments in transit."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec

from api.schemas.common import Input
from api.schemas.inventory.fields import Quantity, Waybill
from core.times import Instant


class ShipmentLineIn(Input):
    item_id: uuid.UUID
    quantity: Quantity


class ShipmentLineOut(msgspec.Struct):
    item_id: uuid.UUID
    quantity: int
    item_sku: str | None = None
    item_name: str | None = None


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
    # item id → quantity (kept for older clients; `lines` names them)
    contents: dict[str, int]
    version: int = 1
    destination_name: str | None = None
    lines: list[ShipmentLineOut] = []


class ShipmentPage(msgspec.Struct):
    items: list[ShipmentOut]
    next_cursor: str | None
