"""Dispatcher rules kept with sites and engineers, through the API into plans on PostGIS:
whitelists, barred and preferred engineers, registration lead, access hours, overtime caps."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.database import make_engine, make_sessionmaker
from dispatch.customers.models import Site
from dispatch.planning import problem as planning
from dispatch.planning.problem import OVERRUN_SHARE
from routing.options import SolveOptions
from routing.plan_check import check_plan
from routing.solver import solve
from routing.travel import speed_factor
from tests.support.api import assert_problem, auth_headers
from tests.support.plans import cancel_order, run_plan
from tests.support.scenario import asset, contract, customer_with_site, engineer_id, planned_visit, report

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
async def h(client) -> dict[str, dict[str, str]]:
    names = ("admin", "dispatcher", "engineer05")
    return {name: await auth_headers(client, name) for name in names}


@pytest.fixture(scope="module")
async def people(client, h) -> dict[str, str]:
    """A few demo engineers, by name: on shift Monday to Friday, so plans stay small."""
    return {
        n: await engineer_id(client, h["dispatcher"], n) for n in ("engineer05", "engineer06", "engineer07")
    }


async def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _home(client, h, engineer: str) -> tuple[float, float]:
    body = await _ok(await client.get(f"/api/engineers/{engineer}", headers=h["admin"]))
    lon, lat = body["home_base"]["coordinates"]
    return (lon, lat)


async def _site(client, h, point: tuple[float, float], **rules: Any) -> dict[str, Any]:
    """A site at `point` with the rules given (set by a change, as an administrator would)."""
    _, site = await customer_with_site(client, h["admin"], point=point)
    if not rules:
        return site
    changed: dict[str, Any] = await _ok(
        await client.patch(
            f"/api/sites/{site['id']}", headers=h["admin"], json={"version": site["version"], **rules}
        )
    )
    return changed


async def _order(client, h, site: dict[str, Any]) -> dict[str, Any]:
    customer = {"id": site["customer_id"]}
    row = await contract(client, h["admin"], customer, kind="7x24")
    unit = await asset(client, h["admin"], site, row)
    return await report(client, h["dispatcher"], site, unit)


async def _visit(client, h, order: dict[str, Any], minutes: int = 60, **extra: Any) -> dict[str, Any]:
    visit: dict[str, Any] = await _ok(
        await client.post(
            f"/api/work-orders/{order['id']}/visits",
            headers=h["dispatcher"],
            json={"kind": "repair", "duration_minutes": minutes, **extra},
        ),
        201,
    )
    return visit


def _served(plan: dict[str, Any], visit: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The route serving the visit, and its stop there."""
    for route in plan["result"]["routes"]:
        for stop in route["stops"]:
            if stop["visit_id"] == visit["id"] and stop["kind"] == "visit":
                return route, stop
    raise AssertionError(f"visit not planned: {plan['result']['unassigned']}")


