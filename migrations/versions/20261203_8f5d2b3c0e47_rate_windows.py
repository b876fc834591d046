"""Request counts per key and window (the survey link's per-address limit), shared by every API
process instead of held in one process's memory.

Revision ID: 8f5d2b3c0e47
Revises: 7e4c1a2b9d36
Create Date: 2026-12-03 05:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8f5d2b3c0e47"
down_revision: str | None = "7e4c1a2b9d36"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_window",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start", name=op.f("pk_rate_window")),
    )


def downgrade() -> None:
    op.drop_table("rate_window")
