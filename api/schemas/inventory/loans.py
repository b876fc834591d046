"""Backup loans, returned units and repair cases (RMA)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec

from api.schemas.common import Input, LongText, ShortText
from api.schemas.inventory.fields import Name, Serial, Version
from core.times import Day, Instant
from inventory.models import LoanStatus, RepairStatus


class BackupRequestIn(Input):
    work_order_id: uuid.UUID
    reason: ShortText


class LoanOut(msgspec.Struct):
    id: uuid.UUID
    unit_id: uuid.UUID
    work_order_id: uuid.UUID
    delivery_visit_id: uuid.UUID | None
    swap_back_visit_id: uuid.UUID | None
    status: LoanStatus
    cause: str
    signed_by: str | None
    configuration: str | None
    return_by: dt.date | None
    opened_at: dt.datetime | None
    closed_at: dt.datetime | None
    faulty_unit_id: uuid.UUID | None
    version: int
    # The backup unit's serial and model.
    serial: str | None = None
    item_sku: str | None = None
    item_name: str | None = None
    # Still out past `return_by` (in the lists).
    overdue: bool = False


class LoanPage(msgspec.Struct):
    items: list[LoanOut]
    next_cursor: str | None


class BackupProposalOut(msgspec.Struct):
    loan: LoanOut
    visit_id: uuid.UUID
    window_end: dt.datetime | None
    from_location: str | None
    serial: str | None


class InstallIn(Input):
    visit_id: uuid.UUID
    serial: Serial
    signed_by: Name
    configuration: LongText | None = None
    return_by: Day | None = None
    faulty_serial: Serial | None = None
    restored_at: Instant | None = None


class SwapBackIn(Input):
    visit_id: uuid.UUID
    note: LongText | None = None


class RepairCaseOut(msgspec.Struct):
    id: uuid.UUID
    unit_id: uuid.UUID
    work_order_id: uuid.UUID | None
    loan_id: uuid.UUID | None
    status: RepairStatus
    waybill: str | None
    shipped_at: dt.datetime | None
    returned_at: dt.datetime | None
    version: int
    at_vendor_since: dt.datetime | None = None
    # Whole days since it was shipped (or reached the vendor), until it came back.
    days_at_vendor: int | None = None
    serial: str | None = None
    item_sku: str | None = None
    item_name: str | None = None


class RepairPage(msgspec.Struct):
    items: list[RepairCaseOut]
    next_cursor: str | None


class ShipIn(Input):
    waybill: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    version: Version | None = None


class WarehouseIn(Input):
    warehouse_id: uuid.UUID
    version: Version | None = None


class WriteOffIn(Input):
    note: LongText
    version: Version | None = None


class RepairReturnOut(msgspec.Struct):
    case: RepairCaseOut
    swap_back_visit_id: uuid.UUID | None


class WipeIn(Input):
    method: Name
    operator: Name
    version: Version | None = None
