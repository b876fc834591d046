"""The board shows what keeps an engineer from visits: their absences, and the stops at warehouses
to pick up parts — at the time the applied plan gave them, or just before the visit when the parts
were held by hand."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support.api import auth_headers
from tests.support.plans import run_plan
from tests.support.scenario import asset, contract, customer_with_site, engineer_id, report

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


@pytest.fixture(scope="module")
async def h(client) -> dict[str, dict[str, str]]:
    return {name: await auth_headers(client, name) for name in ("admin", "dispatcher", "warehouse")}


async def _board(client, h, clock) -> dict[str, dict[str, Any]]:
    today = clock.now().astimezone(SHANGHAI).date()
    board = await _ok(
        await client.get(
            "/api/dispatch/board", headers=h["dispatcher"], params={"from": today.isoformat(), "days": 2}
        )
    )
    return {row["username"]: row for row in board["engineers"]}


async def _part_visit(client, h, point: tuple[float, float]) -> tuple[dict[str, Any], dict[str, Any], str]:
    """A new part, one in stock at the first warehouse, and a visit that needs it."""
    sku = f"T-{uuid.uuid4().hex[:10]}"
    body = {"sku": sku, "name": f"test {sku}", "kind": "part", "data_bearing": False}
    item = await _ok(await client.post("/api/stock/items", headers=h["warehouse"], json=body), 201)
    houses = await _ok(
        await client.get("/api/locations", headers=h["warehouse"], params={"kind": "warehouse"})
    )
    house = houses["items"][0]
    await _ok(
        await client.post(
            "/api/stock/moves",
            headers=h["warehouse"],
            json={"kind": "receive", "item_id": item["id"], "quantity": 1, "to_location_id": house["id"]},
        ),
        201,
    )
    customer, site = await customer_with_site(client, h["admin"], point=point)
    unit = await asset(client, h["admin"], site, await contract(client, h["admin"], customer, kind="7x24"))
    order = await report(client, h["dispatcher"], site, unit)
    visit = await _ok(
        await client.post(
            f"/api/work-orders/{order['id']}/visits",
            headers=h["dispatcher"],
            json={"kind": "repair", "duration_minutes": 60, "required_parts": [{"sku": sku}]},
        ),
        201,
    )
    return house, visit, item["id"]


async def test_an_absence_is_on_the_engineers_row(client, h, clock):
    who = await engineer_id(client, h["dispatcher"], "engineer04")
    today = clock.now().astimezone(SHANGHAI).date()
    start = datetime.combine(today, datetime.min.time(), SHANGHAI) + timedelta(hours=13)
    body = {
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=4)).isoformat(),
        "kind": "training",
        "note": "UPS 认证",
    }
    made = await _ok(
        await client.post(f"/api/engineers/{who}/absences", headers=h["dispatcher"], json=body), 201
    )
    rows = await _board(client, h, clock)
    [shown] = rows["engineer04"]["absences"]
    assert (shown["absence_id"], shown["kind"], shown["note"], shown["version"]) == (
        made["id"],
        "training",
        "UPS 认证",
        1,
    )
    assert datetime.fromisoformat(shown["start"]) == start
    assert datetime.fromisoformat(shown["end"]) == start + timedelta(hours=4)
    assert rows["engineer08"]["absences"] == []


async def test_an_applied_plans_pickup_is_its_own_block_at_its_planned_time(client, h, clock):
    house, visit, _ = await _part_visit(client, h, (113.66, 34.77))
    me = await engineer_id(client, h["dispatcher"], "engineer06")
    body = {"time_limit_seconds": 2, "horizon_hours": 48, "engineer_ids": [me]}
    plan = await run_plan(client, h["dispatcher"], body)
    assert plan["status"] == "done", plan
    [route] = [r for r in plan["result"]["routes"] if any(s["visit_id"] == visit["id"] for s in r["stops"])]
    pickup, served = [s for s in route["stops"] if s["visit_id"] == visit["id"]]
    assert pickup["kind"] == "pickup"
    await _ok(await client.post(f"/api/dispatch/plans/{plan['id']}/apply", headers=h["dispatcher"], json={}))

    row = (await _board(client, h, clock))["engineer06"]
    [block] = [p for p in row["pickups"] if p["visit_id"] == visit["id"]]
    assert block["warehouse"] == house["name"]
    assert datetime.fromisoformat(block["start"]) == datetime.fromisoformat(pickup["start"])
    assert datetime.fromisoformat(block["end"]) == datetime.fromisoformat(pickup["end"])
    [bar] = [b for b in row["visits"] if b["visit_id"] == visit["id"]]
    assert datetime.fromisoformat(bar["start"]) == datetime.fromisoformat(served["start"])
    assert datetime.fromisoformat(block["end"]) <= datetime.fromisoformat(bar["start"])


async def test_parts_held_by_hand_show_a_pickup_just_before_the_visit(client, h, clock):
    house, visit, item_id = await _part_visit(client, h, (113.60, 34.72))
    me = await engineer_id(client, h["dispatcher"], "engineer09")
    at = (clock.now() + timedelta(hours=3)).replace(microsecond=0)
    await _ok(
        await client.put(
            f"/api/visits/{visit['id']}/assignment",
            headers=h["dispatcher"],
            json={
                "version": visit["version"],
                "engineer_id": me,
                "planned_start": at.isoformat(),
                "override_reason": "test",
            },
        )
    )
    await _ok(
        await client.post(
            "/api/stock/reservations",
            headers=h["dispatcher"],
            json={
                "item_id": item_id,
                "location_id": house["id"],
                "work_order_id": visit["work_order_id"],
                "visit_id": visit["id"],
            },
        ),
        201,
    )
    row = (await _board(client, h, clock))["engineer09"]
    [block] = [p for p in row["pickups"] if p["visit_id"] == visit["id"]]
    assert block["warehouse"] == house["name"]
    end = datetime.fromisoformat(block["end"])
    assert end < at  # the drive from the warehouse to the site lies between
    assert datetime.fromisoformat(block["start"]) == end - timedelta(minutes=10)
