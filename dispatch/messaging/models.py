"""Notifications for dispatchers and managers; the outbox of messages to customers."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base, UUIDPrimaryKey, pg_enum


class Notification(UUIDPrimaryKey, Base):
    """What dispatchers and managers are told: at risk, breached, escalations."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_open", "created_at", postgresql_where=text("acknowledged_at IS NULL")),
        # The SLA watch's breaches raised since its oldest open clock started, from the index alone.
        Index(
            "ix_notification_breach",
            "created_at",
            postgresql_include=["dedupe_key"],
            postgresql_where=text("kind = 'breach'"),
        ),
    )

    created_at: Mapped[dt.datetime]
    kind: Mapped[str] = mapped_column(String(40))
    # A role ("dispatcher", "service_manager", "director") or a user.
    audience: Mapped[str] = mapped_column(String(40))
    work_order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("work_order.id"), index=True)
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    acknowledged_at: Mapped[dt.datetime | None]
    acknowledged_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    escalated_at: Mapped[dt.datetime | None]
    # One notification per (work order, kind, measure, level): re-evaluations do not repeat it.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(UUIDPrimaryKey, Base):
    """Messages to customers (appointment confirmation, late-arrival apology), sent with retries."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),)
    # A body may hold a one-time link (the customer survey's): the audit trail never copies it.
    __audit_exclude__ = frozenset({"body"})

    created_at: Mapped[dt.datetime]
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    work_order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("work_order.id"), index=True)
    status: Mapped[OutboxStatus] = mapped_column(pg_enum(OutboxStatus, "outbox_status"))
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    next_attempt_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
