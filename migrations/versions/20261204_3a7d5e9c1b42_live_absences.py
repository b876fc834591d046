"""Live updates for absences: a sick day or training recorded at one desk reaches every open
board, and a removed absence too (so live_capture() now reads the old row on DELETE).

Revision ID: 3a7d5e9c1b42
Revises: 6b8e4f0d2c59
Create Date: 2026-12-04 08:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "3a7d5e9c1b42"
down_revision: str | None = "6b8e4f0d2c59"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# live_capture() as revision 8e4b2c7a1f36 left it, with the row taken from OLD on DELETE ({row}).
CAPTURE = """
CREATE OR REPLACE FUNCTION live_capture() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    fields jsonb := {row};
    entity uuid := (fields ->> TG_ARGV[1])::uuid;
    order_id uuid := CASE WHEN TG_ARGV[2] = '' THEN NULL ELSE (fields ->> TG_ARGV[2])::uuid END;
    new_id bigint;
BEGIN
    IF current_setting('fsd.live_quiet', true) = 'on' THEN
        RETURN NULL;
    END IF;
    INSERT INTO live_event (kind, entity_id, work_order_id)
    VALUES (TG_ARGV[0], entity, order_id)
    RETURNING id INTO new_id;
    PERFORM pg_notify('live_event', json_build_object(
        'id', new_id, 'kind', TG_ARGV[0], 'entity_id', entity, 'work_order_id', order_id
    )::text);
    RETURN NULL;
END
$$
"""
WITH_OLD = "CASE WHEN TG_OP = 'DELETE' THEN to_jsonb(OLD) ELSE to_jsonb(NEW) END"


def upgrade() -> None:
    op.execute(CAPTURE.format(row=WITH_OLD))
    op.execute(
        "CREATE TRIGGER live_absence AFTER INSERT OR UPDATE OR DELETE ON engineer_absence"
        " FOR EACH ROW EXECUTE FUNCTION live_capture('absence', 'engineer_id', '')"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER live_absence ON engineer_absence")
    op.execute(CAPTURE.format(row="to_jsonb(NEW)"))
