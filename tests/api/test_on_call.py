"""On-call standby periods among an engineer's weekly shifts, through the API into plans on
PostGIS: kept and shown with the shifts, laid over the horizon apart from the regular shifts
(past midnight too), used at night for critical work and for work whose deadline falls before
the morning shift can reach it, never into overtime, with rest after a call-out; and no position
tracking on standby."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.clock import ManualClock
from core.database import make_engine, make_sessionmaker
from dispatch.engineers.models import Engineer, EngineerShift
from dispatch.engineers.positions import on_shift
from dispatch.planning import problem as planning
from routing.eligibility import vehicles_of
from tests.support.api import assert_problem, auth_headers
from tests.support.plans import cancel_order, run_plan
from tests.support.scenario import asset, contract, customer_with_site, engineer_id, report

SHANGHAI = ZoneInfo("Asia/Shanghai")
H = 3600.0
WEEKDAYS = range(5)
DAY_SHIFTS = [{"weekday": d, "starts": "08:30:00", "ends": "17:30:00"} for d in WEEKDAYS]
NIGHTS = [{"weekday": d, "starts": "18:00:00", "ends": "08:00:00", "on_call": True} for d in WEEKDAYS]


async def _headers(client) -> dict[str, dict[str, str]]:
    """Fresh tokens: those from before the clock moved may have expired."""
    return {name: await auth_headers(client, name) for name in ("admin", "dispatcher")}


@pytest.fixture
def evening(clock: ManualClock) -> Iterator[datetime]:
    """Monday 20:00 in Shanghai, after everyone's regular shift; back to the morning after."""
    start = clock.now()
    clock.set(datetime(2026, 3, 2, 20, 0, tzinfo=SHANGHAI).astimezone(UTC))
    yield clock.now()
    clock.set(start)


async def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _set(client, h, engineer: str, **fields: Any) -> dict[str, Any]:
    record = await _ok(await client.get(f"/api/engineers/{engineer}", headers=h["admin"]))
    return dict(
        await _ok(
            await client.patch(
                f"/api/engineers/{engineer}",
                headers=h["admin"],
                json={"version": record["version"], **fields},
            )
        )
    )


