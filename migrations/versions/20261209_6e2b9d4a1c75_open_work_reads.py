"""The SLA watch and a phone's bootstrap read the open work only: the running clocks (not met, and
not stopped by their order's close or cancellation: `sla_clock.stopped_at`) from a partial index,
the visits written since the oldest open order was (by time, and by engineer and
time), instead of an index that holds every clock and visit ever stored. The visits of a KPI period
carry what the travel share and the engineers' time read of them, so the period is read from the
index alone.

Revision ID: 6e2b9d4a1c75
Revises: 9c4e1a7b3d58
Create Date: 2026-12-09 00:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6e2b9d4a1c75"
down_revision: str | None = "9c4e1a7b3d58"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status NOT IN ('closed', 'cancelled')")
ARRIVED_INCLUDE = ["work_order_id", "en_route_at", "finished_at", "engineer_id", "partner_engineer_id"]


def upgrade() -> None:
    op.add_column("sla_clock", sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True))
    # The clocks not met of the orders already closed or cancelled stop when their order did.
    op.execute(
        "UPDATE sla_clock c SET stopped_at = coalesce(wo.closed_at, wo.updated_at) FROM work_order wo"
        " WHERE wo.id = c.work_order_id AND c.met_at IS NULL AND wo.status IN ('closed', 'cancelled')"
    )
    op.create_index(
        "ix_sla_clock_running",
        "sla_clock",
        ["work_order_id"],
        postgresql_where=sa.text("met_at IS NULL AND stopped_at IS NULL"),
    )
    op.create_index("ix_work_order_open_created", "work_order", ["created_at"], postgresql_where=OPEN)
    op.create_index("ix_visit_created_at", "visit", ["created_at"])
    op.create_index(
        "ix_visit_engineer_created",
        "visit",
        ["engineer_id", "created_at"],
        postgresql_include=["work_order_id", "status"],
    )
    op.drop_index("ix_visit_arrived_at", table_name="visit")
    op.create_index("ix_visit_arrived_at", "visit", ["arrived_at"], postgresql_include=ARRIVED_INCLUDE)


def downgrade() -> None:
    op.drop_index("ix_visit_arrived_at", table_name="visit")
    op.create_index("ix_visit_arrived_at", "visit", ["arrived_at"])
    op.drop_index("ix_visit_engineer_created", table_name="visit")
    op.drop_index("ix_visit_created_at", table_name="visit")
    op.drop_index("ix_work_order_open_created", table_name="work_order")
    op.drop_index("ix_sla_clock_running", table_name="sla_clock")
    op.drop_column("sla_clock", "stopped_at")
