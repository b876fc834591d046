"""Notifications for the desk."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

import msgspec

from api.schemas.common import Input


class NotificationOut(msgspec.Struct):
    id: uuid.UUID
    created_at: dt.datetime
    kind: str
    audience: str
    work_order_id: uuid.UUID | None
    work_order_problem_number: str | None
    message: str
    data: dict[str, Any]
    acknowledged_at: dt.datetime | None


class NotificationPage(msgspec.Struct):
    items: list[NotificationOut]
    next_cursor: str | None


class AcknowledgeManyIn(Input):
    ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=500)] | None = None
    kind: Annotated[str, msgspec.Meta(min_length=1, max_length=40)] | None = None


class AcknowledgedOut(msgspec.Struct):
    acknowledged: int
    ids: list[uuid.UUID]
