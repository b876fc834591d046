"""An SLA watch pass locks only the orders it acts on: a dispatcher editing an open order that
needs nothing from the watch is not held up while a pass is under way."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from core.database import make_engine, make_sessionmaker
from dispatch.sla.watch import sweep
from tests.conftest import DEMO_NOW
from tests.support.scenario import asset, contract, customer_with_site, report

# How long the pass below keeps its transaction open unless the edit is done first.
HOLD_S = 20.0


def _hold_a_pass(url: str, ready: threading.Event, done: threading.Event, seen: dict[str, int]) -> None:
    """A watch pass on its own connection and event loop (the test client's requests block the
    test's loop), its transaction kept open until the edit is done or HOLD_S passed."""

    async def run() -> None:
        engine = make_engine(url, pool_size=2)
        try:
            async with make_sessionmaker(engine)() as session:
                await session.begin()
                seen["evaluated"] = (await sweep(session, DEMO_NOW)).evaluated
                ready.set()
                await asyncio.to_thread(done.wait, HOLD_S)
                await session.rollback()
        finally:
            ready.set()
            await engine.dispose()

    asyncio.run(run())


async def test_a_dispatcher_edits_an_order_while_a_watch_pass_is_open(
    client: Any, admin: dict[str, str], dispatcher: dict[str, str], demo_db: str
) -> None:
    customer, site = await customer_with_site(client, admin)
    unit = await asset(client, admin, site, await contract(client, admin, customer, kind="7x24"))
    order = await report(client, dispatcher, site, unit)
    engine = make_engine(demo_db, pool_size=2)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            # What was due is raised once; the next pass finds nothing to do on this order.
            await sweep(session, DEMO_NOW)
    finally:
        await engine.dispose()
    ready, done, seen = threading.Event(), threading.Event(), {"evaluated": 0}
    holder = threading.Thread(target=_hold_a_pass, args=(demo_db, ready, done, seen))
    holder.start()
    try:
        assert ready.wait(60)
        # The pass ran (it was not skipped for another worker's) and its transaction is open.
        assert seen["evaluated"] >= 1
        started = time.monotonic()
        added = await client.post(
            f"/api/work-orders/{order['id']}/visits",
            headers=dispatcher,
            json={"kind": "repair", "duration_minutes": 60},
        )
        waited = time.monotonic() - started
    finally:
        done.set()
        holder.join(60)
    assert added.status_code == 201, added.text
    assert waited < HOLD_S / 2, f"the edit waited {waited:.1f} s for the watch pass"
