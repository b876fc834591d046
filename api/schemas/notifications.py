"""Notifications for the desk."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec


class NotificationOut(msgspec.Struct):
    id: uuid.UUID
    created_at: dt.datetime
    kind: str
    audience: str
    work_order_id: uuid.UUID | None
    message: str
    data: dict[str, Any]
    acknowledged_at: dt.datetime | None


class NotificationPage(msgspec.Struct):
    items: list[NotificationOut]
    next_cursor: str | None
