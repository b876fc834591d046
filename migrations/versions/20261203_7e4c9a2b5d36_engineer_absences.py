# mypy: disable-error-code="attr-defined"
"""Engineer absences: sick days, leave, training and other time away, kept out of plans.

Revision ID: 7e4c9a2b5d36
Revises: 8e4b2c7a1f36
Create Date: 2026-12-03 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "7e4c9a2b5d36"
down_revision: str | None = "8e4b2c7a1f36"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    postgresql.ENUM("sick", "leave", "training", "break", "other", name="absence_kind").create(op.get_bind())
    op.create_table(
        "engineer_absence",
        sa.Column("engineer_id", sa.Uuid(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", postgresql.ENUM(name="absence_kind", create_type=False), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_engineer_absence_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["app_user.id"],
            name=op.f("fk_engineer_absence_created_by_app_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["engineer_id"],
            ["engineer.id"],
            name=op.f("fk_engineer_absence_engineer_id_engineer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engineer_absence")),
    )
    op.create_index(
        "ix_engineer_absence_engineer_ends", "engineer_absence", ["engineer_id", "ends_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_engineer_absence_engineer_ends", table_name="engineer_absence")
    op.drop_table("engineer_absence")
    op.execute("DROP TYPE absence_kind")
