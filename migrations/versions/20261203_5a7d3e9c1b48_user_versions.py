"""A version on users: an admin's change names the version it changes, as other records' do.

Revision ID: 5a7d3e9c1b48
Revises: 5d7e3a1c9b48
Create Date: 2026-12-03 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5a7d3e9c1b48"
down_revision: str | None = "5d7e3a1c9b48"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing users start at version 1, as every versioned record does.
    op.add_column("app_user", sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False))


def downgrade() -> None:
    op.drop_column("app_user", "version")
