"""Sessions follow the account: a session version on users and refresh tokens, the
refresh-retry grace (parent token, hash of the rotating Idempotency-Key), and the time
of the latest failed sign-in for progressive delays.

Revision ID: a7c3e91d5b20
Revises: 5d3e8a1f0b72
Create Date: 2026-12-02 18:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7c3e91d5b20"
down_revision: str | None = "5d3e8a1f0b72"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "app_user", sa.Column("session_version", sa.Integer(), server_default=sa.text("0"), nullable=False)
    )
    op.add_column(
        "refresh_token",
        sa.Column("session_version", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column("refresh_token", sa.Column("parent_id", sa.Uuid(), nullable=True))
    op.add_column("refresh_token", sa.Column("rotated_by_key", sa.String(length=64), nullable=True))
    op.add_column("login_throttle", sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True))
    # Counters keyed by made-up user names are no longer kept (and old per-name keys mean nothing now).
    op.execute("DELETE FROM login_throttle")


def downgrade() -> None:
    op.drop_column("login_throttle", "last_failure_at")
    op.drop_column("refresh_token", "rotated_by_key")
    op.drop_column("refresh_token", "parent_id")
    op.drop_column("refresh_token", "session_version")
    op.drop_column("app_user", "session_version")
