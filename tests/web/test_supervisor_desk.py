"""The supervisor's desk in real Chromium against a live server: a supervisor lands on it, last
month's compliance is shown, broken down by engineer, a breaching order opens in the order panel,
the exported CSV holds the API's numbers, and the English switch redraws it.

The data is test_supervisor_reports' February (region CN-SUP) on top of the demo; the browser's
clock is set to 2 March 2026 in Shanghai, the demo's day, so that "last month" is February."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from playwright.async_api import Page, async_playwright

from tests.api.test_supervisor_reports import world
from tests.support.api import auth_headers
from tests.web import test_console
from tests.web.test_console import CHROMIUM_ARGS

chromium = test_console.chromium
live_server = test_console.live_server
__all__ = ["chromium", "live_server", "world"]

WAIT_MS = 30_000
BROWSER_NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
FEBRUARY = {"since": "2026-02-01", "until": "2026-02-28"}


@asynccontextmanager
async def supervisor(url: str, executable: str) -> AsyncIterator[Page]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(
                viewport={"width": 1440, "height": 900},
                locale="zh-CN",
                timezone_id="Asia/Shanghai",
                accept_downloads=True,
            )
            page = await context.new_page()
            await page.clock.set_fixed_time(BROWSER_NOW)
            page.set_default_timeout(WAIT_MS)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on(
                "console",
                lambda m: (
                    errors.append(m.text) if m.type == "error" and "status of 4" not in m.text else None
                ),
            )
            await page.goto(url + "/")
            await page.fill("#login-username", "supervisor")
            await page.fill("#login-password", "demo-pass")
            await page.click("#login-form button[type=submit]")
            await page.locator("#supervisor-desk").wait_for()
            yield page
            assert errors == [], errors
        finally:
            await browser.close()


def _percent(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


async def test_last_months_compliance_by_engineer_a_breaching_order_and_the_csv(
    client: Any, live_server: str, chromium: str, world: dict[str, Any]
) -> None:
    headers = await auth_headers(client, "supervisor")
    api = (
        await client.get(
            "/api/reports/sla-compliance", headers=headers, params={**FEBRUARY, "group_by": "engineer"}
        )
    ).json()
    e2 = next(g for g in api["groups"] if g["key"] == world["e2"])
    e2_response = next(m for m in e2["measures"] if m["measure"] == "response")

    async with supervisor(live_server, chromium) as page:
        # A supervisor lands on the desk, last month chosen, in Chinese.
        assert await page.locator("#view-supervisor").get_attribute("aria-pressed") == "true"
        assert await page.input_value("#sv-since") == "2026-02-01"
        assert await page.input_value("#sv-until") == "2026-02-28"
        await page.locator("#sv-compliance").wait_for()
        assert "SLA 达成率" in (await page.locator("#supervisor-desk").text_content() or "")

        await page.select_option("#sv-group-by", "engineer")
        row = page.locator(f"#sv-compliance tr[data-group='{world['e2']}'][data-measure='response']")
        await row.wait_for()
        assert e2["name"] in (await page.locator("#sv-compliance").text_content() or "")
        assert await row.locator("[data-col=raw]").text_content() == _percent(e2_response["raw_compliance"])
        assert await row.locator("[data-col=breached]").text_content() == str(e2_response["breached"])
        await page.locator("#sv-kpis .sv-tile").first.wait_for()
        await page.locator("#sv-chart-weekly svg .chart-bar").first.wait_for()
        await page.locator("#sv-engineers tbody tr").first.wait_for()

        # The breached figure → the orders behind it → one opens in the order panel.
        await row.locator("[data-col=breached] button").click()
        order = page.locator("#sv-orders .sv-order[data-problem-number='WO-SUP-0005']")
        await order.click()
        await page.locator("#detail h2.problem-number", has_text="WO-SUP-0005").wait_for()

        # The CSV export holds the API's numbers.
        async with page.expect_download() as started:
            await page.click("#sv-csv")
        saved = await (await started.value).path()
        raw = await asyncio.to_thread(Path(saved).read_bytes)
        assert raw.startswith("\ufeff".encode())
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
        got = {(r["key"], r["measure"]): (int(r["breached"]), r["raw_compliance"]) for r in rows}
        want = {
            (g["key"], m["measure"]): (
                m["breached"],
                "" if m["raw_compliance"] is None else repr(m["raw_compliance"]),
            )
            for g in api["groups"]
            for m in g["measures"]
        }
        assert {k: (b, float(r) if r else None) for k, (b, r) in got.items()} == {
            k: (b, float(r) if r else None) for k, (b, r) in want.items()
        }

        if os.environ.get("FSD_SCREENSHOTS"):
            await page.screenshot(path=str(Path(os.environ["FSD_SCREENSHOTS"]) / "supervisor-desk.png"))

        # The English switch redraws the desk from what it holds, figures unchanged.
        await page.click("#language")
        await page.locator("#supervisor-desk h2", has_text="Supervisor desk").wait_for()
        assert await row.locator("[data-col=raw]").text_content() == _percent(e2_response["raw_compliance"])
        assert "SLA compliance" in (await page.locator("#supervisor-desk").text_content() or "")
