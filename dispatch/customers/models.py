"""Customers → sites → assets."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, validates

from core import zones
from core.database import Base, Timestamps, UUIDPrimaryKey, Versioned, point_column
from core.weekly_hours import WeeklySpan


class Customer(UUIDPrimaryKey, Timestamps, Versioned, Base):
    __tablename__ = "customer"
    __mapper_args__ = {"version_id_col": Versioned.version}
    # Name search (the customer list's and the work orders' `q`, ILIKE '%…%') by trigrams.
    __table_args__ = (
        Index(
            "ix_customer_name_trgm", "name", postgresql_using="gin", postgresql_ops={"name": "gin_trgm_ops"}
        ),
    )

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
    # Faulty disks stay with the customer at such sites (docs/rules.md, "Data-bearing parts").
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

    @property
    def access_spans(self) -> list[WeeklySpan]:
        return [access_span(w) for w in self.access_windows]


def access_span(window: Mapping[str, Any]) -> WeeklySpan:
    """One stored access window: `{"weekday": 0-6 or null, "from": "HH:MM", "until": "HH:MM"}`."""
    return WeeklySpan(
        window.get("weekday"), dt.time.fromisoformat(window["from"]), dt.time.fromisoformat(window["until"])
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
