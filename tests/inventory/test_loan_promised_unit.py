"""A backup unit promised under an active loan stays promised when the loan's reservation lapses
(the delivery came late): a second loan on it is refused as unit-unavailable, a conflict the
backup flow answers with the next nearest unit, not a database error."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from inventory import loans, reservations
from inventory.errors import UnitUnavailable
from inventory.models import Loan, LoanStatus, Unit, UnitState
from tests.inventory.conftest import NOW, WAREHOUSE_ACTOR


async def test_a_unit_whose_loan_reservation_lapsed_is_not_lent_twice(sessions):
    async with sessions() as session, session.begin():
        unit = (
            await session.execute(
                select(Unit).where(Unit.state == UnitState.AVAILABLE, Unit.customer_owned.is_(False)).limit(1)
            )
        ).scalar_one()
        first = await loans.propose(
            session, WAREHOUSE_ACTOR, NOW, unit_id=unit.id, work_order_id=uuid.uuid4(),
            delivery_visit_id=None, cause="restore clock at risk", hold=timedelta(hours=1),
        )  # fmt: skip
    async with sessions() as session, session.begin():
        assert await reservations.expire_due(session, WAREHOUSE_ACTOR, NOW + timedelta(hours=2)) >= 1
    async with sessions() as session, session.begin():
        assert (await session.get(Unit, unit.id)).state is UnitState.AVAILABLE
        with pytest.raises(UnitUnavailable):
            await loans.propose(
                session, WAREHOUSE_ACTOR, NOW + timedelta(hours=2), unit_id=unit.id,
                work_order_id=uuid.uuid4(), delivery_visit_id=None, cause="engineer: cannot fix",
            )  # fmt: skip
    async with sessions() as session:
        active = (await session.execute(select(Loan).where(Loan.unit_id == unit.id))).scalars().all()
        assert [(loan.id, loan.status) for loan in active] == [(first.id, LoanStatus.PROPOSED)]
