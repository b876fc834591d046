"""The dispatch board in a real browser (Debian's Chromium against a real server): drag a queued
visit onto an engineer and a time, read the server's verdict, assign; a drop the rules refuse
says why and changes nothing; the keyboard's way through the ranked engineers; a visit added
through the API appears without a reload (live updates)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Page, async_playwright

from api.app import create_app
from core.clock import ManualClock
from tests.conftest import settings_for
from tests.support.live_server import LiveServer
from tests.support.scenario import asset, contract, customer_with_site, engineer_id, report
from tests.web.test_console import CHROMIUM, CHROMIUM_ARGS

SHANGHAI = ZoneInfo("Asia/Shanghai")
SHOTS = Path(os.environ.get("FSD_SCREENSHOTS", "")) if os.environ.get("FSD_SCREENSHOTS") else None


@pytest.fixture(scope="module")
def live_server(demo_db: str, clock: ManualClock, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = create_app(
        settings_for(demo_db, tmp_path_factory.mktemp("var"), live_ping_seconds=2.0), clock=clock
    )
    with LiveServer(app) as server:
        yield server.url


async def _queued(client, admin, dispatcher, place, **visit: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    site, unit = place
    order = await report(client, dispatcher, site, unit)
    made = await client.post(
        f"/api/work-orders/{order['id']}/visits",
        headers=dispatcher,
        json={"kind": "repair", "duration_minutes": 60, **visit},
    )
    assert made.status_code == 201, made.text
    return order, made.json()


async def _visit_now(client, dispatcher, order_id: str) -> dict[str, Any]:
    body = (await client.get(f"/api/work-orders/{order_id}", headers=dispatcher)).json()
    visit: dict[str, Any] = body["visits"][0]
    return visit


async def _drop(page: Page, visit_id: str, username: str, local: datetime, board_start: datetime) -> None:
    """Drags the card onto the engineer's lane at `local` on the board's two days."""
    lane = page.locator(f".board-row[data-username='{username}'] .row-lane")
    box = await lane.bounding_box()
    assert box is not None
    share = (local - board_start) / timedelta(days=2)
    await page.locator(f".queue-card[data-visit-id='{visit_id}']").drag_to(
        lane, target_position={"x": box["width"] * share, "y": box["height"] / 2}
    )


async def test_a_dispatcher_drags_checks_and_assigns_on_the_board(
    client, admin, dispatcher, clock, live_server
):
    assert CHROMIUM.exists(), "Debian's chromium is required: run scripts/ensure-chromium.sh (make test does)"
    customer, site = await customer_with_site(client, admin, point=(113.68, 34.77))
    place = (site, await asset(client, admin, site, await contract(client, admin, customer, kind="7x24")))
    order, plain = await _queued(client, admin, dispatcher, place)
    skilled_order, skilled = await _queued(
        client, admin, dispatcher, place, required_skills={"teleportation": 1}
    )
    keyboard_order, by_keyboard = await _queued(client, admin, dispatcher, place)
    engineer = await engineer_id(client, dispatcher, "engineer02")
    today = clock.now().astimezone(SHANGHAI).date()
    board_start = datetime.combine(today, datetime.min.time(), SHANGHAI)
    two_pm = board_start + timedelta(hours=14)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
            page = await context.new_page()
            page.set_default_timeout(20_000)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            await page.goto(live_server + "/")
            await page.fill("#login-username", "dispatcher")
            await page.fill("#login-password", "demo-pass")
            await page.click("#login-form button[type=submit]")
            await page.locator("#console-view").wait_for()
            await page.goto(live_server + "/board.html")
            await page.locator(f".queue-card[data-visit-id='{plain['id']}']").wait_for()
            await page.locator("#live-state[data-state='live']").wait_for()

            # Drag, read the verdict, assign: the bar is on engineer02's row at 14:00.
            dropped = time.monotonic()
            await _drop(page, plain["id"], "engineer02", two_pm, board_start)
            await page.locator("#verdict[open]").wait_for()
            print(f"drop to verdict shown: {time.monotonic() - dropped:.2f} s")
            assert order["problem_number"] in (await page.text_content("#verdict-title") or "")
            assert "14:0" in (await page.text_content("#verdict-facts") or "")
            await page.click("#verdict-assign")
            await page.locator(
                f".board-row[data-username='engineer02'] .visit-bar[data-visit-id='{plain['id']}']"
            ).wait_for()
            assigned = await _visit_now(client, dispatcher, order["id"])
            assert assigned["engineer_id"] == engineer
            start = datetime.fromisoformat(assigned["planned_start"])
            assert two_pm - timedelta(minutes=5) <= start <= two_pm + timedelta(minutes=10), start
            assert assigned["pinned"] is True

            # A drop the rules refuse: the reason is shown, and nothing is assigned without one.
            await _drop(page, skilled["id"], "engineer02", two_pm + timedelta(hours=2), board_start)
            await page.locator("#verdict[open] .finding.refuse[data-rule='skill']").wait_for()
            await page.click("#verdict-assign")
            assert await page.text_content("#verdict-error")
            await page.click("#verdict-cancel")
            assert (await _visit_now(client, dispatcher, skilled_order["id"]))["engineer_id"] is None

            # Without a mouse: the engineers ranked by the same check, the first one taken.
            await page.locator(f".queue-card[data-visit-id='{by_keyboard['id']}'] button.choose").click()
            first = page.locator("#candidates-list button.candidate").first
            await first.wait_for()
            chosen = await first.get_attribute("data-engineer-id")
            await first.click()
            await page.locator("#verdict[open]").wait_for()
            await page.click("#verdict-assign")
            await page.locator(f".visit-bar[data-visit-id='{by_keyboard['id']}']").wait_for()
            assert (await _visit_now(client, dispatcher, keyboard_order["id"]))["engineer_id"] == chosen

            # Another dispatcher takes a call: the new visit is queued on the open page by itself.
            _, arrived = await _queued(client, admin, dispatcher, place)
            await page.locator(f".queue-card[data-visit-id='{arrived['id']}']").wait_for(timeout=15_000)
            if SHOTS is not None:
                SHOTS.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(SHOTS / "board-1440.png"))
            assert errors == []
        finally:
            await browser.close()


async def test_the_board_shows_absences_and_pickup_stops(client, admin, dispatcher, clock, live_server):
    """An engineer off sick has their day blocked on the row; a visit whose parts wait at a
    warehouse has the pick-up as its own block before it."""
    today = clock.now().astimezone(SHANGHAI).date()
    board_start = datetime.combine(today, datetime.min.time(), SHANGHAI)
    sick = await engineer_id(client, dispatcher, "engineer10")
    made = await client.post(
        f"/api/engineers/{sick}/absences",
        headers=dispatcher,
        json={
            "starts_at": board_start.isoformat(),
            "ends_at": (board_start + timedelta(days=1)).isoformat(),
            "kind": "sick",
            "note": "发烧",
        },
    )
    assert made.status_code == 201, made.text

    customer, site = await customer_with_site(client, admin, point=(113.61, 34.73))
    place = (site, await asset(client, admin, site, await contract(client, admin, customer, kind="7x24")))
    order, visit = await _queued(client, admin, dispatcher, place)
    picker = await engineer_id(client, dispatcher, "engineer11")
    at = (clock.now() + timedelta(hours=4)).replace(microsecond=0)
    assigned = await client.put(
        f"/api/visits/{visit['id']}/assignment",
        headers=dispatcher,
        json={"version": visit["version"], "engineer_id": picker, "planned_start": at.isoformat()},
    )
    assert assigned.status_code == 200, assigned.text
    house = (await client.get("/api/locations", headers=dispatcher, params={"kind": "warehouse"})).json()[
        "items"
    ][0]
    stock = (
        await client.get("/api/stock/balances", headers=dispatcher, params={"location_id": house["id"]})
    ).json()["items"]
    part = next(b for b in stock if b["free"] > 0)
    held = await client.post(
        "/api/stock/reservations",
        headers=dispatcher,
        json={
            "item_id": part["item_id"],
            "location_id": house["id"],
            "work_order_id": order["id"],
            "visit_id": visit["id"],
        },
    )
    assert held.status_code == 201, held.text

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
            page = await context.new_page()
            page.set_default_timeout(30_000)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            await page.goto(live_server + "/")
            await page.fill("#login-username", "dispatcher")
            await page.fill("#login-password", "demo-pass")
            await page.click("#login-form button[type=submit]")
            await page.locator("#console-view").wait_for()
            await page.goto(live_server + "/board.html")
            absence = page.locator(".board-row[data-username='engineer10'] .absence[data-kind='sick']")
            await absence.wait_for()
            assert "病假" in (await absence.text_content() or "")
            assert "发烧" in (await absence.get_attribute("title") or "")
            row = page.locator(".board-row[data-username='engineer11']")
            stop = row.locator(f".pickup-stop[data-visit-id='{visit['id']}']")
            await stop.wait_for()
            assert house["name"] in (await stop.get_attribute("title") or "")
            # The pick-up block ends left of the visit's bar: it comes first.
            stop_box = await stop.bounding_box()
            bar_box = await row.locator(f".visit-bar[data-visit-id='{visit['id']}']").bounding_box()
            assert stop_box is not None
            assert bar_box is not None
            assert stop_box["x"] + stop_box["width"] <= bar_box["x"] + 1
            if SHOTS is not None:
                SHOTS.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(SHOTS / "board-absence-pickup.png"))

            # Time away recorded from the board: on the row at once; one overlapping it is refused
            # with the reason in the form; a click on the block removes it.
            trainee = page.locator(".board-row[data-username='engineer12']")
            start = board_start + timedelta(days=1, hours=13)
            for attempt in range(2):
                await trainee.locator("button.add-absence").click()
                await page.select_option("#absence-form select[name='kind']", "training")
                await page.fill("#absence-form input[name='starts_at']", start.strftime("%Y-%m-%dT%H:%M"))
                ends = (start + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M")
                await page.fill("#absence-form input[name='ends_at']", ends)
                await page.fill("#absence-form input[name='note']", "认证培训")
                await page.click("#absence-form button[type=submit]")
                if attempt == 0:
                    await trainee.locator(".absence[data-kind='training']").wait_for()
            await page.locator("#absence-form .form-problem .problem-title").wait_for()
            await page.click("#absence-form .form-close")
            assert await trainee.locator(".absence").count() == 1
            who = await engineer_id(client, dispatcher, "engineer12")
            [kept] = (await client.get(f"/api/engineers/{who}/absences", headers=dispatcher)).json()["items"]
            assert datetime.fromisoformat(kept["starts_at"]) == start
            assert (kept["kind"], kept["note"]) == ("training", "认证培训")
            await trainee.locator(".absence[data-kind='training']").click()
            await page.click("#absence-remove")
            await trainee.locator(".absence").wait_for(state="detached")
            left = (await client.get(f"/api/engineers/{who}/absences", headers=dispatcher)).json()
            assert left["items"] == []
            assert errors == []
        finally:
            await browser.close()
