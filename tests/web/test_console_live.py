"""The console follows other desks live: an order reported through the API (another process, as
another dispatcher's console would) appears in the open page's list without a reload. And a plan
is read beside the current assignment before one engineer's route alone is applied."""

from __future__ import annotations

import time
from datetime import timedelta

from playwright.async_api import Page, async_playwright

from tests.support.api import auth_headers
from tests.support.scenario import asset, contract, customer_with_site, engineer_id, report
from tests.web import test_console
from tests.web.test_console import CHROMIUM_ARGS

chromium = test_console.chromium
live_server = test_console.live_server


async def _sign_in(page: Page, base: str) -> None:
    await page.goto(base + "/")
    await page.fill("#login-username", "dispatcher")
    await page.fill("#login-password", "demo-pass")
    await page.click("#login-form button[type=submit]")


async def test_an_order_taken_at_another_desk_appears_without_a_reload(
    client, admin, dispatcher, live_server, chromium
):
    customer, site = await customer_with_site(client, admin)
    unit = await asset(client, admin, site, await contract(client, admin, customer, kind="7x24"))
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1440, "height": 900})
            page.set_default_timeout(20_000)
            await _sign_in(page, live_server)
            await page.locator("#live-state[data-state='live']").wait_for()
            loads = await page.evaluate("performance.getEntriesByType('navigation').length")

            started = time.monotonic()
            order = await report(client, dispatcher, site, unit)
            await page.locator(f".order-row[data-problem-number='{order['problem_number']}']").wait_for()
            delay = time.monotonic() - started
            assert await page.evaluate("performance.getEntriesByType('navigation').length") == loads
            print(f"live update: the new order listed {delay:.2f} s after the API answered")
        finally:
            await browser.close()


async def test_a_plan_is_compared_with_the_desk_and_one_route_applied(
    client, admin, dispatcher, clock, live_server, chromium
):
    customer, site = await customer_with_site(client, admin)
    unit = await asset(client, admin, site, await contract(client, admin, customer, kind="7x24"))
    start = clock.now() + timedelta(hours=3)
    window = {"window_start": start.isoformat(), "window_end": (start + timedelta(minutes=15)).isoformat()}
    made = []
    for _ in range(2):  # both must start in the same quarter hour: two engineers
        order = await report(client, dispatcher, site, unit)
        visit = await client.post(
            f"/api/work-orders/{order['id']}/visits",
            headers=dispatcher,
            json={"kind": "repair", "duration_minutes": 60, "window_confirmed": True, **window},
        )
        assert visit.status_code == 201, visit.text
        made.append((order, visit.json()))
    engineers = [await engineer_id(client, dispatcher, name) for name in ("engineer13", "engineer15")]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1440, "height": 900})
            page.set_default_timeout(30_000)
            await _sign_in(page, live_server)
            await page.click("#tab-plan")
            await page.select_option("#plan-engineers", engineers)
            await page.select_option("#plan-horizon", "24")
            await page.fill("#plan-time-limit", "2")
            await page.click("#plan-run")
            await page.locator(".plan-status[data-status=done]").wait_for(timeout=90_000)
            # Beside the current assignment: both visits move from nobody to an engineer.
            for order, _ in made:
                await page.locator("#plan-comparison .moves li", has_text=order["problem_number"]).wait_for()
            assert await page.locator("#plan-comparison tr[data-figure=assigned] .after").text_content()
            # Only the first engineer's route.
            boxes = page.locator("input.route-pick")
            assert await boxes.count() == 2
            second = await boxes.nth(1).get_attribute("data-engineer-id")
            first = await boxes.nth(0).get_attribute("data-engineer-id")
            await boxes.nth(1).uncheck()
            await page.click("#plan-apply-selected")
            await page.locator(f"input.route-pick[data-engineer-id='{first}']:disabled").wait_for()
            assert await page.locator(f"input.route-pick[data-engineer-id='{second}']:disabled").count() == 0
        finally:
            await browser.close()
    owners = []
    for order, _ in made:
        body = (await client.get(f"/api/work-orders/{order['id']}", headers=dispatcher)).json()
        owners.append(body["visits"][0]["engineer_id"])
    assert sorted(owners, key=str) == sorted([first, None], key=str)


async def test_the_map_shows_engineers_where_they_are_and_the_list_can_follow_the_map(
    client, dispatcher, clock, live_server, chromium
):
    engineer = await auth_headers(client, "engineer07")
    assert (await client.post("/api/engineers/me/position-consent", headers=engineer)).status_code == 200
    fix = {"at": clock.now().isoformat(), "point": {"type": "Point", "coordinates": [113.67, 34.76]}}
    stored = await client.post("/api/engineers/me/positions", headers=engineer, json={"positions": [fix]})
    assert stored.json()["accepted"] == 1, stored.text
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1440, "height": 900})
            page.set_default_timeout(20_000)
            lists: list[str] = []
            page.on("request", lambda r: lists.append(r.url) if "/api/work-orders?" in r.url else None)
            await _sign_in(page, live_server)
            # The demo's 200 sites in view come as clusters at the city's zoom.
            await page.locator(".marker-cluster").first.wait_for()
            # engineer07 is 刘超: named on the map with the fix's age.
            await page.locator(".live-engineer-marker[title^='刘超']").wait_for()
            # A warehouse says what it holds when hovered.
            houses = (
                await client.get("/api/locations", headers=dispatcher, params={"kind": "warehouse"})
            ).json()["items"]
            # (an event on the marker itself: a cluster icon may lie over it at this zoom)
            await page.locator(f".leaflet-marker-icon[title='{houses[0]['name']}']").dispatch_event(
                "mouseover"
            )
            await page.locator(".leaflet-tooltip", has_text="可用").wait_for()
            async with page.expect_request(lambda r: "/api/work-orders?" in r.url and "bbox=" in r.url):
                await page.check("#filter-map-area")
            assert not any("bbox=" in url for url in lists[:1]), "the list ignores the map until asked"
        finally:
            await browser.close()
