"""What the console's desk leans on: the statuses an order may move to, a version conflict that
names who changed the order, and acknowledging a whole group of notifications at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text

from tests.support.api import assert_problem, auth_headers
from tests.support.db import watch_once
from tests.support.scenario import asset, contract, customer_with_site, report


async def _count(db, sql: str, **params) -> int:
    async with db.connect() as conn:
        return int((await conn.execute(text(sql), params)).scalar_one())


async def _order(client, admin, dispatcher, severity: str = "high") -> dict[str, Any]:
    customer, site = await customer_with_site(client, admin)
    unit = await asset(client, admin, site, await contract(client, admin, customer, kind="7x24"))
    return await report(client, dispatcher, site, unit, severity=severity)


async def test_next_statuses_follow_the_state_machine(client, admin, dispatcher):
    order = await _order(client, admin, dispatcher)
    url = f"/api/work-orders/{order['id']}/next-statuses"
    first = (await client.get(url, headers=dispatcher)).json()
    assert first["status"] == "new"
    assert first["version"] == order["version"]
    assert set(first["targets"]) == {"triaged", "scheduled", "remote_fix", "waiting_customer", "cancelled"}
    moved = await client.post(
        f"/api/work-orders/{order['id']}/transitions",
        headers=dispatcher,
        json={"version": order["version"], "to": "remote_fix"},
    )
    assert moved.status_code == 200, moved.text
    assert set((await client.get(url, headers=dispatcher)).json()["targets"]) == {"signed", "reopened"}
    engineer = await auth_headers(client, "engineer01")
    assert (await client.get(url, headers=engineer)).status_code == 403


async def test_a_version_conflict_names_who_changed_the_order(client, admin, dispatcher):
    order = await _order(client, admin, dispatcher)
    supervisor = await auth_headers(client, "supervisor")
    moved = await client.post(
        f"/api/work-orders/{order['id']}/transitions",
        headers=supervisor,
        json={"version": order["version"], "to": "triaged"},
    )
    assert moved.status_code == 200, moved.text
    stale = await client.post(
        f"/api/work-orders/{order['id']}/transitions",
        headers=dispatcher,
        json={"version": order["version"], "to": "cancelled", "note": "duplicate"},
    )
    problem = assert_problem(stale, 409, "version-conflict")
    users = (await client.get("/api/users", headers=admin)).json()
    items = users["items"] if isinstance(users, dict) else users
    name = next(u["display_name"] for u in items if u["username"] == "supervisor")
    assert problem["changed_by"] == name
    assert name in problem["detail"]
    assert problem["current_version"] == moved.json()["version"]
    assert problem["changed_at"]


async def test_acknowledge_a_group_of_notifications_in_one_audited_write(
    client, admin, dispatcher, clock, demo_db, db
):
    orders = [await _order(client, admin, dispatcher, severity="critical") for _ in range(2)]
    clock.advance(timedelta(minutes=20))  # both 15-minute responses are missed
    await watch_once(demo_db, clock)
    dispatcher = await auth_headers(client, "dispatcher")  # the old access token expired meanwhile
    listed = await client.get("/api/notifications", headers=dispatcher, params={"limit": 500})
    assert listed.status_code == 200, listed.text
    open_ = listed.json()["items"]
    ours = [n for n in open_ if n["work_order_id"] in {o["id"] for o in orders}]
    assert len(ours) >= 2
    kinds = {n["kind"] for n in ours}

    assert_problem(await client.post("/api/notifications/acknowledge", headers=dispatcher, json={}), 422)
    audits = await _count(db, "SELECT count(*) FROM audit_log")
    by_ids = await client.post(
        "/api/notifications/acknowledge", headers=dispatcher, json={"ids": [ours[0]["id"]]}
    )
    assert by_ids.status_code == 200, by_ids.text
    assert by_ids.json() == {"acknowledged": 1, "ids": [ours[0]["id"]]}
    assert await _count(db, "SELECT count(*) FROM audit_log") == audits + 1
    # Again: already acknowledged, nothing changes.
    again = await client.post(
        "/api/notifications/acknowledge", headers=dispatcher, json={"ids": [ours[0]["id"]]}
    )
    assert again.json()["acknowledged"] == 0

    kind = ours[1]["kind"]
    of_kind = [n for n in open_ if n["kind"] == kind and n["id"] != ours[0]["id"]]
    audits = await _count(db, "SELECT count(*) FROM audit_log")
    cleared = await client.post("/api/notifications/acknowledge", headers=dispatcher, json={"kind": kind})
    assert cleared.status_code == 200, cleared.text
    assert set(cleared.json()["ids"]) == {n["id"] for n in of_kind}
    assert await _count(db, "SELECT count(*) FROM audit_log") == audits + 1
    left = (await client.get("/api/notifications", headers=dispatcher, params={"limit": 500})).json()["items"]
    assert not [n for n in left if n["kind"] == kind]
    assert kinds  # the watch raised at least one kind for these orders
