"""A backup unit promised under an active loan stays promised when the loan's reservation lapses
(the delivery came late): a second loan on it is refused as unit-unavailable, a conflict the
backup flow answers with the next nearest unit, not a database error."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch.customers.models import Site
from inventory import ledger, loans, reservations
from inventory.errors import UnitUnavailable
from inventory.models import Loan, LoanStatus, Reservation, ReservationStatus, Unit, UnitState
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


async def test_a_backup_whose_loan_reservation_lapsed_is_installed_from_stock_it_was_taken_back_to(sessions):
    """The delivery came after the hold ran out: the install reserves the unit for the loan again
    and takes it out of reserved stock, leaving the warehouse's counts as they were before the
    loan (the reserved count never goes below zero)."""
    async with sessions() as session, session.begin():
        unit = (
            await session.execute(
                select(Unit)
                .where(Unit.state == UnitState.AVAILABLE, Unit.customer_owned.is_(False))
                .order_by(Unit.serial.desc())
                .limit(1)
            )
        ).scalar_one()
        warehouse = unit.location_id
        before = await ledger.balance(session, unit.item_id, warehouse)
        site = (await session.execute(select(Site).order_by(Site.name).limit(1))).scalar_one()
        loan = await loans.propose(
            session, WAREHOUSE_ACTOR, NOW, unit_id=unit.id, work_order_id=uuid.uuid4(),
            delivery_visit_id=None, cause="restore clock at risk", hold=timedelta(hours=1),
        )  # fmt: skip
        await loans.approve(session, WAREHOUSE_ACTOR, NOW, loan.id)
    async with sessions() as session, session.begin():
        assert await reservations.expire_due(session, WAREHOUSE_ACTOR, NOW + timedelta(hours=2)) >= 1
    later = NOW + timedelta(hours=3)
    async with sessions() as session, session.begin():
        place = await ledger.site_location(session, site.id, site.name, site.point)
        installed = await loans.install(
            session, WAREHOUSE_ACTOR, later, loan.id, serial=unit.serial, signed_by="王经理",
            configuration=None, return_by=(later + timedelta(days=7)).date(), site=place,
            faulty_serial=None, faulty_model=None, taken_to=None,
        )  # fmt: skip
        assert installed.status is LoanStatus.OPEN
    async with sessions() as session:
        assert (await session.get(Unit, unit.id)).state is UnitState.ON_LOAN
        assert await ledger.balance(session, unit.item_id, warehouse) == (before[0] - 1, before[1])
        reservation = await session.get(Reservation, installed.reservation_id)
        assert reservation.status is ReservationStatus.CONSUMED
