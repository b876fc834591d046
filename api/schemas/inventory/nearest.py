"""Nearest available stock."""

from __future__ import annotations

import uuid

import msgspec


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
    location_name: str | None = None
    item_sku: str | None = None
    item_name: str | None = None
    engineer_name: str | None = None


class NearestPage(msgspec.Struct):
    items: list[NearestOut]
    next_cursor: str | None
