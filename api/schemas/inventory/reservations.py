"""Reservations and consumption of parts."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec

from api.schemas.common import Input
from api.schemas.inventory.fields import Quantity
from core.times import Instant
from inventory.models import ReservationStatus


class ReservationIn(Input):
    item_id: uuid.UUID
    location_id: uuid.UUID
    quantity: Quantity = 1
    work_order_id: uuid.UUID | None = None
    visit_id: uuid.UUID | None = None
    hold_hours: Annotated[int, msgspec.Meta(ge=1, le=24 * 14)] = 48


class ReservationOut(msgspec.Struct):
    id: uuid.UUID
    item_id: uuid.UUID
    location_id: uuid.UUID
    unit_id: uuid.UUID | None
    quantity: int
    work_order_id: uuid.UUID | None
    visit_id: uuid.UUID | None
    status: ReservationStatus
    expires_at: dt.datetime


class ConsumptionIn(Input):
    """Parts used on a work order from the engineer's own stock."""

    item_id: uuid.UUID
    quantity: Quantity
    work_order_id: uuid.UUID
    visit_id: uuid.UUID | None = None
    reservation_id: uuid.UUID | None = None
    # Recorded on the device, possibly long ago: never refused (shortfall → discrepancy).
    from_device: bool = False
    at: Instant | None = None
