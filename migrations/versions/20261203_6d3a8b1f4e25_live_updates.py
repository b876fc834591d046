"""Live updates: the changes a console shows, captured by triggers into `live_event` and announced
with NOTIFY at commit; the single-use tickets that open a stream.

Triggers rather than application hooks: every writer (API processes, the worker, a script, a
migration) is seen alike, and a rolled-back change is neither stored nor announced. Updates count
only when a column a screen shows changed, so the SLA watch's predictions and a plan's heartbeat
do not flood the streams.

Revision ID: 6d3a8b1f4e25
Revises: 5c2f7a9e3d14
Create Date: 2026-12-03 03:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6d3a8b1f4e25"
down_revision: str | None = "5c2f7a9e3d14"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (trigger, table, event, condition, kind, entity column, work order column)
TRIGGERS = [
    ("live_order_event", "work_order_event", "INSERT", None, "order", "work_order_id", "work_order_id"),
    ("live_visit_new", "visit", "INSERT", None, "visit", "id", "work_order_id"),
    (
        "live_visit_change",
        "visit",
        "UPDATE",
        "(OLD.status, OLD.engineer_id, OLD.partner_engineer_id, OLD.planned_start, OLD.pinned)"
        " IS DISTINCT FROM "
        "(NEW.status, NEW.engineer_id, NEW.partner_engineer_id, NEW.planned_start, NEW.pinned)",
        "visit",
        "id",
        "work_order_id",
    ),
    (
        "live_clock_change",
        "sla_clock",
        "UPDATE",
        "(OLD.deadline, OLD.met_at, OLD.breached_at, OLD.at_risk_since)"
        " IS DISTINCT FROM (NEW.deadline, NEW.met_at, NEW.breached_at, NEW.at_risk_since)",
        "clock",
        "id",
        "work_order_id",
    ),
    ("live_notification_new", "notification", "INSERT", None, "notification", "id", "work_order_id"),
    (
        "live_notification_ack",
        "notification",
        "UPDATE",
        "OLD.acknowledged_at IS DISTINCT FROM NEW.acknowledged_at",
        "notification",
        "id",
        "work_order_id",
    ),
    ("live_position", "engineer_position", "INSERT", None, "position", "engineer_id", ""),
    ("live_plan_new", "dispatch_plan", "INSERT", None, "plan", "id", ""),
    (
        "live_plan_change",
        "dispatch_plan",
        "UPDATE",
        "(OLD.status, OLD.progress->'solutions') IS DISTINCT FROM (NEW.status, NEW.progress->'solutions')",
        "plan",
        "id",
        "",
    ),
]

CAPTURE = """
CREATE FUNCTION live_capture() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    fields jsonb := to_jsonb(NEW);
    entity uuid := (fields ->> TG_ARGV[1])::uuid;
    order_id uuid := CASE WHEN TG_ARGV[2] = '' THEN NULL ELSE (fields ->> TG_ARGV[2])::uuid END;
    new_id bigint;
BEGIN
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


def upgrade() -> None:
    op.create_table(
        "live_event",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("work_order_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_event")),
    )
    op.create_index(op.f("ix_live_event_at"), "live_event", ["at"], unique=False)
    op.create_table(
        "live_ticket",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_live_ticket_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token_sha256", name=op.f("pk_live_ticket")),
    )
    op.create_index(op.f("ix_live_ticket_user_id"), "live_ticket", ["user_id"], unique=False)
    op.execute(CAPTURE)
    for name, table, event, condition, kind, entity, order in TRIGGERS:
        when = f"WHEN ({condition}) " if condition else ""
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW {when}"
            f"EXECUTE FUNCTION live_capture('{kind}', '{entity}', '{order}')"
        )


def downgrade() -> None:
    for name, table, *_ in TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON {table}")
    op.execute("DROP FUNCTION live_capture()")
    op.drop_index(op.f("ix_live_ticket_user_id"), table_name="live_ticket")
    op.drop_table("live_ticket")
    op.drop_index(op.f("ix_live_event_at"), table_name="live_event")
    op.drop_table("live_event")
