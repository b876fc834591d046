"""What a plan reads, besides the clock, as one comparable value: equal while nothing moved, and
different after a new visit, an assignment, a clock at risk or a visit whose window comes within
the horizon (the product policy of the simulated week re-plans only then)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select

from core.database import make_engine, make_sessionmaker
from dispatch.planning.freshness import InputsState, inputs_state
from dispatch.sla.models import SlaClock
from dispatch.work_orders.models import Visit
from tests.conftest import DEMO_NOW
from tests.support.scenario import asset, contract, customer_with_site, engineer_id, report

DAY = 24 * 3600


async def _state(url: str, now: dt.datetime = DEMO_NOW) -> InputsState:
    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session:
            return await inputs_state(session, now, DAY)
    finally:
        await engine.dispose()


async def _change(url: str, model: type[Any], ident: uuid.UUID, **values: Any) -> None:
    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            row = await session.get(model, ident)
            for name, value in values.items():
                setattr(row, name, value)
    finally:
        await engine.dispose()


async def test_the_state_moves_with_a_visit_an_assignment_a_clock_at_risk_and_the_horizon(
    client: Any, admin: dict[str, str], dispatcher: dict[str, str], demo_db: str
) -> None:
    customer, site = await customer_with_site(client, admin)
    unit = await asset(client, admin, site, await contract(client, admin, customer, kind="7x24"))
    order = await report(client, dispatcher, site, unit)
    empty = await _state(demo_db)
    assert await _state(demo_db) == empty

    response = await client.post(
        f"/api/work-orders/{order['id']}/visits",
        headers=dispatcher,
        json={"kind": "repair", "duration_minutes": 90},
    )
    visit = response.json()
    planned = await _state(demo_db)
    assert planned != empty

    response = await client.put(
        f"/api/visits/{visit['id']}/assignment",
        headers=dispatcher,
        json={
            "version": visit["version"],
            "engineer_id": await engineer_id(client, dispatcher, "engineer01"),
        },
    )
    assert response.status_code == 200
    assigned = await _state(demo_db)
    assert assigned not in (empty, planned)
    assert await _state(demo_db) == assigned

    engine = make_engine(demo_db, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            clock = (
                await session.execute(
                    select(SlaClock).where(SlaClock.work_order_id == uuid.UUID(order["id"])).limit(1)
                )
            ).scalar_one()
            clock.at_risk_since = DEMO_NOW
    finally:
        await engine.dispose()
    at_risk = await _state(demo_db)
    assert at_risk != assigned

    # A visit that cannot start before next week comes within reach of a later plan's horizon.
    week = DEMO_NOW + dt.timedelta(days=7)
    await _change(
        demo_db, Visit, uuid.UUID(visit["id"]), window_start=week, window_end=week + dt.timedelta(days=1)
    )
    later = await _state(demo_db, week - dt.timedelta(hours=23))
    assert later.within_horizon == (await _state(demo_db)).within_horizon + 1
