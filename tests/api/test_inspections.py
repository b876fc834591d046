"""Inspection plans through the API: a supervisor sets one up, the generator makes its work order,
the dispatcher sees it due and planned, and the engineer fills the checklist — online or offline
as `inspection.record@1` — where a failed item raises a linked repair order for the asset."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from tests.api.test_sync_mutations_field import Device
from tests.support.api import assert_problem, auth_headers
from tests.support.scenario import asset, contract, customer_with_site, engineer_id

CHECKLIST = [
    {"key": "fans", "label": "风扇运转", "kind": "pass_fail"},
    {"key": "inlet_temp", "label": "进风温度", "kind": "number", "min": 10, "max": 35, "unit": "°C"},
    {"key": "logs", "label": "日志检查", "kind": "text"},
]


@pytest.fixture(scope="module")
async def h(client) -> dict[str, dict[str, str]]:
    names = ("admin", "supervisor", "dispatcher")
    return {name: await auth_headers(client, name) for name in names}


async def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _inspection(client, h, engineer: str) -> dict[str, Any]:
    """A plan over a site's two servers, generated now and planned for `engineer`."""
    customer, site = await customer_with_site(client, h["admin"])
    terms = await contract(client, h["admin"], customer, kind="7x24")
    units = [await asset(client, h["admin"], site, terms) for _ in range(2)]
    plan = await _ok(
        await client.post(
            "/api/inspection-plans",
            headers=h["supervisor"],
            json={
                "contract_id": terms["id"],
                "name": "月度巡检",
                "cycle_unit": "months",
                "cycle_every": 1,
                "first_due": "2026-03-10",
                "tolerance_days": 3,
                "lead_days": 14,
                "durations": {"PowerEdge R750": 45},
                "required_skills": {"server": 1},
                "checklists": {"PowerEdge R750": CHECKLIST},
            },
        ),
        201,
    )
    made = await _ok(
        await client.post(f"/api/inspection-plans/{plan['id']}/generate", headers=h["supervisor"])
    )
    assert made == {"created": 1, "blocked": []}
    again = await _ok(
        await client.post(f"/api/inspection-plans/{plan['id']}/generate", headers=h["supervisor"])
    )
    assert again["created"] == 0
    listed = await _ok(
        await client.get("/api/inspections", headers=h["dispatcher"], params={"contract_id": terms["id"]})
    )
    (row,) = listed["items"]
    assert row["state"] == "upcoming"  # 2026-03-02: the window opens on 5 March
    assert row["window_start"].startswith("2026-03-04T16:00")  # 5 March 00:00 in Shanghai
    order = await _ok(await client.get(f"/api/work-orders/{row['work_order_id']}", headers=h["dispatcher"]))
    assert order["clocks"] == []
    assert order["kind"] == "inspection"
    listed_orders = await _ok(
        await client.get("/api/work-orders", headers=h["dispatcher"], params={"q": order["problem_number"]})
    )
    assert [o["kind"] for o in listed_orders["items"]] == ["inspection"]
    (visit,) = order["visits"]
    assert visit["kind"] == "inspection"
    assert visit["duration_minutes"] == 90
    me = await engineer_id(client, h["dispatcher"], engineer)
    await _ok(
        await client.put(
            f"/api/visits/{visit['id']}/assignment",
            headers=h["dispatcher"],
            json={"version": visit["version"], "engineer_id": me},
        )
    )
    planned = await _ok(
        await client.get(
            "/api/inspections",
            headers=h["dispatcher"],
            params={"contract_id": terms["id"], "planned": "true"},
        )
    )
    (planned_row,) = planned["items"]
    assert [p["engineer_id"] for p in planned_row["planned"]] == [me]
    # The desk's row names the place and the engineer, and gives the site's zone for the window.
    assert planned_row["planned"][0]["engineer_name"]
    assert planned_row["site_name"] == site["name"]
    assert planned_row["customer_name"] == customer["name"]
    assert planned_row["time_zone"] == "Asia/Shanghai"
    return {"plan": plan, "row": row, "visit": visit, "assets": units, "contract": terms}


