"""Plans through the API on PostGIS: solve off the event loop, apply, emergency insertion."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from tests.support.api import assert_problem
from tests.support.plans import wait_for_plan
from tests.support.scenario import asset, contract, customer_with_site, engineer_id, report


async def _open_visits(
    client, admin, dispatcher, n: int, **visit: Any
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    customer, site = await customer_with_site(client, admin, point=(113.65, 34.75))
    row = await contract(client, admin, customer, kind="7x24")
    unit = await asset(client, admin, site, row)
    made = []
    for _ in range(n):
        order = await report(client, dispatcher, site, unit)
        planned = await client.post(
            f"/api/work-orders/{order['id']}/visits",
            headers=dispatcher,
            json={"kind": "repair", "duration_minutes": 60, **visit},
        )
        assert planned.status_code == 201, planned.text
        made.append((order, planned.json()))
    return made


async def test_plan_apply_schedules_work_orders_with_etas(client, admin, dispatcher):
    made = await _open_visits(client, admin, dispatcher, 3)
    started = await client.post(
        "/api/dispatch/plans", headers=dispatcher, json={"time_limit_seconds": 3, "horizon_hours": 24}
    )
    assert started.status_code == 202, started.text
    assert started.json()["status"] == "queued"
    plan = await wait_for_plan(client, dispatcher, started.json()["id"])
    assert plan["status"] == "done", plan
    result = plan["result"]
    ours = {v["id"] for _, v in made}
    planned = {s["visit_id"]: (r, s) for r in result["routes"] for s in r["stops"]}
    assert ours <= set(planned), result["unassigned"]
    assert result["kpis"]["assigned"] >= 3
    assert result["geometry"]["type"] == "FeatureCollection"
    assert plan["progress"].get("solutions", 0) >= 1
    # Routes name the engineer as people know them (何涛), with the login beside it.
    engineers = (await client.get("/api/engineers", headers=admin, params={"limit": 500})).json()["items"]
    known = {e["id"]: (e["display_name"], e["username"]) for e in engineers}
    for route in result["routes"]:
        assert (route["engineer_name"], route["username"]) == known[route["engineer_id"]]
    for line in result["geometry"]["features"]:
        assert line["properties"]["engineer_name"] == known[line["properties"]["engineer_id"]][0]

    applied = await client.post(f"/api/dispatch/plans/{plan['id']}/apply", headers=dispatcher)
    assert applied.status_code == 200, applied.text
    assert applied.json()["status"] == "applied"
    for order, visit in made:
        body = (await client.get(f"/api/work-orders/{order['id']}", headers=dispatcher)).json()
        assert body["status"] == "scheduled"
        assigned = next(v for v in body["visits"] if v["id"] == visit["id"])
        route, stop = planned[visit["id"]]
        assert assigned["engineer_id"] == route["engineer_id"]
        assert assigned["planned_start"] is not None
        assert assigned["planned_start"][:16] == stop["start"][:16]
    again = await client.post(f"/api/dispatch/plans/{plan['id']}/apply", headers=dispatcher)
    assert_problem(again, 409)


async def test_a_stale_plan_is_refused(client, admin, dispatcher):
    made = await _open_visits(client, admin, dispatcher, 1)
    started = (
        await client.post(
            "/api/dispatch/plans", headers=dispatcher, json={"time_limit_seconds": 1, "horizon_hours": 24}
        )
    ).json()
    plan = await wait_for_plan(client, dispatcher, started["id"])
    order, visit = made[0]
    engineer = await engineer_id(client, dispatcher, "engineer09")
    moved = await client.put(
        f"/api/visits/{visit['id']}/assignment",
        headers=dispatcher,
        json={"version": visit["version"], "engineer_id": engineer},
    )
    assert moved.status_code == 200
    refused = await client.post(f"/api/dispatch/plans/{plan['id']}/apply", headers=dispatcher)
    body = assert_problem(refused, 409, "plan-stale")
    assert order["problem_number"] in body["changed_work_orders"]


async def test_solving_never_blocks_the_event_loop(client, admin, dispatcher):
    await _open_visits(client, admin, dispatcher, 2)
    started = (
        await client.post(
            "/api/dispatch/plans", headers=dispatcher, json={"time_limit_seconds": 8, "horizon_hours": 48}
        )
    ).json()
    running = None
    for _ in range(100):
        running = (await client.get(f"/api/dispatch/plans/{started['id']}", headers=dispatcher)).json()
        if running["status"] == "running" and running["progress"]:
            break
        await asyncio.sleep(0.1)
    assert running is not None
    assert running["status"] == "running"
    health = await client.get("/api/health")
    assert health.status_code == 200
    still = (await client.get(f"/api/dispatch/plans/{started['id']}", headers=dispatcher)).json()
    assert still["status"] == "running", "the health check must answer while the solve is still going"
    done = await wait_for_plan(client, dispatcher, started["id"])
    assert done["status"] == "done"


async def test_emergency_insertion_goes_to_the_only_qualified_engineer(client, admin, dispatcher, clock):
    # engineer11 alone gets a rare skill; their day already holds one visit later on.
    engineers = (await client.get("/api/engineers", headers=admin, params={"limit": 500})).json()["items"]
    chosen = next(e for e in engineers if e["username"] == "engineer11")
    skills = [
        *(
            {"skill": s["skill"], "level": s["level"], "valid_until": s["valid_until"]}
            for s in chosen["skills"]
        ),
        {"skill": "mainframe", "level": 5},
    ]
    patched = await client.patch(
        f"/api/engineers/{chosen['id']}", headers=admin, json={"version": chosen["version"], "skills": skills}
    )
    assert patched.status_code == 200, patched.text
    later = await _open_visits(client, admin, dispatcher, 1)
    order, visit = later[0]
    first_start = clock.now() + timedelta(minutes=40)
    assigned = await client.put(
        f"/api/visits/{visit['id']}/assignment",
        headers=dispatcher,
        json={
            "version": visit["version"],
            "engineer_id": chosen["id"],
            "planned_start": first_start.isoformat(),
        },
    )
    assert assigned.status_code == 200, assigned.text

    urgent = await _open_visits(client, admin, dispatcher, 1, required_skills={"mainframe": 4})
    proposal = await client.post(
        "/api/dispatch/emergency-insertion",
        headers=dispatcher,
        json={"visit_id": urgent[0][1]["id"], "apply": True},
    )
    assert proposal.status_code == 200, proposal.text
    body = proposal.json()
    assert body["engineer_id"] == chosen["id"]
    # Named as the dispatcher knows them, beside the login.
    assert (body["engineer_name"], body["username"]) == (chosen["display_name"], "engineer11")
    assert body["applied"] is True
    urgent_order = (await client.get(f"/api/work-orders/{urgent[0][0]['id']}", headers=dispatcher)).json()
    assert urgent_order["visits"][0]["engineer_id"] == chosen["id"]
    assert urgent_order["status"] == "scheduled"
    # Inserted before the later visit, which moved back to make room.
    if body["shifted"]:
        assert body["shifted"][0]["visit_id"] == visit["id"]
        moved = (await client.get(f"/api/work-orders/{order['id']}", headers=dispatcher)).json()["visits"][0]
        assert moved["planned_start"] > assigned.json()["planned_start"]

    nobody = await _open_visits(client, admin, dispatcher, 1, required_skills={"teleportation": 1})
    refused = await client.post(
        "/api/dispatch/emergency-insertion", headers=dispatcher, json={"visit_id": nobody[0][1]["id"]}
    )
    assert_problem(refused, 409)


async def test_progress_streams_until_the_plan_is_done(client, admin, dispatcher):
    await _open_visits(client, admin, dispatcher, 1)
    started = (
        await client.post(
            "/api/dispatch/plans", headers=dispatcher, json={"time_limit_seconds": 1, "horizon_hours": 24}
        )
    ).json()
    stream = await client.get(f"/api/dispatch/plans/{started['id']}/stream", headers=dispatcher)
    assert stream.status_code == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert "event: progress" in stream.text
    assert '"status": "done"' in stream.text
    assert_problem(
        await client.get(
            "/api/dispatch/plans/00000000-0000-4000-8000-000000000000/stream", headers=dispatcher
        ),
        404,
    )


async def test_a_plan_keeps_pins_and_confirmed_appointments(client, admin, dispatcher, clock):
    engineers = [await engineer_id(client, dispatcher, f"engineer{n:02d}") for n in (12, 13, 15)]
    (_, pinned), (_, promised) = await _open_visits(client, admin, dispatcher, 2)
    # Pinned to the third engineer (not the nearest) at 14:00 local (06:00 UTC).
    pin_at = clock.now().replace(hour=6, minute=0, second=0, microsecond=0)
    done = await client.put(
        f"/api/visits/{pinned['id']}/assignment",
        headers=dispatcher,
        json={
            "version": pinned["version"],
            "engineer_id": engineers[2],
            "planned_start": pin_at.isoformat(),
            "pinned": True,
        },
    )
    assert done.status_code == 200, done.text
    # The customer confirmed 16:00-17:00 local tomorrow for the other one.
    window = (clock.now() + timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
    confirmed = await client.post(
        f"/api/work-orders/{promised['work_order_id']}/visits",
        headers=dispatcher,
        json={
            "kind": "repair",
            "duration_minutes": 30,
            "window_start": window.isoformat(),
            "window_end": (window + timedelta(hours=1)).isoformat(),
            "window_confirmed": True,
        },
    )
    assert confirmed.status_code == 201, confirmed.text
    body = {"time_limit_seconds": 2, "horizon_hours": 48, "engineer_ids": engineers}
    for _ in range(2):  # planned, applied, and planned again: neither moves
        started = (await client.post("/api/dispatch/plans", headers=dispatcher, json=body)).json()
        plan = await wait_for_plan(client, dispatcher, started["id"])
        assert plan["status"] == "done", plan
        stops = {s["visit_id"]: (r, s) for r in plan["result"]["routes"] for s in r["stops"]}
        route, stop = stops[pinned["id"]]
        assert route["engineer_id"] == engineers[2]
        assert datetime.fromisoformat(stop["start"]) == pin_at
        _, kept = stops[confirmed.json()["id"]]
        assert window <= datetime.fromisoformat(kept["start"]) <= window + timedelta(hours=1)
        applied = await client.post(f"/api/dispatch/plans/{plan['id']}/apply", headers=dispatcher)
        assert applied.status_code == 200, applied.text


async def test_a_plan_beside_the_current_assignment_applied_one_route_at_a_time(
    client, admin, dispatcher, clock
):
    # Two visits that must both start in the same quarter hour: two engineers, two routes.
    start = clock.now() + timedelta(hours=3)
    window = {
        "window_start": start.isoformat(),
        "window_end": (start + timedelta(minutes=15)).isoformat(),
        "window_confirmed": True,
    }
    made = await _open_visits(client, admin, dispatcher, 2, **window)
    ours = {v["id"] for _, v in made}
    engineers = [await engineer_id(client, dispatcher, f"engineer{n:02d}") for n in (13, 15)]
    started = await client.post(
        "/api/dispatch/plans",
        headers=dispatcher,
        json={"time_limit_seconds": 2, "horizon_hours": 24, "engineer_ids": engineers},
    )
    assert started.status_code == 202, started.text
    plan = await wait_for_plan(client, dispatcher, started.json()["id"])
    routes = {r["engineer_id"]: r for r in plan["result"]["routes"] if r["stops"]}
    assert len(routes) == 2, plan["result"]

    # Before: nobody has them; after: both assigned, each a move with its engineer named.
    compared = (await client.get(f"/api/dispatch/plans/{plan['id']}/comparison", headers=dispatcher)).json()
    moves = {m["visit_id"]: m for m in compared["moved"] if m["visit_id"] in ours}
    assert set(moves) == ours
    assert all(
        m["engineer_before_id"] is None and m["engineer_after_id"] in engineers for m in moves.values()
    )
    assert all(m["engineer_after"] for m in moves.values())
    assert compared["after"]["assigned"] >= compared["before"]["assigned"] + 2
    assert sum(compared["before"].values()) - compared["before"]["predicted_breaches"] == (
        compared["after"]["assigned"] + compared["after"]["unassigned"]
    )
    assert compared["breaches_avoided"] == (
        compared["before"]["predicted_breaches"] - compared["after"]["predicted_breaches"]
    )

    # One engineer's route only: theirs is written, the other waits; the plan stays open.
    first, _second = engineers
    refused = await client.post(
        f"/api/dispatch/plans/{plan['id']}/apply",
        headers=dispatcher,
        json={"engineer_ids": [await engineer_id(client, dispatcher, "engineer20")]},
    )
    assert_problem(refused, 422)
    partial = await client.post(
        f"/api/dispatch/plans/{plan['id']}/apply", headers=dispatcher, json={"engineer_ids": [first]}
    )
    assert partial.status_code == 200, partial.text
    assert partial.json()["status"] == "done"
    assert partial.json()["result"]["applied_engineers"] == [first]
    owner = {}
    for order, visit in made:
        now = (await client.get(f"/api/work-orders/{order['id']}", headers=dispatcher)).json()["visits"][0]
        owner[visit["id"]] = now["engineer_id"]
    mine = {s["visit_id"] for s in routes[first]["stops"]} & ours
    assert {owner[v] for v in mine} == {first}
    assert {owner[v] for v in ours - mine} == {None}
    compared = (await client.get(f"/api/dispatch/plans/{plan['id']}/comparison", headers=dispatcher)).json()
    assert {m["visit_id"] for m in compared["moved"]} & ours == ours - mine

    # The rest later, from the same plan: the first route is not written twice.
    rest = await client.post(f"/api/dispatch/plans/{plan['id']}/apply", headers=dispatcher)
    assert rest.status_code == 200, rest.text
    assert rest.json()["status"] == "applied"
    assert sorted(rest.json()["result"]["applied_engineers"]) == sorted(engineers)
    for order, _ in made:
        now = (await client.get(f"/api/work-orders/{order['id']}", headers=dispatcher)).json()["visits"][0]
        assert now["engineer_id"] in engineers
