"""What the live feed stores: the changes (written by triggers, see the migration
`live_updates`) and the single-use tickets that open a stream."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, ForeignKey, Identity, String, func
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base


class LiveEvent(Base):
    """One change a console should show: written by triggers on the tables it concerns, in the
    transaction that made the change (so a rolled-back change never appears), kept a day for a
    reconnecting stream to catch up."""

    __tablename__ = "live_event"
    # Written by triggers, never by the application: nothing for the audit trail.
    __audited__ = False

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), index=True)
    # order (its timeline grew), visit, clock, notification, position, plan
    kind: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[uuid.UUID]
    work_order_id: Mapped[uuid.UUID | None]


class LiveTicket(Base):
    """A short-lived, single-use ticket for one stream, so that the access token never travels in
    a URL (EventSource cannot send headers, and URLs end up in logs). Only its hash is kept."""

    __tablename__ = "live_ticket"
    __audit_exclude__ = frozenset({"token_sha256"})

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    # The sign-in it was issued under: the stream opens only while that sign-in is live.
    session_id: Mapped[uuid.UUID | None]
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
