"""Min/max levels, reorder suggestions, restock lists, transfers."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec

from api.schemas.common import Input, ShortText
from api.schemas.inventory.fields import Count, Quantity
from inventory.replenishment import Suggestion


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
    item_sku: str | None = None
    item_name: str | None = None
    location_name: str | None = None


class LevelPage(msgspec.Struct):
    items: list[LevelOut]
    next_cursor: str | None


class SuggestionOut(Suggestion, frozen=True):
    """A restock suggestion, under its API name, with the item's and location's names."""

    item_name: str | None = None
    location_name: str | None = None


class SuggestionPage(msgspec.Struct):
    items: list[SuggestionOut]
    next_cursor: str | None


class RestockLineOut(msgspec.Struct):
    item_id: uuid.UUID | None
    sku: str
    needed: int
    in_van: int
    in_transit: int
    to_load: int
    from_location_id: uuid.UUID | None
    item_name: str | None = None
    from_location_name: str | None = None


class RestockListOut(msgspec.Struct):
    engineer_id: uuid.UUID
    username: str
    day: dt.date
    van_location_id: uuid.UUID | None
    visit_ids: list[uuid.UUID]
    lines: list[RestockLineOut]
    engineer_name: str | None = None
    van_location_name: str | None = None


class RestockPage(msgspec.Struct):
    items: list[RestockListOut]
    next_cursor: str | None


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
