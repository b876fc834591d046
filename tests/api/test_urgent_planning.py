"""Urgent faults in plans, through the API on PostGIS: a high fault under a business-hours
contract, whose deadline is the next business day, is still planned to be on site within the
desk's aim (URGENT_ON_SITE_AIM) after the report, ahead of the routine work that could wait; the
plan tells lateness against the contract's deadline, not the aim."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dispatch.contracts.models import Severity
from dispatch.contracts.targets import OFFICE_HOURS
from dispatch.planning.problem import URGENT_ON_SITE_AIM
from tests.support.api import auth_headers
from tests.support.plans import cancel_order, run_plan
from tests.support.scenario import asset, cn_calendar_id, contract, customer_with_site, engineer_id, report


async def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _order(
    client, h, home: tuple[float, float], east_km: float, severity: str, kind: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A work order at a site `east_km` from the engineer's home, with a one-hour repair visit."""
    customer, site = await customer_with_site(client, h["admin"], point=(home[0] + east_km / 92.0, home[1]))
    office = kind == "business_hours"
    row = await contract(
        client, h["admin"], customer, kind=kind, hours=OFFICE_HOURS if office else None,
        calendar_id=await cn_calendar_id(client, h["admin"]) if office else None,
    )  # fmt: skip
    order = await report(
        client, h["dispatcher"], site, await asset(client, h["admin"], site, row), severity=severity
    )
    visit = await _ok(
        await client.post(
            f"/api/work-orders/{order['id']}/visits",
            headers=h["dispatcher"],
            json={"kind": "repair", "duration_minutes": 60},
        ),
        201,
    )
    return order, visit


def _start(plan: dict[str, Any], visit: dict[str, Any]) -> datetime:
    for route in plan["result"]["routes"]:
        for stop in route["stops"]:
            if stop["visit_id"] == visit["id"] and stop["kind"] == "visit":
                return datetime.fromisoformat(stop["start"])
    raise AssertionError(f"visit not planned: {plan['result']['unassigned']}")


async def test_a_high_fault_is_planned_within_the_aim_though_its_contract_allows_the_next_day(client):
    h = {name: await auth_headers(client, name) for name in ("admin", "dispatcher")}
    engineer = await engineer_id(client, h["admin"], "engineer13")
    record = await _ok(await client.get(f"/api/engineers/{engineer}", headers=h["admin"]))
    home = tuple(record["home_base"]["coordinates"])
    # A working day of routine repairs on the way out, the urgent one at the far end.
    routine = [await _order(client, h, home, 1.0 + k, "medium", "7x24") for k in range(7)]
    urgent, urgent_visit = await _order(client, h, home, 9.0, "high", "business_hours")
    body = {"time_limit_seconds": 3, "horizon_hours": 24, "engineer_ids": [engineer]}
    plan = await run_plan(client, h["dispatcher"], body)
    assert plan["status"] == "done", plan
    reported = datetime.fromisoformat(urgent["reported_at"])
    start = _start(plan, urgent_visit)
    assert start <= reported + URGENT_ON_SITE_AIM[Severity.HIGH]
    assert start < max(_start(plan, visit) for _, visit in routine)
    # Not late by the contract (the next business day), whatever the aim.
    assert urgent_visit["id"] not in {row["visit_id"] for row in plan["result"]["late"]}
    for order, _ in [*routine, (urgent, urgent_visit)]:
        await cancel_order(client, h["dispatcher"], order)
