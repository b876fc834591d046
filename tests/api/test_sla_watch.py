"""The background worker, driven by the injectable clock, raises at-risk, escalation and breach
notifications on its own: the test only moves the clock and reads what dispatchers would see."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from litestar import Litestar

from api.app import create_app
from tests.conftest import settings_for
from tests.support.api import auth_headers
from tests.support.scenario import asset, contract, customer_with_site, report


@pytest.fixture(scope="module")
def app(demo_db, clock, tmp_path_factory) -> Litestar:
    # The worker runs in the app, sweeping every 50 ms of real time; the clock moves only when told.
    return create_app(
        settings_for(demo_db, tmp_path_factory.mktemp("var"), watch_interval_seconds=0.05), clock=clock
    )


async def _wait_for(
    client, headers, order_id: str, kind: str, patience: float = 15.0
) -> list[dict[str, Any]]:
    deadline = asyncio.get_running_loop().time() + patience
    while True:
        page = (
            await client.get(
                "/api/notifications", headers=headers, params={"work_order_id": order_id, "limit": 500}
            )
        ).json()["items"]
        found = [n for n in page if n["kind"] == kind]
        if found or asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(0.1)


async def test_worker_raises_at_risk_escalation_and_breach(client, clock):
    admin = await auth_headers(client, "admin")
    customer, site = await customer_with_site(client, admin)
    row = await contract(
        client,
        admin,
        customer,
        kind="7x24",
        escalation=[
            {"share": 0.5, "notify": "service_manager"},
            {"share": 0.8, "notify": "director", "inform_customer": True},
        ],
    )
    order = await report(
        client, await auth_headers(client, "dispatcher"), site, await asset(client, admin, site, row)
    )

    # Fresh report, engineers within reach: nothing to say yet.
    await asyncio.sleep(0.3)
    dispatcher = await auth_headers(client, "dispatcher")
    assert await _wait_for(client, dispatcher, order["id"], "at_risk", patience=0.5) == []

    # 11 h 50 min later nobody is on the way: arrival can no longer beat the 12 h deadline minus the margin.
    clock.advance(timedelta(hours=11, minutes=50))
    dispatcher = await auth_headers(client, "dispatcher")
    at_risk = await _wait_for(client, dispatcher, order["id"], "at_risk")
    assert {n["data"]["measure"] for n in at_risk} >= {"on_site"}
    escalations = await _wait_for(client, dispatcher, order["id"], "escalation")
    assert {n["audience"] for n in escalations} >= {"service_manager", "director"}
    assert {n["work_order_problem_number"] for n in at_risk + escalations} == {order["problem_number"]}
    body = (await client.get(f"/api/work-orders/{order['id']}", headers=dispatcher)).json()
    on_site = next(c for c in body["clocks"] if c["measure"] == "on_site")
    assert on_site["state"] == "at_risk"
    listed = (await client.get("/api/work-orders", headers=dispatcher, params={"at_risk": "true"})).json()[
        "items"
    ]
    assert order["id"] in {o["id"] for o in listed}

    # Nobody called the reporter back: the 15-minute response target was missed long ago.
    response_breach = await _wait_for(client, dispatcher, order["id"], "breach")
    assert [n["data"]["measure"] for n in response_breach] == ["response"]

    # Past the on-site deadline: a breach, once.
    clock.advance(timedelta(minutes=20))
    dispatcher = await auth_headers(client, "dispatcher")
    for _ in range(100):
        breaches = await _wait_for(client, dispatcher, order["id"], "breach")
        if len(breaches) == 2:
            break
        await asyncio.sleep(0.1)
    assert sorted(n["data"]["measure"] for n in breaches) == ["on_site", "response"]
    # Read by people: the deadline on the site's clock, to the minute (the instant is in the data).
    on_site_breach = next(n for n in breaches if n["data"]["measure"] == "on_site")
    deadline = datetime.fromisoformat(on_site["deadline"])
    assert on_site_breach["data"]["deadline"] == deadline.isoformat()
    local = deadline.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    assert on_site_breach["message"].endswith(f"(deadline {local})"), on_site_breach["message"]
    await asyncio.sleep(0.3)
    assert len(await _wait_for(client, dispatcher, order["id"], "breach")) == 2

    # Acknowledged notifications stop; unacknowledged ones go to the supervisor.
    on_site_breach = next(n for n in breaches if n["data"]["measure"] == "on_site")
    ack = await client.post(f"/api/notifications/{on_site_breach['id']}/acknowledge", headers=dispatcher)
    assert ack.status_code == 200
    assert ack.json()["acknowledged_at"] is not None
    assert ack.json()["work_order_problem_number"] == order["problem_number"]
    clock.advance(timedelta(minutes=20))
    dispatcher = await auth_headers(client, "dispatcher")
    unacknowledged = await _wait_for(client, dispatcher, order["id"], "unacknowledged")
    assert unacknowledged
    assert all(on_site_breach["message"] not in n["message"] for n in unacknowledged)
    assert any(response_breach[0]["message"] in n["message"] for n in unacknowledged)


async def test_restore_at_risk_raises_backup_needed(client, clock):
    admin = await auth_headers(client, "admin")
    customer, site = await customer_with_site(client, admin)
    row = await contract(client, admin, customer, kind="7x24")
    order = await report(
        client, await auth_headers(client, "dispatcher"), site, await asset(client, admin, site, row)
    )
    clock.advance(timedelta(hours=46, minutes=30))
    dispatcher = await auth_headers(client, "dispatcher")
    assert await _wait_for(client, dispatcher, order["id"], "backup_needed")
    body = (await client.get(f"/api/work-orders/{order['id']}", headers=dispatcher)).json()
    assert body["backup_needed"] is True


async def test_restore_at_risk_without_a_backup_unit_tells_the_warehouse_and_the_watch_goes_on(client, clock):
    admin = await auth_headers(client, "admin")
    customer, site = await customer_with_site(client, admin)
    await contract(client, admin, customer, kind="7x24")
    dispatcher = await auth_headers(client, "dispatcher")
    # A model no warehouse or van holds a compatible unit for: the backup proposal fails.
    order = await report(client, dispatcher, site, None, asset_model="无备机型号-X9", asset_serial="X9-0001")
    clock.advance(timedelta(hours=46, minutes=30))
    dispatcher = await auth_headers(client, "dispatcher")  # the earlier sign-in has expired
    unavailable = await _wait_for(client, dispatcher, order["id"], "backup_unavailable")
    assert unavailable
    assert "无备机型号-X9" in unavailable[0]["message"]
    body = (await client.get(f"/api/work-orders/{order['id']}", headers=dispatcher)).json()
    assert body["backup_needed"] is True
    assert not [v for v in body["visits"] if v["kind"] == "backup_delivery"]
    # The same pass went on to the later steps: the order's clocks are still watched.
    clock.advance(timedelta(hours=2))
    dispatcher = await auth_headers(client, "dispatcher")
    assert await _wait_for(client, dispatcher, order["id"], "breach")
