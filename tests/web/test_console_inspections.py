"""The console's inspections (巡检) in real Chromium: beside the order list, overdue first, then
due, then upcoming, each with its site, customer, window in the site's zone and the planned
engineer or "not planned"; a row opens its work order in the panel; Chinese first, then English."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from tests.support.api import auth_headers
from tests.support.scenario import asset, contract, customer_with_site, engineer_id
from tests.web import test_console
from tests.web.test_console_desk import DOCS, signed_in

chromium = test_console.chromium
live_server = test_console.live_server

CHECKLIST = [{"key": "fans", "label": "风扇运转", "kind": "pass_fail"}]


async def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _inspections(client: Any) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    """A site with three inspections on fixed dates (now is 2 March): overdue, due and upcoming;
    the due one planned for engineer02."""
    admin, supervisor = await auth_headers(client, "admin"), await auth_headers(client, "supervisor")
    dispatcher = await auth_headers(client, "dispatcher")
    customer, site = await customer_with_site(client, admin)
    terms = await contract(client, admin, customer, kind="7x24")
    await asset(client, admin, site, terms)
    plan = await _ok(
        await client.post(
            "/api/inspection-plans",
            headers=supervisor,
            json={
                "contract_id": terms["id"],
                "name": "季度巡检",
                "cycle_unit": "fixed",
                "fixed_dates": ["2026-02-10", "2026-03-02", "2026-03-20"],
                "first_due": "2026-02-10",
                "tolerance_days": 2,
                "lead_days": 30,
                "checklists": {"PowerEdge R750": CHECKLIST},
            },
        ),
        201,
    )
    made = await _ok(await client.post(f"/api/inspection-plans/{plan['id']}/generate", headers=supervisor))
    assert made["created"] == 3
    rows = (
        await _ok(
            await client.get("/api/inspections", headers=dispatcher, params={"contract_id": terms["id"]})
        )
    )["items"]
    assert [r["state"] for r in rows] == ["overdue", "due", "upcoming"]
    due = await _ok(await client.get(f"/api/work-orders/{rows[1]['work_order_id']}", headers=dispatcher))
    (visit,) = due["visits"]
    me = await engineer_id(client, dispatcher, "engineer02")
    await _ok(
        await client.put(
            f"/api/visits/{visit['id']}/assignment",
            headers=dispatcher,
            json={
                "version": visit["version"],
                "engineer_id": me,
                "planned_start": "2026-03-03T01:30:00+00:00",
            },
        )
    )
    engineers = (await _ok(await client.get("/api/engineers", headers=dispatcher, params={"limit": 500})))[
        "items"
    ]
    name = next(e["display_name"] for e in engineers if e["id"] == me)
    return site, rows, name


def _local(iso: str) -> str:
    return dt.datetime.fromisoformat(iso).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%m-%d %H:%M")


async def test_the_dispatcher_sees_inspections_overdue_first_and_opens_one(client, live_server, chromium):
    site, rows, engineer = await _inspections(client)
    overdue, due, upcoming = rows
    async with signed_in(live_server, chromium) as page:
        assert await page.text_content("#list-inspections") == "巡检"
        await page.click("#list-inspections")
        mine = page.locator(".inspection-row", has_text=site["name"])
        await mine.nth(2).wait_for(timeout=30_000)
        assert await page.locator("#order-list").is_hidden()
        # Groups in order of urgency: overdue, due now, upcoming; ours fall one in each.
        groups = await page.eval_on_selector_all(".insp-group", "els => els.map(e => e.dataset.state)")
        assert groups == ["overdue", "due", "upcoming"]
        states = await mine.evaluate_all("els => els.map(e => e.dataset.state)")
        assert states == ["overdue", "due", "upcoming"]
        first = mine.nth(0)
        text = await first.text_content() or ""
        assert overdue["problem_number"] in text
        assert site["name"] in text
        assert "测试客户" in text
        assert f"{_local(overdue['window_start'])} – {_local(overdue['window_end'])}" in text
        assert "Asia/Shanghai" in text
        assert "未排期" in text
        planned = await mine.nth(1).text_content() or ""
        assert f"{engineer} · 03-03 09:30" in planned  # the planned start in the site's zone
        assert "未排期" not in planned
        assert due["problem_number"] in planned
        assert upcoming["problem_number"] in (await mine.nth(2).text_content() or "")
        await page.screenshot(path=str(DOCS / "console-inspections.png"))
        await first.click()
        await page.locator("#detail h2.problem-number", has_text=overdue["problem_number"]).wait_for(
            timeout=30_000
        )
        await page.click("#language")
        await page.locator("#list-inspections", has_text="Inspections").wait_for()
        await page.locator(".insp-group h3", has_text="Overdue (").wait_for()
        assert "not planned" in (await mine.nth(0).text_content() or "")
        await page.click("#list-orders")
        await page.locator("#order-list").wait_for()
        assert await page.locator("#inspections").is_hidden()
