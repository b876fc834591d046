"""Engineers with skills and shifts; position consent and the positions they report."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    SmallInteger,
    String,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from core import zones
from core.database import Base, Timestamps, UUIDPrimaryKey, Versioned, pg_enum, point_column
from core.weekly_hours import WeeklySpan


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

    @property
    def span(self) -> WeeklySpan:
        return WeeklySpan(self.weekday, self.starts, self.ends)


class PositionConsent(Base):
    """An engineer's consent to position tracking on shift (PIPL)."""

    __tablename__ = "position_consent"

    engineer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("engineer.id"), primary_key=True)
    granted_at: Mapped[dt.datetime]
    withdrawn_at: Mapped[dt.datetime | None]


class EngineerPosition(Base):
    __tablename__ = "engineer_position"
    __audited__ = False  # high-volume telemetry; consent changes are audited instead

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    engineer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("engineer.id"))
    at: Mapped[dt.datetime]
    point: Mapped[Any] = point_column()
    accuracy_m: Mapped[float | None]
    received_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


Index("ix_engineer_position_latest", EngineerPosition.engineer_id, EngineerPosition.at.desc())


class AbsenceKind(enum.StrEnum):
    SICK = "sick"
    LEAVE = "leave"
    TRAINING = "training"
    BREAK = "break"
    OTHER = "other"


class EngineerAbsence(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """A period an engineer is away (ill, on leave, in training): not planned, not offered work."""

    __tablename__ = "engineer_absence"
    __mapper_args__ = {"version_id_col": Versioned.version}
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    engineer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("engineer.id", ondelete="CASCADE"))
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    kind: Mapped[AbsenceKind] = mapped_column(pg_enum(AbsenceKind, "absence_kind"))
    note: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))


Index("ix_engineer_absence_engineer_ends", EngineerAbsence.engineer_id, EngineerAbsence.ends_at)
