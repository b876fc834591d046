"""Items (parts and device models) and serialized units."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec

from api.schemas.common import Input, LongText, ShortText
from api.schemas.inventory.fields import Name, Serial, Sku
from api.schemas.inventory.ledger import MoveOut
from inventory.models import ItemKind, UnitState


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


class CompatibilityOut(msgspec.Struct):
    backup_item_id: uuid.UUID
    customer_model: str


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
    item_sku: str | None = None
    item_name: str | None = None
    item_model: str | None = None
    location_code: str | None = None
    location_name: str | None = None
    location_kind: str | None = None
    # The engineer whose van or backpack holds it.
    engineer_name: str | None = None


class UnitPage(msgspec.Struct):
    items: list[UnitOut]
    next_cursor: str | None


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
    location_name: str | None = None


class UnitHistoryOut(msgspec.Struct):
    unit: UnitOut
    events: list[UnitEventOut]
    moves: list[MoveOut]
