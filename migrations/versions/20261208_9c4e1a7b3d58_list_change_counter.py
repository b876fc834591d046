"""The work order list's change counter: one row per shard, bumped once by every transaction that
changes a table the list shows (orders, sites, clocks, pauses, visits, notes, users).

An API process serves a kept page again while the counter is what it was when the page was
built; only when it moved does it read the page's row digest (`page_versions`). The bump runs at
commit (a deferred constraint trigger, once per transaction), so the shard's row lock is held
only while the transaction commits: it is the last lock a writer takes, and it cannot wait in a
cycle with the writer's other locks. The rows are never deleted; TRUNCATE of a shown table bumps
too.

Revision ID: 9c4e1a7b3d58
Revises: 4d8b1e6f2a90
Create Date: 2026-12-07 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9c4e1a7b3d58"
down_revision: str | None = "4d8b1e6f2a90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHARDS = 16
TABLES = ("work_order", "site", "sla_clock", "sla_pause", "visit", "visit_note", "app_user")

BUMP = f"""
CREATE FUNCTION list_change_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Once per transaction: the setting is local to it.
    IF coalesce(current_setting('fsd.list_changed', true), '') = '' THEN
        PERFORM set_config('fsd.list_changed', 'y', true);
        UPDATE list_change SET changes = changes + 1 WHERE shard = pg_backend_pid() % {SHARDS};
    END IF;
    RETURN NULL;
END
$$
"""  # noqa: S608 (constant text)


def upgrade() -> None:
    op.create_table(
        "list_change",
        sa.Column("shard", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("changes", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("shard", name=op.f("pk_list_change")),
    )
    op.execute(f"INSERT INTO list_change (shard) SELECT generate_series(0, {SHARDS - 1})")
    op.execute(BUMP)
    for table in TABLES:
        op.execute(
            f"CREATE CONSTRAINT TRIGGER list_change AFTER INSERT OR UPDATE OR DELETE ON {table}"
            " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION list_change_bump()"
        )
        op.execute(
            f"CREATE TRIGGER list_change_truncate AFTER TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION list_change_bump()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER list_change_truncate ON {table}")
        op.execute(f"DROP TRIGGER list_change ON {table}")
    op.execute("DROP FUNCTION list_change_bump()")
    op.drop_table("list_change")
