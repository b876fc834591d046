"""Versions on the stock records whose lifecycle steps did not name one: a part swap (its
defective return or destruction) and a stock location (a shipment's arrival).

Revision ID: 8e4c1a7b2d36
Revises: 8f5d2b3c0e47
Create Date: 2026-12-03 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8e4c1a7b2d36"
down_revision: str | None = "8f5d2b3c0e47"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("stock_part_swap", "stock_location")


def upgrade() -> None:
    for table in TABLES:
        # Existing rows start at version 1; new rows get theirs from the models.
        op.add_column(table, sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        op.alter_column(table, "version", server_default=None)


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "version")
