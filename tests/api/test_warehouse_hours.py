"""Warehouse opening hours through the API on PostGIS: set, shown, refused when malformed,
and a plan's pick-up waiting for the warehouse to open."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from datetime import time as wall
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support.api import assert_problem, auth_headers
from tests.support.plans import run_plan
from tests.support.scenario import asset, contract, customer_with_site, engineer_id, report

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
async def h(client) -> dict[str, dict[str, str]]:
    names = ("admin", "dispatcher", "warehouse", "engineer01")
    return {name: await auth_headers(client, name) for name in names}


async def _ok(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _locations(client, h, kind: str) -> list[dict[str, Any]]:
    page = await _ok(await client.get("/api/locations", headers=h["warehouse"], params={"kind": kind}), 200)
    found: list[dict[str, Any]] = page["items"]
    return found


async def _set_hours(client, h, location: str, opens: Any, closes: Any) -> Any:
    return await client.put(
        f"/api/locations/{location}/hours", headers=h["warehouse"], json={"opens": opens, "closes": closes}
    )


async def _item(client, h) -> dict[str, Any]:
    sku = f"T-{uuid.uuid4().hex[:10]}"
    body = {"sku": sku, "name": f"test {sku}", "kind": "part", "data_bearing": False}
    item: dict[str, Any] = await _ok(await client.post("/api/stock/items", headers=h["warehouse"], json=body))
    return item


async def _receive(client, h, item: dict[str, Any], location: str, quantity: int) -> None:
    await _ok(
        await client.post(
            "/api/stock/moves",
            headers=h["warehouse"],
            json={"kind": "receive", "item_id": item["id"], "quantity": quantity, "to_location_id": location},
        )
    )


async def _needing(client, h, part: dict[str, Any], point: tuple[float, float]) -> dict[str, Any]:
    """A new customer site at `point` with a repair visit needing one of the part."""
    customer, site = await customer_with_site(client, h["admin"], point=point)
    row = await contract(client, h["admin"], customer, kind="7x24")
    device = await asset(client, h["admin"], site, row)
    order = await report(client, h["dispatcher"], site, device)
    visit: dict[str, Any] = await _ok(
        await client.post(
            f"/api/work-orders/{order['id']}/visits",
            headers=h["dispatcher"],
            json={"kind": "repair", "duration_minutes": 60, "required_parts": [{"sku": part["sku"]}]},
        )
    )
    return visit


async def _plan(client, h, body: dict[str, Any]) -> dict[str, Any]:
    return await run_plan(client, h["dispatcher"], body, patience=60)


async def test_opening_hours_round_trip_and_bad_input_changes_nothing(client, h, demo_db):
    house = (await _locations(client, h, "warehouse"))[0]
    assert (house["opens"], house["closes"]) == (None, None)

    shown = await _ok(await _set_hours(client, h, house["id"], "08:30:00", "17:30:00"), 200)
    assert (shown["opens"], shown["closes"]) == ("08:30:00", "17:30:00")
    listed = next(w for w in await _locations(client, h, "warehouse") if w["id"] == house["id"])
    assert (listed["opens"], listed["closes"]) == ("08:30:00", "17:30:00")

    # Closing before opening: open overnight, into the next day.
    shown = await _ok(await _set_hours(client, h, house["id"], "22:00:00", "06:00:00"), 200)
    assert (shown["opens"], shown["closes"]) == ("22:00:00", "06:00:00")

    for opens, closes, field in [
        ("08:00:00", None, "closes"),
        (None, "17:00:00", "opens"),
        ("09:00:00", "09:00:00", "closes"),
    ]:
        body = assert_problem(await _set_hours(client, h, house["id"], opens, closes), 422, "invalid-input")
        assert [e["field"] for e in body["errors"]] == [field], body
    for opens, closes in [("25:00:00", "17:00:00"), ("8 am", "17:00:00"), ("08:00:00+08:00", "17:00:00")]:
        assert_problem(await _set_hours(client, h, house["id"], opens, closes), 422, "invalid-input")
    van = (await _locations(client, h, "van"))[0]
    assert_problem(await _set_hours(client, h, van["id"], "08:00:00", "17:00:00"), 422, "invalid-input")
    assert_problem(await _set_hours(client, h, str(uuid.uuid4()), "08:00:00", "17:00:00"), 404)
    forbidden = await client.put(
        f"/api/locations/{house['id']}/hours",
        headers=h["engineer01"],
        json={"opens": "08:00:00", "closes": "17:00:00"},
    )
    assert_problem(forbidden, 403)

    listed = next(w for w in await _locations(client, h, "warehouse") if w["id"] == house["id"])
    assert (listed["opens"], listed["closes"]) == ("22:00:00", "06:00:00")
    van_now = next(v for v in await _locations(client, h, "van") if v["id"] == van["id"])
    assert (van_now["opens"], van_now["closes"]) == (None, None)

    shown = await _ok(await _set_hours(client, h, house["id"], None, None), 200)
    assert (shown["opens"], shown["closes"]) == (None, None)


async def test_a_pickup_waits_for_the_warehouse_to_open(client, clock, h):
    house = (await _locations(client, h, "warehouse"))[0]
    await _ok(await _set_hours(client, h, house["id"], "11:00:00", "18:00:00"), 200)
    part = await _item(client, h)
    await _receive(client, h, part, house["id"], 1)
    visit = await _needing(client, h, part, (113.64, 34.76))
    engineers = [await engineer_id(client, h["dispatcher"], f"engineer{n:02d}") for n in (5, 6, 7)]
    plan = await _plan(client, h, {"time_limit_seconds": 3, "horizon_hours": 72, "engineer_ids": engineers})

    assert plan["status"] == "done", plan
    route = next(
        (r for r in plan["result"]["routes"] for s in r["stops"] if s["visit_id"] == visit["id"]), None
    )
    assert route is not None, plan["result"]["unassigned"]
    pickup, served = [s for s in route["stops"] if s["visit_id"] == visit["id"]]
    assert (pickup["kind"], pickup["warehouse_id"]) == ("pickup", house["id"])
    start = datetime.fromisoformat(pickup["start"]).astimezone(SHANGHAI)
    now = clock.now().astimezone(SHANGHAI)
    opening = datetime.combine(now.date(), wall(11), SHANGHAI)
    if now.time() >= wall(18):  # closed for the day: tomorrow's opening
        opening += timedelta(days=1)
    assert start >= opening, (start, now)
    assert wall(11) <= start.time() <= wall(18), start
    assert pickup["end"] <= served["arrival"]
