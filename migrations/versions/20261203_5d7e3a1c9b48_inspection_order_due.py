"""Open inspection work orders sort by their inspection's window end (generated ones kept the far
future so far); done or set-aside ones stay behind every open deadline. Data only.

Revision ID: 5d7e3a1c9b48
Revises: 7e4c1a9b3d52
Create Date: 2026-12-03 07:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5d7e3a1c9b48"
down_revision: str | None = "7e4c1a9b3d52"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE work_order SET due_at = inspection.window_end FROM inspection "
        "WHERE inspection.work_order_id = work_order.id AND inspection.status = 'open' "
        "AND work_order.status NOT IN ('resolved', 'signed', 'closed', 'cancelled')"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE work_order SET due_at = '2999-12-31T00:00:00+00:00' FROM inspection "
        "WHERE inspection.work_order_id = work_order.id"
    )