async def test_plans_are_versioned_and_checked(client, h) -> None:
    customer, _ = await customer_with_site(client, h["admin"])
    terms = await contract(client, h["admin"], customer, kind="7x24")
    body = {
        "contract_id": terms["id"],
        "name": "季度巡检",
        "first_due": "2026-04-01",
        "default_checklist": CHECKLIST,
    }
    plan = await _ok(await client.post("/api/inspection-plans", headers=h["admin"], json=body), 201)
    changed = await _ok(
        await client.patch(
            f"/api/inspection-plans/{plan['id']}",
            headers=h["supervisor"],
            json={"version": 1, "tolerance_days": 2},
        )
    )
    assert (changed["version"], changed["tolerance_days"]) == (2, 2)
    stale = await client.patch(
        f"/api/inspection-plans/{plan['id']}", headers=h["supervisor"], json={"version": 1, "lead_days": 3}
    )
    assert_problem(stale, 409, "version-conflict")
    twice = {**body, "default_checklist": [CHECKLIST[0], CHECKLIST[0]]}
    assert_problem(
        await client.post("/api/inspection-plans", headers=h["admin"], json=twice), 422, "invalid-input"
    )
    fixed = {**body, "cycle_unit": "fixed", "fixed_dates": []}
    assert_problem(
        await client.post("/api/inspection-plans", headers=h["admin"], json=fixed), 422, "invalid-input"
    )
    forbidden = await client.post("/api/inspection-plans", headers=h["dispatcher"], json=body)
    assert_problem(forbidden, 403, "forbidden")


async def test_a_failed_item_raises_a_linked_repair_order_for_the_asset(client, h, clock) -> None:
    case = await _inspection(client, h, "engineer03")
    engineer = await auth_headers(client, "engineer03")
    first, second = case["assets"]
    url = f"/api/visits/{case['visit']['id']}/inspection-results"
    answers = [
        {"asset_id": first["id"], "item_key": "fans", "passed": True},
        {"asset_id": first["id"], "item_key": "inlet_temp", "number": 22.5},
        {
            "asset_id": second["id"],
            "item_key": "inlet_temp",
            "number": 48,
            "finding": "进风温度 48°C，机柜空调故障",
            "repair_severity": "high",
        },
    ]
    recorded = await _ok(await client.post(url, headers=engineer, json={"results": answers}))
    by_key = {(r["asset_id"], r["item_key"]): r for r in recorded["results"]}
    failed = by_key[(second["id"], "inlet_temp")]
    assert failed["passed"] is False
    assert by_key[(first["id"], "inlet_temp")]["passed"] is True
    repair = await _ok(
        await client.get(f"/api/work-orders/{failed['repair_work_order_id']}", headers=h["dispatcher"])
    )
    assert repair["asset_id"] == second["id"]
    assert repair["severity"] == "high"
    assert "进风温度 48°C" in repair["fault_description"]
    assert {c["measure"] for c in repair["clocks"]} >= {"on_site", "restore"}  # a repair keeps its SLA
    # Answering the same item again replaces the answer and raises nothing twice.
    again = await _ok(await client.post(url, headers=engineer, json={"results": answers[2:]}))
    assert [r["repair_work_order_id"] for r in again["results"] if r["passed"] is False] == [repair["id"]]
    # The inspection report (巡检报告单) lists every asset's items, the finding and the repair raised.
    report = await _ok(await client.post(f"/api/visits/{case['visit']['id']}/report", headers=engineer), 201)
    assert (report["form"], report["title"]) == ("inspection", "巡检报告单")
    rows = {(r["asset_serial"], r["item_key"]): r for r in report["content"]["checklist"]}
    assert len(rows) == 2 * len(CHECKLIST)
    hot = rows[(second["serial"], "inlet_temp")]
    assert (hot["passed"], hot["repair_problem_number"]) == (False, repair["problem_number"])
    assert rows[(first["serial"], "logs")]["value"] is None  # not answered yet
    incomplete = await client.post(url, headers=engineer, json={"results": [], "complete": True})
    assert_problem(incomplete, 422, "invalid-input")
    unknown = await client.post(
        url,
        headers=engineer,
        json={"results": [{"asset_id": first["id"], "item_key": "nope", "passed": True}]},
    )
    assert_problem(unknown, 422, "invalid-input")
    # Another organisation's asset is refused exactly as a random id is, and nothing is written.
    stranger, elsewhere = await customer_with_site(client, h["admin"])
    foreign = await asset(
        client, h["admin"], elsewhere, await contract(client, h["admin"], stranger, kind="7x24")
    )
    refusals = []
    for asset_id in (foreign["id"], str(uuid.uuid4())):
        answer = {"asset_id": asset_id, "item_key": "fans", "passed": True}
        refused = await client.post(url, headers=engineer, json={"results": [answer]})
        problem = assert_problem(refused, 422, "invalid-input")
        refusals.append(problem["detail"].replace(asset_id, "<asset>"))
    assert refusals[0] == refusals[1]
    other = await auth_headers(client, "engineer04")
    assert_problem(await client.post(url, headers=other, json={"results": answers[:1]}), 404, "not-found")


