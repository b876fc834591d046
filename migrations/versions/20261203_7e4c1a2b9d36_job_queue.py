"""The job queue: procrastinate's tables, functions and triggers in our database.

Background work (plan solves, the sweeps, customer messages) runs as procrastinate jobs that any
number of worker processes take from PostgreSQL. Its schema is procrastinate's own SQL, applied
here so that `alembic upgrade head` (and the tests' template database) give a database that
workers can use at once; `core/schema_filter.py` keeps autogenerate away from these tables.

Revision ID: 7e4c1a2b9d36
Revises: 7e4c9a2b5d36
Create Date: 2026-12-03 05:30:00.000000
"""

from collections.abc import Sequence

from alembic import op
from procrastinate.schema import SchemaManager

revision: str = "7e4c1a2b9d36"
down_revision: str | None = "7e4c9a2b5d36"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _run_script(sql: str) -> None:
    """Many statements, dollar-quoted bodies and `%` signs: sent to psycopg as they are, without
    parameters (which would make it read `%` as placeholders), in the migration's transaction."""
    op.get_bind().connection.driver_connection.execute(sql)  # type: ignore[union-attr]


def upgrade() -> None:
    _run_script(SchemaManager.get_schema())


def downgrade() -> None:
    _run_script(
        """
        DO $$
        DECLARE item record;
        BEGIN
            FOR item IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                        WHERE n.nspname = current_schema() AND c.relkind = 'r'
                          AND c.relname LIKE 'procrastinate%'
            LOOP
                EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', item.relname);
            END LOOP;
            FOR item IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
                        JOIN pg_namespace n ON n.oid = p.pronamespace
                        WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate%'
            LOOP
                EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', item.signature);
            END LOOP;
            FOR item IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                        WHERE n.nspname = current_schema() AND t.typtype IN ('e', 'c')
                          AND t.typname LIKE 'procrastinate%'
            LOOP
                EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', item.typname);
            END LOOP;
        END
        $$;
        """
    )
