"""Service reports: drafts and signed versions, the signatures bound to their hashes, and the
PDFs archived at signing (the database refuses to change or delete an archived PDF).

Revision ID: 4b8e2d6f1c93
Revises: 4b8d2f6e1c93
Create Date: 2026-12-03 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "4b8e2d6f1c93"
down_revision: str | None = "4b8d2f6e1c93"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "service_report",
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("visit_id", sa.Uuid(), nullable=False),
        sa.Column("form", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("supersedes_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("content", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("drafted_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_canonical", sa.Text(), nullable=True),
        sa.Column("signed_hash", sa.String(length=64), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("form IN ('fault', 'inspection')", name=op.f("ck_service_report_form")),
        sa.CheckConstraint("status IN ('draft', 'signed')", name=op.f("ck_service_report_status")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_service_report_version_positive")),
        sa.ForeignKeyConstraint(
            ["drafted_by"], ["app_user.id"], name=op.f("fk_service_report_drafted_by_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["service_report.id"],
            name=op.f("fk_service_report_supersedes_id_service_report"),
        ),
        sa.ForeignKeyConstraint(["visit_id"], ["visit.id"], name=op.f("fk_service_report_visit_id_visit")),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_order.id"], name=op.f("fk_service_report_work_order_id_work_order")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_report")),
        sa.UniqueConstraint("visit_id", "version", name=op.f("uq_service_report_visit_id_version")),
    )
    op.create_index(op.f("ix_service_report_visit_id"), "service_report", ["visit_id"], unique=False)
    op.create_index(
        op.f("ix_service_report_work_order_id"), "service_report", ["work_order_id"], unique=False
    )
    op.create_index(
        "uq_service_report_draft",
        "service_report",
        ["visit_id"],
        unique=True,
        postgresql_where=sa.text("status = 'draft'"),
    )
    op.create_table(
        "service_report_signature",
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("report_hash", sa.String(length=64), nullable=False),
        sa.Column("signer_name", sa.String(length=100), nullable=False),
        sa.Column("signer_role", sa.String(length=100), nullable=False),
        sa.Column("signer_phone", sa.String(length=40), nullable=True),
        sa.Column("signer_email", sa.String(length=200), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("device_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("image_sha256", sa.String(length=64), nullable=True),
        sa.Column("strokes", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("call_reference", sa.String(length=100), nullable=True),
        sa.Column("captured_by", sa.Uuid(), nullable=False),
        sa.Column("binding_hash", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "kind = 'remote' OR image_sha256 IS NOT NULL",
            name=op.f("ck_service_report_signature_image_present"),
        ),
        sa.CheckConstraint(
            "kind IN ('strokes', 'stamped_form', 'remote')", name=op.f("ck_service_report_signature_kind")
        ),
        sa.ForeignKeyConstraint(
            ["captured_by"], ["app_user.id"], name=op.f("fk_service_report_signature_captured_by_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["image_sha256"],
            ["sync_blob.sha256"],
            name=op.f("fk_service_report_signature_image_sha256_sync_blob"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["service_report.id"],
            name=op.f("fk_service_report_signature_report_id_service_report"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_report_signature")),
        sa.UniqueConstraint("report_id", name=op.f("uq_service_report_signature_report_id")),
    )
    op.create_table(
        "service_report_archive",
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("archive_number", sa.String(length=80), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retain_until", sa.Date(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["service_report.id"],
            name=op.f("fk_service_report_archive_report_id_service_report"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_report_archive")),
        sa.UniqueConstraint("archive_number", name=op.f("uq_service_report_archive_archive_number")),
        sa.UniqueConstraint("report_id", name=op.f("uq_service_report_archive_report_id")),
    )
    # An archived PDF is kept as made: no UPDATE, no DELETE (retention is at least three years;
    # a purge after that is a deliberate operation with the trigger disabled).
    op.execute(
        """
        CREATE FUNCTION service_report_archive_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'service_report_archive rows are never changed or deleted';
        END $$;
        CREATE TRIGGER service_report_archive_immutable
            BEFORE UPDATE OR DELETE ON service_report_archive
            FOR EACH ROW EXECUTE FUNCTION service_report_archive_immutable();
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER service_report_archive_immutable ON service_report_archive")
    op.execute("DROP FUNCTION service_report_archive_immutable()")
    op.drop_table("service_report_archive")
    op.drop_table("service_report_signature")
    op.drop_index(
        "uq_service_report_draft", table_name="service_report", postgresql_where=sa.text("status = 'draft'")
    )
    op.drop_index(op.f("ix_service_report_work_order_id"), table_name="service_report")
    op.drop_index(op.f("ix_service_report_visit_id"), table_name="service_report")
    op.drop_table("service_report")
