"""Work orders, their timeline and contact records, backup offers, visits and visit notes."""

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
    Integer,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import Base, Timestamps, UUIDPrimaryKey, pg_enum, point_column
from dispatch.contracts.models import Severity
from dispatch.sla.models import NO_DEADLINE, SlaClock


class Channel(enum.StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    WEB = "web"
    WALK_IN = "walk_in"
    FAX = "fax"
    LETTER = "letter"
    CHAT = "chat"
    INTEGRATION = "integration"


class Status(enum.StrEnum):
    NEW = "new"
    TRIAGED = "triaged"
    SCHEDULED = "scheduled"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    RESOLVED = "resolved"
    SIGNED = "signed"
    CLOSED = "closed"
    REMOTE_FIX = "remote_fix"
    WAITING_CUSTOMER = "waiting_customer"
    BACKUP_INSTALLED = "backup_installed"
    CANCELLED = "cancelled"
    REOPENED = "reopened"


class WorkOrder(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "work_order"
    __table_args__ = (
        CheckConstraint("length(fault_description) <= 4000", name="description_length"),
        Index("ix_work_order_open", "status", postgresql_where=text("status NOT IN ('closed', 'cancelled')")),
    )

    problem_number: Mapped[str] = mapped_column(String(32), unique=True)
    # Customer number + service number + date (docs/rules.md, "Traceability").
    archive_id: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customer.id"), index=True)
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("site.id"), index=True)
    asset_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("asset.id"), index=True)
    contract_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("contract.id"))
    asset_model: Mapped[str | None] = mapped_column(String(100))
    asset_serial: Mapped[str | None] = mapped_column(String(100), index=True)
    purchase_date: Mapped[dt.date | None]
    warranty_end: Mapped[dt.date | None]
    billable: Mapped[bool] = mapped_column(default=False)
    contact_name: Mapped[str] = mapped_column(String(100))
    contact_phone: Mapped[str] = mapped_column(String(40))
    fault_description: Mapped[str] = mapped_column(Text)
    impact_scope: Mapped[str | None] = mapped_column(String(500))
    severity: Mapped[Severity] = mapped_column(pg_enum(Severity, "severity"), index=True)
    channel: Mapped[Channel] = mapped_column(pg_enum(Channel, "intake_channel"))
    status: Mapped[Status] = mapped_column(pg_enum(Status, "work_order_status"), index=True)
    # Where a waiting_customer order returns to.
    resume_status: Mapped[Status | None] = mapped_column(pg_enum(Status, "work_order_status"))
    # The first receipt on any channel: every SLA clock starts here.
    reported_at: Mapped[dt.datetime] = mapped_column(index=True)
    reported_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    # Entered through the historical import (older than live intake takes): never watched, never
    # announced live; its clocks are computed like any other's for the record.
    imported: Mapped[bool] = mapped_column(server_default=text("false"), default=False)
    restored_at: Mapped[dt.datetime | None]
    resolved_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    confirmed_by: Mapped[str | None] = mapped_column(String(100))
    confirmed_at: Mapped[dt.datetime | None]
    confirmed_channel: Mapped[str | None] = mapped_column(String(32))
    repeat_faults: Mapped[int] = mapped_column(SmallInteger, default=0)
    # Raised when the restore clock goes at risk: the inventory flow offers a backup unit.
    backup_needed: Mapped[bool] = mapped_column(default=False)
    # The nearest open SLA deadline, kept by the clock service: lists sort by it.
    due_at: Mapped[dt.datetime] = mapped_column(default=lambda: NO_DEADLINE, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}

    clocks: Mapped[list[SlaClock]] = relationship(lazy="selectin", order_by="SlaClock.measure")
    visits: Mapped[list[Visit]] = relationship(lazy="selectin", order_by="Visit.created_at")


class WorkOrderEvent(Base):
    """The append-only timeline of a work order."""

    __tablename__ = "work_order_event"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    work_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("work_order.id"), index=True)
    at: Mapped[dt.datetime]
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    kind: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    location: Mapped[Any] = point_column(nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class ContactRecord(UUIDPrimaryKey, Base):
    """A named person's contact with the reporter: what meets the response target."""

    __tablename__ = "work_order_contact"

    work_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("work_order.id"), index=True)
    at: Mapped[dt.datetime]
    by_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    person_name: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)


class BackupOffer(UUIDPrimaryKey, Base):
    __tablename__ = "backup_offer"

    work_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("work_order.id"), index=True)
    offered_at: Mapped[dt.datetime]
    unit_description: Mapped[str] = mapped_column(String(200))
    declined: Mapped[bool]
    declined_by: Mapped[str | None] = mapped_column(String(100))
    evidence: Mapped[str | None] = mapped_column(String(200))
    by_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))


class VisitKind(enum.StrEnum):
    REPAIR = "repair"
    BACKUP_DELIVERY = "backup_delivery"
    SWAP_BACK = "swap_back"
    INSPECTION = "inspection"


class VisitStatus(enum.StrEnum):
    PLANNED = "planned"
    ASSIGNED = "assigned"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    DONE = "done"
    CANCELLED = "cancelled"


class Visit(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "visit"
    __table_args__ = (
        CheckConstraint("people_needed BETWEEN 1 AND 4", name="people"),
        CheckConstraint("duration_minutes > 0", name="duration"),
        CheckConstraint(
            "window_start IS NULL OR window_end IS NULL OR window_start < window_end", name="window"
        ),
    )

    work_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("work_order.id"), index=True)
    kind: Mapped[VisitKind] = mapped_column(pg_enum(VisitKind, "visit_kind"))
    status: Mapped[VisitStatus] = mapped_column(pg_enum(VisitStatus, "visit_status"), index=True)
    duration_minutes: Mapped[int]
    # {"server": 3}: skill → minimum level
    required_skills: Mapped[dict[str, int]] = mapped_column(JSONB, default=dict)
    # [{"sku": "PSU-750", "quantity": 1}]
    required_parts: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    people_needed: Mapped[int] = mapped_column(SmallInteger, default=1)
    window_start: Mapped[dt.datetime | None]
    window_end: Mapped[dt.datetime | None]
    # The customer confirmed the window: the optimizer keeps it as a hard constraint.
    window_confirmed: Mapped[bool] = mapped_column(default=False)
    engineer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("engineer.id"), index=True)
    # The second person of a joint visit (our engineer or the manufacturer's).
    partner_engineer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("engineer.id"), index=True)
    planned_start: Mapped[dt.datetime | None]
    pinned: Mapped[bool] = mapped_column(default=False)
    en_route_at: Mapped[dt.datetime | None]
    arrived_at: Mapped[dt.datetime | None]
    arrival_point: Mapped[Any] = point_column(nullable=True)
    finished_at: Mapped[dt.datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}

    notes: Mapped[list[VisitNote]] = relationship(lazy="selectin", order_by="VisitNote.at")


class VisitNote(UUIDPrimaryKey, Base):
    """Append-only; the id may come from the device that wrote it offline."""

    __tablename__ = "visit_note"

    visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("visit.id"), index=True)
    at: Mapped[dt.datetime]
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    body: Mapped[str] = mapped_column(Text)
