"""Trigram indexes for text search: the work orders' `q` (problem number, asset serial, customer
name; ILIKE '%…%') becomes an index search instead of a scan of every order ever stored.

pg_trgm is in PostgreSQL's contrib, shipped with the server package (Debian's postgresql-15).

Revision ID: 5c2e8a4f7d13
Revises: 3e7b9d1c5a62
Create Date: 2026-12-05 00:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5c2e8a4f7d13"
down_revision: str | None = "3e7b9d1c5a62"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = (
    ("ix_work_order_problem_number_trgm", "work_order", "problem_number"),
    ("ix_work_order_asset_serial_trgm", "work_order", "asset_serial"),
    ("ix_customer_name_trgm", "customer", "name"),
)


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in _INDEXES:
        op.create_index(
            name,
            table,
            [column],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
        )


def downgrade() -> None:
    for name, table, _column in reversed(_INDEXES):
        op.drop_index(name, table_name=table)
    # The extension stays: dropping it would fail if anything else came to use it.
