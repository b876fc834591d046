"""One SLA sweep reads the sites, contracts and open pauses of all its orders at once, and the
engineers it predicts arrivals from once, so a sweep over many open orders costs the same few
reads as one over a handful."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import event, func, select

from core.database import make_engine, make_sessionmaker
from dispatch.messaging.models import Notification
from dispatch.sla.watch import sweep
from dispatch.sla.watch_due import WatchSettings, scan
from dispatch.work_orders.lifecycle import OPEN
from dispatch.work_orders.models import WorkOrder
from routing.travel import HaversineTravelTime
from tests.conftest import DEMO_NOW
from tests.support.scenario import asset, contract, customer_with_site, report


async def test_a_sweep_reads_sites_contracts_and_pauses_once_for_all_its_orders(
    client: Any, admin: dict[str, str], dispatcher: dict[str, str], demo_db: str
) -> None:
    for _ in range(3):  # three customers, each with a site, a contract and four open orders
        customer, site = await customer_with_site(client, admin)
        row = await contract(client, admin, customer, kind="7x24")
        unit = await asset(client, admin, site, row)
        for _ in range(4):
            await report(client, dispatcher, site, unit)
    engine = make_engine(demo_db, pool_size=2)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        async with make_sessionmaker(engine)() as session:
            open_orders = (
                await session.execute(
                    select(func.count()).select_from(WorkOrder).where(WorkOrder.status.in_(OPEN))
                )
            ).scalar_one()
            assert open_orders >= 12
            statements.clear()
            swept = await sweep(session, DEMO_NOW)
            await session.rollback()
    finally:
        await engine.dispose()
    assert swept.evaluated >= 12

    def reads_of(table: str) -> int:
        return sum(1 for s in statements if s.lstrip().startswith("SELECT") and f"\nFROM {table} " in s + " ")

    # (Resuming a pause that ran out reads its order's contract and site again; none is due here.)
    assert reads_of("site") <= 1
    assert reads_of("contract") <= 1
    assert reads_of("sla_pause") <= 1
    # No order has a planned visit: each arrival is predicted from where the engineers are.
    assert reads_of("engineer") <= 1
    assert reads_of("engineer_position") <= 1


async def test_a_pass_after_the_breaches_were_raised_finds_their_order_with_nothing_due(
    client: Any, admin: dict[str, str], dispatcher: dict[str, str], demo_db: str
) -> None:
    """The pass reads the breaches already raised by time (since its open clocks started): an
    order whose every target was missed, swept once, is not locked and evaluated again."""
    customer, site = await customer_with_site(client, admin)
    row = await contract(client, admin, customer, kind="7x24")
    order = uuid.UUID((await report(client, dispatcher, site, await asset(client, admin, site, row)))["id"])
    later = DEMO_NOW + dt.timedelta(days=5)
    engine = make_engine(demo_db, pool_size=2)
    try:
        sessions = make_sessionmaker(engine)
        async with sessions() as session, session.begin():
            first = await sweep(session, later, order_ids=[order])
        async with sessions() as session:
            raised = await session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.work_order_id == order, Notification.kind == "breach")
            )
            again = await scan(session, later, HaversineTravelTime(), WatchSettings(), [order])
            await session.rollback()
    finally:
        await engine.dispose()
    assert first.evaluated >= 3
    assert raised == 3
    assert again.due == []
