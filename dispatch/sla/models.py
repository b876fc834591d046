"""SLA clocks per work order and the pauses that stop them."""

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
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base, UUIDPrimaryKey, pg_enum
from dispatch.contracts.models import Measure

# Sorts after every real deadline; keeps the sort column NOT NULL for keyset pagination.
NO_DEADLINE = dt.datetime(2999, 12, 31, tzinfo=dt.UTC)


class ClockState(enum.StrEnum):
    OK = "ok"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    MET = "met"
    PAUSED = "paused"
    SCHEDULED = "scheduled"
    # Restored, awaiting the customer's confirmation: met at the restore time once confirmed.
    AWAITING_CONFIRMATION = "awaiting_confirmation"


class SlaClock(UUIDPrimaryKey, Base):
    __tablename__ = "sla_clock"
    __table_args__ = (
        UniqueConstraint("work_order_id", "measure"),
        # Restores awaiting the customer's confirmation (dispatch.sla.confirmation, every watch
        # pass): a handful among millions of clocks.
        Index(
            "ix_sla_clock_unconfirmed",
            "unconfirmed_at",
            postgresql_where=text("unconfirmed_at IS NOT NULL AND met_at IS NULL"),
        ),
        # The running clocks (not met, their order not closed or cancelled), by order: what the
        # SLA watch reads, the open work's clocks and no history's, where the order's index holds
        # every clock ever started.
        Index(
            "ix_sla_clock_running",
            "work_order_id",
            postgresql_where=text("met_at IS NULL AND stopped_at IS NULL"),
        ),
    )

    work_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("work_order.id"))
    measure: Mapped[Measure] = mapped_column(pg_enum(Measure, "sla_measure"))
    # A copy of the contract target that applied, so later contract edits do not move promises.
    target: Mapped[dict[str, Any]] = mapped_column(JSONB)
    started_at: Mapped[dt.datetime]
    # Without pauses; the deadline adds the pauses' business time on top.
    base_deadline: Mapped[dt.datetime | None]
    deadline: Mapped[dt.datetime | None] = mapped_column(index=True)
    met_at: Mapped[dt.datetime | None]
    # The restore recorded (`restored_at`) but not yet confirmed by the customer; it becomes
    # `met_at` when a confirmation arrives (signature, remote confirmation, survey, or by default).
    unconfirmed_at: Mapped[dt.datetime | None]
    # How the customer confirmed: {"kind", "by", "channel", "call_reference", "at"}.
    confirmation: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    breached_at: Mapped[dt.datetime | None]
    at_risk_since: Mapped[dt.datetime | None]
    predicted_at: Mapped[dt.datetime | None]
    # The customer declined a backup device: a breach is theirs (contractual compliance).
    customer_excused: Mapped[bool] = mapped_column(default=False)
    escalation_level: Mapped[int] = mapped_column(SmallInteger, default=0)
    # When the order was closed or cancelled with this clock not met: it runs no more (cleared if
    # the order is reopened). A cancelled order's clocks stay unmet for ever; this keeps them out
    # of the running clocks.
    stopped_at: Mapped[dt.datetime | None]


class PauseReason(enum.StrEnum):
    SITE_NOT_ACCESSIBLE = "site_not_accessible"
    ESCORT_DELAY = "escort_delay"
    CUSTOMER_POSTPONED = "customer_postponed"
    CHANGE_FREEZE = "change_freeze"
    AWAITING_QUOTE_APPROVAL = "awaiting_quote_approval"


class SlaPause(UUIDPrimaryKey, Base):
    """A customer-side pause of every running clock of a work order."""

    __tablename__ = "sla_pause"

    work_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("work_order.id"), index=True)
    reason: Mapped[PauseReason] = mapped_column(pg_enum(PauseReason, "pause_reason"))
    customer_name: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(32))
    call_reference: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[dt.datetime]
    # Resumes by itself at this time when given.
    until: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]
    by_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
