"""The stock ledger: movements and balances."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from api.schemas.common import Input
from api.schemas.inventory.fields import Quantity
from inventory.models import MoveKind


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
    item_sku: str | None = None
    item_name: str | None = None
    from_location_name: str | None = None
    to_location_name: str | None = None
    serial: str | None = None


class MovePage(msgspec.Struct):
    items: list[MoveOut]
    next_cursor: str | None


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
    item_sku: str | None = None
    item_name: str | None = None
    location_code: str | None = None
    location_name: str | None = None
    location_kind: str | None = None
    # Whose van or backpack the location is.
    engineer_name: str | None = None


class BalancePage(msgspec.Struct):
    items: list[BalanceOut]
    next_cursor: str | None
