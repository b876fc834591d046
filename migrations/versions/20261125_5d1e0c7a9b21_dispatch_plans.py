# mypy: disable-error-code="attr-defined"
"""Dispatch plans: optimizer runs, their progress, results and application.

Revision ID: 5d1e0c7a9b21
Revises: 2c82677ae664
Create Date: 2026-11-25 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "5d1e0c7a9b21"
down_revision: str | None = "2c82677ae664"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    postgresql.ENUM("queued", "running", "done", "failed", "applied", name="plan_status").create(
        op.get_bind()
    )
    op.create_table(
        "dispatch_plan",
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("status", postgresql.ENUM(name="plan_status", create_type=False), nullable=False),
        sa.Column("origin", sa.DateTime(timezone=True), nullable=False),
        sa.Column("horizon_s", sa.Integer(), nullable=False),
        sa.Column("params", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("visit_versions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("progress", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("applied_by", sa.Uuid(), nullable=True),
        sa.Column("inputs_hash", sa.String(length=64), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["applied_by"], ["app_user.id"], name=op.f("fk_dispatch_plan_applied_by_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["app_user.id"], name=op.f("fk_dispatch_plan_created_by_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_plan")),
    )
    op.create_index(op.f("ix_dispatch_plan_status"), "dispatch_plan", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_dispatch_plan_status"), table_name="dispatch_plan")
    op.drop_table("dispatch_plan")
    op.execute("DROP TYPE plan_status")
