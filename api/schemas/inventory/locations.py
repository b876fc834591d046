"""Stock locations and warehouse opening hours."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec

from api.schemas.common import GeoPoint, Input, WallTime


class LocationOut(msgspec.Struct):
    id: uuid.UUID
    code: str
    name: str
    kind: str
    address: str | None
    point: GeoPoint | None
    engineer_id: uuid.UUID | None
    # warehouse: daily opening hours (both null: any time; `closes` before `opens`: the next day).
    opens: dt.time | None
    closes: dt.time | None
    version: int = 1
    # A van's or backpack's engineer.
    engineer_name: str | None = None


class LocationPage(msgspec.Struct):
    items: list[LocationOut]
    next_cursor: str | None


class LocationHoursIn(Input):
    # Local wall-clock times in the planning time zone; both null: open any time.
    opens: WallTime | None
    closes: WallTime | None
    # The location's version as read; without one (older clients) the hours replace what is current.
    version: int | None = None