async def _order(
    client, h, engineer: str, severity: str, minutes: int = 60
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A work order of the severity at a site near the engineer's home, and its visit."""
    record = await _ok(await client.get(f"/api/engineers/{engineer}", headers=h["admin"]))
    lon, lat = record["home_base"]["coordinates"]
    customer, site = await customer_with_site(client, h["admin"], point=(lon + 0.01, lat))
    row = await contract(client, h["admin"], customer, kind="7x24")
    order = await report(
        client, h["dispatcher"], site, await asset(client, h["admin"], site, row), severity=severity
    )
    visit = await _ok(
        await client.post(
            f"/api/work-orders/{order['id']}/visits",
            headers=h["dispatcher"],
            json={"kind": "repair", "duration_minutes": minutes},
        ),
        201,
    )
    return order, visit


def _served(plan: dict[str, Any], visit: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The route serving the visit, and its stop there."""
    for route in plan["result"]["routes"]:
        for stop in route["stops"]:
            if stop["visit_id"] == visit["id"] and stop["kind"] == "visit":
                return route, stop
    raise AssertionError(f"visit not planned: {plan['result']['unassigned']}")


def _local(at: str) -> datetime:
    return datetime.fromisoformat(at).astimezone(SHANGHAI)


async def _build(demo_db: str, now: datetime, engineer: str, horizon_s: float) -> planning.PlanInput:
    engine = make_engine(demo_db, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session:
            return await planning.build(session, now, horizon_s, [uuid.UUID(engineer)])
    finally:
        await engine.dispose()


async def test_standby_periods_round_trip_and_bad_shifts_are_refused(client):
    h = await _headers(client)
    user = await _ok(
        await client.post(
            "/api/users",
            headers=h["admin"],
            json={
                "username": "engineer.standby",
                "display_name": "值班测试",
                "role": "engineer",
                "password": "a-long-password",
            },
        ),
        201,
    )
    shifts = [
        {"weekday": 0, "starts": "08:00:00", "ends": "17:00:00"},
        {"weekday": 0, "starts": "18:00:00", "ends": "08:00:00", "on_call": True},
        {"weekday": 5, "starts": "22:00:00", "ends": "06:00:00"},  # a regular night shift
    ]
    created = await _ok(
        await client.post(
            "/api/engineers",
            headers=h["admin"],
            json={
                "id": user["id"],
                "employer_kind": "company",
                "employer_name": "郑州智维信息技术服务有限公司",
                "home_base": {"type": "Point", "coordinates": [113.6, 34.7]},
                "on_call": True,
                "shifts": shifts,
            },
        ),
        201,
    )
    # Shown with every shift, false where the input left it out.
    assert created["shifts"] == [{"on_call": False, **s} for s in shifts]
    assert await _ok(await client.get(f"/api/engineers/{user['id']}", headers=h["admin"])) == created

    changed = await _set(client, h, user["id"], shifts=[{**shifts[0], "on_call": True}])
    assert changed["shifts"] == [{**shifts[0], "on_call": True}]

    sunday_night = {"weekday": 6, "starts": "20:00:00", "ends": "09:00:00", "on_call": True}
    bad: list[Any]
    for bad in (
        [{**shifts[0], "on_call": "yes"}],
        [{**shifts[0], "ends": shifts[0]["starts"]}],  # neither a day nor a night
        [{**shifts[0], "starts": "08:00:00+08:00"}],  # the engineer's time zone, not an offset
        [shifts[0], {**shifts[0], "on_call": True}],  # the same hours twice
        [shifts[0], shifts[1], {"weekday": 1, "starts": "07:00:00", "ends": "12:00:00"}],  # into the night
        [shifts[2], {"weekday": 6, "starts": "05:00:00", "ends": "12:00:00"}],  # Saturday night into Sunday
        [shifts[0], sunday_night],  # Sunday night into Monday, round the week
    ):
        body = assert_problem(
            await client.patch(
                f"/api/engineers/{user['id']}",
                headers=h["admin"],
                json={"version": changed["version"], "shifts": bad},
            ),
            422,
            "invalid-input",
        )
        assert any("shifts" in e["field"] for e in body["errors"]), (bad, body)
    assert await _ok(await client.get(f"/api/engineers/{user['id']}", headers=h["admin"])) == changed

    # The demo's on-call engineers keep weeknight standby.
    demo = await _ok(
        await client.get(
            f"/api/engineers/{await engineer_id(client, h['admin'], 'engineer14')}", headers=h["admin"]
        )
    )
    assert demo["on_call"] is True
    assert [s for s in demo["shifts"] if s["on_call"]] == [
        {"weekday": d, "starts": "18:00:00", "ends": "08:00:00", "on_call": True} for d in WEEKDAYS
    ]


async def test_the_problem_gets_standby_periods_apart_from_shifts(client, clock, demo_db):
    h = await _headers(client)
    me = await engineer_id(client, h["admin"], "engineer12")
    week = [
        {"weekday": 6, "starts": "22:00:00", "ends": "10:00:00", "on_call": True},  # into Monday
        {"weekday": 0, "starts": "10:00:00", "ends": "17:00:00"},
        {"weekday": 0, "starts": "18:00:00", "ends": "08:00:00", "on_call": True},
        {"weekday": 1, "starts": "08:30:00", "ends": "17:30:00"},
        {"weekday": 1, "starts": "18:00:00", "ends": "23:00:00", "on_call": True},
        {"weekday": 2, "starts": "22:00:00", "ends": "06:00:00"},  # a regular night shift
    ]
    await _set(client, h, me, on_call=True, shifts=week)

    # Monday 09:00 over three days, to Thursday 09:00.
    built = await _build(demo_db, clock.now(), me, 72 * H)
    engineer = built.problem.engineers[0]
    assert engineer.on_call is True
    assert engineer.shifts == [(1 * H, 8 * H), (23.5 * H, 32.5 * H), (61 * H, 69 * H)]
    # Sunday night's clipped to now, Monday night's to Tuesday 08:00, Tuesday evening's.
    assert engineer.on_call_shifts == [(0.0, 1 * H), (9 * H, 23 * H), (33 * H, 38 * H)]
    vehicles = vehicles_of(built.problem)
    assert sum(v.on_call for v in vehicles) == 3
    # Overtime after the regular shifts only: a standby night ends when the day shift takes over.
    assert {v.overtime_cap_s for v in vehicles if v.on_call} == {0.0}
    assert all(v.overtime_cap_s > 0 for v in vehicles if not v.on_call)

    # Off the rota, the standby periods stay in the week but no plan uses them.
    await _set(client, h, me, on_call=False)
    built = await _build(demo_db, clock.now(), me, 72 * H)
    assert built.problem.engineers[0].on_call is False
    assert not any(v.on_call for v in vehicles_of(built.problem))
    await _set(client, h, me, on_call=True, shifts=DAY_SHIFTS)


async def test_critical_work_at_night_goes_to_the_standby_route_the_rest_waits(client, evening):
    h = await _headers(client)
    duty = await engineer_id(client, h["admin"], "engineer13")
    await _set(client, h, duty, on_call=True, shifts=DAY_SHIFTS + NIGHTS, rest_after_call_minutes=0)
    outage, outage_visit = await _order(client, h, duty, "critical")
    # Medium under 7x24: on site within 24 h, so the morning shift keeps it.
    slow, slow_visit = await _order(client, h, duty, "medium")
    morning = datetime(2026, 3, 3, 8, 30, tzinfo=SHANGHAI)

    plan = await _plan(client, h, [duty])
    route, stop = _served(plan, outage_visit)
    assert route["on_call"] is True
    assert evening <= datetime.fromisoformat(stop["start"]) < morning
    route, stop = _served(plan, slow_visit)
    assert route["on_call"] is False
    assert datetime.fromisoformat(stop["start"]) >= morning

    # Off the rota: no standby route, the outage waits for the morning too.
    await _set(client, h, duty, on_call=False)
    plan = await _plan(client, h, [duty])
    assert not any(r["on_call"] for r in plan["result"]["routes"])
    for visit in (outage_visit, slow_visit):
        _, stop = _served(plan, visit)
        assert datetime.fromisoformat(stop["start"]) >= morning
    await _set(client, h, duty, on_call=True)
    for order in (outage, slow):
        await _cancel(client, h, order)


async def test_a_high_fault_whose_deadline_cannot_wait_for_the_morning_is_a_call_out(client, evening):
    """High under 7x24 at 20:00: on site by 08:00, before the 08:30 shift, so standby takes it;
    off the rota it waits for the morning and is planned late."""
    h = await _headers(client)
    duty = await engineer_id(client, h["admin"], "engineer16")
    await _set(client, h, duty, on_call=True, shifts=DAY_SHIFTS + NIGHTS, rest_after_call_minutes=0)
    order, visit = await _order(client, h, duty, "high")
    deadline = datetime(2026, 3, 3, 8, 0, tzinfo=SHANGHAI)

    plan = await _plan(client, h, [duty])
    route, stop = _served(plan, visit)
    assert route["on_call"] is True
    assert evening <= datetime.fromisoformat(stop["start"]) < deadline
    assert not plan["result"]["late"]

    await _set(client, h, duty, on_call=False)
    plan = await _plan(client, h, [duty])
    _, stop = _served(plan, visit)
    assert datetime.fromisoformat(stop["start"]) >= datetime(2026, 3, 3, 8, 30, tzinfo=SHANGHAI)
    assert [late["visit_id"] for late in plan["result"]["late"]] == [visit["id"]]
    await _set(client, h, duty, on_call=True, shifts=DAY_SHIFTS)
    await _cancel(client, h, order)


async def test_after_a_night_call_out_the_morning_starts_after_the_rest(client, evening):
    h = await _headers(client)
    duty = await engineer_id(client, h["admin"], "engineer15")
    await _set(client, h, duty, on_call=True, shifts=DAY_SHIFTS + NIGHTS, rest_after_call_minutes=660)
    # Five hours on site: back after midnight, so the rest reaches past 08:30.
    outage, outage_visit = await _order(client, h, duty, "critical", minutes=300)
    routine, routine_visit = await _order(client, h, duty, "medium")

    plan = await _plan(client, h, [duty])
    night, _ = _served(plan, outage_visit)
    assert night["on_call"] is True
    day, _ = _served(plan, routine_visit)
    assert day["on_call"] is False
    back = datetime.fromisoformat(night["return"])
    assert back + timedelta(hours=11) > datetime(2026, 3, 3, 8, 30, tzinfo=SHANGHAI)
    # Within the second the solver rounds times to.
    assert datetime.fromisoformat(day["depart"]) >= back + timedelta(hours=11, seconds=-1), (night, day)
    for order in (outage, routine):
        await _cancel(client, h, order)


async def test_emergency_insertion_keeps_standby_for_work_that_cannot_wait(client, evening):
    """The same rule as plans: at 20:00 a medium fault (on site within 24 h) waits for the morning
    shift, proposed and applied, even next to an engineer on standby; a high fault that must be on
    site by 08:00 is inserted into a standby night."""
    h = await _headers(client)
    duty = await engineer_id(client, h["admin"], "engineer17")
    await _set(client, h, duty, on_call=True, shifts=DAY_SHIFTS + NIGHTS, rest_after_call_minutes=0)
    morning = datetime(2026, 3, 3, 8, 30, tzinfo=SHANGHAI)
    slow, slow_visit = await _order(client, h, duty, "medium")
    for apply in (False, True):
        proposal = await _ok(
            await client.post(
                "/api/dispatch/emergency-insertion",
                headers=h["dispatcher"],
                json={"visit_id": slow_visit["id"], "apply": apply},
            )
        )
        assert datetime.fromisoformat(proposal["planned_start"]) >= morning, proposal
    stored = await _ok(await client.get(f"/api/visits/{slow_visit['id']}", headers=h["dispatcher"]))
    assert stored["status"] == "assigned"
    assert datetime.fromisoformat(stored["planned_start"]) >= morning

    urgent, urgent_visit = await _order(client, h, duty, "high")
    proposal = await _ok(
        await client.post(
            "/api/dispatch/emergency-insertion",
            headers=h["dispatcher"],
            json={"visit_id": urgent_visit["id"], "apply": False},
        )
    )
    deadline = datetime(2026, 3, 3, 8, 0, tzinfo=SHANGHAI)
    assert evening <= datetime.fromisoformat(proposal["planned_start"]) < deadline
    await _set(client, h, duty, on_call=True, shifts=DAY_SHIFTS)
    for order in (slow, urgent):
        await _cancel(client, h, order)


async def test_work_under_way_on_a_standby_call_out_stays_on_the_standby_route(client, evening):
    """A medium fault (it could wait for the morning) the desk sent the standby engineer to at
    20:00: once they are on site, the plan keeps it on their standby route, where they are,
    instead of leaving it out as pinned to an engineer with no shift in the horizon."""
    h = await _headers(client)
    duty = await engineer_id(client, h["admin"], "engineer17")
    await _set(client, h, duty, on_call=True, shifts=DAY_SHIFTS + NIGHTS, rest_after_call_minutes=0)
    order, visit = await _order(client, h, duty, "medium")
    await _ok(
        await client.put(
            f"/api/visits/{visit['id']}/assignment",
            headers=h["dispatcher"],
            json={"version": visit["version"], "engineer_id": duty},
        )
    )
    me = await auth_headers(client, "engineer17")
    await _ok(await client.post(f"/api/visits/{visit['id']}/arrive", headers=me, json={}))

    plan = await _plan(client, h, [duty])
    route, stop = _served(plan, visit)
    assert route["on_call"] is True
    assert datetime.fromisoformat(stop["start"]) < datetime(2026, 3, 3, 8, 0, tzinfo=SHANGHAI)
    assert plan["result"]["unassigned"] == []
    await _ok(
        await client.post(f"/api/visits/{visit['id']}/finish", headers=me, json={"outcome": "follow_up"})
    )
    await _set(client, h, duty, on_call=True, shifts=DAY_SHIFTS)
    await _cancel(client, h, order)


def test_positions_are_kept_on_a_night_shift_not_on_standby():
    engineer = Engineer(
        time_zone="Asia/Shanghai",
        shifts=[
            EngineerShift(weekday=0, starts=dt_time(22, 0), ends=dt_time(6, 0), on_call=False),
            EngineerShift(weekday=2, starts=dt_time(18, 0), ends=dt_time(8, 0), on_call=True),
        ],
    )

    def at(day: int, hour: int) -> datetime:
        return datetime(2026, 3, 2 + day, hour, 0, tzinfo=SHANGHAI)  # day 0: a Monday

    assert [on_shift(engineer, at(0, hour)) for hour in (21, 22, 23)] == [False, True, True]
    assert [on_shift(engineer, at(1, hour)) for hour in (0, 5, 6)] == [True, True, False]
    assert not any(on_shift(engineer, at(d, hour)) for d, hour in ((2, 20), (3, 2), (3, 7)))


async def _plan(client, h, engineers: list[str], horizon_hours: int = 24) -> dict[str, Any]:
    body = {"time_limit_seconds": 3, "horizon_hours": horizon_hours, "engineer_ids": engineers}
    plan = await run_plan(client, h["dispatcher"], body)
    assert plan["status"] == "done", plan
    return plan


async def _cancel(client, h, order: dict[str, Any]) -> None:
    """Out of later plans of the module."""
    await cancel_order(client, h["dispatcher"], order)
