"""Contracts, holiday calendars, engineers and users."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from api.schemas.common import GeoPoint, Input, Phone, ShortText, TimeZoneName
from core.identity.roles import Role
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
from dispatch.engineers.models import EmployerKind

Hours = dict[str, list[list[str]]]
Minutes = Annotated[int, msgspec.Meta(gt=0, le=366 * 24 * 60)]
# Per-shift overtime up to 12 h; what is left of a month's up to a month.
DayOvertime = Annotated[int, msgspec.Meta(ge=0, le=12 * 60)]
MonthOvertime = Annotated[int, msgspec.Meta(ge=0, le=31 * 24 * 60)]
RestMinutes = Annotated[int, msgspec.Meta(ge=0, le=24 * 60)]
# A wall-clock time in the engineer's or site's time zone: one with an offset of its own is refused.
WallTime = Annotated[dt.time, msgspec.Meta(tz=False)]
SkillName = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[a-z0-9_\-]+$")]


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


class ContractOut(msgspec.Struct):
    id: uuid.UUID
    customer_id: uuid.UUID
    contract_number: str
    name: str
    calendar_kind: CalendarKind
    business_hours: Hours
    holiday_calendar_id: uuid.UUID | None
    starts_on: dt.date
    ends_on: dt.date
    backup_device_entitled: bool
    escalation: list[dict[str, object]]
    targets: list[TargetOut]
    version: int


class ContractPage(msgspec.Struct):
    items: list[ContractOut]
    next_cursor: str | None


class CalendarIn(Input):
    name: ShortText
    region: Annotated[str, msgspec.Meta(min_length=2, max_length=32)]


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
    days: list[HolidayDayIO]


class SkillIO(Input):
    skill: SkillName
    level: Annotated[int, msgspec.Meta(ge=1, le=5)]
    valid_until: Day | None = None


class ShiftIO(Input):
    weekday: Annotated[int, msgspec.Meta(ge=0, le=6)]
    starts: WallTime
    ends: WallTime  # before `starts`: the next day
    # A standby period: only critical work, and only while the engineer is on call.
    on_call: bool = False


class EngineerIn(Input):
    # The engineer's user account (role engineer); the record shares its id.
    id: uuid.UUID
    employer_kind: EmployerKind
    employer_name: ShortText
    home_base: GeoPoint
    time_zone: TimeZoneName = "Asia/Shanghai"
    home_address: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    on_call: bool = False
    skills: list[SkillIO] = []
    shifts: list[ShiftIO] = []
    overtime_cap_minutes_day: DayOvertime = 180
    # Null: no monthly cap.
    overtime_left_month_minutes: MonthOvertime | None = None
    stays_away_overnight: bool = False
    rest_after_call_minutes: RestMinutes = 0


class EngineerPatch(Input):
    version: int
    employer_kind: EmployerKind | UnsetType = UNSET
    employer_name: ShortText | UnsetType = UNSET
    home_base: GeoPoint | UnsetType = UNSET
    time_zone: TimeZoneName | UnsetType = UNSET
    home_address: Annotated[str, msgspec.Meta(max_length=500)] | UnsetType | None = UNSET
    on_call: bool | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    skills: list[SkillIO] | UnsetType = UNSET
    shifts: list[ShiftIO] | UnsetType = UNSET
    overtime_cap_minutes_day: DayOvertime | UnsetType = UNSET
    overtime_left_month_minutes: MonthOvertime | UnsetType | None = UNSET
    stays_away_overnight: bool | UnsetType = UNSET
    rest_after_call_minutes: RestMinutes | UnsetType = UNSET


class EngineerOut(msgspec.Struct):
    id: uuid.UUID
    username: str
    display_name: str
    employer_kind: EmployerKind
    employer_name: str
    home_base: GeoPoint
    home_address: str | None
    time_zone: str
    on_call: bool
    active: bool
    skills: list[SkillIO]
    shifts: list[ShiftIO]
    overtime_cap_minutes_day: int
    overtime_left_month_minutes: int | None
    stays_away_overnight: bool
    rest_after_call_minutes: int
    version: int


class EngineerPage(msgspec.Struct):
    items: list[EngineerOut]
    next_cursor: str | None


Password = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Username = Annotated[str, msgspec.Meta(min_length=2, max_length=64, pattern=r"^[a-z0-9._\-]+$")]
Email = Annotated[str, msgspec.Meta(max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")]


class UserIn(Input):
    username: Username
    display_name: ShortText
    role: Role
    password: Password
    email: Email | None = None
    phone: Phone | None = None
    customer_id: uuid.UUID | None = None


class UserPatch(Input):
    display_name: ShortText | UnsetType = UNSET
    role: Role | UnsetType = UNSET
    password: Password | UnsetType = UNSET
    email: Email | UnsetType | None = UNSET
    phone: Phone | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET
    customer_id: uuid.UUID | UnsetType | None = UNSET


class PasswordChangeIn(Input):
    current_password: Password
    new_password: Password


class UserOut(msgspec.Struct):
    id: uuid.UUID
    username: str
    display_name: str
    role: Role
    email: str | None
    phone: str | None
    active: bool
    customer_id: uuid.UUID | None


class UserPage(msgspec.Struct):
    items: list[UserOut]
    next_cursor: str | None


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


class LocationHoursIn(Input):
    # Local wall-clock times in the planning time zone; both null: open any time.
    opens: WallTime | None
    closes: WallTime | None
