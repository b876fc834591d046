"""A site's reception code: what the QR code at reception holds, checked on arrival.

Revision ID: 3c1e9a7d5b20
Revises: f2241d8db8a9
Create Date: 2026-11-25 16:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3c1e9a7d5b20"
down_revision: str | None = "f2241d8db8a9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("site", sa.Column("reception_code", sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.drop_column("site", "reception_code")
