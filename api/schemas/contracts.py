"""Contracts: SLA targets, business hours, holiday calendars."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from api.schemas.common import Input, ShortText, WallTime
from core.times import Day
from dispatch.contracts.models import (
    CalendarKind,
    CountMode,
    DayKind,
    DeadlineRule,
    Measure,
    Severity,
    StartRule,
)

Hours = dict[str, list[list[str]]]
Minutes = Annotated[int, msgspec.Meta(gt=0, le=366 * 24 * 60)]
ConfirmationHours = Annotated[int, msgspec.Meta(ge=1, le=30 * 24)]


class TargetIO(Input):
    severity: Severity
    measure: Measure
    rule: DeadlineRule
    count_mode: CountMode
    start_rule: StartRule
    minutes: Minutes | None = None
    cutoff: WallTime | None = None


class Escalation(Input):
    share: Annotated[float, msgspec.Meta(gt=0, le=1)]
    notify: ShortText
    inform_customer: bool = False


class ContractIn(Input):
    customer_id: uuid.UUID
    contract_number: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    name: ShortText
    calendar_kind: CalendarKind
    starts_on: Day
    ends_on: Day
    business_hours: Hours = {}
    holiday_calendar_id: uuid.UUID | None = None
    backup_device_entitled: bool = True
    # A restore the customer has not confirmed within this many hours counts as confirmed.
    restore_confirmation_hours: ConfirmationHours = 72
    escalation: list[Escalation] = []
    # Omitted: the severity table for this calendar kind (docs/rules.md, "SLA targets by severity").
    targets: list[TargetIO] | None = None


class ContractPatch(Input):
    version: int
    name: ShortText | UnsetType = UNSET
    calendar_kind: CalendarKind | UnsetType = UNSET
    starts_on: Day | UnsetType = UNSET
    ends_on: Day | UnsetType = UNSET
    business_hours: Hours | UnsetType = UNSET
    holiday_calendar_id: uuid.UUID | UnsetType | None = UNSET
    backup_device_entitled: bool | UnsetType = UNSET
    restore_confirmation_hours: ConfirmationHours | UnsetType = UNSET
    escalation: list[Escalation] | UnsetType = UNSET
    targets: list[TargetIO] | UnsetType = UNSET


class TargetOut(msgspec.Struct):
    severity: Severity
    measure: Measure
    rule: DeadlineRule
    count_mode: CountMode
    start_rule: StartRule
    minutes: int | None
    cutoff: dt.time | None


class EscalationOut(msgspec.Struct):
    # The share of the target used at which this step fires, whom it notifies, and whether
    # the customer is told too.
    share: float
    notify: str
    inform_customer: bool = False


class ContractOut(msgspec.Struct):
    id: uuid.UUID
    customer_id: uuid.UUID
    customer_name: str
    contract_number: str
    name: str
    calendar_kind: CalendarKind
    business_hours: Hours
    holiday_calendar_id: uuid.UUID | None
    starts_on: dt.date
    ends_on: dt.date
    backup_device_entitled: bool
    restore_confirmation_hours: int
    escalation: list[EscalationOut]
    targets: list[TargetOut]
    version: int


class ContractPage(msgspec.Struct):
    items: list[ContractOut]
    next_cursor: str | None


class CalendarIn(Input):
    name: ShortText
    region: Annotated[str, msgspec.Meta(min_length=2, max_length=32)]
    # An explicit choice: no public holidays, every year loaded (a business-hours contract must
    # name some calendar).
    no_public_holidays: bool = False


class HolidayDayIO(Input):
    day: Day
    kind: DayKind
    name: ShortText


class CalendarYearIn(Input):
    days: list[HolidayDayIO]


class CalendarOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    region: str
    years: list[int]
    no_public_holidays: bool
    days: list[HolidayDayIO]


class CalendarPage(msgspec.Struct):
    items: list[CalendarOut]
    next_cursor: str | None
