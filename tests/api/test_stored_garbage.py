"""One stored record no model can hold must not break planning for everyone: plans and
emergency insertions still answer, and list that visit unassigned with the reason."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from tests.support.api import assert_problem
from tests.support.plans import run_plan
from tests.support.scenario import asset, contract, customer_with_site, report

INSERT_VISIT = text(
    """
    INSERT INTO visit (id, work_order_id, kind, status, duration_minutes, required_skills,
                       required_parts, people_needed, window_start, window_end, window_confirmed,
                       planned_start, pinned, version)
    VALUES (:id, :order_id, 'repair', 'planned', 60, '{}', CAST(CAST(:parts AS text) AS jsonb), 1,
            CAST(CAST(:window_start AS text) AS timestamptz), CAST(CAST(:window_end AS text) AS timestamptz),
            :confirmed,
            CAST(CAST(:planned_start AS text) AS timestamptz), false, 1)
    """
)


@pytest.fixture(scope="module")
async def garbage(client, admin, dispatcher, db):
    """Three visits written around the API: a window of year 1 (stored as -infinity), a planned
    start at +infinity, and parts that are not a list of SKUs; and one good visit beside them."""
    customer, site = await customer_with_site(client, admin, point=(113.65, 34.75))
    row = await contract(client, admin, customer, kind="7x24")
    unit = await asset(client, admin, site, row)
    rows: dict[str, dict[str, object]] = {
        "year_one": {"window_start": "-infinity", "window_end": "2026-03-02 06:00+00", "confirmed": True},
        "infinite_start": {"planned_start": "infinity"},
        "bad_parts": {"parts": '[{"quantity": 2}]'},
    }
    made = {}
    async with db.begin() as conn:
        for name, values in rows.items():
            order = await report(client, dispatcher, site, unit)
            visit_id = uuid.uuid4()
            await conn.execute(
                INSERT_VISIT,
                {
                    "id": visit_id,
                    "order_id": order["id"],
                    "parts": "[]",
                    "window_start": None,
                    "window_end": None,
                    "confirmed": False,
                    "planned_start": None,
                    **values,
                },
            )
            made[name] = str(visit_id)
    good_order = await report(client, dispatcher, site, unit)
    good = await client.post(
        f"/api/work-orders/{good_order['id']}/visits",
        headers=dispatcher,
        json={"kind": "repair", "duration_minutes": 60},
    )
    assert good.status_code == 201, good.text
    made["good"] = good.json()["id"]
    return made


async def test_a_plan_lists_visits_it_cannot_model_and_plans_the_rest(client, dispatcher, garbage):
    plan = await run_plan(client, dispatcher, {"time_limit_seconds": 2, "horizon_hours": 24})
    assert plan["status"] == "done", plan
    result = plan["result"]
    unassigned = {u["visit_id"]: u["reason"] for u in result["unassigned"]}
    assert "window start" in unassigned[garbage["year_one"]]
    assert "outside the years 2000–2100" in unassigned[garbage["year_one"]]
    assert "planned start" in unassigned[garbage["infinite_start"]]
    assert "cannot be planned" in unassigned[garbage["bad_parts"]]
    assigned = {s["visit_id"] for r in result["routes"] for s in r["stops"]}
    assert garbage["good"] in assigned, result["unassigned"]
    assert result["kpis"]["unassigned"] == len(result["unassigned"])


async def test_emergency_insertion_still_answers_and_names_the_bad_visit(client, dispatcher, garbage):
    response = await client.post(
        "/api/dispatch/emergency-insertion", headers=dispatcher, json={"visit_id": garbage["good"]}
    )
    assert response.status_code == 200, response.text
    assert response.json()["engineer_id"]
    refused = await client.post(
        "/api/dispatch/emergency-insertion", headers=dispatcher, json={"visit_id": garbage["year_one"]}
    )
    problem = assert_problem(refused, 409, "not-plannable")
    assert "window start" in problem["detail"]
