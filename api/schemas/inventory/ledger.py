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
