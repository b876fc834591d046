"""The engineer app's inspection checklist in real Chromium at a phone viewport: on site at an
inspection visit, the engineer fills one form per asset offline (pass/fail, a number against its
limits, text), a failed item raising a repair of a chosen severity; the answers wait in the outbox
as `inspection.record@1`, go out with the next sync, and the API then holds them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from tests.conftest import DEMO_NOW
from tests.support.api import auth_headers
from tests.support.scenario import asset, contract, customer_with_site, engineer_id
from tests.web.test_engineer_app import (
    _ok,
    _on_site,
    _pending,
    _synced,
    admin,
    chromium,
    dispatcher,
    live_server,
    phone,
    shot,
)
from tests.web.test_engineer_app_field import SESSION_ARGS

__all__ = ["admin", "chromium", "dispatcher", "live_server"]  # the fixtures this module uses

CHECKLIST = [
    {"key": "fans", "label": "风扇运转", "kind": "pass_fail"},
    {"key": "inlet_temp", "label": "进风温度", "kind": "number", "min": 10, "max": 35, "unit": "°C"},
    {"key": "logs", "label": "日志检查", "kind": "text"},
]


async def _inspection_visit(client: Any, admin: Any, dispatcher: Any, username: str) -> dict[str, Any]:
    """A site's two servers under a monthly plan, generated now, the visit planned for `username`
    two hours from now."""
    supervisor = await auth_headers(client, "supervisor")
    customer, site = await customer_with_site(client, admin, point=(113.6654, 34.7580))
    terms = await contract(client, admin, customer, kind="7x24")
    units = [await asset(client, admin, site, terms) for _ in range(2)]
    plan = await _ok(
        await client.post(
            "/api/inspection-plans",
            headers=supervisor,
            json={
                "contract_id": terms["id"],
                "name": "月度巡检",
                "cycle_unit": "months",
                "cycle_every": 1,
                "first_due": "2026-03-03",
                "tolerance_days": 3,
                "lead_days": 14,
                "checklists": {"PowerEdge R750": CHECKLIST},
            },
        ),
        201,
    )
    await _ok(await client.post(f"/api/inspection-plans/{plan['id']}/generate", headers=supervisor))
    (row,) = (
        await _ok(
            await client.get("/api/inspections", headers=dispatcher, params={"contract_id": terms["id"]})
        )
    )["items"]
    order = await _ok(await client.get(f"/api/work-orders/{row['work_order_id']}", headers=dispatcher))
    (visit,) = order["visits"]
    planned = (DEMO_NOW + dt.timedelta(hours=2)).isoformat()
    me = await engineer_id(client, dispatcher, username)
    visit = await _ok(
        await client.put(
            f"/api/visits/{visit['id']}/assignment",
            headers=dispatcher,
            json={"version": visit["version"], "engineer_id": me, "planned_start": planned},
        )
    )
    return {"row": row, "order": order, "visit": visit, "assets": units, "contract": terms}


async def test_the_checklist_is_filled_offline_and_the_api_holds_it_after_the_sync(
    client: Any, admin: Any, dispatcher: Any, live_server: str, chromium: str, tmp_path: Path
) -> None:
    username = "engineer13"
    world = await _inspection_visit(client, admin, dispatcher, username)
    vid = world["visit"]["id"]
    first, second = world["assets"]
    async with phone(chromium) as (context, page, errors):
        await _on_site(page, live_server, username, vid)
        await _synced(page)
        await page.locator("#inspection-panel").wait_for()
        assert await page.text_content("#inspection-panel h2") == "巡检清单"
        limits = await page.locator("#insp-asset-0 .insp-limits").text_content()
        assert limits == " (10–35 °C)"  # the number's limits shown beside it

        await context.set_offline(True)
        await page.click("#insp-0-fans-pass")
        await page.fill("#insp-0-inlet_temp", "22.5")
        await page.fill("#insp-0-logs", "无告警")
        # Completing with items unanswered is refused on the phone, nothing is queued.
        await page.click("#act-insp-complete")
        assert "3" in (await page.text_content("#insp-error") or "")
        await page.click("#insp-1-fans-pass")
        await page.fill("#insp-1-inlet_temp", "48")  # over 35 °C: failed, a finding and a repair offered
        await page.fill("#insp-1-inlet_temp-finding", "进风温度 48°C，机柜空调故障")
        await page.select_option("#insp-1-inlet_temp-severity", "high")
        await page.fill("#insp-1-logs", "风扇告警一次")
        assert await page.get_attribute("#insp-progress", "data-answered") == "6"
        assert await page.text_content("#insp-error") == ""  # all answered: the refusal is gone
        # The screen fits the phone: nothing runs off to the side.
        assert await page.evaluate("() => document.documentElement.scrollWidth") <= 390
        await page.locator("#insp-asset-1").scroll_into_view_if_needed()
        await page.screenshot(path=shot("inspection-checklist", tmp_path))
        await page.click("#act-insp-complete")
        await _pending(page, 1)
        await page.locator("#insp-done").wait_for()
        (queued,) = await page.evaluate(SESSION_ARGS, "inspection.record@1")
        assert queued["complete"] is True
        assert len(queued["results"]) == 6
        hot = next(
            r for r in queued["results"] if r["asset_id"] == second["id"] and r["item_key"] == "inlet_temp"
        )
        assert (hot["number"], hot["repair_severity"]) == (48, "high")

        await context.set_offline(False)
        await _synced(page)
        # A sync in flight when the phone went offline is logged by the browser, not by the page.
        assert [e for e in errors if "net::ERR_INTERNET_DISCONNECTED" not in e] == [], errors

    done = await _ok(
        await client.get(
            "/api/inspections",
            headers=dispatcher,
            params={"contract_id": world["contract"]["id"], "state": "done"},
        )
    )
    assert [i["id"] for i in done["items"]] == [world["row"]["id"]]
    engineer = await auth_headers(client, username)
    report = await _ok(await client.post(f"/api/visits/{vid}/report", headers=engineer), 201)
    rows = {(r["asset_serial"], r["item_key"]): r for r in report["content"]["checklist"]}
    assert rows[(first["serial"], "fans")]["passed"] is True
    assert rows[(first["serial"], "logs")]["value"] == {"text": "无告警"}
    failed = rows[(second["serial"], "inlet_temp")]
    assert failed["passed"] is False
    repair_number = failed["repair_problem_number"]
    assert repair_number
    repairs = await _ok(await client.get("/api/work-orders", headers=dispatcher, params={"q": repair_number}))
    (repair,) = repairs["items"]
    assert (repair["severity"], repair["kind"]) == ("high", "repair")
    assert "进风温度 48°C" in repair["fault_description"]
