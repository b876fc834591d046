"""The dispatcher's console in a real browser: Debian's Chromium, driven by Playwright,
against a real server on a loopback port (uvicorn in a thread), on the demo database.

No browser is ever downloaded: `make test` installs Debian's `chromium` when it is
missing (scripts/ensure-chromium.sh), and this test requires it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from litestar.testing import AsyncTestClient
from playwright.async_api import Page, async_playwright

from api.app import create_app
from core.clock import ManualClock
from core.settings import load_settings
from tests.conftest import settings_for
from tests.support.api import assert_problem, auth_headers
from tests.support.db import watch_once
from tests.support.live_server import LiveServer
from tests.support.scenario import asset, contract, customer_with_site, report

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def live_server(demo_db: str, clock: ManualClock, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = create_app(
        settings_for(demo_db, tmp_path_factory.mktemp("var"), watch_interval_seconds=0), clock=clock
    )
    with LiveServer(app) as server:
        yield server.url


# ---- serving (no browser) --------------------------------------------------------------------


async def test_the_console_is_served_at_the_root_beside_the_api_and_schema(client):
    page = await client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="app.js">' in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "img-src 'self' data:;" in policy  # no tile server configured
    leaflet = "/vendor/leaflet"
    for path in ("/app.js", "/styles.css", f"{leaflet}/leaflet.js", f"{leaflet}/images/marker-icon.png"):
        assert (await client.get(path)).status_code == 200, path
    assert (await client.get("/console-config.json")).json() == {"tile_url": ""}
    assert (await client.get("/schema/")).status_code == 200
    assert (await client.get("/api/health")).status_code == 200
    assert_problem(await client.get("/api/no-such-route"), 404)
    assert_problem(await client.get("/no-such-file.js"), 404)
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    assert [p for p in paths if not p.startswith("/api/")] == ["/console-config.json"]


async def test_the_tile_url_setting_reaches_the_console(demo_db, clock, tmp_path):
    tiles = "https://{s}.tiles.example.com/{z}/{x}/{y}.png"
    assert (
        load_settings(
            env={"FSD_MAP_TILE_URL": tiles}, database_url=demo_db, jwt_secret="x" * 40, var_dir=tmp_path
        ).map_tile_url
        == tiles
    )
    app = create_app(settings_for(demo_db, tmp_path, map_tile_url=tiles), clock=clock)
    async with AsyncTestClient(app=app) as client:
        assert (await client.get("/console-config.json")).json() == {"tile_url": tiles}
        policy = (await client.get("/")).headers["content-security-policy"]
        assert "img-src 'self' data: https://*.tiles.example.com;" in policy


# ---- in the browser --------------------------------------------------------------------------


async def _seed(client: Any, clock: ManualClock, demo_db: str) -> list[dict[str, Any]]:
    """Three open orders with a visit each at two Zhengzhou sites; then time passes and the
    SLA watch raises its notifications."""
    admin = await auth_headers(client, "admin")
    dispatcher = await auth_headers(client, "dispatcher")
    orders = []
    for point, severities in (((113.62, 34.74), ("critical", "high")), ((113.70, 34.78), ("medium",))):
        customer, site = await customer_with_site(client, admin, point=point)
        unit = await asset(client, admin, site, await contract(client, admin, customer, kind="7x24"))
        for severity in severities:
            order = await report(client, dispatcher, site, unit, severity=severity)
            visit = await client.post(
                f"/api/work-orders/{order['id']}/visits",
                headers=dispatcher,
                json={"kind": "repair", "duration_minutes": 60},
            )
            assert visit.status_code == 201, visit.text
            orders.append(order)
    clock.advance(timedelta(minutes=20))  # the critical order's 15-minute response is missed
    await watch_once(demo_db, clock)
    return orders


async def _chinese_glyphs_render(page: Page) -> bool:
    """Two different Chinese characters draw differently, and unlike a character no font has:
    a CJK font is there (missing glyphs all draw the same box)."""
    result: bool = await page.evaluate(
        """() => {
            const canvas = document.createElement("canvas");
            canvas.width = canvas.height = 48;
            const g = canvas.getContext("2d");
            const family = getComputedStyle(document.querySelector(".site-name")).fontFamily;
            const draw = (text) => {
                g.clearRect(0, 0, 48, 48);
                g.font = `36px ${family}`;
                g.fillText(text, 4, 40);
                return Array.from(g.getImageData(0, 0, 48, 48).data).join(",");
            };
            const a = draw("测"), b = draw("站"), none = draw("\\uE000");
            return a !== b && a !== none && b !== none;
        }"""
    )
    return result


@pytest.fixture(scope="module")
def chromium() -> str:
    assert CHROMIUM.exists(), "Debian's chromium is required: run scripts/ensure-chromium.sh (make test does)"
    return str(CHROMIUM)


async def test_the_api_documentation_renders_with_no_internet(live_server, chromium):
    host = urlsplit(live_server).netloc
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            page.set_default_timeout(20_000)
            outside: list[str] = []

            async def only_this_server(route: Any) -> None:
                if urlsplit(route.request.url).netloc == host:
                    await route.continue_()
                else:
                    outside.append(route.request.url)
                    await route.abort()

            await page.route("**/*", only_this_server)
            await page.goto(live_server + "/schema")
            # Swagger UI drew the operations of the document it was given.
            await page.locator(".opblock-summary-path[data-path='/api/auth/login']").wait_for()
            # Opening an operation shows its documented answers.
            await page.click(".opblock-summary-path[data-path='/api/auth/login']")
            await page.locator(".opblock.is-open .responses-table").first.wait_for()
            assert "Field-service dispatch API" in (await page.text_content(".info .title") or "")
            assert outside == []
        finally:
            await browser.close()


async def test_a_dispatcher_works_the_console_in_chromium(
    client, clock, demo_db, live_server, chromium, tmp_path
):
    orders = await _seed(client, clock, demo_db)
    numbers = [o["problem_number"] for o in orders]
    started = time.monotonic()

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
            # This walk-through reads the English labels (Chinese is the default).
            await context.add_init_script("localStorage.setItem('fsd.console.lang', 'en')")
            page = await context.new_page()
            page.set_default_timeout(20_000)
            requests: list[str] = []
            errors: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))

            # Sign in.
            await page.goto(live_server + "/")
            await page.locator("#login-form").wait_for()
            await page.fill("#login-username", "dispatcher")
            await page.fill("#login-password", "wrong-password")
            await page.click("#login-form button[type=submit]")
            await page.locator("#login-error:not(:empty)").wait_for()
            await page.fill("#login-password", "demo-pass")
            await page.click("#login-form button[type=submit]")
            await page.locator("#console-view").wait_for()
            assert await page.text_content("#who") == "dispatcher (dispatcher)"

            # The list: our orders, nearest deadline first, with clocks in local time.
            for number in numbers:
                await page.locator(f".order-row[data-problem-number='{number}']").wait_for()
            listed = await page.locator(".order-row").evaluate_all(
                "rows => rows.map(r => r.dataset.problemNumber)"
            )
            assert listed.index(numbers[0]) < listed.index(numbers[1]) < listed.index(numbers[2])
            critical = page.locator(f".order-row[data-problem-number='{numbers[0]}']")
            assert "测试站点" in (await critical.locator(".site-name").text_content() or "")
            assert "河南省郑州市" in (await critical.locator(".site-address").text_content() or "")
            response = critical.locator(".clock[data-measure=response]")
            assert await response.get_attribute("data-state") == "breached"
            assert "over" in (await response.text_content() or "")
            assert await critical.locator(".clock[data-measure=on_site][data-state=ok]").count() == 1
            assert await page.text_content("#time-zone") == "Times: Asia/Shanghai"
            # Reported 09:00 in Shanghai (01:00 UTC); the on-site clock: 12 h later.
            assert (await critical.locator(".reported").text_content()) == "03-02 09:00"
            on_site = critical.locator(".clock[data-measure=on_site]")
            assert "03-02 21:00" in (await on_site.text_content() or "")
            assert await _chinese_glyphs_render(page), "Chinese text draws as empty boxes: no CJK font"

            # Filters and search.
            await page.check("#filter-breached")
            await page.wait_for_function(
                "n => [...document.querySelectorAll('.order-row')].every(r => r.dataset.problemNumber !== n)",
                arg=numbers[2],
            )
            assert await page.locator(f".order-row[data-problem-number='{numbers[0]}']").count() == 1
            await page.uncheck("#filter-breached")
            await page.fill("#filter-q", numbers[1])
            await page.wait_for_function("() => document.querySelectorAll('.order-row').length === 1")
            await page.fill("#filter-q", "")
            await page.locator(f".order-row[data-problem-number='{numbers[2]}']").wait_for()

            # The map: our sites, engineers' bases and warehouses, with no tile server.
            await page.locator("path.site-marker.state-breached").first.wait_for()
            assert await page.locator("path.site-marker").count() >= 2
            assert await page.locator(".engineer-marker").count() >= 20
            assert await page.locator("img.leaflet-marker-icon[src*='marker-icon']").count() >= 3
            await page.locator("path.any-site-marker").first.wait_for()
            assert await page.locator("path.graticule").count() >= 4

            # One order's detail.
            await critical.click()
            detail = page.locator("#detail")
            await detail.locator("h2.problem-number", has_text=numbers[0]).wait_for()
            assert await detail.locator("table.grid").first.locator("tbody tr").count() == 4
            assert "服务器宕机" in (await detail.text_content() or "")
            assert await detail.locator(".timeline li").count() >= 1
            await page.screenshot(path=str(tmp_path / "console-detail.png"))

            # Notifications: the breach raised by the watch; acknowledge it.
            await page.click("#tab-notifications")
            notes = page.locator(".notification")
            await notes.first.wait_for()
            before = await notes.count()
            assert await page.text_content("#notification-count") == str(before)
            await notes.first.locator("button.acknowledge").click()
            await page.wait_for_function(
                "n => document.querySelectorAll('.notification').length === n", arg=before - 1
            )

            # A plan: progress, then routes on the map, KPIs and unassigned visits; apply it.
            await page.click("#tab-plan")
            await page.fill("#plan-time-limit", "2")
            await page.click("#plan-run")
            await page.locator(".plan-status").wait_for()
            await page.locator(".plan-status[data-status=done]").wait_for(timeout=90_000)
            assert (await page.text_content(".plan-objective")) != "—"
            await page.locator("path.route-line").first.wait_for()
            assert await page.locator(".stop-marker").count() >= 3
            assert int(await page.text_content("[data-kpi=assigned] .kpi-value") or "0") >= 3
            assert await page.locator(".kpi").count() == 9
            assert await page.locator("#plan-result h3", has_text="Unassigned").count() == 1
            await page.click("#plan-apply")
            await page.locator("#plan-apply", has_text="Applied").wait_for()
            await page.wait_for_function(
                "n => document.querySelector(`.order-row[data-problem-number='${n}'] .status`)"
                ".textContent === 'scheduled'",
                arg=numbers[0],
            )
            await page.screenshot(path=str(tmp_path / "console.png"))

            # Nothing left this machine, and nothing broke (CSP violations included).
            outside = [u for u in requests if urlsplit(u).hostname != "127.0.0.1"]
            assert not outside, outside
            # (The browser logs the refused first sign-in, a 401, as an error.)
            assert [e for e in errors if "status of 401" not in e] == [], errors

            # An access token the server refuses is exchanged once, quietly, and the call retried
            # (in the same page: a reload while a refresh is in flight would present a rotated
            # refresh token again, which ends the sign-in by design).
            await page.evaluate(
                """() => {
                    const key = "fsd.console.session";
                    const s = JSON.parse(sessionStorage.getItem(key));
                    s.access_token = "not-a-token";
                    sessionStorage.setItem(key, JSON.stringify(s));
                }"""
            )
            await page.select_option("#filter-severity", "medium")
            await page.wait_for_function(
                "n => [...document.querySelectorAll('.order-row')].map(r => r.dataset.problemNumber)"
                ".join() === n",
                arg=numbers[2],
            )
            token = await page.evaluate(
                "() => JSON.parse(sessionStorage.getItem('fsd.console.session')).access_token"
            )
            assert token != "not-a-token"
            assert await page.locator("#console-view").is_visible()

            # Sign out: back to the form, nothing kept.
            await page.click("#sign-out")
            await page.locator("#login-form").wait_for()
            assert await page.evaluate("() => sessionStorage.length") == 0
        finally:
            await browser.close()
    print(f"console browser test: {time.monotonic() - started:.1f} s in Chromium")


async def test_the_map_draws_the_district_outlines_with_no_internet(live_server, chromium):
    host = urlsplit(live_server).netloc
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
            page = await context.new_page()
            page.set_default_timeout(30_000)
            outside: list[str] = []
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))

            async def only_this_server(route: Any) -> None:
                if urlsplit(route.request.url).netloc == host:
                    await route.continue_()
                else:
                    outside.append(route.request.url)
                    await route.abort()

            await page.route("**/*", only_this_server)
            await page.goto(live_server + "/")
            await page.fill("#login-username", "dispatcher")
            await page.fill("#login-password", "demo-pass")
            await page.click("#login-form button[type=submit]")
            await page.locator("#console-view").wait_for()
            # Eight outlines, each with its name, on the plain background.
            await page.locator("#map path.district-outline").nth(7).wait_for()
            assert await page.locator("#map path.district-outline").count() == 8
            name = page.locator("#map .district-name[data-district='金水区']")
            await name.wait_for()
            assert await name.text_content() == "金水区"
            assert await name.is_visible()
            # A layer like the others: switched off from the map's layer list.
            await page.hover("#map .leaflet-control-layers")
            toggle = page.locator("#map .leaflet-control-layers-overlays label", has_text="行政区划")
            await toggle.locator("input").uncheck()
            await page.locator("#map .district-name").first.wait_for(state="detached")
            assert await page.locator("#map path.district-outline").count() == 0
            await toggle.locator("input").check()
            await name.wait_for()
            assert outside == []
            assert errors == []
        finally:
            await browser.close()
