# mypy: disable-error-code="attr-defined"
# (GeoAlchemy2 adds create_geospatial_table & co. to alembic.op at run time)
"""Work orders, their timeline, visits, SLA clocks and pauses, notifications, outbox, positions.

Revision ID: 711a7440d1a4
Revises: 6bac13aae2f3
Create Date: 2026-11-25 14:36:01.547516
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography
from sqlalchemy.dialects import postgresql

revision: str = "711a7440d1a4"
down_revision: str | None = "6bac13aae2f3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


NEW_ENUMS = (
    "intake_channel",
    "work_order_status",
    "outbox_status",
    "pause_reason",
    "visit_kind",
    "visit_status",
)


def upgrade() -> None:
    bind = op.get_bind()
    postgresql.ENUM(
        "phone", "email", "web", "walk_in", "fax", "letter", "chat", "integration", name="intake_channel"
    ).create(bind)
    postgresql.ENUM(
        "new",
        "triaged",
        "scheduled",
        "en_route",
        "on_site",
        "resolved",
        "signed",
        "closed",
        "remote_fix",
        "waiting_customer",
        "backup_installed",
        "cancelled",
        "reopened",
        name="work_order_status",
    ).create(bind)
    postgresql.ENUM("pending", "sent", "failed", name="outbox_status").create(bind)
    postgresql.ENUM(
        "site_not_accessible",
        "escort_delay",
        "customer_postponed",
        "change_freeze",
        "awaiting_quote_approval",
        name="pause_reason",
    ).create(bind)
    postgresql.ENUM("repair", "backup_delivery", "swap_back", "inspection", name="visit_kind").create(bind)
    postgresql.ENUM(
        "planned", "assigned", "en_route", "on_site", "done", "cancelled", name="visit_status"
    ).create(bind)
    # Problem numbers: WO-<year>-<number>, one sequence for all years.
    op.execute("CREATE SEQUENCE work_order_number_seq")
    op.create_geospatial_table(
        "engineer_position",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("engineer_id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "point",
            Geography(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("accuracy_m", sa.Double(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["engineer_id"], ["engineer.id"], name=op.f("fk_engineer_position_engineer_id_engineer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engineer_position")),
    )
    op.create_geospatial_index(
        "idx_engineer_position_point",
        "engineer_position",
        ["point"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        "ix_engineer_position_latest",
        "engineer_position",
        ["engineer_id", sa.literal_column("at DESC")],
        unique=False,
    )
    op.create_table(
        "position_consent",
        sa.Column("engineer_id", sa.Uuid(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["engineer_id"], ["engineer.id"], name=op.f("fk_position_consent_engineer_id_engineer")
        ),
        sa.PrimaryKeyConstraint("engineer_id", name=op.f("pk_position_consent")),
    )
    op.create_table(
        "work_order",
        sa.Column("problem_number", sa.String(length=32), nullable=False),
        sa.Column("archive_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("asset_id", sa.Uuid(), nullable=True),
        sa.Column("contract_id", sa.Uuid(), nullable=True),
        sa.Column("asset_model", sa.String(length=100), nullable=True),
        sa.Column("asset_serial", sa.String(length=100), nullable=True),
        sa.Column("purchase_date", sa.Date(), nullable=True),
        sa.Column("warranty_end", sa.Date(), nullable=True),
        sa.Column("billable", sa.Boolean(), nullable=False),
        sa.Column("contact_name", sa.String(length=100), nullable=False),
        sa.Column("contact_phone", sa.String(length=40), nullable=False),
        sa.Column("fault_description", sa.Text(), nullable=False),
        sa.Column("impact_scope", sa.String(length=500), nullable=True),
        sa.Column("severity", postgresql.ENUM(name="severity", create_type=False), nullable=False),
        sa.Column("channel", postgresql.ENUM(name="intake_channel", create_type=False), nullable=False),
        sa.Column("status", postgresql.ENUM(name="work_order_status", create_type=False), nullable=False),
        sa.Column(
            "resume_status", postgresql.ENUM(name="work_order_status", create_type=False), nullable=True
        ),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported_by", sa.Uuid(), nullable=True),
        sa.Column("restored_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_by", sa.String(length=100), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_channel", sa.String(length=32), nullable=True),
        sa.Column("repeat_faults", sa.SmallInteger(), nullable=False),
        sa.Column("backup_needed", sa.Boolean(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "length(fault_description) <= 4000", name=op.f("ck_work_order_description_length")
        ),
        sa.ForeignKeyConstraint(["asset_id"], ["asset.id"], name=op.f("fk_work_order_asset_id_asset")),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contract.id"], name=op.f("fk_work_order_contract_id_contract")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_work_order_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(
            ["reported_by"], ["app_user.id"], name=op.f("fk_work_order_reported_by_app_user")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_work_order_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_order")),
        sa.UniqueConstraint("archive_id", name=op.f("uq_work_order_archive_id")),
        sa.UniqueConstraint("problem_number", name=op.f("uq_work_order_problem_number")),
    )
    op.create_index(op.f("ix_work_order_asset_id"), "work_order", ["asset_id"], unique=False)
    op.create_index(op.f("ix_work_order_asset_serial"), "work_order", ["asset_serial"], unique=False)
    op.create_index(op.f("ix_work_order_customer_id"), "work_order", ["customer_id"], unique=False)
    op.create_index(op.f("ix_work_order_due_at"), "work_order", ["due_at"], unique=False)
    op.create_index(
        "ix_work_order_open",
        "work_order",
        ["status"],
        unique=False,
        postgresql_where=sa.text("status NOT IN ('closed', 'cancelled')"),
    )
    op.create_index(op.f("ix_work_order_reported_at"), "work_order", ["reported_at"], unique=False)
    op.create_index(op.f("ix_work_order_severity"), "work_order", ["severity"], unique=False)
    op.create_index(op.f("ix_work_order_site_id"), "work_order", ["site_id"], unique=False)
    op.create_index(op.f("ix_work_order_status"), "work_order", ["status"], unique=False)
    op.create_table(
        "backup_offer",
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unit_description", sa.String(length=200), nullable=False),
        sa.Column("declined", sa.Boolean(), nullable=False),
        sa.Column("declined_by", sa.String(length=100), nullable=True),
        sa.Column("evidence", sa.String(length=200), nullable=True),
        sa.Column("by_user_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_user_id"], ["app_user.id"], name=op.f("fk_backup_offer_by_user_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_order.id"], name=op.f("fk_backup_offer_work_order_id_work_order")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backup_offer")),
    )
    op.create_index(op.f("ix_backup_offer_work_order_id"), "backup_offer", ["work_order_id"], unique=False)
    op.create_table(
        "notification",
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("audience", sa.String(length=40), nullable=False),
        sa.Column("work_order_id", sa.Uuid(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.Uuid(), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["acknowledged_by"], ["app_user.id"], name=op.f("fk_notification_acknowledged_by_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_order.id"], name=op.f("fk_notification_work_order_id_work_order")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_notification_dedupe_key")),
    )
    op.create_index(
        "ix_notification_open",
        "notification",
        ["created_at"],
        unique=False,
        postgresql_where=sa.text("acknowledged_at IS NULL"),
    )
    op.create_index(op.f("ix_notification_work_order_id"), "notification", ["work_order_id"], unique=False)
    op.create_table(
        "outbox_message",
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("work_order_id", sa.Uuid(), nullable=True),
        sa.Column("status", postgresql.ENUM(name="outbox_status", create_type=False), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_order.id"], name=op.f("fk_outbox_message_work_order_id_work_order")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_message_dedupe_key")),
    )
    op.create_index(
        "ix_outbox_due",
        "outbox_message",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        op.f("ix_outbox_message_work_order_id"), "outbox_message", ["work_order_id"], unique=False
    )
    op.create_table(
        "sla_clock",
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("measure", postgresql.ENUM(name="sla_measure", create_type=False), nullable=False),
        sa.Column("target", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("base_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("met_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("breached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("at_risk_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("predicted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("customer_excused", sa.Boolean(), nullable=False),
        sa.Column("escalation_level", sa.SmallInteger(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_order.id"], name=op.f("fk_sla_clock_work_order_id_work_order")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_clock")),
        sa.UniqueConstraint("work_order_id", "measure", name=op.f("uq_sla_clock_work_order_id_measure")),
    )
    op.create_index(op.f("ix_sla_clock_deadline"), "sla_clock", ["deadline"], unique=False)
    op.create_table(
        "sla_pause",
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("reason", postgresql.ENUM(name="pause_reason", create_type=False), nullable=False),
        sa.Column("customer_name", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("call_reference", sa.String(length=100), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("by_user_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_user_id"], ["app_user.id"], name=op.f("fk_sla_pause_by_user_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_order.id"], name=op.f("fk_sla_pause_work_order_id_work_order")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_pause")),
    )
    op.create_index(op.f("ix_sla_pause_work_order_id"), "sla_pause", ["work_order_id"], unique=False)
    op.create_geospatial_table(
        "visit",
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("kind", postgresql.ENUM(name="visit_kind", create_type=False), nullable=False),
        sa.Column("status", postgresql.ENUM(name="visit_status", create_type=False), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("required_skills", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("required_parts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("people_needed", sa.SmallInteger(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_confirmed", sa.Boolean(), nullable=False),
        sa.Column("engineer_id", sa.Uuid(), nullable=True),
        sa.Column("partner_engineer_id", sa.Uuid(), nullable=True),
        sa.Column("planned_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("en_route_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "arrival_point",
            Geography(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
            ),
            nullable=True,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("duration_minutes > 0", name=op.f("ck_visit_duration")),
        sa.CheckConstraint("people_needed BETWEEN 1 AND 4", name=op.f("ck_visit_people")),
        sa.CheckConstraint(
            "window_start IS NULL OR window_end IS NULL OR window_start < window_end",
            name=op.f("ck_visit_window"),
        ),
        sa.ForeignKeyConstraint(["engineer_id"], ["engineer.id"], name=op.f("fk_visit_engineer_id_engineer")),
        sa.ForeignKeyConstraint(
            ["partner_engineer_id"], ["engineer.id"], name=op.f("fk_visit_partner_engineer_id_engineer")
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_order.id"], name=op.f("fk_visit_work_order_id_work_order")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit")),
    )
    op.create_geospatial_index(
        "idx_visit_arrival_point",
        "visit",
        ["arrival_point"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_visit_engineer_id"), "visit", ["engineer_id"], unique=False)
    op.create_index(op.f("ix_visit_partner_engineer_id"), "visit", ["partner_engineer_id"], unique=False)
    op.create_index(op.f("ix_visit_status"), "visit", ["status"], unique=False)
    op.create_index(op.f("ix_visit_work_order_id"), "visit", ["work_order_id"], unique=False)
    op.create_table(
        "work_order_contact",
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by_user_id", sa.Uuid(), nullable=False),
        sa.Column("person_name", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_user_id"], ["app_user.id"], name=op.f("fk_work_order_contact_by_user_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_order.id"], name=op.f("fk_work_order_contact_work_order_id_work_order")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_order_contact")),
    )
    op.create_index(
        op.f("ix_work_order_contact_work_order_id"), "work_order_contact", ["work_order_id"], unique=False
    )
    op.create_geospatial_table(
        "work_order_event",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "location",
            Geography(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
            ),
            nullable=True,
        ),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["app_user.id"], name=op.f("fk_work_order_event_actor_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_order.id"], name=op.f("fk_work_order_event_work_order_id_work_order")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_order_event")),
    )
    op.create_geospatial_index(
        "idx_work_order_event_location",
        "work_order_event",
        ["location"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        op.f("ix_work_order_event_work_order_id"), "work_order_event", ["work_order_id"], unique=False
    )
    op.create_table(
        "visit_note",
        sa.Column("visit_id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["app_user.id"], name=op.f("fk_visit_note_author_id_app_user")
        ),
        sa.ForeignKeyConstraint(["visit_id"], ["visit.id"], name=op.f("fk_visit_note_visit_id_visit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_note")),
    )
    op.create_index(op.f("ix_visit_note_visit_id"), "visit_note", ["visit_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_visit_note_visit_id"), table_name="visit_note")
    op.drop_table("visit_note")
    op.drop_index(op.f("ix_work_order_event_work_order_id"), table_name="work_order_event")
    op.drop_geospatial_index(
        "idx_work_order_event_location",
        table_name="work_order_event",
        postgresql_using="gist",
        column_name="location",
    )
    op.drop_geospatial_table("work_order_event")
    op.drop_index(op.f("ix_work_order_contact_work_order_id"), table_name="work_order_contact")
    op.drop_table("work_order_contact")
    op.drop_index(op.f("ix_visit_work_order_id"), table_name="visit")
    op.drop_index(op.f("ix_visit_status"), table_name="visit")
    op.drop_index(op.f("ix_visit_partner_engineer_id"), table_name="visit")
    op.drop_index(op.f("ix_visit_engineer_id"), table_name="visit")
    op.drop_geospatial_index(
        "idx_visit_arrival_point", table_name="visit", postgresql_using="gist", column_name="arrival_point"
    )
    op.drop_geospatial_table("visit")
    op.drop_index(op.f("ix_sla_pause_work_order_id"), table_name="sla_pause")
    op.drop_table("sla_pause")
    op.drop_index(op.f("ix_sla_clock_deadline"), table_name="sla_clock")
    op.drop_table("sla_clock")
    op.drop_index(op.f("ix_outbox_message_work_order_id"), table_name="outbox_message")
    op.drop_index(
        "ix_outbox_due", table_name="outbox_message", postgresql_where=sa.text("status = 'pending'")
    )
    op.drop_table("outbox_message")
    op.drop_index(op.f("ix_notification_work_order_id"), table_name="notification")
    op.drop_index(
        "ix_notification_open", table_name="notification", postgresql_where=sa.text("acknowledged_at IS NULL")
    )
    op.drop_table("notification")
    op.drop_index(op.f("ix_backup_offer_work_order_id"), table_name="backup_offer")
    op.drop_table("backup_offer")
    op.drop_index(op.f("ix_work_order_status"), table_name="work_order")
    op.drop_index(op.f("ix_work_order_site_id"), table_name="work_order")
    op.drop_index(op.f("ix_work_order_severity"), table_name="work_order")
    op.drop_index(op.f("ix_work_order_reported_at"), table_name="work_order")
    op.drop_index(
        "ix_work_order_open",
        table_name="work_order",
        postgresql_where=sa.text("status NOT IN ('closed', 'cancelled')"),
    )
    op.drop_index(op.f("ix_work_order_due_at"), table_name="work_order")
    op.drop_index(op.f("ix_work_order_customer_id"), table_name="work_order")
    op.drop_index(op.f("ix_work_order_asset_serial"), table_name="work_order")
    op.drop_index(op.f("ix_work_order_asset_id"), table_name="work_order")
    op.drop_table("work_order")
    op.drop_table("position_consent")
    op.drop_index("ix_engineer_position_latest", table_name="engineer_position")
    op.drop_geospatial_index(
        "idx_engineer_position_point",
        table_name="engineer_position",
        postgresql_using="gist",
        column_name="point",
    )
    op.drop_geospatial_table("engineer_position")
    op.execute("DROP SEQUENCE work_order_number_seq")
    for name in NEW_ENUMS:
        op.execute(f"DROP TYPE {name}")
