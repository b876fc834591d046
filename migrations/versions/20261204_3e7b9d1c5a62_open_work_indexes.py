"""Partial indexes on the open work, so what the desk and the SLA watch ask for costs the same with
a million finished work orders stored as with ten thousand: open orders by deadline, one customer's
orders by deadline, and restores awaiting the customer's confirmation.

Revision ID: 3e7b9d1c5a62
Revises: 3a7d5e9c1b42
Create Date: 2026-12-04 00:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3e7b9d1c5a62"
down_revision: str | None = "3a7d5e9c1b42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_work_order_open_due",
        "work_order",
        ["due_at", "id"],
        unique=False,
        postgresql_where=sa.text("status NOT IN ('closed', 'cancelled')"),
    )
    op.create_index("ix_work_order_customer_due", "work_order", ["customer_id", "due_at", "id"], unique=False)
    op.create_index(
        "ix_sla_clock_unconfirmed",
        "sla_clock",
        ["unconfirmed_at"],
        unique=False,
        postgresql_where=sa.text("unconfirmed_at IS NOT NULL AND met_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_sla_clock_unconfirmed", table_name="sla_clock")
    op.drop_index("ix_work_order_customer_due", table_name="work_order")
    op.drop_index("ix_work_order_open_due", table_name="work_order")
