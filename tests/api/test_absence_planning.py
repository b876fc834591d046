"""An absence takes the engineer out of the work: plans put no visit in it and no overtime runs
into it, the assignment check refuses a drop inside it, and emergency insertion looks past it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support.api import auth_headers
from tests.support.plans import cancel_order, run_plan
from tests.support.scenario import asset, contract, customer_with_site, engineer_id, report

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The demo's clock is Monday 2 March 2026, 09:00 in Zhengzhou; engineer07 works 08:30–17:30.
SICK = (datetime(2026, 3, 2, 0, 0, tzinfo=SHANGHAI), datetime(2026, 3, 3, 0, 0, tzinfo=SHANGHAI))
TRAINING = (datetime(2026, 3, 3, 13, 0, tzinfo=SHANGHAI), datetime(2026, 3, 3, 18, 0, tzinfo=SHANGHAI))


async def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


@pytest.fixture(scope="module")
async def h(client) -> dict[str, dict[str, str]]:
    return {name: await auth_headers(client, name) for name in ("admin", "dispatcher")}


@pytest.fixture(scope="module")
async def away(client, h) -> str:
    """engineer07, ill today and in training tomorrow afternoon."""
    me = await engineer_id(client, h["dispatcher"], "engineer07")
    for (start, end), kind in ((SICK, "sick"), (TRAINING, "training")):
        body = {"starts_at": start.isoformat(), "ends_at": end.isoformat(), "kind": kind}
        await _ok(await client.post(f"/api/engineers/{me}/absences", headers=h["dispatcher"], json=body), 201)
    return me


async def _orders(
    client, h, engineer: str, count: int, **site_rules: Any
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    record = await _ok(await client.get(f"/api/engineers/{engineer}", headers=h["admin"]))
    lon, lat = record["home_base"]["coordinates"]
    made = []
    for k in range(count):
        customer, site = await customer_with_site(client, h["admin"], point=(lon + 0.01 * k, lat + 0.02))
        if site_rules:
            site = await _ok(
                await client.patch(
                    f"/api/sites/{site['id']}",
                    headers=h["admin"],
                    json={"version": site["version"], **site_rules},
                )
            )
        unit = await asset(
            client, h["admin"], site, await contract(client, h["admin"], customer, kind="7x24")
        )
        order = await report(client, h["dispatcher"], site, unit)
        visit = await _ok(
            await client.post(
                f"/api/work-orders/{order['id']}/visits",
                headers=h["dispatcher"],
                json={"kind": "repair", "duration_minutes": 90},
            ),
            201,
        )
        made.append((order, visit))
    return made


def _overlaps(start: datetime, end: datetime, period: tuple[datetime, datetime]) -> bool:
    return start < period[1] and period[0] < end


async def test_a_plan_puts_nothing_in_an_absence_and_no_overtime_into_it(client, h, away):
    made = await _orders(client, h, away, 2)
    body = {"time_limit_seconds": 2, "horizon_hours": 48, "engineer_ids": [away]}
    plan = await run_plan(client, h["dispatcher"], body)
    assert plan["status"] == "done", plan
    mine = [r for r in plan["result"]["routes"] if r["engineer_id"] == away and r["stops"]]
    assert mine, plan["result"]["unassigned"]
    tuesday = (datetime(2026, 3, 3, 8, 30, tzinfo=SHANGHAI), TRAINING[0])
    for route in mine:
        depart, back = datetime.fromisoformat(route["depart"]), datetime.fromisoformat(route["return"])
        for period in (SICK, TRAINING):
            assert not _overlaps(depart, back, period), (route["depart"], route["return"])
        for stop in route["stops"]:
            start, end = datetime.fromisoformat(stop["start"]), datetime.fromisoformat(stop["end"])
            assert not _overlaps(start, end, SICK)
            assert not _overlaps(start, end, TRAINING)
            # Tuesday morning: the only time the engineer works in the horizon.
            assert tuesday[0] <= start, stop
            assert end <= tuesday[1], stop
    for order, _ in made:
        await cancel_order(client, h["dispatcher"], order)


async def test_a_drop_inside_an_absence_is_refused_and_the_earliest_start_is_after_it(client, h, away):
    [(order, visit)] = await _orders(client, h, away, 1)
    url = f"/api/visits/{visit['id']}/assignment/check"
    monday = datetime(2026, 3, 2, 14, 0, tzinfo=SHANGHAI).isoformat()
    verdict = await _ok(
        await client.post(url, headers=h["dispatcher"], json={"engineer_id": away, "planned_start": monday})
    )
    assert verdict["allowed"] is False
    [absent] = [f for f in verdict["findings"] if f["rule"] == "absence"]
    assert absent["severity"] == "refuse"
    assert "sick" in absent["message"]
    refused = await client.put(
        f"/api/visits/{visit['id']}/assignment",
        headers=h["dispatcher"],
        json={"version": visit["version"], "engineer_id": away, "planned_start": monday},
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["type"] == "/problems/assignment-refused"

    # As soon as they can: Tuesday morning, done before the training starts.
    soonest = await _ok(await client.post(url, headers=h["dispatcher"], json={"engineer_id": away}))
    assert not [f for f in soonest["findings"] if f["rule"] == "absence"], soonest
    assert soonest["planned_start"], soonest
    start = datetime.fromisoformat(soonest["planned_start"])
    assert SICK[1] <= start
    assert start + timedelta(minutes=90) <= TRAINING[0]
    await cancel_order(client, h["dispatcher"], order)


async def test_emergency_insertion_looks_past_an_absent_engineer(client, h, away):
    # A site that admits only the absent engineer: the proposal waits for their return.
    [(order, visit)] = await _orders(client, h, away, 1, allowed_engineer_ids=[away])
    proposal = await _ok(
        await client.post(
            "/api/dispatch/emergency-insertion", headers=h["dispatcher"], json={"visit_id": visit["id"]}
        )
    )
    assert proposal["engineer_id"] == away
    start = datetime.fromisoformat(proposal["planned_start"])
    assert SICK[1] <= start
    assert start + timedelta(minutes=90) <= TRAINING[0]
    await cancel_order(client, h["dispatcher"], order)
