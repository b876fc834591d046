"""The dispatcher's drop, checked before it is made: the rules, the arrival, what it does to this
visit's deadline and to the engineer's other visits; a hard rule refuses the assignment unless
overridden with a reason."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.support.api import assert_problem
from tests.support.scenario import asset, contract, customer_with_site, engineer_id, report


async def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _place(client, admin, point=(113.65, 34.75)) -> tuple[dict[str, Any], dict[str, Any]]:
    """A customer's site with an asset under a 7x24 contract."""
    customer, site = await customer_with_site(client, admin, point=point)
    row = await contract(client, admin, customer, kind="7x24")
    return site, await asset(client, admin, site, row)


async def _visit(
    client, admin, dispatcher, place=None, **visit: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    site, unit = place or await _place(client, admin)
    order = await report(client, dispatcher, site, unit)
    made = await _ok(
        await client.post(
            f"/api/work-orders/{order['id']}/visits",
            headers=dispatcher,
            json={"kind": "repair", "duration_minutes": 60, **visit},
        ),
        201,
    )
    return order, made


async def _check(client, dispatcher, visit_id: str, engineer: str, at: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"engineer_id": engineer}
    if at is not None:
        body["planned_start"] = at
    verdict: dict[str, Any] = await _ok(
        await client.post(f"/api/visits/{visit_id}/assignment/check", headers=dispatcher, json=body)
    )
    return verdict


async def _visit_now(client, dispatcher, order_id: str) -> dict[str, Any]:
    order = await _ok(await client.get(f"/api/work-orders/{order_id}", headers=dispatcher))
    visit: dict[str, Any] = order["visits"][0]
    return visit


async def test_a_drop_before_another_visit_says_when_and_who_moves_and_writes_nothing(
    client, admin, dispatcher
):
    place = await _place(client, admin)
    order1, first = await _visit(client, admin, dispatcher, place)
    order2, urgent = await _visit(client, admin, dispatcher, place)
    ranked = (await _ok(await client.get(f"/api/visits/{first['id']}/candidates", headers=dispatcher)))[
        "items"
    ]
    best = next(c for c in ranked if c["fits"])
    engineer, earliest = best["engineer_id"], datetime.fromisoformat(best["planned_start"])
    assert best["engineer_name"]
    assert best["username"]

    # The engineer's visit at the site half an hour after they could first be there.
    later = earliest + timedelta(minutes=30)
    await _ok(
        await client.put(
            f"/api/visits/{first['id']}/assignment",
            headers=dispatcher,
            json={"version": first["version"], "engineer_id": engineer, "planned_start": later.isoformat()},
        )
    )

    # Dropping the urgent visit (an hour's work, same site) at their earliest pushes that one back.
    verdict = await _check(client, dispatcher, urgent["id"], engineer, earliest.isoformat())
    assert (verdict["allowed"], verdict["visit_id"], verdict["engineer_id"]) == (True, urgent["id"], engineer)
    assert datetime.fromisoformat(verdict["planned_start"]) == earliest
    assert datetime.fromisoformat(verdict["arrival"]) <= earliest
    assert verdict["deadline"] is not None
    assert verdict["late_minutes"] == 0
    [moved] = verdict["others"]
    assert (moved["visit_id"], moved["problem_number"]) == (first["id"], order1["problem_number"])
    assert datetime.fromisoformat(moved["planned_start_before"]) == later
    assert datetime.fromisoformat(moved["planned_start_after"]) == earliest + timedelta(minutes=60)

    # As soon as they can instead: after the visit already there, nobody moves.
    after = await _check(client, dispatcher, urgent["id"], engineer)
    assert after["others"] == [] or datetime.fromisoformat(after["planned_start"]) < later

    # A dry run: nothing was assigned or moved.
    assert (await _visit_now(client, dispatcher, order2["id"]))["engineer_id"] is None
    kept = await _visit_now(client, dispatcher, order1["id"])
    assert datetime.fromisoformat(kept["planned_start"]) == later


async def test_a_missing_skill_refuses_the_drop_until_overridden_with_a_reason(client, admin, dispatcher):
    order, visit = await _visit(client, admin, dispatcher, required_skills={"teleportation": 1})
    ranked = (await _ok(await client.get(f"/api/visits/{visit['id']}/candidates", headers=dispatcher)))[
        "items"
    ]
    assert not any(c["allowed"] for c in ranked), "nobody holds that skill"
    engineer = ranked[0]["engineer_id"]
    verdict = await _check(client, dispatcher, visit["id"], engineer)
    assert (verdict["allowed"], verdict["fits"]) == (False, False)
    assert {"rule": "skill", "severity": "refuse", "message": "lacks skill teleportation"} in verdict[
        "findings"
    ]
    assert verdict["planned_start"] is not None  # the timing is still shown

    body = {"version": visit["version"], "engineer_id": engineer}
    refused = await client.put(f"/api/visits/{visit['id']}/assignment", headers=dispatcher, json=body)
    problem = assert_problem(refused, 409, "assignment-refused")
    assert problem["findings"] == [
        {"rule": "skill", "severity": "refuse", "message": "lacks skill teleportation"}
    ]
    unchanged = await _visit_now(client, dispatcher, order["id"])
    assert (unchanged["engineer_id"], unchanged["version"]) == (None, visit["version"])

    overridden = await _ok(
        await client.put(
            f"/api/visits/{visit['id']}/assignment",
            headers=dispatcher,
            json={**body, "override_reason": "客户指定该工程师，技能证书在更新中"},
        )
    )
    assert overridden["engineer_id"] == engineer
    timeline = (await _ok(await client.get(f"/api/work-orders/{order['id']}", headers=dispatcher)))[
        "timeline"
    ]
    [event] = [e for e in timeline if e["kind"] == "assignment_override"]
    assert event["note"] == "客户指定该工程师，技能证书在更新中"
    assert event["data"]["overridden"][0]["rule"] == "skill"


async def test_candidates_put_the_engineers_the_rules_admit_first(client, admin, dispatcher):
    site, unit = await _place(client, admin, point=(113.62, 34.74))
    barred = await engineer_id(client, dispatcher, "engineer05")
    patched = await client.patch(
        f"/api/sites/{site['id']}",
        headers=admin,
        json={"version": site["version"], "barred_engineer_ids": [barred]},
    )
    assert patched.status_code == 200, patched.text
    _, visit = await _visit(client, admin, dispatcher, (site, unit))
    ranked = (await _ok(await client.get(f"/api/visits/{visit['id']}/candidates", headers=dispatcher)))[
        "items"
    ]
    allowed = [c["allowed"] for c in ranked]
    assert allowed == sorted(allowed, reverse=True), "every admitted engineer comes before any refused one"
    mine = next(c for c in ranked if c["engineer_id"] == barred)
    assert {"rule": "site_access", "severity": "refuse", "message": "barred from this site"} in mine[
        "findings"
    ]
    assert ranked[0]["fits"]
    assert ranked[0]["allowed"]
    lateness = [c["late_minutes"] or 0 for c in ranked if c["fits"]]
    assert lateness == sorted(lateness)


@pytest.mark.parametrize("who", ["no-such-engineer", "a customer's account"])
async def test_an_engineer_id_that_is_none_of_ours_is_refused_without_saying_more(
    client, admin, dispatcher, who
):
    _, visit = await _visit(client, admin, dispatcher)
    if who == "no-such-engineer":
        other = "00000000-0000-4000-8000-000000000000"
    else:
        users = (await client.get("/api/users", headers=admin, params={"limit": 500})).json()["items"]
        other = next(u["id"] for u in users if u["role"] == "customer_contact")
    verdict = await _check(client, dispatcher, visit["id"], other)
    assert verdict["allowed"] is False
    assert verdict["findings"] == [
        {"rule": "engineer", "severity": "refuse", "message": "not an active engineer of ours"}
    ]
    assert verdict["engineer_name"] is None
    missing = await client.post(
        "/api/visits/00000000-0000-4000-8000-000000000001/assignment/check",
        headers=dispatcher,
        json={"engineer_id": other},
    )
    assert_problem(missing, 404)