async def test_an_offline_checklist_round_trips_through_sync(client, h, clock) -> None:
    case = await _inspection(client, h, "engineer05")
    clock.set(dt.datetime(2026, 3, 6, 2, 0, tzinfo=dt.UTC))  # inside the window (5–12 March)
    h = {name: await auth_headers(client, name) for name in h}  # the earlier tokens have expired
    phone = await Device(client, "engineer05", clock).start()
    first, second = case["assets"]
    results = [
        {"asset_id": unit["id"], "item_key": key, **value}
        for unit in (first, second)
        for key, value in (
            ("fans", {"passed": True}),
            ("inlet_temp", {"number": 24}),
            ("logs", {"text": "无告警"}),
        )
    ]
    mutation, outcome = await phone.record(
        "inspection.record@1", visit_id=case["visit"]["id"], at=phone.at(), results=results, complete=True
    )
    assert outcome["status"] == "applied", outcome
    assert outcome["result"]["status"] == "done"
    # The same push again (a lost answer): the stored outcome, nothing applied twice.
    assert (await phone.send(mutation))["result"] == outcome["result"]
    # The pull brings the inspection back with the server's view of every answer.
    pulled = await _ok(
        await client.get("/api/sync/pull", headers=phone.headers, params={"device_id": phone.device_id})
    )
    (document,) = [
        c["data"]["inspection"]
        for c in pulled["changes"]
        if c.get("data", {}).get("id") == case["row"]["work_order_id"]
    ]
    assert document["status"] == "done"
    assert [len(a["items"]) for a in document["assets"]] == [3, 3]
    assert all(a["answers"]["fans"]["passed"] is True for a in document["assets"])
    assert {a["answers"]["inlet_temp"]["value"]["number"] for a in document["assets"]} == {24}
    done = await _ok(
        await client.get(
            "/api/inspections",
            headers=h["dispatcher"],
            params={"contract_id": case["contract"]["id"], "state": "done"},
        )
    )
    assert [i["id"] for i in done["items"]] == [case["row"]["id"]]
    late = await phone.record(
        "inspection.record@1", visit_id=case["visit"]["id"], at=phone.at(), results=results[:1]
    )
    assert late[1]["status"] == "rejected"
    # Compliance: the month's KPIs and the monthly service report count it as done in its window.
    kpis = await _ok(
        await client.get(
            "/api/kpis",
            headers=h["supervisor"],
            params={"from": "2026-03-01", "to": "2026-03-31", "customer_id": case["contract"]["customer_id"]},
        )
    )
    figure = next(k for k in kpis["kpis"] if k["key"] == "inspections_within_window")
    assert (figure["numerator"], figure["denominator"], figure["value"]) == (1, 1, 1.0)
    pdf = await client.get(
        "/api/kpis/monthly.pdf",
        headers=h["supervisor"],
        params={"month": "2026-03", "customer_id": case["contract"]["customer_id"]},
    )
    assert pdf.status_code == 200, pdf.text
    assert pdf.content.startswith(b"%PDF")
