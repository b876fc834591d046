"""The dispatcher's board: each engineer's days with their visits (and the drive before each), and
the queue of visits nobody has, nearest deadline first."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.support.api import assert_problem
from tests.support.scenario import asset, contract, customer_with_site, engineer_id, report

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _visit(client, dispatcher, order: dict[str, Any], **body: Any) -> dict[str, Any]:
    made: dict[str, Any] = await _ok(
        await client.post(
            f"/api/work-orders/{order['id']}/visits",
            headers=dispatcher,
            json={"kind": "repair", "duration_minutes": 90, **body},
        ),
        201,
    )
    return made


async def test_the_board_shows_each_engineers_day_and_the_queue_by_deadline(client, admin, dispatcher, clock):
    customer, site = await customer_with_site(client, admin, point=(113.70, 34.80))
    row = await contract(client, admin, customer, kind="7x24")
    unit = await asset(client, admin, site, row)
    now = clock.now()
    first_engineer = await engineer_id(client, dispatcher, "engineer02")
    partner = await engineer_id(client, dispatcher, "engineer03")

    # engineer02: one visit of their own at now + 2 h, one joint visit with engineer03 after it.
    own_order = await report(client, dispatcher, site, unit)
    own = await _visit(client, dispatcher, own_order)
    at = (now + timedelta(hours=2)).replace(microsecond=0)
    await _ok(
        await client.put(
            f"/api/visits/{own['id']}/assignment",
            headers=dispatcher,
            json={"version": own["version"], "engineer_id": first_engineer, "planned_start": at.isoformat()},
        )
    )
    joint_order = await report(client, dispatcher, site, unit, severity="high")
    joint = await _visit(client, dispatcher, joint_order, people_needed=2)
    later = at + timedelta(hours=3)
    await _ok(
        await client.put(
            f"/api/visits/{joint['id']}/assignment",
            headers=dispatcher,
            json={
                "version": joint["version"],
                "engineer_id": first_engineer,
                "partner_engineer_id": partner,
                "planned_start": later.isoformat(),
            },
        )
    )
    # Parts held for the visit at a warehouse: its bar says where they are picked up.
    houses = await _ok(await client.get("/api/locations", headers=dispatcher, params={"kind": "warehouse"}))
    house = houses["items"][0]
    stock = await _ok(
        await client.get("/api/stock/balances", headers=dispatcher, params={"location_id": house["id"]})
    )
    part = next(b for b in stock["items"] if b["free"] > 0)
    await _ok(
        await client.post(
            "/api/stock/reservations",
            headers=dispatcher,
            json={
                "item_id": part["item_id"],
                "location_id": house["id"],
                "work_order_id": own_order["id"],
                "visit_id": own["id"],
            },
        ),
        201,
    )
    # Two visits nobody has: the critical one's deadline comes first.
    low = await _visit(client, dispatcher, await report(client, dispatcher, site, unit, severity="low"))
    urgent = await _visit(client, dispatcher, await report(client, dispatcher, site, unit))

    today = now.astimezone(SHANGHAI).date()
    board = await _ok(
        await client.get(
            "/api/dispatch/board", headers=dispatcher, params={"from": today.isoformat(), "days": 2}
        )
    )
    assert board["time_zone"] == "Asia/Shanghai"
    assert datetime.fromisoformat(board["start"]) == datetime.combine(today, datetime.min.time(), SHANGHAI)
    assert datetime.fromisoformat(board["end"]) - datetime.fromisoformat(board["start"]) == timedelta(days=2)

    rows = {r["engineer_id"]: r for r in board["engineers"]}
    mine = rows[first_engineer]
    assert mine["username"] == "engineer02"
    assert mine["name"]
    assert mine["name"] != "engineer02"
    assert mine["shifts"], "the demo engineers work weekdays"
    bars = {b["visit_id"]: b for b in mine["visits"]}
    bar = bars[own["id"]]
    assert (bar["problem_number"], bar["customer"], bar["site"]) == (
        own_order["problem_number"],
        customer["name"],
        site["name"],
    )
    assert datetime.fromisoformat(bar["start"]) == at
    assert datetime.fromisoformat(bar["end"]) == at + timedelta(minutes=90)
    assert bar["travel_minutes"] > 0  # from home to the site
    assert (bar["status"], bar["severity"], bar["pinned"]) == ("assigned", "critical", False)
    assert bar["sla_state"] in {"ok", "at_risk", "breached"}
    assert bar["parts_held_at"] == house["name"]
    assert bars[joint["id"]]["parts_held_at"] is None
    # The joint visit is on both rows, each naming the other engineer; same place: no drive.
    assert bars[joint["id"]]["partner_engineer_id"] == partner
    assert bars[joint["id"]]["travel_minutes"] == 0
    [theirs] = [b for b in rows[partner]["visits"] if b["visit_id"] == joint["id"]]
    assert theirs["partner_engineer_id"] == first_engineer

    queue = [q["visit_id"] for q in board["unassigned"]]
    assert queue.index(urgent["id"]) < queue.index(low["id"])
    deadlines = [q["deadline"] for q in board["unassigned"] if q["deadline"] is not None]
    assert deadlines == sorted(deadlines, key=datetime.fromisoformat)
    assert own["id"] not in queue


async def test_the_board_refuses_days_and_zones_it_cannot_show(client, dispatcher):
    for params in ({"time_zone": "Mars/Olympus"}, {"from": "1900-01-01"}, {"days": 8}, {"from": "tomorrow"}):
        assert_problem(await client.get("/api/dispatch/board", headers=dispatcher, params=params), 422)
    board = await _ok(
        await client.get("/api/dispatch/board", headers=dispatcher, params={"time_zone": "UTC"})
    )
    assert board["time_zone"] == "UTC"
