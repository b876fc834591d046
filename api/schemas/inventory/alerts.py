"""Overdue loans and units stuck at the vendor."""

from __future__ import annotations

import uuid

import msgspec


class AlertOut(msgspec.Struct):
    kind: str
    work_order_id: uuid.UUID | None
    serial: str
    since: str
    record_id: uuid.UUID


class AlertPage(msgspec.Struct):
    items: list[AlertOut]
    next_cursor: str | None
