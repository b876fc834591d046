"""Service reports, the signatures bound to them, and the archived PDFs.

A report is drafted from what a visit recorded and edited by the engineer until signed. Signed,
it never changes: a correction is a new version (`version` 2, 3, …) of the same visit's report,
signed again, and the old one is kept. `revision` counts edits of a draft (the optimistic lock a
PATCH names); `version` counts corrections.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base, UUIDPrimaryKey

REPORT_STATUSES = ("draft", "signed")
SIGNATURE_KINDS = ("strokes", "stamped_form", "remote")


class ServiceReport(UUIDPrimaryKey, Base):
    """The fault-handling form (故障处理单) or inspection report (巡检报告单) of one visit."""

    __tablename__ = "service_report"
    __table_args__ = (
        UniqueConstraint("visit_id", "version"),
        CheckConstraint("status IN ('draft', 'signed')", name="status"),
        CheckConstraint("form IN ('fault', 'inspection')", name="form"),
        CheckConstraint("version >= 1", name="version_positive"),
        # At most one draft per visit: a correction starts only from the newest signed version.
        Index("uq_service_report_draft", "visit_id", unique=True, postgresql_where=text("status = 'draft'")),
    )

    work_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("work_order.id"), index=True)
    visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("visit.id"), index=True)
    form: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The signed version this one corrects.
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("service_report.id"))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    # The form's fields (see completion.drafting.Content); times as RFC 3339 strings.
    content: Mapped[dict[str, Any]] = mapped_column(JSONB)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    drafted_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    signed_at: Mapped[dt.datetime | None]
    # At signing: the canonical form exactly as signed (UTF-8 JSON text) and its SHA-256.
    signed_canonical: Mapped[str | None] = mapped_column(Text)
    signed_hash: Mapped[str | None] = mapped_column(String(64))


class ReportSignature(UUIDPrimaryKey, Base):
    """The customer's confirmation of one report version, bound to the hash they were shown.

    `kind`: `strokes` (the points drawn with their timestamps, and the PNG), `stamped_form` (a
    photo of the customer's stamped paper confirmation form 服务确认单) or `remote` (a remote fix
    confirmed by name, channel and call-record reference). `binding_hash` is the SHA-256 of the
    canonical form of everything here together with the report hash, so that verification notices
    any of it changing."""

    __tablename__ = "service_report_signature"
    __table_args__ = (
        CheckConstraint("kind IN ('strokes', 'stamped_form', 'remote')", name="kind"),
        CheckConstraint("kind = 'remote' OR image_sha256 IS NOT NULL", name="image_present"),
    )

    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service_report.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    report_hash: Mapped[str] = mapped_column(String(64))
    signer_name: Mapped[str] = mapped_column(String(100))
    signer_role: Mapped[str] = mapped_column(String(100))
    # How to reach the signer afterwards (the survey of a later step asks them).
    signer_phone: Mapped[str | None] = mapped_column(String(40))
    signer_email: Mapped[str | None] = mapped_column(String(200))
    # The time that counts (device time corrected as sync does) and the device's own.
    signed_at: Mapped[dt.datetime]
    device_at: Mapped[dt.datetime | None]
    # Where the device was (WGS-84), when it had a fix: evidence, never queried spatially.
    longitude: Mapped[float | None]
    latitude: Mapped[float | None]
    image_sha256: Mapped[str | None] = mapped_column(ForeignKey("sync_blob.sha256"))
    # [[[x, y, t_ms], …], …]: one list of points per stroke.
    strokes: Mapped[list[Any] | None] = mapped_column(JSONB)
    channel: Mapped[str | None] = mapped_column(String(32))
    call_reference: Mapped[str | None] = mapped_column(String(100))
    captured_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    binding_hash: Mapped[str] = mapped_column(String(64))


class ReportArchive(UUIDPrimaryKey, Base):
    """The PDF made once at signing; downloads return these bytes, never a new rendering.
    The database refuses UPDATE and DELETE of these rows (the migration's trigger)."""

    __tablename__ = "service_report_archive"
    __audit_exclude__ = frozenset({"pdf"})

    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service_report.id"), unique=True)
    # The work order's archive id with the report version: what a clerk files it under.
    archive_number: Mapped[str] = mapped_column(String(80), unique=True)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime]
    # Kept at least three years (the contracts' record-keeping term).
    retain_until: Mapped[dt.date]


SURVEY_OUTCOMES = ("confirmed", "complaint", "confirmed_by_default")


class CustomerSurvey(UUIDPrimaryKey, Base):
    """The one-time link sent to the customer after signing, and what they answered with it.

    Only the SHA-256 of the link's token is stored: the database never holds a usable link.
    One survey per work order (the first signed report's); `outcome` is set once — by the
    customer (`confirmed`, `complaint`) or by the worker when 7 days pass unanswered
    (`confirmed_by_default`)."""

    __tablename__ = "customer_survey"
    __table_args__ = (
        CheckConstraint(
            "outcome IS NULL OR outcome IN ('confirmed', 'complaint', 'confirmed_by_default')", name="outcome"
        ),
        *(
            CheckConstraint(f"{name} IS NULL OR {name} BETWEEN 1 AND 5", name=f"{name}_range")
            for name in ("timeliness", "attitude", "result_rating", "overall")
        ),
        # The default confirmation's sweep: unanswered surveys by expiry.
        Index("ix_customer_survey_open", "expires_at", postgresql_where=text("outcome IS NULL")),
    )

    work_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("work_order.id"), unique=True)
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service_report.id"))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    answered_at: Mapped[dt.datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(24))
    timeliness: Mapped[int | None] = mapped_column(Integer)
    attitude: Mapped[int | None] = mapped_column(Integer)
    result_rating: Mapped[int | None] = mapped_column(Integer)
    overall: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    complaint: Mapped[str | None] = mapped_column(Text)
