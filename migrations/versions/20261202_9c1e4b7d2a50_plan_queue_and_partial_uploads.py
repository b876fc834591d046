"""Plans record the process that runs them and its heartbeat; unfinished chunked uploads live in
the database.

Revision ID: 9c1e4b7d2a50
Revises: a7c3e91d5b20
Create Date: 2026-12-02 18:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9c1e4b7d2a50"
down_revision: str | None = "a7c3e91d5b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("dispatch_plan", sa.Column("runner_id", sa.Uuid(), nullable=True))
    op.add_column("dispatch_plan", sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "sync_upload",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_sync_upload_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "sha256", name=op.f("pk_sync_upload")),
    )
    op.create_index(op.f("ix_sync_upload_updated_at"), "sync_upload", ["updated_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_sync_upload_updated_at"), table_name="sync_upload")
    op.drop_table("sync_upload")
    op.drop_column("dispatch_plan", "heartbeat_at")
    op.drop_column("dispatch_plan", "runner_id")
