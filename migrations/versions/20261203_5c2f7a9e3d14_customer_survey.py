"""The customer survey: the one-time link sent after signing (its token's hash only) and the
customer's answer (confirmation and ratings, or a complaint), or the default confirmation.

Revision ID: 5c2f7a9e3d14
Revises: 4b8e2d6f1c93
Create Date: 2026-12-03 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c2f7a9e3d14"
down_revision: str | None = "4b8e2d6f1c93"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer_survey",
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("timeliness", sa.Integer(), nullable=True),
        sa.Column("attitude", sa.Integer(), nullable=True),
        sa.Column("result_rating", sa.Integer(), nullable=True),
        sa.Column("overall", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("complaint", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('confirmed', 'complaint', 'confirmed_by_default')",
            name=op.f("ck_customer_survey_outcome"),
        ),
        sa.CheckConstraint(
            "timeliness IS NULL OR timeliness BETWEEN 1 AND 5",
            name=op.f("ck_customer_survey_timeliness_range"),
        ),
        sa.CheckConstraint(
            "attitude IS NULL OR attitude BETWEEN 1 AND 5", name=op.f("ck_customer_survey_attitude_range")
        ),
        sa.CheckConstraint(
            "result_rating IS NULL OR result_rating BETWEEN 1 AND 5",
            name=op.f("ck_customer_survey_result_rating_range"),
        ),
        sa.CheckConstraint(
            "overall IS NULL OR overall BETWEEN 1 AND 5", name=op.f("ck_customer_survey_overall_range")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["service_report.id"], name=op.f("fk_customer_survey_report_id_service_report")
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_order.id"], name=op.f("fk_customer_survey_work_order_id_work_order")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_survey")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_customer_survey_token_sha256")),
        sa.UniqueConstraint("work_order_id", name=op.f("uq_customer_survey_work_order_id")),
    )
    op.create_index(
        "ix_customer_survey_open",
        "customer_survey",
        ["expires_at"],
        unique=False,
        postgresql_where=sa.text("outcome IS NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_customer_survey_open", table_name="customer_survey", postgresql_where=sa.text("outcome IS NULL")
    )
    op.drop_table("customer_survey")
