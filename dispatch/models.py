"""Core records: customers → sites → assets, contracts and their calendars, engineers."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from core import zones
from core.database import Base, Timestamps, UUIDPrimaryKey, pg_enum, point_column


class Versioned:
    """Optimistic concurrency: every UPDATE checks and bumps `version` in its WHERE clause."""

    version: Mapped[int] = mapped_column(Integer, server_default=text("1"), default=1)


class Customer(UUIDPrimaryKey, Timestamps, Versioned, Base):
    __tablename__ = "customer"
    __mapper_args__ = {"version_id_col": Versioned.version}

    customer_number: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    hotline_phone: Mapped[str | None] = mapped_column(String(40))
    notes: Mapped[str | None] = mapped_column(Text)


class Site(UUIDPrimaryKey, Timestamps, Versioned, Base):
    __tablename__ = "site"
    __mapper_args__ = {"version_id_col": Versioned.version}
    __table_args__ = (CheckConstraint("registration_lead_minutes >= 0", name="registration_lead"),)

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customer.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(500))
    point: Mapped[Any] = point_column()
    time_zone: Mapped[str] = mapped_column(String(64))

    @validates("time_zone")
    def _zone_exists(self, _key: str, value: str) -> str:
        # Deadlines and local times of every work order here are computed in it.
        return zones.checked(value)

    # Regional holidays on top of the contract's calendar (e.g. a provincial day off).
    region_calendar_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("holiday_calendar.id"))
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    access_notes: Mapped[str | None] = mapped_column(Text)
    # Faulty disks stay with the customer at such sites (REQUIREMENTS: data-bearing parts).
    retains_media: Mapped[bool] = mapped_column(server_default=text("false"), default=False)
    no_photography: Mapped[bool] = mapped_column(server_default=text("false"), default=False)
    # What the QR code at reception holds: an arrival proven by scanning it must match.
    reception_code: Mapped[str | None] = mapped_column(String(200))
    # When engineers may start work there, in the site's time zone:
    # [{"weekday": 0-6 or null (every day), "from": "HH:MM", "until": "HH:MM"}]; empty: any time.
    access_windows: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb"), default=list
    )
    # Engineers must be registered with the site this long before they come.
    registration_lead_minutes: Mapped[int] = mapped_column(server_default=text("0"), default=0)
    # The site's whitelist (NULL: anyone may go), engineers it refuses, and its favourites.
    allowed_engineer_ids: Mapped[list[uuid.UUID] | None] = mapped_column(ARRAY(Uuid))
    barred_engineer_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(Uuid), server_default=text("'{}'::uuid[]"), default=list
    )
    preferred_engineer_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(Uuid), server_default=text("'{}'::uuid[]"), default=list
    )


class Asset(UUIDPrimaryKey, Timestamps, Versioned, Base):
    __tablename__ = "asset"
    __mapper_args__ = {"version_id_col": Versioned.version}
    __table_args__ = (UniqueConstraint("model", "serial"),)

    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("site.id", ondelete="RESTRICT"), index=True)
    contract_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("contract.id", ondelete="SET NULL"), index=True
    )
    model: Mapped[str] = mapped_column(String(100))
    serial: Mapped[str] = mapped_column(String(100), index=True)
    # A board swap may change it (the MAC of the management port, say).
    mac: Mapped[str | None] = mapped_column(String(32))
    purchase_date: Mapped[dt.date | None]
    warranty_end: Mapped[dt.date | None]


class CalendarKind(enum.StrEnum):
    ALWAYS = "7x24"
    BUSINESS_HOURS = "business_hours"


class Severity(enum.StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Measure(enum.StrEnum):
    RESPONSE = "response"
    ON_SITE = "on_site"
    RESTORE = "restore"
    PERMANENT_FIX = "permanent_fix"


class CountMode(enum.StrEnum):
    ELAPSED = "elapsed"
    BUSINESS = "business"


class StartRule(enum.StrEnum):
    IMMEDIATE = "immediate"
    NEXT_BUSINESS_OPENING = "next_business_opening"


class DeadlineRule(enum.StrEnum):
    DURATION = "duration"
    # By close of business on the first business day after the day the clock starts.
    NEXT_BUSINESS_DAY = "next_business_day"
    # No deadline: the visit is scheduled with the customer.
    SCHEDULED = "scheduled"


class HolidayCalendar(UUIDPrimaryKey, Timestamps, Base):
    """Non-working days and make-up working days (调休), published per year."""

    __tablename__ = "holiday_calendar"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    region: Mapped[str] = mapped_column(String(32))
    # Years whose calendar is loaded; deadlines in any other year are refused, not guessed.
    years: Mapped[list[int]] = mapped_column(JSONB, default=list)
    days: Mapped[list[HolidayDay]] = relationship(
        cascade="all, delete-orphan", order_by="HolidayDay.day", lazy="selectin"
    )


class DayKind(enum.StrEnum):
    HOLIDAY = "holiday"
    MAKEUP_WORKDAY = "makeup_workday"


class HolidayDay(Base):
    __tablename__ = "holiday_day"

    calendar_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("holiday_calendar.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[dt.date] = mapped_column(primary_key=True)
    kind: Mapped[DayKind] = mapped_column(pg_enum(DayKind, "day_kind"))
    name: Mapped[str] = mapped_column(String(100))


class Contract(UUIDPrimaryKey, Timestamps, Versioned, Base):
    __tablename__ = "contract"
    __mapper_args__ = {"version_id_col": Versioned.version}

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customer.id", ondelete="RESTRICT"), index=True)
    contract_number: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    calendar_kind: Mapped[CalendarKind] = mapped_column(pg_enum(CalendarKind, "calendar_kind"))
    # {"mon": [["09:00","12:00"],["13:00","17:00"]], ...}, in the site's time zone
    business_hours: Mapped[dict[str, list[list[str]]]] = mapped_column(JSONB, default=dict)
    holiday_calendar_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("holiday_calendar.id"))
    starts_on: Mapped[dt.date]
    ends_on: Mapped[dt.date]
    backup_device_entitled: Mapped[bool] = mapped_column(server_default=text("true"), default=True)
    # [{"share": 0.5, "notify": "service_manager"}, ...]
    escalation: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    targets: Mapped[list[ContractTarget]] = relationship(
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="(ContractTarget.severity, ContractTarget.measure)",
    )


class ContractTarget(Base):
    __tablename__ = "contract_target"
    __table_args__ = (CheckConstraint("minutes IS NULL OR minutes > 0", name="positive_minutes"),)

    contract_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contract.id", ondelete="CASCADE"), primary_key=True
    )
    severity: Mapped[Severity] = mapped_column(pg_enum(Severity, "severity"), primary_key=True)
    measure: Mapped[Measure] = mapped_column(pg_enum(Measure, "sla_measure"), primary_key=True)
    rule: Mapped[DeadlineRule] = mapped_column(pg_enum(DeadlineRule, "deadline_rule"))
    minutes: Mapped[int | None]
    count_mode: Mapped[CountMode] = mapped_column(pg_enum(CountMode, "count_mode"))
    start_rule: Mapped[StartRule] = mapped_column(pg_enum(StartRule, "start_rule"))
    # Reports after this local time start the clock at the next business opening.
    cutoff: Mapped[dt.time | None]


class EmployerKind(enum.StrEnum):
    COMPANY = "company"
    MANUFACTURER = "manufacturer"


class Engineer(Timestamps, Versioned, Base):
    __tablename__ = "engineer"
    __mapper_args__ = {"version_id_col": Versioned.version}
    __table_args__ = (
        CheckConstraint(
            "overtime_cap_minutes_day >= 0 AND rest_after_call_minutes >= 0", name="rule_minutes"
        ),
    )

    # An engineer's record shares its id with their user account.
    id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    employer_kind: Mapped[EmployerKind] = mapped_column(pg_enum(EmployerKind, "employer_kind"))
    employer_name: Mapped[str] = mapped_column(String(200))
    home_base: Mapped[Any] = point_column()
    home_address: Mapped[str | None] = mapped_column(String(500))
    time_zone: Mapped[str] = mapped_column(String(64))

    @validates("time_zone")
    def _zone_exists(self, _key: str, value: str) -> str:
        # The engineer's shifts are laid over days in it.
        return zones.checked(value)

    on_call: Mapped[bool] = mapped_column(server_default=text("false"), default=False)
    active: Mapped[bool] = mapped_column(server_default=text("true"), default=True)
    overtime_cap_minutes_day: Mapped[int] = mapped_column(server_default=text("180"), default=180)
    # What this month's timesheets still allow (NULL: no monthly cap); kept by whoever keeps them.
    overtime_left_month_minutes: Mapped[int | None]
    # Away overnight between shifts (a hotel near the work): no drive home in between.
    stays_away_overnight: Mapped[bool] = mapped_column(server_default=text("false"), default=False)
    # Rest before regular work after an on-call call-out.
    rest_after_call_minutes: Mapped[int] = mapped_column(server_default=text("0"), default=0)
    skills: Mapped[list[EngineerSkill]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="EngineerSkill.skill"
    )
    shifts: Mapped[list[EngineerShift]] = relationship(
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="(EngineerShift.weekday, EngineerShift.starts)",
    )


class EngineerSkill(Base):
    __tablename__ = "engineer_skill"
    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 5", name="level_range"),)

    engineer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("engineer.id", ondelete="CASCADE"), primary_key=True
    )
    skill: Mapped[str] = mapped_column(String(64), primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger)
    # Licences and certifications expire (e.g. an electrician's licence for UPS work).
    valid_until: Mapped[dt.date | None]


class EngineerShift(Base):
    """A weekly working pattern, in the engineer's time zone; weekday 0 = Monday.

    `ends` before `starts` runs past midnight: Monday 18:00 → 08:00 ends on Tuesday."""

    __tablename__ = "engineer_shift"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("starts <> ends", name="not_empty"),
    )

    engineer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("engineer.id", ondelete="CASCADE"), primary_key=True
    )
    weekday: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    starts: Mapped[dt.time] = mapped_column(primary_key=True)
    ends: Mapped[dt.time]
    # A standby period (nights, weekends): only critical work, and only while the engineer is on call.
    on_call: Mapped[bool] = mapped_column(server_default=text("false"), default=False)

    @property
    def overnight(self) -> bool:
        return self.ends < self.starts