async def _build(demo_db: str, now: datetime, engineers: list[str] | None = None) -> planning.PlanInput:
    engine = make_engine(demo_db, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session:
            ids = [uuid.UUID(e) for e in engineers] if engineers else None
            return await planning.build(session, now, 48 * 3600, ids)
    finally:
        await engine.dispose()


async def test_a_whitelisted_site_gets_only_its_engineer_even_when_another_is_nearer(client, h, people):
    allowed, nearer = people["engineer05"], people["engineer06"]
    site = await _site(client, h, await _home(client, h, nearer), allowed_engineer_ids=[allowed])
    assert site["allowed_engineer_ids"] == [allowed]
    order = await _order(client, h, site)
    visit = await _visit(client, h, order)

    route, _ = _served(await _plan(client, h, [allowed, nearer]), visit)
    assert route["engineer_id"] == allowed
    await _cancel(client, h, order)


async def test_a_barred_engineer_never_gets_the_sites_visit(client, h, people):
    barred, other = people["engineer06"], people["engineer05"]
    site = await _site(client, h, await _home(client, h, barred), barred_engineer_ids=[barred])
    assert site["barred_engineer_ids"] == [barred]
    order = await _order(client, h, site)
    visit = await _visit(client, h, order)

    route, _ = _served(await _plan(client, h, [barred, other]), visit)
    assert route["engineer_id"] == other

    # With the barred engineer alone, the visit waits, and the plan says why.
    alone = await _plan(client, h, [barred])
    reasons = {u["visit_id"]: u["reason"] for u in alone["result"]["unassigned"]}
    assert "barred" in reasons[visit["id"]]
    await _cancel(client, h, order)


async def test_a_site_needing_registration_gets_no_start_before_the_lead(client, h, people, clock):
    site = await _site(client, h, (113.66, 34.76), registration_lead_minutes=24 * 60)
    assert site["registration_lead_minutes"] == 24 * 60
    order = await _order(client, h, site)
    visit = await _visit(client, h, order)

    plan = await _plan(client, h, [people["engineer05"], people["engineer06"]], horizon_hours=72)
    _, stop = _served(plan, visit)
    assert datetime.fromisoformat(stop["start"]) >= clock.now() + timedelta(hours=24)
    await _cancel(client, h, order)


async def test_a_site_open_two_hours_a_day_gets_a_start_inside_them(client, h, people):
    hours = [{"weekday": None, "from": "14:00", "until": "16:00"}]
    site = await _site(client, h, (113.62, 34.74), access_windows=hours)
    assert site["access_windows"] == hours
    order = await _order(client, h, site)
    visit = await _visit(client, h, order)

    plan = await _plan(client, h, [people["engineer05"], people["engineer06"]])
    _, stop = _served(plan, visit)
    local = datetime.fromisoformat(stop["start"]).astimezone(SHANGHAI)
    assert (14, 0) <= (local.hour, local.minute) <= (16, 0), local
    await _cancel(client, h, order)


async def test_no_overtime_allowed_keeps_the_route_inside_the_shift(client, h, people):
    # A job of 8 h 50 min about 11 km from home: with the drives no 9-hour shift holds it.
    me = people["engineer07"]
    lon, lat = await _home(client, h, me)
    order = await _order(client, h, await _site(client, h, (lon, lat + 0.1)))
    visit = await _visit(client, h, order, minutes=530)
    record = await _ok(await client.get(f"/api/engineers/{me}", headers=h["admin"]))
    assert record["overtime_cap_minutes_day"] == 180
    record = await _ok(
        await client.patch(
            f"/api/engineers/{me}",
            headers=h["admin"],
            json={"version": record["version"], "overtime_cap_minutes_day": 0},
        )
    )
    assert record["overtime_cap_minutes_day"] == 0

    plan = await _plan(client, h, [me])
    assert visit["id"] in {u["visit_id"] for u in plan["result"]["unassigned"]}
    for route in plan["result"]["routes"]:
        assert route["overtime_minutes"] == 0
        assert datetime.fromisoformat(route["return"]) <= datetime.fromisoformat(route["shift"][1])

    # The default cap of 3 h lets the same engineer take it, in overtime.
    await _ok(
        await client.patch(
            f"/api/engineers/{me}",
            headers=h["admin"],
            json={"version": record["version"], "overtime_cap_minutes_day": 180},
        )
    )
    route, _ = _served(await _plan(client, h, [me]), visit)
    assert route["engineer_id"] == me
    assert 0 < route["overtime_minutes"] <= 180
    await _cancel(client, h, order)


async def test_an_emergency_insertion_keeps_to_the_whitelist_and_the_registration_lead(
    client, h, people, clock
):
    allowed, nearer = people["engineer05"], people["engineer06"]
    rules = {"allowed_engineer_ids": [allowed], "registration_lead_minutes": 24 * 60}
    order = await _order(client, h, await _site(client, h, await _home(client, h, nearer), **rules))
    visit = await _visit(client, h, order)

    proposal = await _ok(
        await client.post(
            "/api/dispatch/emergency-insertion", headers=h["dispatcher"], json={"visit_id": visit["id"]}
        )
    )
    assert proposal["engineer_id"] == allowed
    assert datetime.fromisoformat(proposal["planned_start"]) >= clock.now() + timedelta(hours=24)
    await _cancel(client, h, order)


async def test_the_problem_carries_the_sites_and_engineers_rules(client, h, people, clock, demo_db):
    done_by, favourite, barred = people["engineer05"], people["engineer06"], people["engineer07"]
    site = await _site(client, h, (113.7, 34.8))
    order = await _order(client, h, site)
    # The first visit ends needing another: the follow-up should go to whoever did the first.
    first = await planned_visit(client, h["dispatcher"], order, done_by)
    await _ok(await client.post(f"/api/visits/{first['id']}/arrive", headers=h["engineer05"], json={}))
    await _ok(
        await client.post(
            f"/api/visits/{first['id']}/finish", headers=h["engineer05"], json={"outcome": "follow_up"}
        )
    )
    follow_up = await _visit(client, h, order)

    built = await _build(demo_db, clock.now())
    ours = next(v for v in built.problem.visits if v.id == follow_up["id"])
    assert ours.preferred_engineers == {done_by}
    assert ours.allowed_engineers is None
    assert ours.barred_engineers == frozenset()
    assert ours.registration_lead_s == 0
    assert ours.windows == []

    hours = [{"weekday": 1, "from": "10:00", "until": "12:00"}]
    site = await _ok(
        await client.patch(
            f"/api/sites/{site['id']}",
            headers=h["admin"],
            json={
                "version": site["version"],
                "preferred_engineer_ids": [favourite],
                "allowed_engineer_ids": [done_by, favourite],
                "barred_engineer_ids": [barred],
                "registration_lead_minutes": 90,
                "access_windows": hours,
            },
        )
    )
    record = await _ok(await client.get(f"/api/engineers/{barred}", headers=h["admin"]))
    record = await _ok(
        await client.patch(
            f"/api/engineers/{barred}",
            headers=h["admin"],
            json={
                "version": record["version"],
                "overtime_cap_minutes_day": 120,
                "overtime_left_month_minutes": 600,
                "stays_away_overnight": True,
                "rest_after_call_minutes": 660,
            },
        )
    )
    assert (record["overtime_left_month_minutes"], record["stays_away_overnight"]) == (600, True)

    built = await _build(demo_db, clock.now(), [done_by, barred])
    ours = next(v for v in built.problem.visits if v.id == follow_up["id"])
    assert ours.preferred_engineers == {done_by, favourite}
    assert ours.allowed_engineers == frozenset({done_by, favourite})
    assert ours.barred_engineers == {barred}
    assert ours.registration_lead_s == 90 * 60
    # Tuesday 10:00–12:00 in Shanghai: 25 to 27 hours after Monday 09:00.
    assert ours.windows == [(25 * 3600.0, 27 * 3600.0)]
    engineer = next(e for e in built.problem.engineers if e.id == barred)
    assert engineer.overtime_cap_s == 120 * 60
    assert engineer.overtime_left_month_s == 600 * 60
    assert engineer.stays_away is True
    assert engineer.rest_after_call_s == 660 * 60
    untouched = next(e for e in built.problem.engineers if e.id == done_by)
    assert (untouched.overtime_cap_s, untouched.overtime_left_month_s) == (180 * 60, None)
    assert (untouched.stays_away, untouched.rest_after_call_s) == (False, 0)

    await _ok(
        await client.patch(
            f"/api/engineers/{barred}",
            headers=h["admin"],
            json={
                "version": record["version"],
                "overtime_cap_minutes_day": 180,
                "overtime_left_month_minutes": None,
                "stays_away_overnight": False,
                "rest_after_call_minutes": 0,
            },
        )
    )
    await _cancel(client, h, order)


def test_access_hours_over_the_horizon_and_with_a_parts_eta():
    origin = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
    site = Site(
        time_zone="Asia/Shanghai",
        access_windows=[
            {"weekday": None, "from": "08:00", "until": "10:00"},
            {"weekday": 2, "from": "14:00", "until": "15:00"},
        ],
    )
    hour = 3600.0
    # Monday's window already open (clipped to now), Tuesday's, Wednesday's two, Thursday's
    # first hour up to the end of the horizon.
    assert planning.access_windows(site, origin, 72 * hour) == [
        (0.0, hour),
        (23 * hour, 25 * hour),
        (47 * hour, 49 * hour),
        (53 * hour, 54 * hour),
        (71 * hour, 72 * hour),
    ]
    # A part arriving at 09:30 on Tuesday: Tuesday from then on, the later days whole.
    assert planning.visit_windows(site, origin, 72 * hour, 24.5 * hour) == [
        (24.5 * hour, 25 * hour),
        (47 * hour, 49 * hour),
        (53 * hour, 54 * hour),
        (71 * hour, 72 * hour),
    ]
    # Nothing left in the horizon: a window nobody can meet, never "any time".
    assert planning.visit_windows(site, origin, 40 * hour, 30 * hour) == [(40 * hour + 1, 40 * hour + 1)]
    assert (
        planning.visit_windows(Site(time_zone="Asia/Shanghai", access_windows=[]), origin, hour, None) == []
    )


async def test_bad_rules_are_refused_and_change_nothing(client, h, people):
    site = await _site(client, h, (113.6, 34.7))
    window = {"weekday": 0, "from": "09:00", "until": "17:00"}
    bad: dict[str, Any]
    for bad, field in (
        ({"access_windows": [{**window, "weekday": 7}]}, "access_windows"),
        ({"access_windows": [{**window, "from": "9:00"}]}, "access_windows"),
        ({"access_windows": [{**window, "until": "24:00"}]}, "access_windows"),
        ({"access_windows": [{**window, "from": "17:00", "until": "09:00"}]}, "access_windows"),
        ({"access_windows": [{**window, "every": "day"}]}, "access_windows"),
        ({"registration_lead_minutes": -1}, "registration_lead_minutes"),
        ({"registration_lead_minutes": 10**6}, "registration_lead_minutes"),
        ({"allowed_engineer_ids": []}, "allowed_engineer_ids"),
        ({"barred_engineer_ids": [str(uuid.uuid4())]}, "barred_engineer_ids"),
        ({"preferred_engineer_ids": ["not-a-uuid"]}, "preferred_engineer_ids"),
    ):
        body = assert_problem(
            await client.patch(
                f"/api/sites/{site['id']}", headers=h["admin"], json={"version": site["version"], **bad}
            ),
            422,
            "invalid-input",
        )
        assert any(field in e["field"] for e in body["errors"]), (bad, body)
        created = await client.post(
            "/api/sites",
            headers=h["admin"],
            json={
                "customer_id": site["customer_id"],
                "name": "另一个站点",
                "address": "郑州市",
                "point": {"type": "Point", "coordinates": [113.6, 34.7]},
                **bad,
            },
        )
        assert_problem(created, 422, "invalid-input")
    assert await _ok(await client.get(f"/api/sites/{site['id']}", headers=h["admin"])) == site
    listed = await _ok(
        await client.get("/api/sites", headers=h["admin"], params={"customer_id": site["customer_id"]})
    )
    assert [s["id"] for s in listed["items"]] == [site["id"]]

    me = people["engineer06"]
    record = await _ok(await client.get(f"/api/engineers/{me}", headers=h["admin"]))
    for bad, field in (
        ({"overtime_cap_minutes_day": -5}, "overtime_cap_minutes_day"),
        ({"overtime_cap_minutes_day": 13 * 60}, "overtime_cap_minutes_day"),
        ({"overtime_left_month_minutes": -1}, "overtime_left_month_minutes"),
        ({"rest_after_call_minutes": 25 * 60}, "rest_after_call_minutes"),
        ({"stays_away_overnight": "yes"}, "stays_away_overnight"),
    ):
        body = assert_problem(
            await client.patch(
                f"/api/engineers/{me}", headers=h["admin"], json={"version": record["version"], **bad}
            ),
            422,
            "invalid-input",
        )
        assert any(field in e["field"] for e in body["errors"]), (bad, body)
    assert await _ok(await client.get(f"/api/engineers/{me}", headers=h["admin"])) == record

    # A new engineer's record: refused with a bad rule, created with good ones.
    user = await _ok(
        await client.post(
            "/api/users",
            headers=h["admin"],
            json={
                "username": "engineer.rules",
                "display_name": "规则测试",
                "role": "engineer",
                "password": "a-long-password",
            },
        ),
        201,
    )
    engineer = {
        "id": user["id"],
        "employer_kind": "company",
        "employer_name": "郑州智维信息技术服务有限公司",
        "home_base": {"type": "Point", "coordinates": [113.6, 34.7]},
    }
    refused = await client.post(
        "/api/engineers", headers=h["admin"], json={**engineer, "overtime_left_month_minutes": -30}
    )
    assert_problem(refused, 422, "invalid-input")
    assert_problem(await client.get(f"/api/engineers/{user['id']}", headers=h["admin"]), 404)
    created = await _ok(
        await client.post(
            "/api/engineers",
            headers=h["admin"],
            json={**engineer, "overtime_left_month_minutes": 600, "stays_away_overnight": True},
        ),
        201,
    )
    assert created["overtime_cap_minutes_day"] == 180
    assert created["overtime_left_month_minutes"] == 600
    assert created["stays_away_overnight"] is True
    assert created["rest_after_call_minutes"] == 0


async def test_plans_drive_through_the_local_rush_hours(clock, demo_db):
    # Planned at 09:00 Beijing time: the morning rush (to 09:30, 0.7 × speed), then free flow.
    built = await _build(demo_db, clock.now())
    local = clock.now().astimezone(ZoneInfo("Asia/Shanghai"))
    assert (local.hour, local.minute) == (9, 0)
    travel = built.problem.travel
    assert speed_factor(travel, 0) == 0.7
    assert speed_factor(travel, 3600) == 1.0
    assert speed_factor(travel, 13 * 3600) == 1.2  # 22:00, the night


async def _plan(client, h, engineers: list[str], horizon_hours: int = 48) -> dict[str, Any]:
    body = {"time_limit_seconds": 2, "horizon_hours": horizon_hours, "engineer_ids": engineers}
    plan = await run_plan(client, h["dispatcher"], body)
    assert plan["status"] == "done", plan
    return plan


async def _cancel(client, h, order: dict[str, Any]) -> None:
    """Out of later plans of the module."""
    await cancel_order(client, h["dispatcher"], order)


async def test_a_job_under_way_goes_on_first_where_the_engineer_is(client, h, people, clock, demo_db):
    me = people["engineer05"]
    site = await _site(client, h, (113.7, 34.8))
    order = await _order(client, h, site)
    job = await planned_visit(client, h["dispatcher"], order, me)  # 90 minutes planned
    await _ok(await client.post(f"/api/visits/{job['id']}/arrive", headers=h["engineer05"], json={}))

    # Half an hour in: the hour left, now, from the site, first on the engineer's route.
    built = await _build(demo_db, clock.now() + timedelta(minutes=30), [me])
    (ours,) = [v for v in built.problem.visits if v.id == job["id"]]
    (engineer,) = built.problem.engineers
    assert (ours.already_started, ours.pinned_start_s, ours.duration_s) == (True, 0.0, 3600.0)
    assert engineer.start == tuple(site["point"]["coordinates"])
    route = next(r for r in solve(built.problem, SolveOptions(solution_limit=50)).routes if r.stops)
    assert (route.stops[0].visit_id, route.stops[0].start_s) == (job["id"], 0.0)
    # Three hours in, past its estimate: a quarter of the estimate is still expected.
    built = await _build(demo_db, clock.now() + timedelta(hours=3), [me])
    (ours,) = [v for v in built.problem.visits if v.id == job["id"]]
    assert ours.duration_s == OVERRUN_SHARE * 90 * 60

    done = {"outcome": "follow_up"}
    await _ok(await client.post(f"/api/visits/{job['id']}/finish", headers=h["engineer05"], json=done))
    await _cancel(client, h, order)


async def test_a_joint_job_under_way_keeps_both_engineers_on_it(client, h, people, clock, demo_db):
    me, partner = people["engineer05"], people["engineer06"]
    site = await _site(client, h, (113.71, 34.81))
    order = await _order(client, h, site)
    visit = await _visit(client, h, order, minutes=90, people_needed=2)
    crew = {"version": visit["version"], "engineer_id": me, "partner_engineer_id": partner}
    job = await _ok(
        await client.put(f"/api/visits/{visit['id']}/assignment", headers=h["dispatcher"], json=crew)
    )
    await _ok(await client.post(f"/api/visits/{job['id']}/arrive", headers=h["engineer05"], json={}))

    built = await _build(demo_db, clock.now() + timedelta(minutes=30), [me, partner])
    (ours,) = [v for v in built.problem.visits if v.id == job["id"]]
    assert (ours.pinned_engineer, ours.pinned_partner, ours.pinned_start_s) == (me, partner, 0.0)
    assert {e.start for e in built.problem.engineers} == {tuple(site["point"]["coordinates"])}
    solution = solve(built.problem, SolveOptions(solution_limit=50))
    firsts = {r.engineer_id: (r.stops[0].visit_id, r.stops[0].start_s) for r in solution.routes if r.stops}
    assert firsts == {me: (job["id"], 0.0), partner: (job["id"], 0.0)}
    assert job["id"] not in {u.visit_id for u in solution.unassigned}

    done = {"outcome": "follow_up"}
    await _ok(await client.post(f"/api/visits/{job['id']}/finish", headers=h["engineer05"], json=done))
    await _cancel(client, h, order)


async def test_a_job_the_engineer_drives_to_after_the_shift_stays_tonight_in_overtime(
    client, h, people, clock, demo_db
):
    # engineer05 works 08:30–17:30 (Shanghai), overtime up to 3 h. Set off for a job at 17:50: at
    # 18:00 the shift is over, yet the engineer is on the way, in overtime. The plan keeps the job
    # tonight, from where they are, with the overtime that is left; not tomorrow at 08:30.
    me = people["engineer05"]
    lon, lat = await _home(client, h, me)
    site = await _site(client, h, (lon + 0.05, lat))
    order = await _order(client, h, site)
    job = await planned_visit(client, h["dispatcher"], order, me)
    evening = datetime(2026, 3, 2, 18, 0, tzinfo=SHANGHAI)
    before = clock.now()
    clock.set(evening - timedelta(minutes=10))
    try:
        field = await auth_headers(client, "engineer05")  # signed in this evening
        await _ok(await client.post(f"/api/visits/{job['id']}/start-travel", headers=field, json={}))
        built = await _build(demo_db, evening, [me])
        (engineer,) = built.problem.engineers
        assert engineer.shifts[0] == (0.0, 0.0)
        assert engineer.overtime_now_s == 150 * 60  # 3 h less the half hour since 17:30
        solution = solve(built.problem, SolveOptions(solution_limit=50))
        (route,) = [r for r in solution.routes if any(s.visit_id == job["id"] for s in r.stops)]
        assert route.shift == (0.0, 0.0)
        assert route.stops[0].visit_id == job["id"]
        assert route.stops[0].start_s < 3600
        assert check_plan(built.problem, solution).problems == []

        clock.set(evening - timedelta(minutes=5))  # within the sign-in's lifetime
        await _ok(await client.post(f"/api/visits/{job['id']}/arrive", headers=field, json={}))
        done = {"outcome": "follow_up"}
        await _ok(await client.post(f"/api/visits/{job['id']}/finish", headers=field, json=done))
        await _cancel(client, {"dispatcher": await auth_headers(client, "dispatcher")}, order)
    finally:
        clock.set(before)


async def test_applying_a_plan_takes_back_what_it_found_no_room_for(client, h, people, clock):
    # Three jobs of 15 hours held by engineer05, longer than any shift and its overtime: one
    # promised for today, one pinned, one promised next week. The plan finds room for none of
    # them; applied, it takes back today's (the engineer's phone no longer shows it), and leaves
    # the pinned one and next week's.
    me = people["engineer05"]
    site = await _site(client, h, await _home(client, h, me))
    held = {}
    for name, start, pinned in (
        ("today", clock.now() + timedelta(hours=2), False),
        ("pinned", clock.now() + timedelta(hours=3), True),
        ("next week", clock.now() + timedelta(days=7), False),
    ):
        visit = await _visit(client, h, await _order(client, h, site), minutes=900)
        body = {
            "version": visit["version"],
            "engineer_id": me,
            "planned_start": start.isoformat(),
            "pinned": pinned,
        }
        held[name] = await _ok(
            await client.put(f"/api/visits/{visit['id']}/assignment", headers=h["dispatcher"], json=body)
        )

    plan = await _plan(client, h, [me])
    assert {held[n]["id"] for n in ("today", "pinned")} <= {
        u["visit_id"] for u in plan["result"]["unassigned"]
    }
    # The comparison says so before it is applied.
    compared = await _ok(
        await client.get(f"/api/dispatch/plans/{plan['id']}/comparison", headers=h["dispatcher"])
    )
    moves = {m["visit_id"]: m for m in compared["moved"]}
    assert (
        moves[held["today"]["id"]]["engineer_before_id"],
        moves[held["today"]["id"]]["engineer_after_id"],
    ) == (
        me,
        None,
    )
    assert held["pinned"]["id"] not in moves
    assert held["next week"]["id"] not in moves
    assert compared["after"]["unassigned"] >= compared["before"]["unassigned"] + 1
    applied = await _ok(await client.post(f"/api/dispatch/plans/{plan['id']}/apply", headers=h["dispatcher"]))
    assert applied["result"]["released"] == [held["today"]["id"]]
    after = {
        name: await _ok(await client.get(f"/api/visits/{visit['id']}", headers=h["dispatcher"]))
        for name, visit in held.items()
    }
    assert (after["today"]["status"], after["today"]["engineer_id"]) == ("planned", None)
    assert (after["pinned"]["status"], after["pinned"]["engineer_id"]) == ("assigned", me)
    assert (after["next week"]["status"], after["next week"]["engineer_id"]) == ("assigned", me)
    for visit in held.values():
        await _cancel(client, h, {"id": visit["work_order_id"]})
