"""Contracts, their per-severity targets, holiday calendars; the severities and measures clocks use."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    String,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import Base, Timestamps, UUIDPrimaryKey, Versioned, pg_enum


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
    # Chosen on purpose by an admin: no public holidays at all, every year counts as loaded. A
    # business-hours contract must name a calendar, so "none" is never an accident.
    no_public_holidays: Mapped[bool] = mapped_column(server_default=text("false"), default=False)
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
    # A restore the customer has not confirmed in this many hours counts as confirmed by default.
    restore_confirmation_hours: Mapped[int] = mapped_column(
        CheckConstraint("restore_confirmation_hours > 0", name="positive_restore_confirmation_hours"),
        server_default=text("72"),
        default=72,
    )
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
