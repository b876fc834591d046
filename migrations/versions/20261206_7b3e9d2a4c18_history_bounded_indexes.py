"""Indexes that keep history out of two reads: a phone's scope (an engineer's visits, with their
order and status, read from the index alone) and the stock-out rate's visits needing parts, by
arrival and (not yet arrived) by planned start.

Revision ID: 7b3e9d2a4c18
Revises: 5c2e8a4f7d13
Create Date: 2026-12-06 00:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7b3e9d2a4c18"
down_revision: str | None = "5c2e8a4f7d13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_visit_engineer_work_order",
        "visit",
        ["engineer_id", "work_order_id"],
        unique=False,
        postgresql_include=["status"],
    )
    # The composite index serves every lookup by engineer the single-column one did.
    op.drop_index("ix_visit_engineer_id", table_name="visit")
    op.create_index(
        "ix_visit_parts_arrived",
        "visit",
        ["arrived_at"],
        unique=False,
        postgresql_where=sa.text("jsonb_array_length(required_parts) > 0"),
    )
    op.create_index(
        "ix_visit_parts_unarrived",
        "visit",
        ["planned_start"],
        unique=False,
        postgresql_where=sa.text("arrived_at IS NULL AND jsonb_array_length(required_parts) > 0"),
    )


def downgrade() -> None:
    op.drop_index("ix_visit_parts_unarrived", table_name="visit")
    op.drop_index("ix_visit_parts_arrived", table_name="visit")
    op.create_index("ix_visit_engineer_id", "visit", ["engineer_id"], unique=False)
    op.drop_index("ix_visit_engineer_work_order", table_name="visit")
