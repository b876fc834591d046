"""The customer survey page in a real browser: Debian's Chromium on a phone-sized viewport,
against a real server on a loopback port (the console's harness), on the demo database. The
customer opens the link from the message, reads the signed report, confirms and rates; the
answer is what the database holds, and the link then says it was used."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from playwright.async_api import ViewportSize, async_playwright

from api.app import create_app
from core.clock import ManualClock
from tests.api.test_survey import ENGINEER, signed_order, stored_survey
from tests.api.test_sync_field import Phone
from tests.conftest import settings_for
from tests.support.live_server import LiveServer
from tests.web.test_console import CHROMIUM, CHROMIUM_ARGS

PHONE_VIEWPORT = ViewportSize(width=390, height=844)


@pytest.fixture(scope="module")
def live_server(demo_db: str, clock: ManualClock, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = create_app(
        settings_for(demo_db, tmp_path_factory.mktemp("var"), watch_interval_seconds=0), clock=clock
    )
    with LiveServer(app) as server:
        yield server.url


@pytest.fixture(scope="module")
def dsn(demo_db: str) -> str:
    return demo_db.replace("postgresql+asyncpg://", "postgresql://")


async def test_a_customer_confirms_and_rates_on_a_phone(client, admin, dispatcher, clock, dsn, live_server):
    assert CHROMIUM.exists(), "Debian's chromium is required: run scripts/ensure-chromium.sh (make test does)"
    phone = await Phone(client, ENGINEER, clock).start()
    world = await signed_order(client, admin, dispatcher, clock, phone, dsn)
    link = f"{live_server}/s/{world['token']}"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(
                viewport=PHONE_VIEWPORT, device_scale_factor=3, is_mobile=True, has_touch=True, locale="zh-CN"
            )
            page = await context.new_page()
            page.set_default_timeout(20_000)
            errors: list[str] = []
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

            await page.goto(link)
            await page.locator("#report:not([hidden])").wait_for()
            assert await page.text_content("#problem-number") == world["order"]["problem_number"]
            assert await page.text_content("#customer") == world["report"]["content"]["customer"]["name"]
            assert "李伟" in (await page.text_content("#signed-by") or "")
            assert await page.locator("#engineers li").count() == len(world["report"]["content"]["engineers"])
            assert (await page.get_attribute("#pdf", "href") or "").endswith(
                f"/api/survey/{world['token']}/pdf"
            )
            # Nothing wider than the phone's screen.
            width = await page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= PHONE_VIEWPORT["width"], width

            # Submitting without the overall rating is stopped on the page.
            await page.click("#answer button[type=submit]")
            await page.locator("#done.error:not([hidden])").wait_for()
            for name, score in (("timeliness", 4), ("attitude", 5), ("result", 4), ("overall", 5)):
                await page.locator(f".rating[data-name={name}] button", has_text=str(score)).tap()
            await page.fill("textarea[name=comment]", "工程师很专业")
            await page.click("#answer button[type=submit]")
            await page.locator("#done:not(.error):not([hidden])").wait_for()
            assert "感谢" in (await page.text_content("#done") or "")

            # Opened again, the link says it was used.
            await page.reload()
            await page.locator("#status.error").wait_for()
            assert "已提交过" in (await page.text_content("#status") or "")
            assert errors == [e for e in errors if "410" in e], errors
            assert all(r.startswith(live_server) for r in requests), requests
        finally:
            await browser.close()

    stored = stored_survey(dsn, world["order"]["id"])
    assert (stored["timeliness"], stored["attitude"], stored["result_rating"], stored["overall"]) == (
        4,
        5,
        4,
        5,
    )
    assert (stored["outcome"], stored["comment"]) == ("confirmed", "工程师很专业")
    with psycopg.connect(dsn) as conn:
        (status,) = conn.execute(
            "SELECT status::text FROM work_order WHERE id = %s", (world["order"]["id"],)
        ).fetchone() or (None,)
    assert status == "closed"
