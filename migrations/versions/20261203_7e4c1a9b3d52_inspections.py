"""Preventive inspections: plans per contract, one inspection per plan, site and period (the
generators' idempotency key), checklist results; work orders get a kind (repair or inspection).

Revision ID: 7e4c1a9b3d52
Revises: 8e4c1a7b2d36
Create Date: 2026-12-03 05:21:50.480253
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "7e4c1a9b3d52"
down_revision: str | None = "8e4c1a7b2d36"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inspection_plan",
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("scope", sa.Enum("all", "models", "sites", name="inspection_scope"), nullable=False),
        sa.Column("scope_values", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "cycle_unit", sa.Enum("days", "weeks", "months", "fixed", name="inspection_cycle"), nullable=False
        ),
        sa.Column("cycle_every", sa.Integer(), nullable=False),
        sa.Column("first_due", sa.Date(), nullable=False),
        sa.Column("fixed_dates", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("from_last_visit", sa.Boolean(), nullable=False),
        sa.Column("tolerance_days", sa.Integer(), nullable=False),
        sa.Column("lead_days", sa.Integer(), nullable=False),
        sa.Column("durations", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("default_duration_minutes", sa.Integer(), nullable=False),
        sa.Column("required_skills", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("checklists", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("default_checklist", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("cycle_every > 0", name=op.f("ck_inspection_plan_cycle_every")),
        sa.CheckConstraint("default_duration_minutes > 0", name=op.f("ck_inspection_plan_duration")),
        sa.CheckConstraint("lead_days BETWEEN 0 AND 366", name=op.f("ck_inspection_plan_lead")),
        sa.CheckConstraint("tolerance_days BETWEEN 0 AND 60", name=op.f("ck_inspection_plan_tolerance")),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contract.id"],
            name=op.f("fk_inspection_plan_contract_id_contract"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_plan")),
    )
    op.create_index(op.f("ix_inspection_plan_contract_id"), "inspection_plan", ["contract_id"], unique=False)
    op.create_table(
        "inspection",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("work_order_id", sa.Uuid(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assets", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "done", "cancelled", "skipped", name="inspection_status"),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contract.id"], name=op.f("fk_inspection_contract_id_contract")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["inspection_plan.id"],
            name=op.f("fk_inspection_plan_id_inspection_plan"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_inspection_site_id_site")),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_order.id"], name=op.f("fk_inspection_work_order_id_work_order")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection")),
        sa.UniqueConstraint(
            "plan_id", "site_id", "period", name=op.f("uq_inspection_plan_id_site_id_period")
        ),
        sa.UniqueConstraint("work_order_id", name=op.f("uq_inspection_work_order_id")),
    )
    op.create_index(op.f("ix_inspection_contract_id"), "inspection", ["contract_id"], unique=False)
    op.create_index(op.f("ix_inspection_site_id"), "inspection", ["site_id"], unique=False)
    op.create_index(op.f("ix_inspection_status"), "inspection", ["status"], unique=False)
    op.create_index(op.f("ix_inspection_window_start"), "inspection", ["window_start"], unique=False)
    op.create_table(
        "inspection_result",
        sa.Column("inspection_id", sa.Uuid(), nullable=False),
        sa.Column("asset_id", sa.Uuid(), nullable=False),
        sa.Column("item_key", sa.String(length=64), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("pass_fail", "number", "text", "photo", name="checklist_item_kind"),
            nullable=False,
        ),
        sa.Column("value", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("finding", sa.Text(), nullable=True),
        sa.Column("repair_work_order_id", sa.Uuid(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["asset.id"], name=op.f("fk_inspection_result_asset_id_asset")),
        sa.ForeignKeyConstraint(
            ["inspection_id"], ["inspection.id"], name=op.f("fk_inspection_result_inspection_id_inspection")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["app_user.id"], name=op.f("fk_inspection_result_recorded_by_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["repair_work_order_id"],
            ["work_order.id"],
            name=op.f("fk_inspection_result_repair_work_order_id_work_order"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_result")),
        sa.UniqueConstraint(
            "inspection_id",
            "asset_id",
            "item_key",
            name=op.f("uq_inspection_result_inspection_id_asset_id_item_key"),
        ),
    )
    op.create_index(
        op.f("ix_inspection_result_inspection_id"), "inspection_result", ["inspection_id"], unique=False
    )
    work_order_kind = postgresql.ENUM("repair", "inspection", name="work_order_kind")
    work_order_kind.create(op.get_bind(), checkfirst=True)
    op.add_column(
        "work_order",
        sa.Column(
            "kind",
            sa.Enum("repair", "inspection", name="work_order_kind"),
            server_default="repair",
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("work_order", "kind")
    op.drop_index(op.f("ix_inspection_result_inspection_id"), table_name="inspection_result")
    op.drop_table("inspection_result")
    op.drop_index(op.f("ix_inspection_window_start"), table_name="inspection")
    op.drop_index(op.f("ix_inspection_status"), table_name="inspection")
    op.drop_index(op.f("ix_inspection_site_id"), table_name="inspection")
    op.drop_index(op.f("ix_inspection_contract_id"), table_name="inspection")
    op.drop_table("inspection")
    op.drop_index(op.f("ix_inspection_plan_contract_id"), table_name="inspection_plan")
    op.drop_table("inspection_plan")
    for name in (
        "work_order_kind",
        "checklist_item_kind",
        "inspection_status",
        "inspection_cycle",
        "inspection_scope",
    ):
        sa.Enum(name=name).drop(op.get_bind(), checkfirst=True)
