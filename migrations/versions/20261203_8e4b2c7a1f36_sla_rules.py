"""SLA rules the API could not express: a holiday calendar that has no public holidays on purpose
(a business-hours contract must name a calendar), and a report of the business-hours contracts
that name none yet — left as they are for an admin to decide, never changed silently.

Revision ID: 8e4b2c7a1f36
Revises: 6d3a8b1f4e25
Create Date: 2026-12-03 05:30:00.000000
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8e4b2c7a1f36"
down_revision: str | None = "6d3a8b1f4e25"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")


def _report_contracts_without_calendar() -> None:
    rows = op.get_bind().execute(
        sa.text(
            "SELECT contract_number FROM contract"
            " WHERE calendar_kind = 'business_hours' AND holiday_calendar_id IS NULL"
            " ORDER BY contract_number"
        )
    )
    numbers = [row[0] for row in rows]
    if numbers:
        # Their clocks count every public holiday as a working day until an admin names a calendar
        # (or one created with no_public_holidays); the next PATCH of such a contract is refused
        # until then.
        log.warning(
            "%d business-hours contract(s) name no holiday calendar: %s",
            len(numbers),
            ", ".join(numbers),
        )


def upgrade() -> None:
    op.add_column(
        "holiday_calendar",
        sa.Column("no_public_holidays", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    _report_contracts_without_calendar()


def downgrade() -> None:
    op.drop_column("holiday_calendar", "no_public_holidays")
