"""The work order list: a page shows each order exactly as its own page does, and a staff read of
a page leaves one audit row naming every order on it."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from core.audit import AuditLog
from tests.support.api import auth_headers
from tests.support.scenario import asset, contract, customer_with_site, engineer_id, planned_visit, report


@pytest.fixture(scope="module")
async def orders(client, admin, dispatcher):
    """Three orders of one customer: one paused, one with a visit and an engineer's note, one plain."""
    customer, site = await customer_with_site(client, admin)
    unit = await asset(client, admin, site, await contract(client, admin, customer, kind="7x24"))
    paused, visited, plain = [await report(client, dispatcher, site, unit) for _ in range(3)]
    answer = await client.post(
        f"/api/work-orders/{paused['id']}/pauses",
        headers=dispatcher,
        json={
            "version": paused["version"],
            "reason": "customer_postponed",
            "customer_name": "王经理",
            "channel": "phone",
            "call_reference": "CALL-LIST-01",
        },
    )
    assert answer.status_code == 201, answer.text
    # A skill engineer01 holds: an assignment the rules refuse would need an override.
    engineers = (await client.get("/api/engineers", headers=admin, params={"limit": 500})).json()["items"]
    held = next(e for e in engineers if e["username"] == "engineer01")["skills"][0]
    visit = await planned_visit(
        client,
        dispatcher,
        visited,
        await engineer_id(client, admin, "engineer01"),
        required_skills={held["skill"]: held["level"]},
    )
    note = await client.post(
        f"/api/visits/{visit['id']}/notes",
        headers=await auth_headers(client, "engineer01"),
        json={"body": "备件已到，明早上门"},
    )
    assert note.status_code == 201, note.text
    ids = {"paused": paused["id"], "visited": visited["id"], "plain": plain["id"]}
    return customer, ids, {held["skill"]: held["level"]}


async def test_list_shows_each_order_as_its_own_page_does(client, dispatcher, orders):
    customer, ids, skills = orders
    page = await client.get("/api/work-orders", headers=dispatcher, params={"customer_id": customer["id"]})
    assert page.status_code == 200, page.text
    listed = {o["id"]: o for o in page.json()["items"]}
    assert set(listed) == set(ids.values())
    for order_id, item in listed.items():
        own = (await client.get(f"/api/work-orders/{order_id}", headers=dispatcher)).json()
        assert own.pop("timeline")
        assert item.pop("timeline") is None
        assert item == own
    assert {c["state"] for c in listed[ids["paused"]]["clocks"] if c["met_at"] is None} <= {
        "paused",
        "breached",
    }
    [visit] = listed[ids["visited"]]["visits"]
    assert [n["body"] for n in visit["notes"]] == ["备件已到，明早上门"]
    assert visit["required_skills"] == skills
    assert listed[ids["plain"]]["visits"] == []
    assert listed[ids["plain"]]["site"]["point"]["type"] == "Point"


async def test_pages_follow_the_cursor_without_gaps(client, dispatcher, orders):
    customer, ids, _ = orders
    seen: list[str] = []
    cursor = None
    while True:
        params = {"customer_id": customer["id"], "limit": 1, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/work-orders", headers=dispatcher, params=params)).json()
        seen += [o["id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids.values())
    assert len(seen) == len(set(seen))


async def test_staff_list_leaves_one_audit_row_naming_every_order(client, dispatcher, orders, demo_db):
    customer, ids, _ = orders
    engine = create_async_engine(demo_db)
    try:
        async with engine.connect() as conn:
            last = (await conn.execute(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1))).scalar()
        page = await client.get(
            "/api/work-orders", headers=dispatcher, params={"customer_id": customer["id"]}
        )
        assert page.status_code == 200
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(AuditLog.action, AuditLog.changes, AuditLog.reads).where(AuditLog.id > (last or 0))
                )
            ).all()
    finally:
        await engine.dispose()
    [row] = rows
    assert row.action == "GET /api/work-orders"
    assert row.changes == []
    listed = [o["id"] for o in page.json()["items"]]
    assert sorted(listed) == sorted(ids.values())
    assert row.reads == [{"entity": "work_order.contact", "ids": listed}]
