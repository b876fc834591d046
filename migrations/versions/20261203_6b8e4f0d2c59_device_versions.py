"""A version on sync devices, counting the desk's steps on them (revoke, reinstate).

Revision ID: 6b8e4f0d2c59
Revises: 5a7d3e9c1b48
Create Date: 2026-12-03 07:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6b8e4f0d2c59"
down_revision: str | None = "5a7d3e9c1b48"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "sync_device", sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False)
    )


def downgrade() -> None:
    op.drop_column("sync_device", "version")
