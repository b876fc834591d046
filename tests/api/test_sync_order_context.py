"""What the phone shows beside a pulled work order: the customer's name and the SLA clocks, kept
current — a breach the SLA watch records reaches the phone with the next pull."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.api.test_sync_field import Phone
from tests.support.db import watch_once
from tests.support.scenario import asset, contract, customer_with_site, engineer_id, planned_visit, report


async def _pull(client: Any, phone: Phone, cursor: str | None = None) -> tuple[dict[str, Any], str]:
    docs: dict[str, Any] = {}
    while True:
        params = {"device_id": phone.device_id, **({"cursor": cursor} if cursor else {})}
        page = await client.get("/api/sync/pull", headers=phone.headers, params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        docs.update({c["id"]: c.get("data") for c in body["changes"]})
        cursor = body["cursor"]
        if not body["has_more"]:
            assert cursor is not None
            return docs, cursor


async def test_the_pulled_order_carries_the_customer_and_clocks_a_breach_included(
    client, admin, dispatcher, clock, demo_db
):
    customer, site = await customer_with_site(client, admin)
    unit = await asset(client, admin, site, await contract(client, admin, customer, kind="7x24"))
    order = await report(client, dispatcher, site, unit, severity="critical")
    await planned_visit(client, dispatcher, order, await engineer_id(client, dispatcher, "engineer03"))
    phone = await Phone(client, "engineer03", clock).start()
    docs, cursor = await _pull(client, phone)
    pulled = docs[order["id"]]
    assert pulled["customer"] == {"id": customer["id"], "name": customer["name"]}
    clocks = {c["measure"]: c for c in pulled["clocks"]}
    assert {"response", "on_site", "restore"} <= set(clocks)
    assert clocks["on_site"]["deadline"] is not None
    assert clocks["response"]["breached_at"] is None

    # The response target passes unmet; the watch records the breach on the clock alone.
    clock.advance(dt.timedelta(hours=1))
    await watch_once(demo_db, clock)
    tokens = await client.post(  # the same phone signs in again: its token expired meanwhile
        "/api/auth/login",
        json={"username": "engineer03", "password": "demo-pass", "device_id": phone.device_id},
    )
    phone.headers = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
    docs, _ = await _pull(client, phone, cursor)
    breached = {c["measure"]: c for c in docs[order["id"]]["clocks"]}
    assert breached["response"]["breached_at"] is not None
