"""Indexes for the KPI report: work orders by customer and report time, visits by arrival, and
the timeline events the KPIs read (resolutions, closes, reopens, downgrades).

Revision ID: 4b8d2f6e1c93
Revises: 9c1e4b7d2a50
Create Date: 2026-12-03 00:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4b8d2f6e1c93"
down_revision: str | None = "9c1e4b7d2a50"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_work_order_customer_reported", "work_order", ["customer_id", "reported_at"], unique=False
    )
    op.create_index("ix_visit_arrived_at", "visit", ["arrived_at"], unique=False)
    op.create_index(
        "ix_work_order_event_kpi",
        "work_order_event",
        ["work_order_id", "kind", "to_status", "at", "id"],
        unique=False,
        postgresql_where=sa.text(
            "kind = 'severity_change' OR (kind = 'status' AND to_status IN "
            "('resolved', 'remote_fix', 'closed', 'reopened'))"
        ),
    )


def downgrade() -> None:
    op.drop_index("ix_work_order_event_kpi", table_name="work_order_event")
    op.drop_index("ix_visit_arrived_at", table_name="visit")
    op.drop_index("ix_work_order_customer_reported", table_name="work_order")
