"""Engineers: skills, shifts, home base; their positions (with consent)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from api.schemas.common import GeoPoint, Input, ShortText, TimeZoneName, WallTime
from core.times import Day, Instant
from dispatch.engineers.models import AbsenceKind, EmployerKind
from dispatch.engineers.positions import LivePosition

# Per-shift overtime up to 12 h; what is left of a month's up to a month.
DayOvertime = Annotated[int, msgspec.Meta(ge=0, le=12 * 60)]
MonthOvertime = Annotated[int, msgspec.Meta(ge=0, le=31 * 24 * 60)]
RestMinutes = Annotated[int, msgspec.Meta(ge=0, le=24 * 60)]
SkillName = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[a-z0-9_\-]+$")]


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


class PositionIn(Input):
    at: Instant
    point: GeoPoint
    accuracy_m: Annotated[float, msgspec.Meta(ge=0, le=100_000)] | None = None
    # Coordinates from a Chinese map SDK are converted to WGS-84 at the edge.
    datum: Annotated[str, msgspec.Meta(pattern="^(wgs84|gcj02|bd09)$")] = "wgs84"


class PositionsIn(Input):
    positions: Annotated[list[PositionIn], msgspec.Meta(min_length=1, max_length=500)]


class PositionsOut(msgspec.Struct):
    accepted: int
    ignored_off_shift: int


class ConsentOut(msgspec.Struct):
    engineer_id: uuid.UUID
    granted_at: dt.datetime
    withdrawn_at: dt.datetime | None


class AbsenceIn(Input):
    starts_at: Instant
    ends_at: Instant
    kind: AbsenceKind
    note: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class AbsenceOut(msgspec.Struct):
    id: uuid.UUID
    engineer_id: uuid.UUID
    starts_at: dt.datetime
    ends_at: dt.datetime
    kind: AbsenceKind
    note: str | None
    created_by: uuid.UUID | None
    created_at: dt.datetime
    version: int


class AbsencePage(msgspec.Struct):
    items: list[AbsenceOut]
    next_cursor: str | None


class PositionPage(msgspec.Struct):
    items: list[LivePosition]
    next_cursor: str | None
