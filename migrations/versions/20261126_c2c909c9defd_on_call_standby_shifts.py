"""On-call standby periods among an engineer's weekly shifts, and shifts running past midnight.

Revision ID: c2c909c9defd
Revises: 8e4b2f6c1a37
Create Date: 2026-11-26 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c2c909c9defd"
down_revision: str | None = "8e4b2f6c1a37"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "engineer_shift",
        sa.Column("on_call", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.drop_constraint(op.f("ck_engineer_shift_ordered"), "engineer_shift", type_="check")
    op.create_check_constraint(op.f("ck_engineer_shift_not_empty"), "engineer_shift", "starts <> ends")


def downgrade() -> None:
    # The old schema knows neither standby periods nor shifts past midnight: kept, they
    # would read as working hours or break its check, so they go.
    op.execute("DELETE FROM engineer_shift WHERE on_call OR ends < starts")
    op.drop_constraint(op.f("ck_engineer_shift_not_empty"), "engineer_shift", type_="check")
    op.create_check_constraint(op.f("ck_engineer_shift_ordered"), "engineer_shift", "starts < ends")
    op.drop_column("engineer_shift", "on_call")
