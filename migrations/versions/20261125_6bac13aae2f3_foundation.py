# mypy: disable-error-code="attr-defined"
# (GeoAlchemy2 adds create_geospatial_table & co. to alembic.op at run time)
"""Foundation: users and sign-in, customers, sites, assets, contracts, engineers, audit log.

Revision ID: 6bac13aae2f3
Revises:
Create Date: 2026-11-25 14:06:22.391543
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography
from sqlalchemy.dialects import postgresql

revision: str = "6bac13aae2f3"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ENUMS = (
    "user_role",
    "calendar_kind",
    "day_kind",
    "severity",
    "sla_measure",
    "deadline_rule",
    "count_mode",
    "start_rule",
    "employer_kind",
    "location_kind",
)


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_role", sa.String(length=32), nullable=True),
        sa.Column("action", sa.String(length=200), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reads", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_actor_id"), "audit_log", ["actor_id"], unique=False)
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)
    op.create_table(
        "customer",
        sa.Column("customer_number", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("hotline_phone", sa.String(length=40), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer")),
        sa.UniqueConstraint("customer_number", name=op.f("uq_customer_customer_number")),
    )
    op.create_table(
        "holiday_calendar",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("years", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holiday_calendar")),
        sa.UniqueConstraint("name", name=op.f("uq_holiday_calendar_name")),
    )
    op.create_table(
        "idempotency_key",
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("headers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("owner", "key", name=op.f("pk_idempotency_key")),
    )
    op.create_index(op.f("ix_idempotency_key_created_at"), "idempotency_key", ["created_at"], unique=False)
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    op.create_table(
        "app_user",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin",
                "supervisor",
                "dispatcher",
                "engineer",
                "warehouse",
                "customer_contact",
                name="user_role",
            ),
            nullable=False,
        ),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_app_user_customer_id_customer"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("username", name=op.f("uq_app_user_username")),
    )
    op.create_index(op.f("ix_app_user_customer_id"), "app_user", ["customer_id"], unique=False)
    op.create_table(
        "contract",
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("contract_number", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("calendar_kind", sa.Enum("7x24", "business_hours", name="calendar_kind"), nullable=False),
        sa.Column("business_hours", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("holiday_calendar_id", sa.Uuid(), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("backup_device_entitled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("escalation", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_contract_customer_id_customer"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["holiday_calendar_id"],
            ["holiday_calendar.id"],
            name=op.f("fk_contract_holiday_calendar_id_holiday_calendar"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract")),
        sa.UniqueConstraint("contract_number", name=op.f("uq_contract_contract_number")),
    )
    op.create_index(op.f("ix_contract_customer_id"), "contract", ["customer_id"], unique=False)
    op.create_table(
        "holiday_day",
        sa.Column("calendar_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.Enum("holiday", "makeup_workday", name="day_kind"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["holiday_calendar.id"],
            name=op.f("fk_holiday_day_calendar_id_holiday_calendar"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("calendar_id", "day", name=op.f("pk_holiday_day")),
    )
    op.create_geospatial_table(
        "site",
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
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
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("region_calendar_id", sa.Uuid(), nullable=True),
        sa.Column("contact_name", sa.String(length=100), nullable=True),
        sa.Column("contact_phone", sa.String(length=40), nullable=True),
        sa.Column("access_notes", sa.Text(), nullable=True),
        sa.Column("retains_media", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("no_photography", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_site_customer_id_customer"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["region_calendar_id"],
            ["holiday_calendar.id"],
            name=op.f("fk_site_region_calendar_id_holiday_calendar"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site")),
    )
    op.create_geospatial_index(
        "idx_site_point", "site", ["point"], unique=False, postgresql_using="gist", postgresql_ops={}
    )
    op.create_index(op.f("ix_site_customer_id"), "site", ["customer_id"], unique=False)
    op.create_table(
        "asset",
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("contract_id", sa.Uuid(), nullable=True),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("serial", sa.String(length=100), nullable=False),
        sa.Column("purchase_date", sa.Date(), nullable=True),
        sa.Column("warranty_end", sa.Date(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contract.id"], name=op.f("fk_asset_contract_id_contract"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_asset_site_id_site"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset")),
        sa.UniqueConstraint("model", "serial", name=op.f("uq_asset_model_serial")),
    )
    op.create_index(op.f("ix_asset_contract_id"), "asset", ["contract_id"], unique=False)
    op.create_index(op.f("ix_asset_serial"), "asset", ["serial"], unique=False)
    op.create_index(op.f("ix_asset_site_id"), "asset", ["site_id"], unique=False)
    op.create_table(
        "contract_target",
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("severity", sa.Enum("critical", "high", "medium", "low", name="severity"), nullable=False),
        sa.Column(
            "measure",
            sa.Enum("response", "on_site", "restore", "permanent_fix", name="sla_measure"),
            nullable=False,
        ),
        sa.Column(
            "rule",
            sa.Enum("duration", "next_business_day", "scheduled", name="deadline_rule"),
            nullable=False,
        ),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column("count_mode", sa.Enum("elapsed", "business", name="count_mode"), nullable=False),
        sa.Column(
            "start_rule", sa.Enum("immediate", "next_business_opening", name="start_rule"), nullable=False
        ),
        sa.Column("cutoff", sa.Time(), nullable=True),
        sa.CheckConstraint(
            "minutes IS NULL OR minutes > 0", name=op.f("ck_contract_target_positive_minutes")
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contract.id"],
            name=op.f("fk_contract_target_contract_id_contract"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("contract_id", "severity", "measure", name=op.f("pk_contract_target")),
    )
    op.create_geospatial_table(
        "engineer",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("employer_kind", sa.Enum("company", "manufacturer", name="employer_kind"), nullable=False),
        sa.Column("employer_name", sa.String(length=200), nullable=False),
        sa.Column(
            "home_base",
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
        sa.Column("home_address", sa.String(length=500), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("on_call", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.ForeignKeyConstraint(
            ["id"], ["app_user.id"], name=op.f("fk_engineer_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engineer")),
    )
    op.create_geospatial_index(
        "idx_engineer_home_base",
        "engineer",
        ["home_base"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "refresh_token",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("family_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_refresh_token_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_token_token_hash")),
    )
    op.create_index(op.f("ix_refresh_token_family_id"), "refresh_token", ["family_id"], unique=False)
    op.create_index(
        "ix_refresh_token_family_live",
        "refresh_token",
        ["family_id"],
        unique=False,
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    op.create_index(op.f("ix_refresh_token_user_id"), "refresh_token", ["user_id"], unique=False)
    op.create_table(
        "engineer_shift",
        sa.Column("engineer_id", sa.Uuid(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("starts", sa.Time(), nullable=False),
        sa.Column("ends", sa.Time(), nullable=False),
        sa.CheckConstraint("starts < ends", name=op.f("ck_engineer_shift_ordered")),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_engineer_shift_weekday_range")),
        sa.ForeignKeyConstraint(
            ["engineer_id"],
            ["engineer.id"],
            name=op.f("fk_engineer_shift_engineer_id_engineer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("engineer_id", "weekday", "starts", name=op.f("pk_engineer_shift")),
    )
    op.create_table(
        "engineer_skill",
        sa.Column("engineer_id", sa.Uuid(), nullable=False),
        sa.Column("skill", sa.String(length=64), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.CheckConstraint("level BETWEEN 1 AND 5", name=op.f("ck_engineer_skill_level_range")),
        sa.ForeignKeyConstraint(
            ["engineer_id"],
            ["engineer.id"],
            name=op.f("fk_engineer_skill_engineer_id_engineer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("engineer_id", "skill", name=op.f("pk_engineer_skill")),
    )
    op.create_geospatial_table(
        "stock_location",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "warehouse",
                "van",
                "customer_site",
                "repair_vendor",
                "in_transit",
                "discrepancy",
                name="location_kind",
            ),
            nullable=False,
        ),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column(
            "point",
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
        sa.Column("engineer_id", sa.Uuid(), nullable=True),
        sa.Column("site_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["engineer_id"],
            ["engineer.id"],
            name=op.f("fk_stock_location_engineer_id_engineer"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_stock_location_site_id_site"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_location")),
        sa.UniqueConstraint("code", name=op.f("uq_stock_location_code")),
    )
    op.create_geospatial_index(
        "idx_stock_location_point",
        "stock_location",
        ["point"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_stock_location_engineer_id"), "stock_location", ["engineer_id"], unique=False)
    op.create_index(op.f("ix_stock_location_site_id"), "stock_location", ["site_id"], unique=False)
    # The audit log is append-only: the database itself refuses to change or remove rows.
    op.execute(
        """
        CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$;
        CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
            FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
        CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
            FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
        """
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_stock_location_site_id"), table_name="stock_location")
    op.drop_index(op.f("ix_stock_location_engineer_id"), table_name="stock_location")
    op.drop_geospatial_index(
        "idx_stock_location_point", table_name="stock_location", postgresql_using="gist", column_name="point"
    )
    op.drop_geospatial_table("stock_location")
    op.drop_table("engineer_skill")
    op.drop_table("engineer_shift")
    op.drop_index(op.f("ix_refresh_token_user_id"), table_name="refresh_token")
    op.drop_index(
        "ix_refresh_token_family_live",
        table_name="refresh_token",
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    op.drop_index(op.f("ix_refresh_token_family_id"), table_name="refresh_token")
    op.drop_table("refresh_token")
    op.drop_geospatial_index(
        "idx_engineer_home_base", table_name="engineer", postgresql_using="gist", column_name="home_base"
    )
    op.drop_geospatial_table("engineer")
    op.drop_table("contract_target")
    op.drop_index(op.f("ix_asset_site_id"), table_name="asset")
    op.drop_index(op.f("ix_asset_serial"), table_name="asset")
    op.drop_index(op.f("ix_asset_contract_id"), table_name="asset")
    op.drop_table("asset")
    op.drop_index(op.f("ix_site_customer_id"), table_name="site")
    op.drop_geospatial_index(
        "idx_site_point", table_name="site", postgresql_using="gist", column_name="point"
    )
    op.drop_geospatial_table("site")
    op.drop_table("holiday_day")
    op.drop_index(op.f("ix_contract_customer_id"), table_name="contract")
    op.drop_table("contract")
    op.drop_index(op.f("ix_app_user_customer_id"), table_name="app_user")
    op.drop_table("app_user")
    op.drop_table("login_throttle")
    op.drop_index(op.f("ix_idempotency_key_created_at"), table_name="idempotency_key")
    op.drop_table("idempotency_key")
    op.drop_table("holiday_calendar")
    op.drop_table("customer")
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_actor_id"), table_name="audit_log")
    op.drop_table("audit_log")
    op.execute("DROP FUNCTION audit_log_append_only()")
    for name in ENUMS:
        op.execute(f"DROP TYPE {name}")
