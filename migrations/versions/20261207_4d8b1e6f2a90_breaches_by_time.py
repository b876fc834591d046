"""The SLA watch reads the breach notifications raised since its oldest open clock started, from a
partial index of breach notifications by time, instead of joining every notification ever raised
to the open orders.

Revision ID: 4d8b1e6f2a90
Revises: 7b3e9d2a4c18
Create Date: 2026-12-07 00:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4d8b1e6f2a90"
down_revision: str | None = "7b3e9d2a4c18"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_notification_breach",
        "notification",
        ["created_at"],
        unique=False,
        postgresql_include=["dedupe_key"],
        postgresql_where=sa.text("kind = 'breach'"),
    )


def downgrade() -> None:
    op.drop_index("ix_notification_breach", table_name="notification")
