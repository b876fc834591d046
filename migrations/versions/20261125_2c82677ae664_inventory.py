# mypy: disable-error-code="attr-defined"
# (GeoAlchemy2 adds create_geospatial_table & co. to alembic.op at run time)
"""Inventory: items, serialized units, the stock ledger with its balance trigger, reservations,
loans, repairs (RMA) and wipes.

Revision ID: 2c82677ae664
Revises: 711a7440d1a4
Create Date: 2026-11-25 14:50:02.281408
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "2c82677ae664"
down_revision: str | None = "711a7440d1a4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


NEW_ENUMS = (
    "item_kind",
    "unit_state",
    "reservation_status",
    "loan_status",
    "stock_move_kind",
    "repair_status",
)

# The balance cache follows the ledger inside the INSERT of each movement: the CHECK
# constraints on stock_balance then make any movement that would take a location below
# zero (below its reservations) fail, whoever writes it and however many write at once.
# The zero row is inserted first so that the CHECK judges the updated row, never the delta.
LEDGER_SQL = """
CREATE FUNCTION stock_balance_add(p_item uuid, p_location uuid, d_on_hand integer, d_reserved integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stock_balance (item_id, location_id, on_hand, reserved, allow_negative)
    SELECT p_item, l.id, 0, 0, l.kind = 'discrepancy' FROM stock_location l WHERE l.id = p_location
    ON CONFLICT (item_id, location_id) DO NOTHING;
    UPDATE stock_balance
       SET on_hand = on_hand + d_on_hand, reserved = reserved + d_reserved
     WHERE item_id = p_item AND location_id = p_location;
END $$;

CREATE FUNCTION stock_move_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind = 'reserve' THEN
        PERFORM stock_balance_add(NEW.item_id, NEW.from_location_id, 0, NEW.quantity);
    ELSIF NEW.kind = 'release' THEN
        PERFORM stock_balance_add(NEW.item_id, NEW.from_location_id, 0, -NEW.quantity);
    ELSE
        IF NEW.from_location_id IS NOT NULL THEN
            PERFORM stock_balance_add(
                NEW.item_id, NEW.from_location_id, -NEW.quantity,
                CASE WHEN NEW.from_reserved THEN -NEW.quantity ELSE 0 END);
        END IF;
        IF NEW.to_location_id IS NOT NULL THEN
            PERFORM stock_balance_add(NEW.item_id, NEW.to_location_id, NEW.quantity, 0);
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER stock_move_apply AFTER INSERT ON stock_move
    FOR EACH ROW EXECUTE FUNCTION stock_move_apply();

CREATE FUNCTION stock_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: record a correcting movement instead', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER stock_move_append_only BEFORE UPDATE OR DELETE ON stock_move
    FOR EACH ROW EXECUTE FUNCTION stock_append_only();
CREATE TRIGGER stock_move_no_truncate BEFORE TRUNCATE ON stock_move
    FOR EACH STATEMENT EXECUTE FUNCTION stock_append_only();
CREATE TRIGGER stock_unit_event_append_only BEFORE UPDATE OR DELETE ON stock_unit_event
    FOR EACH ROW EXECUTE FUNCTION stock_append_only();

-- Balances change only through the ledger's trigger (depth 2), never by a direct write.
CREATE FUNCTION stock_balance_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'stock_balance follows the ledger: insert a stock_move instead'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE TRIGGER stock_balance_guard BEFORE INSERT OR UPDATE OR DELETE ON stock_balance
    FOR EACH ROW EXECUTE FUNCTION stock_balance_guard();
"""

DROP_LEDGER_SQL = """
DROP TRIGGER stock_balance_guard ON stock_balance;
DROP FUNCTION stock_balance_guard();
DROP TRIGGER stock_unit_event_append_only ON stock_unit_event;
DROP TRIGGER stock_move_no_truncate ON stock_move;
DROP TRIGGER stock_move_append_only ON stock_move;
DROP FUNCTION stock_append_only();
DROP TRIGGER stock_move_apply ON stock_move;
DROP FUNCTION stock_move_apply();
DROP FUNCTION stock_balance_add(uuid, uuid, integer, integer);
"""


def upgrade() -> None:
    op.create_table(
        "stock_item",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.Enum("part", "device", name="item_kind"), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column("data_bearing", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_item")),
        sa.UniqueConstraint("sku", name=op.f("uq_stock_item_sku")),
    )
    op.create_index(op.f("ix_stock_item_model"), "stock_item", ["model"], unique=False)
    op.create_table(
        "stock_compatibility",
        sa.Column("backup_item_id", sa.Uuid(), nullable=False),
        sa.Column("customer_model", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["backup_item_id"],
            ["stock_item.id"],
            name=op.f("fk_stock_compatibility_backup_item_id_stock_item"),
        ),
        sa.PrimaryKeyConstraint("backup_item_id", "customer_model", name=op.f("pk_stock_compatibility")),
    )
    op.create_table(
        "stock_balance",
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("allow_negative", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "allow_negative OR on_hand >= reserved", name=op.f("ck_stock_balance_never_negative")
        ),
        sa.CheckConstraint("reserved >= 0", name=op.f("ck_stock_balance_reserved_not_negative")),
        sa.ForeignKeyConstraint(
            ["item_id"], ["stock_item.id"], name=op.f("fk_stock_balance_item_id_stock_item")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["stock_location.id"], name=op.f("fk_stock_balance_location_id_stock_location")
        ),
        sa.PrimaryKeyConstraint("item_id", "location_id", name=op.f("pk_stock_balance")),
    )
    op.create_index(op.f("ix_stock_balance_location_id"), "stock_balance", ["location_id"], unique=False)
    op.create_table(
        "stock_unit",
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("serial", sa.String(length=100), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "available",
                "reserved",
                "in_transit",
                "on_loan",
                "installed",
                "faulty",
                "in_repair",
                "scrapped",
                "quarantined",
                name="unit_state",
            ),
            nullable=False,
        ),
        sa.Column("location_id", sa.Uuid(), nullable=True),
        sa.Column("customer_owned", sa.Boolean(), nullable=False),
        sa.Column("configuration", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["stock_item.id"], name=op.f("fk_stock_unit_item_id_stock_item")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["stock_location.id"], name=op.f("fk_stock_unit_location_id_stock_location")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_unit")),
        sa.UniqueConstraint("serial", name=op.f("uq_stock_unit_serial")),
    )
    op.create_index(op.f("ix_stock_unit_item_id"), "stock_unit", ["item_id"], unique=False)
    op.create_index(op.f("ix_stock_unit_location_id"), "stock_unit", ["location_id"], unique=False)
    op.create_index(op.f("ix_stock_unit_state"), "stock_unit", ["state"], unique=False)
    op.create_table(
        "stock_reservation",
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("unit_id", sa.Uuid(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Uuid(), nullable=True),
        sa.Column("visit_id", sa.Uuid(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("active", "consumed", "released", "expired", name="reservation_status"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_stock_reservation_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["app_user.id"], name=op.f("fk_stock_reservation_actor_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["stock_item.id"], name=op.f("fk_stock_reservation_item_id_stock_item")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["stock_location.id"],
            name=op.f("fk_stock_reservation_location_id_stock_location"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["stock_unit.id"], name=op.f("fk_stock_reservation_unit_id_stock_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_reservation")),
    )
    op.create_index(
        "ix_stock_reservation_due",
        "stock_reservation",
        ["expires_at"],
        unique=False,
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_index(op.f("ix_stock_reservation_visit_id"), "stock_reservation", ["visit_id"], unique=False)
    op.create_index(
        op.f("ix_stock_reservation_work_order_id"), "stock_reservation", ["work_order_id"], unique=False
    )
    op.create_table(
        "stock_unit_event",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("unit_id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=True),
        sa.Column("to_state", sa.String(length=20), nullable=True),
        sa.Column("location_id", sa.Uuid(), nullable=True),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("work_order_id", sa.Uuid(), nullable=True),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["app_user.id"], name=op.f("fk_stock_unit_event_actor_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["stock_location.id"],
            name=op.f("fk_stock_unit_event_location_id_stock_location"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["stock_unit.id"], name=op.f("fk_stock_unit_event_unit_id_stock_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_unit_event")),
    )
    op.create_index(op.f("ix_stock_unit_event_unit_id"), "stock_unit_event", ["unit_id"], unique=False)
    op.create_table(
        "stock_wipe",
        sa.Column("unit_id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("method", sa.String(length=100), nullable=False),
        sa.Column("operator", sa.String(length=100), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["app_user.id"], name=op.f("fk_stock_wipe_actor_id_app_user")),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["stock_unit.id"], name=op.f("fk_stock_wipe_unit_id_stock_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_wipe")),
    )
    op.create_index(op.f("ix_stock_wipe_unit_id"), "stock_wipe", ["unit_id"], unique=False)
    op.create_table(
        "stock_loan",
        sa.Column("unit_id", sa.Uuid(), nullable=False),
        sa.Column("reservation_id", sa.Uuid(), nullable=True),
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("delivery_visit_id", sa.Uuid(), nullable=True),
        sa.Column("swap_back_visit_id", sa.Uuid(), nullable=True),
        sa.Column("site_location_id", sa.Uuid(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("proposed", "approved", "open", "returning", "closed", "cancelled", name="loan_status"),
            nullable=False,
        ),
        sa.Column("cause", sa.String(length=200), nullable=False),
        sa.Column("approved_by", sa.Uuid(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_by", sa.String(length=100), nullable=True),
        sa.Column("configuration", sa.Text(), nullable=True),
        sa.Column("return_by", sa.Date(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("faulty_unit_id", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by"], ["app_user.id"], name=op.f("fk_stock_loan_approved_by_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["faulty_unit_id"], ["stock_unit.id"], name=op.f("fk_stock_loan_faulty_unit_id_stock_unit")
        ),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["stock_reservation.id"],
            name=op.f("fk_stock_loan_reservation_id_stock_reservation"),
        ),
        sa.ForeignKeyConstraint(
            ["site_location_id"],
            ["stock_location.id"],
            name=op.f("fk_stock_loan_site_location_id_stock_location"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["stock_unit.id"], name=op.f("fk_stock_loan_unit_id_stock_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_loan")),
    )
    op.create_index(op.f("ix_stock_loan_status"), "stock_loan", ["status"], unique=False)
    op.create_index(op.f("ix_stock_loan_work_order_id"), "stock_loan", ["work_order_id"], unique=False)
    op.create_index(
        "uq_stock_loan_active_unit",
        "stock_loan",
        ["unit_id"],
        unique=True,
        postgresql_where=sa.text("status NOT IN ('closed', 'cancelled')"),
    )
    op.create_table(
        "stock_move",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "receive",
                "transfer",
                "reserve",
                "release",
                "pick",
                "consume",
                "return",
                "adjust",
                "scrap",
                name="stock_move_kind",
            ),
            nullable=False,
        ),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("from_location_id", sa.Uuid(), nullable=True),
        sa.Column("to_location_id", sa.Uuid(), nullable=True),
        sa.Column("from_reserved", sa.Boolean(), nullable=False),
        sa.Column("unit_id", sa.Uuid(), nullable=True),
        sa.Column("reservation_id", sa.Uuid(), nullable=True),
        sa.Column("work_order_id", sa.Uuid(), nullable=True),
        sa.Column("visit_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "kind <> 'adjust' OR reason IS NOT NULL", name=op.f("ck_stock_move_adjust_reason")
        ),
        sa.CheckConstraint(
            "kind NOT IN ('reserve', 'release') OR (from_location_id IS NOT NULL AND to_location_id IS NULL)",
            name=op.f("ck_stock_move_reservation_side"),
        ),
        sa.CheckConstraint(
            "from_location_id IS NOT NULL OR to_location_id IS NOT NULL",
            name=op.f("ck_stock_move_has_a_side"),
        ),
        sa.CheckConstraint(
            "from_location_id IS NULL OR to_location_id IS NULL OR from_location_id <> to_location_id",
            name=op.f("ck_stock_move_two_places"),
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_stock_move_quantity_positive")),
        sa.ForeignKeyConstraint(["actor_id"], ["app_user.id"], name=op.f("fk_stock_move_actor_id_app_user")),
        sa.ForeignKeyConstraint(
            ["from_location_id"],
            ["stock_location.id"],
            name=op.f("fk_stock_move_from_location_id_stock_location"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["stock_item.id"], name=op.f("fk_stock_move_item_id_stock_item")
        ),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["stock_reservation.id"],
            name=op.f("fk_stock_move_reservation_id_stock_reservation"),
        ),
        sa.ForeignKeyConstraint(
            ["to_location_id"],
            ["stock_location.id"],
            name=op.f("fk_stock_move_to_location_id_stock_location"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["stock_unit.id"], name=op.f("fk_stock_move_unit_id_stock_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_move")),
    )
    op.create_index(
        "ix_stock_move_item_location", "stock_move", ["item_id", "from_location_id"], unique=False
    )
    op.create_index(
        "ix_stock_move_item_to_location", "stock_move", ["item_id", "to_location_id"], unique=False
    )
    op.create_index(op.f("ix_stock_move_unit_id"), "stock_move", ["unit_id"], unique=False)
    op.create_index(op.f("ix_stock_move_work_order_id"), "stock_move", ["work_order_id"], unique=False)
    op.create_table(
        "stock_repair_case",
        sa.Column("unit_id", sa.Uuid(), nullable=False),
        sa.Column("work_order_id", sa.Uuid(), nullable=True),
        sa.Column("loan_id", sa.Uuid(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "awaiting_shipment", "shipped", "at_vendor", "returned", "written_off", name="repair_status"
            ),
            nullable=False,
        ),
        sa.Column("waybill", sa.String(length=100), nullable=True),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("at_vendor_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["stock_loan.id"], name=op.f("fk_stock_repair_case_loan_id_stock_loan")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["stock_unit.id"], name=op.f("fk_stock_repair_case_unit_id_stock_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_repair_case")),
    )
    op.create_index(op.f("ix_stock_repair_case_status"), "stock_repair_case", ["status"], unique=False)
    op.create_index(op.f("ix_stock_repair_case_unit_id"), "stock_repair_case", ["unit_id"], unique=False)
    op.create_index(
        op.f("ix_stock_repair_case_work_order_id"), "stock_repair_case", ["work_order_id"], unique=False
    )
    op.add_column("stock_location", sa.Column("waybill", sa.String(length=100), nullable=True))
    op.add_column("stock_location", sa.Column("eta", sa.DateTime(timezone=True), nullable=True))
    op.execute(LEDGER_SQL)


def downgrade() -> None:
    op.execute(DROP_LEDGER_SQL)
    op.drop_column("stock_location", "eta")
    op.drop_column("stock_location", "waybill")
    op.drop_index(op.f("ix_stock_repair_case_work_order_id"), table_name="stock_repair_case")
    op.drop_index(op.f("ix_stock_repair_case_unit_id"), table_name="stock_repair_case")
    op.drop_index(op.f("ix_stock_repair_case_status"), table_name="stock_repair_case")
    op.drop_table("stock_repair_case")
    op.drop_index(op.f("ix_stock_move_work_order_id"), table_name="stock_move")
    op.drop_index(op.f("ix_stock_move_unit_id"), table_name="stock_move")
    op.drop_index("ix_stock_move_item_to_location", table_name="stock_move")
    op.drop_index("ix_stock_move_item_location", table_name="stock_move")
    op.drop_table("stock_move")
    op.drop_index(
        "uq_stock_loan_active_unit",
        table_name="stock_loan",
        postgresql_where=sa.text("status NOT IN ('closed', 'cancelled')"),
    )
    op.drop_index(op.f("ix_stock_loan_work_order_id"), table_name="stock_loan")
    op.drop_index(op.f("ix_stock_loan_status"), table_name="stock_loan")
    op.drop_table("stock_loan")
    op.drop_index(op.f("ix_stock_wipe_unit_id"), table_name="stock_wipe")
    op.drop_table("stock_wipe")
    op.drop_index(op.f("ix_stock_unit_event_unit_id"), table_name="stock_unit_event")
    op.drop_table("stock_unit_event")
    op.drop_index(op.f("ix_stock_reservation_work_order_id"), table_name="stock_reservation")
    op.drop_index(op.f("ix_stock_reservation_visit_id"), table_name="stock_reservation")
    op.drop_index(
        "ix_stock_reservation_due",
        table_name="stock_reservation",
        postgresql_where=sa.text("status = 'active'"),
    )
    op.drop_table("stock_reservation")
    op.drop_index(op.f("ix_stock_unit_state"), table_name="stock_unit")
    op.drop_index(op.f("ix_stock_unit_location_id"), table_name="stock_unit")
    op.drop_index(op.f("ix_stock_unit_item_id"), table_name="stock_unit")
    op.drop_table("stock_unit")
    op.drop_index(op.f("ix_stock_balance_location_id"), table_name="stock_balance")
    op.drop_table("stock_balance")
    op.drop_table("stock_compatibility")
    op.drop_index(op.f("ix_stock_item_model"), table_name="stock_item")
    op.drop_table("stock_item")
    for name in NEW_ENUMS:
        op.execute(f"DROP TYPE {name}")
