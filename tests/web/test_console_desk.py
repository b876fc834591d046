"""The console's desk in real Chromium against a live server on the demo data: the new-order form,
contacts, pauses, cancel and transitions, emergency insertion, loan approval, a version conflict
named, grouped notifications, the language switch and the layouts at desk, tablet and phone width.
"""

from __future__ import annotations

import itertools
import os
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from playwright.async_api import Page, async_playwright

from tests.support.api import auth_headers
from tests.support.db import watch_once
from tests.support.scenario import asset, contract, customer_with_site, engineer_id, planned_visit, report
from tests.web import test_console
from tests.web.test_console import CHROMIUM_ARGS

# The browser and the live server (on this module's demo database and clock), as test_console has them.
chromium = test_console.chromium
live_server = test_console.live_server

# Screenshots go to FSD_SCREENSHOTS when set (`FSD_SCREENSHOTS=docs` refreshes the README's), else
# to the temporary directory: a test run never changes files under version control.
DOCS = Path(os.environ.get("FSD_SCREENSHOTS") or Path(tempfile.gettempdir()) / "fsd-screenshots")
DOCS.mkdir(parents=True, exist_ok=True)
_numbers = itertools.count(1)


@asynccontextmanager
async def signed_in(
    url: str, executable: str, *, width: int = 1440, height: int = 900, lang: str | None = None
) -> AsyncIterator[Page]:
    """A signed-in dispatcher's console; fails the test on any page error or refused CSP."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(
                viewport={"width": width, "height": height}, locale="zh-CN", timezone_id="Asia/Shanghai"
            )
            if lang:
                await context.add_init_script(f"localStorage.setItem('fsd.console.lang', '{lang}')")
            page = await context.new_page()
            page.set_default_timeout(15_000)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on(
                "console",
                lambda m: (
                    errors.append(m.text) if m.type == "error" and "status of 4" not in m.text else None
                ),
            )
            await page.goto(url + "/")
            await page.fill("#login-username", "dispatcher")
            await page.fill("#login-password", "demo-pass")
            await page.click("#login-form button[type=submit]")
            await page.locator("#console-view").wait_for()
            await page.locator("#order-list li").first.wait_for()
            yield page
            assert errors == [], errors
        finally:
            await browser.close()


async def _open(page: Page, number: str) -> None:
    await page.fill("#filter-q", number)
    row = page.locator(f".order-row[data-problem-number='{number}']")
    await row.click()
    await page.locator("#detail h2.problem-number", has_text=number).wait_for()


async def _order(client: Any, severity: str = "high") -> tuple[dict[str, Any], dict[str, Any]]:
    admin = await auth_headers(client, "admin")
    dispatcher = await auth_headers(client, "dispatcher")
    customer, site = await customer_with_site(client, admin)
    unit = await asset(client, admin, site, await contract(client, admin, customer, kind="7x24"))
    return await report(client, dispatcher, site, unit, severity=severity), dispatcher


async def test_a_new_order_from_the_form_with_a_chinese_customer_search(client, live_server, chromium):
    admin = await auth_headers(client, "admin")
    n = next(_numbers)
    customer = (
        await client.post(
            "/api/customers",
            headers=admin,
            json={"customer_number": f"D{n:05d}", "name": f"郑州黄河电力设计院{n}"},
        )
    ).json()
    site = (
        await client.post(
            "/api/sites",
            headers=admin,
            json={
                "customer_id": customer["id"],
                "name": "黄河设计院机房",
                "address": "河南省郑州市中原区建设西路 11 号",
                "point": {"type": "Point", "coordinates": [113.61, 34.75]},
                "time_zone": "Asia/Shanghai",
                "contact_name": "王芳",
                "contact_phone": "13900000002",
            },
        )
    ).json()
    deal = await contract(client, admin, customer, kind="7x24")
    unit = await asset(client, admin, site, deal)

    async with signed_in(live_server, chromium) as page:
        await page.click("#new-order")
        form = page.locator("#intake-form")
        await form.wait_for()
        # Labels in Chinese by default; "now" in the dispatcher's zone.
        assert "新建工单" in (await form.locator("h2").text_content() or "")
        assert "Asia/Shanghai" in (await form.text_content() or "")
        # Nothing picked: the form says which field is missing, nothing is sent.
        await page.click("#intake-submit")
        await form.locator("[data-error-for=customer_id]:not(:empty)").wait_for()

        await page.fill("#intake-customer", "黄河电力")
        await page.locator(f".suggestion[data-customer-id='{customer['id']}']").click()
        await page.locator(f"#f-site_id option[value='{site['id']}']").wait_for(state="attached")
        assert await page.input_value("#f-contact_name") == "王芳"  # from the site
        await page.fill("#intake-asset-search", unit["serial"])
        await page.wait_for_function(
            "id => document.querySelector('#f-asset_id').value === id", arg=unit["id"]
        )
        await page.select_option("#f-severity", "critical")
        await page.fill("#f-fault_description", "核心交换机掉电，全楼断网")
        await page.screenshot(path=str(DOCS / "console-new-order.png"))
        # A bad phone is the server's to refuse: its field error sits beside the field.
        await page.fill("#f-contact_phone", "x")
        await page.click("#intake-submit")
        await form.locator("[data-error-for=contact_phone]:not(:empty)").wait_for()
        assert await form.locator(".form-problem .problem-title").count() == 1
        await page.fill("#f-contact_phone", "13900000002")
        await page.click("#intake-submit")

        # The new order opens, and it is in the list.
        await page.locator("#detail .facts").wait_for()
        number = (await page.text_content("#detail h2.problem-number")) or ""
        assert number.startswith("WO-")
        assert "核心交换机掉电" in (await page.text_content("#detail") or "")
        assert await page.locator(f".order-row[data-problem-number='{number}']").count() == 1
        assert await page.get_attribute("#detail .pill[data-severity]", "data-severity") == "critical"
    orders = (await client.get("/api/work-orders", headers=admin, params={"q": number, "limit": 5})).json()[
        "items"
    ]
    assert [(o["asset_id"], o["site"]["id"], o["channel"]) for o in orders] == [
        (unit["id"], site["id"], "phone")
    ]


async def test_contact_pause_resume_cancel_and_only_allowed_transitions(client, live_server, chromium):
    order, _ = await _order(client)
    number = order["problem_number"]
    async with signed_in(live_server, chromium) as page:
        started = time.monotonic()
        await _open(page, number)
        await page.locator("#detail .desk").wait_for()
        opened = time.monotonic() - started
        detail = page.locator("#detail")
        response = detail.locator(".pill[data-measure=response]")
        assert await response.get_attribute("data-state") == "ok"
        # A new order may be triaged, scheduled, fixed remotely or cancelled; not resolved or closed.
        moves = await detail.locator(".desk-action.transition").evaluate_all(
            "bs => bs.map(b => b.dataset.to)"
        )
        assert set(moves) == {"triaged", "scheduled", "remote_fix"}
        assert await detail.locator("[data-action=cancel]").count() == 1

        # Log the contact: the response clock is met.
        await detail.locator("[data-action=contact]").click()
        await page.fill("#form-contact [name=note]", "已电话联系李伟，确认故障现象")
        started = time.monotonic()
        await page.click("#form-contact button[type=submit]")
        await detail.locator(".pill[data-measure=response][data-state=met]").wait_for()
        met = time.monotonic() - started
        print(f"desk: order opened with its actions in {opened:.2f} s; contact → clock met in {met:.2f} s")
        row = page.locator(f".order-row[data-problem-number='{number}']")
        await row.locator(".clock[data-measure=response][data-state=met]").wait_for()

        # Pause for a customer-side reason; the clocks read paused; then resume.
        await detail.locator("[data-action=pause]").click()
        await page.select_option("#form-pause [name=reason]", "site_not_accessible")
        await page.click("#form-pause button[type=submit]")  # no call reference: the server says so
        await page.locator("#form-pause [data-error-for=call_reference]:not(:empty)").wait_for()
        await page.fill("#form-pause [name=call_reference]", "REC-20260302-0917")
        await page.click("#form-pause button[type=submit]")
        await detail.locator(".pill[data-measure=on_site][data-state=paused]").wait_for()
        assert await detail.locator(".pill.status[data-status=waiting_customer]").count() == 1
        await detail.locator("[data-action=resume]").click()
        await detail.locator(".pill[data-measure=on_site][data-state=ok]").wait_for()

        # Back from waiting on the customer, triaged: the state machine offers other moves now.
        await detail.locator(".pill.status[data-status=triaged]").wait_for()
        moves = await detail.locator(".desk-action.transition").evaluate_all(
            "bs => bs.map(b => b.dataset.to)"
        )
        assert set(moves) == {"scheduled", "remote_fix"}
        # Cancel, with a reason.
        await detail.locator("[data-action=cancel]").click()
        await page.click("#form-cancel button[type=submit]")  # a reason is required
        await page.locator("#form-cancel [data-error-for=note]:not(:empty)").wait_for()
        await page.fill("#form-cancel [name=note]", "客户重复报修")
        await page.click("#form-cancel button[type=submit]")
        await detail.locator(".pill.status[data-status=cancelled]").wait_for()
        assert await detail.locator(".desk-action").count() == 0
        assert "客户重复报修" in (await detail.locator(".timeline").text_content() or "")


async def test_emergency_insertion_shows_the_proposal_then_assigns(client, live_server, chromium):
    order, dispatcher = await _order(client, severity="critical")
    visit = await client.post(
        f"/api/work-orders/{order['id']}/visits",
        headers=dispatcher,
        json={"kind": "repair", "duration_minutes": 60},
    )
    assert visit.status_code == 201, visit.text
    async with signed_in(live_server, chromium) as page:
        await _open(page, order["problem_number"])
        await page.locator(f"[data-action=emergency][data-visit-id='{visit.json()['id']}']").click()
        proposal = page.locator("#proposal")
        await proposal.wait_for()
        name = (await proposal.locator(".proposal-engineer").text_content() or "").strip()
        assert name
        assert not name.startswith("engineer")  # a display name, the login beside it
        assert ":" in (await proposal.locator(".proposal-arrival").text_content() or "")
        await proposal.locator(".proposal-shifted").wait_for()
        # Nothing is assigned before the dispatcher applies it.
        fresh = (await client.get(f"/api/work-orders/{order['id']}", headers=dispatcher)).json()
        assert fresh["visits"][0]["engineer_id"] is None
        await page.click("#proposal-apply")
        engineer = page.locator(f".visit-engineer[data-visit-id='{visit.json()['id']}']")
        await page.wait_for_function(
            "([id, name]) => document.querySelector(`.visit-engineer[data-visit-id='${id}']`)"
            "?.textContent.includes(name.split(' ')[0])",
            arg=[visit.json()["id"], name],
        )
        assert await engineer.count() == 1
    fresh = (await client.get(f"/api/work-orders/{order['id']}", headers=dispatcher)).json()
    assert fresh["visits"][0]["engineer_id"] is not None
    assert fresh["visits"][0]["status"] == "assigned"


async def test_approve_a_proposed_backup_loan(client, live_server, chromium):
    order, dispatcher = await _order(client, severity="critical")
    await planned_visit(client, dispatcher, order, await engineer_id(client, dispatcher, "engineer01"))
    proposal = await client.post(
        "/api/stock/backup-requests",
        headers=dispatcher,
        json={"work_order_id": order["id"], "reason": "主板需原厂返修"},
    )
    assert proposal.status_code == 201, proposal.text
    loan = proposal.json()["loan"]
    async with signed_in(live_server, chromium) as page:
        await _open(page, order["problem_number"])
        pill = page.locator(f"#detail .pill[data-loan-id='{loan['id']}']")
        assert await pill.get_attribute("data-status") == "proposed"
        await page.click(f"[data-action=approve-loan][data-loan-id='{loan['id']}']")
        await page.locator(f"#detail .pill[data-loan-id='{loan['id']}'][data-status=approved]").wait_for()
        assert await page.locator("[data-action=approve-loan]").count() == 0
    loans = (
        await client.get("/api/stock/loans", headers=dispatcher, params={"work_order_id": order["id"]})
    ).json()["items"]
    assert [item["status"] for item in loans] == ["approved"]


async def test_a_version_conflict_says_who_changed_the_order(client, live_server, chromium):
    order, _ = await _order(client)
    supervisor = await auth_headers(client, "supervisor")
    async with signed_in(live_server, chromium, lang="en") as page:
        await _open(page, order["problem_number"])
        await page.locator(".desk-action.transition[data-to=triaged]").click()
        # Another desk moves the order meanwhile.
        moved = await client.post(
            f"/api/work-orders/{order['id']}/transitions",
            headers=supervisor,
            json={"version": order["version"], "to": "scheduled"},
        )
        assert moved.status_code == 200, moved.text
        await page.click("#form-transition button[type=submit]")
        notice = page.locator("#notice.notice-warning")
        await notice.wait_for()
        users = (await client.get("/api/users", headers=await auth_headers(client, "admin"))).json()
        items = users["items"] if isinstance(users, dict) else users
        name = next(u["display_name"] for u in items if u["username"] == "supervisor")
        assert name in (await notice.text_content() or "")
        # The order was reloaded: its new status, and the moves that status allows.
        await page.locator("#detail .pill.status[data-status=scheduled]").wait_for()
        moves = await page.locator(".desk-action.transition").evaluate_all("bs => bs.map(b => b.dataset.to)")
        assert "scheduled" not in moves
        assert "triaged" in moves
        # Acting again on the reloaded version goes through.
        await page.locator(".desk-action.transition[data-to=triaged]").click()
        await page.click("#form-transition button[type=submit]")
        await page.locator("#detail .pill.status[data-status=triaged]").wait_for()


async def test_notifications_grouped_in_local_time_and_acknowledged_together(
    client, clock, demo_db, live_server, chromium
):
    orders = [(await _order(client, severity="critical"))[0] for _ in range(2)]
    clock.advance(timedelta(minutes=20))  # both 15-minute responses are missed
    await watch_once(demo_db, clock)
    dispatcher = await auth_headers(client, "dispatcher")
    listed = (await client.get("/api/notifications", headers=dispatcher, params={"limit": 500})).json()[
        "items"
    ]
    ours = [n for n in listed if n["work_order_id"] in {o["id"] for o in orders}]
    kind = ours[0]["kind"]
    created = next(n["created_at"] for n in ours if n["kind"] == kind)
    async with signed_in(live_server, chromium) as page:
        await page.click("#tab-notifications")
        group = page.locator(f".notification-group[data-kind='{kind}']")
        await group.wait_for()
        # Local (Shanghai) time to the minute: "MM-DD HH:MM", never the raw UTC instant.
        times = await group.locator("time").evaluate_all("ts => ts.map(t => [t.textContent, t.dateTime])")
        shown = next(text for text, at in times if at == created)
        assert len(shown) == len("03-02 09:20")
        assert "T" not in shown
        hour_utc = int(created[11:13])
        assert int(shown[6:8]) == (hour_utc + 8) % 24
        assert await page.locator(".notification-group").count() >= 1
        await group.locator("button.acknowledge-all").click()
        await group.wait_for(state="detached")
    left = (await client.get("/api/notifications", headers=dispatcher, params={"limit": 500})).json()["items"]
    assert not [n for n in left if n["kind"] == kind]


async def test_language_switch_and_screenshots_at_desk_tablet_and_phone_width(client, live_server, chromium):
    order, _ = await _order(client, severity="critical")
    number = order["problem_number"]
    async with signed_in(live_server, chromium) as page:
        assert await page.text_content("#tab-detail") == "详情"
        assert await page.get_attribute("html", "lang") == "zh-CN"
        await _open(page, number)
        assert "联系客户" in (await page.text_content("[data-action=contact]") or "")
        await page.click("#language")
        await page.locator("#tab-detail", has_text="Detail").wait_for()
        assert await page.text_content("[data-action=contact]") == "Log contact"
        assert await page.get_attribute("html", "lang") == "en"
        assert (await page.text_content("#time-zone") or "").startswith("Times:")
        await page.screenshot(path=str(DOCS / "console-1440-en.png"))
        await page.click("#language")
        await page.locator("#tab-detail", has_text="详情").wait_for()
        await page.fill("#filter-q", "")
        await page.wait_for_function("() => document.querySelectorAll('.order-row').length > 1")
        await page.locator(f".order-row[data-problem-number='{number}']").click()
        await page.locator("#detail h2.problem-number", has_text=number).wait_for()
        await page.screenshot(path=str(DOCS / "console-1440.png"))
        # The choice is kept for the next visit.
        assert await page.evaluate("() => localStorage.getItem('fsd.console.lang')") == "zh"

    async with signed_in(live_server, chromium, width=1024, height=768) as page:
        await _open(page, number)
        # The header is not cut: every control lies within the window; the map has real width.
        for selector in ("#new-order", "#language", "#sign-out", "#who"):
            box = await page.locator(selector).bounding_box()
            assert box, selector
            assert 0 <= box["x"] <= box["x"] + box["width"] <= 1024, selector
        map_box = await page.locator("#map").bounding_box()
        assert map_box
        assert map_box["width"] >= 500
        assert map_box["height"] >= 200
        await page.screenshot(path=str(DOCS / "console-1024.png"))

    async with signed_in(live_server, chromium, width=390, height=844) as page:
        # Stacked: the list takes the full width, the page does not scroll sideways.
        row = await page.locator(".order-row").first.bounding_box()
        assert row
        assert row["width"] >= 360
        assert await page.evaluate("() => document.documentElement.scrollWidth") <= 390
        await page.screenshot(path=str(DOCS / "console-390-list.png"))
        await page.fill("#filter-q", number)
        await page.locator(f".order-row[data-problem-number='{number}']").click()
        await page.locator("#detail h2.problem-number", has_text=number).wait_for()
        contact = await page.locator("[data-action=contact]").bounding_box()
        assert contact
        assert contact["x"] + contact["width"] <= 390
        assert await page.evaluate("() => document.documentElement.scrollWidth") <= 390
        await page.screenshot(path=str(DOCS / "console-390-order.png"))
