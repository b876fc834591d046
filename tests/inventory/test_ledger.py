"""The ledger's rules held by the database: never negative (also for raw SQL and under
concurrency), append-only, balances that equal the ledger, discrepancy bookings."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from core.database import make_engine, make_sessionmaker
from core.errors import Conflict
from core.identity.roles import Actor, Role
from inventory import ledger, reservations
from inventory.errors import OutOfStock
from inventory.models import ItemKind, LocationKind, MoveKind, Unit, UnitState
from tests.inventory.conftest import NOW, WAREHOUSE_ACTOR, a_van, new_part, warehouses


async def _receive(sessions, item_id, location_id, quantity):
    async with sessions() as session, session.begin():
        await ledger.record(
            session,
            WAREHOUSE_ACTOR,
            NOW,
            ledger.Movement(MoveKind.RECEIVE, item_id, quantity, to_location_id=location_id),
        )


async def _balance(sessions, item_id, location_id):
    async with sessions() as session:
        return await ledger.balance(session, item_id, location_id)


async def _count_moves(sessions, item_id) -> int:
    async with sessions() as session:
        return int(
            (
                await session.execute(
                    text("SELECT count(*) FROM stock_move WHERE item_id = :i"), {"i": item_id}
                )
            ).scalar_one()
        )


async def test_a_raw_sql_movement_that_would_go_negative_fails(sessions, engine):
    item = await new_part(sessions)
    east = (await warehouses(sessions))[0]
    await _receive(sessions, item, east.id, 3)
    raw = text(
        "INSERT INTO stock_move (at, kind, item_id, quantity, from_location_id, from_reserved) "
        "VALUES (now(), 'scrap', :item, :q, :loc, false)"
    )
    with pytest.raises(IntegrityError, match="never_negative"):
        async with engine.begin() as conn:
            await conn.execute(raw, {"item": item, "loc": east.id, "q": 4})
    async with engine.begin() as conn:
        await conn.execute(raw, {"item": item, "loc": east.id, "q": 3})
    assert await _balance(sessions, item, east.id) == (0, 0)
    # Immutable ledger, balances only through it.
    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE stock_move SET quantity = 1 WHERE item_id = :i"), {"i": item})
    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM stock_move WHERE item_id = :i"), {"i": item})
    with pytest.raises(DBAPIError, match="follows the ledger"):
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE stock_balance SET on_hand = 99 WHERE item_id = :i"), {"i": item})
    async with sessions() as session:
        assert await ledger.on_hand_from_ledger(session, item, east.id) == 0


async def test_refused_movement_writes_nothing_and_says_409(sessions):
    item = await new_part(sessions)
    east, hightech, _ = await warehouses(sessions)
    await _receive(sessions, item, east.id, 2)
    before = await _count_moves(sessions, item)
    with pytest.raises(OutOfStock) as refused:
        async with sessions() as session, session.begin():
            await ledger.record(
                session,
                WAREHOUSE_ACTOR,
                NOW,
                ledger.Movement(
                    MoveKind.TRANSFER, item, 3, from_location_id=east.id, to_location_id=hightech.id
                ),
            )
    assert refused.value.status == 409
    assert await _count_moves(sessions, item) == before
    assert await _balance(sessions, item, east.id) == (2, 0)
    assert await _balance(sessions, item, hightech.id) == (0, 0)


async def _race(demo_db, n, work):
    """`n` attempts on `n` connections, released together by a barrier; returns outcomes."""
    engine = make_engine(demo_db, pool_size=n)
    sessions = make_sessionmaker(engine)
    barrier = asyncio.Barrier(n)

    async def attempt(i):
        async with sessions() as session:
            try:
                async with session.begin():
                    await session.execute(text("SELECT 1"))  # holds its own connection
                    await barrier.wait()
                    await work(session, i)
            except Conflict as exc:
                return str(exc.status)
            return "ok"

    try:
        return await asyncio.gather(*(attempt(i) for i in range(n)))
    finally:
        await engine.dispose()


async def test_fifty_concurrent_reservations_of_the_last_part_one_wins(demo_db, sessions):
    item = await new_part(sessions)
    east = (await warehouses(sessions))[0]
    await _receive(sessions, item, east.id, 1)

    async def work(session, i):
        await reservations.reserve_part(
            session, WAREHOUSE_ACTOR, NOW, item_id=item, location_id=east.id, quantity=1, work_order_id=None
        )

    outcomes = await _race(demo_db, 50, work)
    assert outcomes.count("ok") == 1
    assert outcomes.count("409") == 49
    assert await _balance(sessions, item, east.id) == (1, 1)


async def test_fifty_concurrent_reservations_of_the_last_serialized_unit_one_wins(demo_db, sessions):
    item = await new_part(sessions, ItemKind.DEVICE)
    east = (await warehouses(sessions))[0]
    async with sessions() as session, session.begin():
        unit = Unit(
            id=uuid.uuid4(),
            item_id=item,
            serial=f"RACE-{uuid.uuid4().hex[:8]}",
            state=UnitState.AVAILABLE,
            customer_owned=False,
            version=1,
        )
        session.add(unit)
        await session.flush()
        await ledger.record(
            session,
            WAREHOUSE_ACTOR,
            NOW,
            ledger.Movement(MoveKind.RECEIVE, item, 1, to_location_id=east.id, unit_id=unit.id),
        )

    async def work(session, i):
        await reservations.reserve_unit(session, WAREHOUSE_ACTOR, NOW, unit_id=unit.id)

    outcomes = await _race(demo_db, 50, work)
    assert outcomes.count("ok") == 1
    assert outcomes.count("409") == 49
    assert await _balance(sessions, item, east.id) == (1, 1)


async def test_fifty_concurrent_consumptions_of_ten_in_stock_exactly_ten(demo_db, sessions):
    item = await new_part(sessions)
    van = await a_van(sessions, 21)
    assert van.engineer_id is not None
    await _receive(sessions, item, van.id, 10)
    engineer_of_van = van.engineer_id
    engineer = Actor(user_id=engineer_of_van, role=Role.ENGINEER, username="engineer")

    async def work(session, i):
        await reservations.consume(
            session,
            engineer,
            NOW,
            engineer_id=engineer_of_van,
            item_id=item,
            quantity=1,
            work_order_id=uuid.uuid4(),
        )

    outcomes = await _race(demo_db, 50, work)
    assert outcomes.count("ok") == 10
    assert outcomes.count("409") == 40
    assert await _balance(sessions, item, van.id) == (0, 0)
    async with sessions() as session:
        assert await ledger.on_hand_from_ledger(session, item, van.id) == 0


async def test_late_device_consumption_lands_in_discrepancy_and_a_transfer_is_refused(sessions):
    item = await new_part(sessions)
    van = await a_van(sessions, 22)
    east = (await warehouses(sessions))[0]
    assert van.engineer_id is not None
    await _receive(sessions, item, van.id, 1)
    engineer = Actor(user_id=van.engineer_id, role=Role.ENGINEER, username="engineer")
    order = uuid.uuid4()
    # Online, using 3 when the books show 1 is refused.
    with pytest.raises(OutOfStock):
        async with sessions() as session, session.begin():
            await reservations.consume(
                session,
                engineer,
                NOW,
                engineer_id=van.engineer_id,
                item_id=item,
                quantity=3,
                work_order_id=order,
            )
    # Pushed from the device, it happened in the field: accepted, shortfall to discrepancy.
    async with sessions() as session, session.begin():
        lines = await reservations.consume(
            session,
            engineer,
            NOW,
            engineer_id=van.engineer_id,
            item_id=item,
            quantity=3,
            work_order_id=order,
            from_device=True,
        )
        discrepancy = await ledger.discrepancy_of(session, van.engineer_id)
    assert [line.kind for line in lines] == [MoveKind.ADJUST, MoveKind.CONSUME]
    assert discrepancy.kind is LocationKind.DISCREPANCY
    assert await _balance(sessions, item, van.id) == (0, 0)
    assert await _balance(sessions, item, discrepancy.id) == (-2, 0)
    # The same missing quantity moved between warehouses is refused, nothing written.
    before = await _count_moves(sessions, item)
    with pytest.raises(OutOfStock):
        async with sessions() as session, session.begin():
            await ledger.record(
                session,
                WAREHOUSE_ACTOR,
                NOW,
                ledger.Movement(MoveKind.TRANSFER, item, 2, from_location_id=east.id, to_location_id=van.id),
            )
    assert await _count_moves(sessions, item) == before


async def test_reservation_pick_consume_and_unused_part_returns(sessions):
    item = await new_part(sessions)
    east = (await warehouses(sessions))[0]
    van = await a_van(sessions, 23)
    assert van.engineer_id is not None
    await _receive(sessions, item, east.id, 5)
    order, visit = uuid.uuid4(), uuid.uuid4()
    async with sessions() as session, session.begin():
        held = await reservations.reserve_part(
            session,
            WAREHOUSE_ACTOR,
            NOW,
            item_id=item,
            location_id=east.id,
            quantity=3,
            work_order_id=order,
            visit_id=visit,
        )
    assert await _balance(sessions, item, east.id) == (5, 3)
    async with sessions() as session, session.begin():
        await reservations.pick(session, WAREHOUSE_ACTOR, NOW, held.id, van.id)
    assert await _balance(sessions, item, east.id) == (2, 0)
    assert await _balance(sessions, item, van.id) == (3, 3)
    engineer = Actor(user_id=van.engineer_id, role=Role.ENGINEER, username="engineer")
    async with sessions() as session, session.begin():
        await reservations.consume(
            session,
            engineer,
            NOW,
            engineer_id=van.engineer_id,
            item_id=item,
            quantity=1,
            work_order_id=order,
            visit_id=visit,
            reservation_id=held.id,
        )
    # One used, the two unused ones are free stock again.
    assert await _balance(sessions, item, van.id) == (2, 0)
    # Expiry releases what nobody used.
    async with sessions() as session, session.begin():
        again = await reservations.reserve_part(
            session, WAREHOUSE_ACTOR, NOW, item_id=item, location_id=east.id, quantity=2
        )
    async with sessions() as session, session.begin():
        assert await reservations.expire_due(session, WAREHOUSE_ACTOR, again.expires_at) >= 1
    assert await _balance(sessions, item, east.id) == (2, 0)
