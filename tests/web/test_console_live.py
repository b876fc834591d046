"""The console follows other desks live: an order reported through the API (another process, as
another dispatcher's console would) appears in the open page's list without a reload."""

from __future__ import annotations

import time

from playwright.async_api import async_playwright

from tests.support.scenario import asset, contract, customer_with_site, report
from tests.web import test_console
from tests.web.test_console import CHROMIUM_ARGS

chromium = test_console.chromium
live_server = test_console.live_server


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
            await page.goto(live_server + "/")
            await page.fill("#login-username", "dispatcher")
            await page.fill("#login-password", "demo-pass")
            await page.click("#login-form button[type=submit]")
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
