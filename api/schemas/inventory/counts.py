"""Blind counts and an engineer's hand-in."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec

from api.schemas.common import Input, ShortText
from api.schemas.inventory.fields import Count, Version
from api.schemas.inventory.ledger import MoveOut
from inventory.models import CountStatus


class CountOpenIn(Input):
    engineer_id: uuid.UUID


class CountLineIn(Input):
    item_id: uuid.UUID
    counted: Count


class CountLinesIn(Input):
    lines: list[CountLineIn]
    version: Version | None = None


class CountLineOut(msgspec.Struct):
    item_id: uuid.UUID
    counted: int
    # Shown to warehouse staff once the count is submitted; never to the counting engineer.
    book: int | None
    variance: int | None
    item_sku: str | None = None
    item_name: str | None = None


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
    location_name: str | None = None
    engineer_name: str | None = None


class CountPage(msgspec.Struct):
    items: list[CountOut]
    next_cursor: str | None


class CountApproveIn(Input):
    reason: ShortText
    version: Version | None = None


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
