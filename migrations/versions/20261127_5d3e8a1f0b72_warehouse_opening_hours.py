"""Daily opening hours of stock locations (warehouses), for pick-ups.

Revision ID: 5d3e8a1f0b72
Revises: c2c909c9defd
Create Date: 2026-11-27 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5d3e8a1f0b72"
down_revision: str | None = "c2c909c9defd"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("stock_location", sa.Column("opens", sa.Time(), nullable=True))
    op.add_column("stock_location", sa.Column("closes", sa.Time(), nullable=True))
    op.create_check_constraint(
        op.f("ck_stock_location_hours_paired"), "stock_location", "(opens IS NULL) = (closes IS NULL)"
    )
    op.create_check_constraint(op.f("ck_stock_location_hours_not_empty"), "stock_location", "opens <> closes")


def downgrade() -> None:
    op.drop_constraint(op.f("ck_stock_location_hours_not_empty"), "stock_location", type_="check")
    op.drop_constraint(op.f("ck_stock_location_hours_paired"), "stock_location", type_="check")
    op.drop_column("stock_location", "closes")
    op.drop_column("stock_location", "opens")
