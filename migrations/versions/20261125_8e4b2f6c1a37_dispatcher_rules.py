"""Dispatcher rules kept with sites and engineers: access windows, registration lead,
whitelisted, barred and preferred engineers; overtime caps, nights away, rest after a call-out.

Revision ID: 8e4b2f6c1a37
Revises: 3c1e9a7d5b20
Create Date: 2026-11-25 17:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "8e4b2f6c1a37"
down_revision: str | None = "3c1e9a7d5b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "site",
        sa.Column(
            "access_windows",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
    )
    op.add_column(
        "site",
        sa.Column("registration_lead_minutes", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column("site", sa.Column("allowed_engineer_ids", postgresql.ARRAY(sa.Uuid()), nullable=True))
    op.add_column(
        "site",
        sa.Column(
            "barred_engineer_ids",
            postgresql.ARRAY(sa.Uuid()),
            server_default=sa.text("'{}'::uuid[]"),
            nullable=False,
        ),
    )
    op.add_column(
        "site",
        sa.Column(
            "preferred_engineer_ids",
            postgresql.ARRAY(sa.Uuid()),
            server_default=sa.text("'{}'::uuid[]"),
            nullable=False,
        ),
    )
    op.create_check_constraint(op.f("ck_site_registration_lead"), "site", "registration_lead_minutes >= 0")
    op.add_column(
        "engineer",
        sa.Column("overtime_cap_minutes_day", sa.Integer(), server_default=sa.text("180"), nullable=False),
    )
    op.add_column("engineer", sa.Column("overtime_left_month_minutes", sa.Integer(), nullable=True))
    op.add_column(
        "engineer",
        sa.Column("stays_away_overnight", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column(
        "engineer",
        sa.Column("rest_after_call_minutes", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_engineer_rule_minutes"),
        "engineer",
        "overtime_cap_minutes_day >= 0 AND rest_after_call_minutes >= 0",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_engineer_rule_minutes"), "engineer", type_="check")
    op.drop_column("engineer", "rest_after_call_minutes")
    op.drop_column("engineer", "stays_away_overnight")
    op.drop_column("engineer", "overtime_left_month_minutes")
    op.drop_column("engineer", "overtime_cap_minutes_day")
    op.drop_constraint(op.f("ck_site_registration_lead"), "site", type_="check")
    op.drop_column("site", "preferred_engineer_ids")
    op.drop_column("site", "barred_engineer_ids")
    op.drop_column("site", "allowed_engineer_ids")
    op.drop_column("site", "registration_lead_minutes")
    op.drop_column("site", "access_windows")
