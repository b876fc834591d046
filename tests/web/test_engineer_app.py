"""The engineer's phone app at /app/ in a real browser: Debian's Chromium through Playwright, at a
phone viewport with touch, against a real server on a loopback port, on the demo database.
Offline is Playwright's offline mode; what the server applied is checked through the API."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.async_api import BrowserContext, FilePayload, Page, async_playwright

from api.app import create_app
from core.clock import ManualClock
from core.database import make_engine, make_sessionmaker
from offline_sync import changes
from tests.conftest import DEMO_NOW, settings_for
from tests.support.api import assert_problem, auth_headers, sign_in
from tests.support.live_server import LiveServer
from tests.support.scenario import asset, contract, customer_with_site, engineer_id, report
from tests.web.test_console import CHROMIUM, CHROMIUM_ARGS

WEB_APP = Path(__file__).resolve().parents[2] / "web" / "app"


# ---- serving (no browser) --------------------------------------------------------------------


async def test_the_app_shell_is_served_at_app_with_the_strict_policy(client):
    page = await client.get("/app/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="main.js">' in page.text
    assert '<link rel="manifest" href="manifest.webmanifest">' in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy
    manifest = await client.get("/app/manifest.webmanifest")
    assert manifest.status_code == 200
    body = manifest.json()
    assert (body["start_url"], body["scope"], body["display"]) == ("/app/", "/app/", "standalone")
    assert {i["type"] for i in body["icons"]} == {"image/svg+xml", "image/png"}
    worker = await client.get("/app/sw.js")
    assert worker.status_code == 200
    assert "javascript" in worker.headers["content-type"]
    for path in ("/vendor/idb/idb.js", "/vendor/signature_pad/signature_pad.js", "/dom.js"):
        assert (await client.get(path)).status_code == 200, path
    assert_problem(await client.get("/app/no-such-file.js"), 404)
    bare = await client.get("/app", follow_redirects=False)
    assert (bare.status_code, bare.headers["location"]) == (308, "/app/")


def test_the_service_worker_precaches_every_file_of_the_app_under_a_versioned_cache():
    source = (WEB_APP / "sw.js").read_text()
    listed = set(re.findall(r'^\s+"([^"]+)",$', source, re.MULTILINE))
    files = {str(p.relative_to(WEB_APP)) for p in WEB_APP.rglob("*") if p.is_file() and p.name != "sw.js"}
    assert files - listed == set(), "files of web/app/ the service worker does not precache"
    assert {"./", "../dom.js", "../vendor/idb/idb.js", "../vendor/signature_pad/signature_pad.js"} <= listed
    for path in listed - {"./"}:
        assert (WEB_APP / path).resolve().is_file(), path


# ---- in the browser --------------------------------------------------------------------------

APP_PATH = "/app/"
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "locale": "zh-CN"}
# Where the README's screenshots go when asked (FSD_APP_SCREENSHOTS=docs); else the test's tmp dir.
SHOTS = os.environ.get("FSD_APP_SCREENSHOTS")


@pytest.fixture(scope="module")
def live_server(demo_db: str, clock: ManualClock, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = create_app(
        settings_for(demo_db, tmp_path_factory.mktemp("var"), watch_interval_seconds=0), clock=clock
    )
    with LiveServer(app) as server:
        yield server.url


@pytest.fixture
async def admin(client: Any) -> dict[str, str]:
    """Signed in per test: the phone tests move the server's clock past a token's 15 minutes."""
    return await auth_headers(client, "admin")


@pytest.fixture
async def dispatcher(client: Any) -> dict[str, str]:
    return await auth_headers(client, "dispatcher")


@pytest.fixture(scope="module")
def chromium() -> str:
    assert CHROMIUM.exists(), "Debian's chromium is required: run scripts/ensure-chromium.sh (make test does)"
    return str(CHROMIUM)


@asynccontextmanager
async def phone(chromium: str) -> AsyncIterator[tuple[BrowserContext, Page, list[str]]]:
    """A phone-sized Chromium page with touch; yields the context, the page and its errors."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(**PHONE)  # type: ignore[arg-type]
            page = await context.new_page()
            # Generous: on a loaded 2-core runner a sync round and a redraw can take seconds.
            page.set_default_timeout(30_000)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            try:
                yield context, page, errors
            except BaseException:
                print("browser errors:", errors)  # the page's side of a failure
                raise
        finally:
            await browser.close()


# What the browser itself logs while a test has cut the network: a request in flight when the
# phone went offline fails with ERR_INTERNET_DISCONNECTED (the app retries it later), and a
# visit moved to someone else answers 404 on the next sync. Neither is the page's own error.
NETWORK_NOISE = ("status of 404", "net::ERR_INTERNET_DISCONNECTED")


def app_errors(errors: list[str]) -> list[str]:
    """The page's own errors, without the browser's log of requests the test's offline spell broke."""
    return [e for e in errors if not any(noise in e for noise in NETWORK_NOISE)]


def shot(name: str, tmp_path: Path) -> str:
    return str(Path(SHOTS) / f"app-{name}.png" if SHOTS else tmp_path / f"app-{name}.png")


def jpeg(width: int = 2400, height: int = 1800) -> bytes:
    """A camera-sized photo with detail (noise), so the phone has something to shrink."""
    picture = Image.effect_noise((width, height), 60).convert("RGB")
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=92)
    return out.getvalue()


def photo(data: bytes) -> FilePayload:
    return {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": data}


async def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _order_for(
    client: Any, admin: dict[str, str], dispatcher: dict[str, str], username: str, **site_changes: Any
) -> dict[str, Any]:
    """A reported fault at a new site with an asset, its repair visit planned for `username`
    two hours from now (09:00 in Shanghai on the demo clock: 11:00 today)."""
    customer, site = await customer_with_site(client, admin, point=(113.6654, 34.7580))
    if site_changes:
        site = await _ok(
            await client.patch(
                f"/api/sites/{site['id']}", headers=admin, json={"version": site["version"], **site_changes}
            )
        )
    unit = await asset(client, admin, site, await contract(client, admin, customer, kind="7x24"))
    order = await report(client, dispatcher, site, unit, severity="high")
    planned = (DEMO_NOW + dt.timedelta(hours=2)).isoformat()
    engineer = await engineer_id(client, dispatcher, username)
    created = await _ok(
        await client.post(
            f"/api/work-orders/{order['id']}/visits",
            headers=dispatcher,
            json={"kind": "repair", "duration_minutes": 90},
        ),
        201,
    )
    visit = await _ok(
        await client.put(
            f"/api/visits/{created['id']}/assignment",
            headers=dispatcher,
            json={"version": created["version"], "engineer_id": engineer, "planned_start": planned},
        )
    )
    return {"customer": customer, "site": site, "asset": unit, "order": order, "visit": visit}


async def _sign_in(page: Page, base: str, username: str) -> None:
    await page.goto(base + APP_PATH)
    await page.locator("#signin-form").wait_for()
    await page.fill("#signin-username", username)
    await page.fill("#signin-password", "demo-pass")
    await page.click("#signin-form button[type=submit]")
    await page.locator("#tabs:not([hidden])").wait_for()


CENTRE_PAD = "() => document.getElementById('signature-pad').scrollIntoView({block: 'center'})"
SESSION = "async () => (await import('/app/store.js')).getMeta('session')"


async def _on_site(page: Page, base: str, username: str, visit_id: str) -> None:
    """Signed in, on the way to the visit, and there on the customer's word."""
    await _sign_in(page, base, username)
    await page.locator(f".visit-card[data-visit-id='{visit_id}']").click()
    await page.click("#act-travel")
    await _status(page, "en_route")
    await page.fill("#arrive-customer", "李伟")
    await page.click("#act-arrive-customer")
    await _status(page, "on_site")


async def _pending(page: Page, count: int) -> None:
    await page.locator(f"#pending-count[data-count='{count}']").wait_for()


async def _controlled(page: Page) -> None:
    """The service worker installed its cache and controls the page (the app opens offline)."""
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=20_000)


async def _status(page: Page, status: str) -> None:
    await page.locator(f"#visit-status[data-status='{status}']").wait_for()


async def _synced(page: Page) -> None:
    await page.click("#sync-now")
    await _pending(page, 0)
    await page.locator("#sync-state[data-status='idle']").wait_for(state="attached")


async def test_geo_conversions_match_reference_values_and_every_string_has_english(live_server, chromium):
    async with phone(chromium) as (_, page, errors):
        await page.goto(live_server + APP_PATH)
        got = await page.evaluate(
            """async () => {
                const geo = await import("/app/geo.js");
                return {
                    gcj: geo.wgs84ToGcj02(116.404, 39.915),
                    bd: geo.gcj02ToBd09(116.404, 39.915),
                    gcj2: geo.wgs84ToGcj02(121.0917077, 30.6107779),
                    bd2: geo.wgs84ToBd09(121.0917077, 30.6107779),
                    paris: geo.wgs84ToGcj02(2.35, 48.85),
                    links: geo.navigationLinks(113.6654, 34.758, "测试站点"),
                    untranslated: (await import("/app/i18n.js")).missingIn("en"),
                };
            }"""
        )
    # Reference values published with the widely used coordtransform library (wandergis).
    assert got["gcj"] == pytest.approx([116.41024449916938, 39.91640428150164], abs=1e-9)
    assert got["bd"] == pytest.approx([116.41036949371029, 39.92133699351021], abs=1e-9)
    # Another implementation's values (geotool) agree within 1e-6 degrees (about 10 cm).
    assert got["gcj2"] == pytest.approx([121.09626935575027, 30.608604331756705], abs=1e-6)
    assert got["bd2"] == pytest.approx([121.10271732371203, 30.61484572185035], abs=1e-6)
    assert got["paris"] == [2.35, 48.85]  # outside China nothing moves
    assert got["untranslated"] == []
    links = got["links"]
    assert links["geo"].startswith("geo:34.758000,113.665400")
    # AMap takes GCJ-02 (lon,lat), Baidu BD-09 (lat,lon): both shifted from the WGS-84 point.
    amap = re.search(r"position=([\d.]+),([\d.]+)", links["amap"])
    baidu = re.search(r"location=([\d.]+),([\d.]+)", links["baidu"])
    assert amap is not None
    assert baidu is not None
    assert 0.003 < float(amap[1]) - 113.6654 < 0.01
    assert 0.009 < float(baidu[2]) - 113.6654 < 0.02
    assert errors == []


SEVEN = [
    "visit.start_travel@1",
    "visit.arrive@1",
    "visit.add_note@1",
    "visit.consume_part@1",
    "visit.attach_photo@1",
    "timesheet.add@1",
    "visit.complete@1",
]


async def test_a_day_offline_survives_a_reload_and_syncs_exactly_once(
    client, admin, dispatcher, clock, live_server, chromium, tmp_path
):
    username = "engineer07"
    world = await _order_for(client, admin, dispatcher, username, reception_code="RECEPTION-7F")
    vid, oid = world["visit"]["id"], world["order"]["id"]
    engineer = {"Authorization": f"Bearer {(await sign_in(client, username))['access_token']}"}
    carried = (await _ok(await client.get("/api/stock/my-stock", headers=engineer)))["items"]
    stock = [b for b in carried if b["free"] > 0]
    assert stock, f"{username} has an empty van in the demo data"
    item, van = stock[0]["item_id"], stock[0]["location_id"]
    started = time.monotonic()

    async with phone(chromium) as (context, page, errors):
        # A dispatcher is turned away with the reason.
        await page.goto(live_server + APP_PATH)
        await page.fill("#signin-username", "dispatcher")
        await page.fill("#signin-password", "demo-pass")
        await page.click("#signin-form button[type=submit]")
        await page.locator("#signin-error:not(:empty)").wait_for()
        assert "现场工程师" in (await page.text_content("#signin-error") or "")

        await _sign_in(page, live_server, username)
        card = page.locator(f".visit-card[data-visit-id='{vid}']")
        await card.wait_for()
        assert await card.locator("xpath=ancestor::section").get_attribute("data-group") == "today"
        assert await card.locator(".customer").text_content() == world["customer"]["name"]
        assert await card.locator(".address").text_content() == "河南省郑州市金水区花园路 1 号"
        assert await card.locator(".planned").text_content() == "03-02 11:00"
        assert await page.evaluate("() => document.documentElement.scrollWidth") <= 390
        await _controlled(page)
        await page.screenshot(path=shot("route", tmp_path))

        await context.set_offline(True)
        await card.click()
        await page.locator("#visit-title").wait_for()
        assert await page.locator("a.tel[href='tel:13800000001']").count() == 1
        assert await page.locator("#nav-links a").count() == 4
        assert await page.locator(".clock[data-measure=on_site] .countdown").count() == 1
        await page.click("#act-travel")
        await _status(page, "en_route")
        await page.fill("#qr-text", "RECEPTION-7F")
        await page.click("#act-arrive-qr")
        await _status(page, "on_site")
        await page.fill("#note-text", "更换电源模块，系统恢复")
        await page.click("#act-note")
        await page.locator("#notes .note").wait_for()
        await page.select_option("#part-select", item)
        await page.click("#act-part")
        await page.locator("#parts-used .part-used").wait_for()
        # The server's field rule, checked on the phone: no photo yet, so no "resolved".
        await page.select_option("#finish-outcome", "resolved")
        await page.click("#act-finish")
        await page.locator("#finish-error", has_text="照片").wait_for()
        await _pending(page, 4)
        raw = jpeg()
        await page.set_input_files("#photo-input", files=[photo(raw)])
        await page.locator("#photo-count", has_text="1").wait_for()
        await page.click("#act-time")
        await page.locator("#time-entries .time-entry").wait_for()
        small = await page.evaluate(
            """() => [...document.querySelectorAll('button, a.button, input, select')]
                .filter(e => e.offsetParent !== null)
                .map(e => e.getBoundingClientRect())
                .filter(r => r.height < 44).length"""
        )
        assert small == 0, "touch targets under 44 px"
        await page.evaluate("() => window.scrollTo(0, 0)")
        await page.screenshot(path=shot("visit", tmp_path))
        await page.select_option("#finish-outcome", "resolved")
        await page.click("#act-finish")
        await _status(page, "done")
        await _pending(page, 7)
        # The van shows the part gone before the server knows.
        await page.click("#tab-stock")
        on_hand = page.locator(f"#van-stock .van-item[data-item-id='{item}'] .on-hand")
        assert await on_hand.text_content() == str(stock[0]["on_hand"] - 1)
        # The photo was shrunk on the phone to 1600 px JPEG, still big enough to go up in chunks.
        kept = await page.evaluate(
            """async () => {
                const outbox = await import('/app/outbox.js');
                const [b] = await outbox.blobsToUpload();
                const bitmap = await createImageBitmap(new Blob([b.data], {type: b.type}));
                return {sha256: b.sha256, size: b.data.byteLength, w: bitmap.width, h: bitmap.height};
            }"""
        )
        assert (kept["w"], kept["h"]) == (1600, 1200)
        assert kept["size"] > 256 * 1024
        await page.click("#tab-route")
        await page.locator(f".visit-card[data-visit-id='{vid}']").click()
        await _status(page, "done")

        # Still offline, the page reloads: the service worker serves the app, IndexedDB the rest.
        await page.reload()
        await _pending(page, 7)
        await _status(page, "done")
        await page.click("#tab-route")
        await page.locator(f".visit-card[data-visit-id='{vid}'][data-status='done']").click()
        await _status(page, "done")
        assert await page.locator("#journal .journal-item[data-status='null']").count() == 7
        assert await page.locator("#photos img.photo-thumb").count() == 1

        # An hour passes on the server's clock before the phone is back in coverage: its access
        # token expired meanwhile and is renewed with the device-bound refresh token.
        before = await page.evaluate(SESSION)
        clock.advance(dt.timedelta(hours=1))
        await context.set_offline(False)
        await _synced(page)
        answers = await page.locator("#journal .journal-item").evaluate_all(
            "items => items.map(i => i.dataset.name + ' ' + i.dataset.status)"
        )
        assert answers == [f"{name} applied" for name in SEVEN], answers
        assert await page.locator("#sync-issues li").count() == 0
        assert (await page.get_attribute("#last-sync", "data-at")) != ""
        assert (await page.evaluate(SESSION))["refresh_token"] != before["refresh_token"]
        # (The browser logs the expired token's 401 and the HEAD of a blob not uploaded yet, a
        # 404, as errors.)
        assert [e for e in errors if "status of 404" not in e and "status of 401" not in e] == [], errors

    dispatcher = await auth_headers(client, "dispatcher")
    stored = await client.head(f"/api/sync/blobs/{kept['sha256']}", headers=dispatcher)
    assert stored.headers["x-blob-size"] == str(kept["size"])

    # The server applied each record exactly once.
    order = await _ok(await client.get(f"/api/work-orders/{oid}", headers=dispatcher))
    assert order["status"] == "resolved"
    (visit,) = order["visits"]
    assert visit["status"] == "done"
    assert [n["body"] for n in visit["notes"]] == ["更换电源模块，系统恢复"]
    kinds = [e["to_status"] for e in order["timeline"] or [] if e["to_status"]]
    assert kinds.count("en_route") == 1
    assert kinds.count("on_site") == 1
    moves = await _ok(
        await client.get("/api/stock/moves", headers=dispatcher, params={"location_id": van, "limit": 500})
    )
    assert [(m["item_id"], m["quantity"]) for m in moves["items"] if m["visit_id"] == vid] == [(item, 1)]
    elapsed = time.monotonic() - started
    print(f"offline day in Chromium: {elapsed:.1f} s; photo {len(raw)} -> {kept['size']} bytes")


async def test_a_refusal_the_phone_could_not_foresee_is_shown_and_corrected(
    client, admin, dispatcher, live_server, chromium
):
    """The site banned cameras when the phone last synced; an admin lifts the ban while the phone
    is offline, so its completion without a photo passes the device's check and the server
    refuses it. The engineer sees why, adds a photo and sends the completion again."""
    username = "engineer08"
    world = await _order_for(client, admin, dispatcher, username, no_photography=True)
    vid, site = world["visit"]["id"], world["site"]
    async with phone(chromium) as (context, page, errors):
        await _sign_in(page, live_server, username)
        await page.locator(f".visit-card[data-visit-id='{vid}']").click()
        await page.locator("#no-photography").wait_for()
        await page.fill("#arrive-customer", "李伟")
        await page.click("#act-arrive-customer")
        await _status(page, "on_site")
        await _synced(page)
        assert await page.locator("#photo-input").count() == 0  # cameras banned here

        await context.set_offline(True)
        lifted = await client.patch(
            f"/api/sites/{site['id']}",
            headers=admin,
            json={"version": site["version"], "no_photography": False},
        )
        assert lifted.status_code == 200, lifted.text
        await page.click("#act-finish")
        await _status(page, "done")
        await context.set_offline(False)
        await page.click("#sync-now")
        issue = page.locator("#sync-issues li[data-problem-type='/problems/photo-required']")
        await issue.wait_for()
        assert await issue.get_attribute("data-status") == "rejected"
        assert "照片" in (await issue.locator(".issue-words").text_content() or "")
        assert "A resolved repair needs a photo" in (
            await issue.locator(".issue-server").text_content() or ""
        )
        await _pending(page, 0)
        await _status(page, "on_site")  # the refused completion is not applied on the phone either
        await page.click("#lang-switch")  # the engineer's words, in English too
        await issue.locator(".issue-words", has_text="Add a photo").wait_for()
        assert await page.text_content("#act-finish") == "Finish"

        await issue.locator("a.issue-open").click()
        await page.set_input_files("#photo-input", files=[photo(jpeg(800, 600))])
        await page.locator("#photo-count", has_text="1").wait_for()
        await page.click("#act-finish")
        await _status(page, "done")
        await _synced(page)
        await page.locator("#sync-issues li").first.wait_for(state="detached")
        assert app_errors(errors) == [], errors
    order = await _ok(await client.get(f"/api/work-orders/{world['order']['id']}", headers=dispatcher))
    assert order["status"] == "resolved"
    assert order["visits"][0]["status"] == "done"


async def test_the_customer_signs_offline_and_the_report_verifies(
    client, admin, dispatcher, live_server, chromium, tmp_path
):
    username = "engineer09"
    world = await _order_for(client, admin, dispatcher, username)
    vid, oid = world["visit"]["id"], world["order"]["id"]
    async with phone(chromium) as (context, page, errors):
        await _on_site(page, live_server, username, vid)
        await page.set_input_files("#photo-input", files=[photo(jpeg(800, 600))])
        await page.locator("#photo-count", has_text="1").wait_for()
        await page.click("#act-finish")
        await _status(page, "done")
        await _synced(page)

        # Drafting needs the server; the report comes back in the pulled document.
        await page.click("#to-sign")
        await page.click("#act-draft")
        await page.locator("#report-hash").wait_for()
        shown = await page.text_content("#report-hash")
        assert "测试客户" in (await page.text_content("#report-summary") or "")

        await context.set_offline(True)
        await page.evaluate(CENTRE_PAD)
        pad = await page.locator("#signature-pad").bounding_box()
        assert pad is not None
        for stroke in ((0.1, 0.6, 0.45, 0.3), (0.5, 0.7, 0.9, 0.4)):
            x0, y0, x1, y1 = stroke
            await page.mouse.move(pad["x"] + pad["width"] * x0, pad["y"] + pad["height"] * y0)
            await page.mouse.down()
            for step in range(1, 11):
                f = step / 10
                await page.mouse.move(
                    pad["x"] + pad["width"] * (x0 + (x1 - x0) * f),
                    pad["y"] + pad["height"] * (y0 + (y1 - y0) * f),
                )
            await page.mouse.up()
        await page.fill("#signer-role", "信息科科长")
        await page.evaluate(CENTRE_PAD)
        await page.screenshot(path=shot("sign", tmp_path))
        await page.click("#act-sign")
        await page.locator("#sign-done").wait_for()
        await _pending(page, 1)
        queued = await page.evaluate(
            """async () => {
                const outbox = await import('/app/outbox.js');
                const session = await (await import('/app/store.js')).getMeta('session');
                return (await outbox.all(session.user_id)).find(m => m.name === 'report.sign@1').args;
            }"""
        )
        assert queued["report_hash"] == shown
        assert len(queued["strokes"]) == 2
        assert all(len(s) >= 5 for s in queued["strokes"])
        assert queued["strokes"][1][-1][2] > queued["strokes"][0][0][2]  # times run on

        await context.set_offline(False)
        await _synced(page)
        assert app_errors(errors) == [], errors
    order = await _ok(await client.get(f"/api/work-orders/{oid}", headers=dispatcher))
    assert order["status"] == "signed"
    (report_row,) = (await _ok(await client.get(f"/api/work-orders/{oid}/reports", headers=dispatcher)))[
        "items"
    ]
    assert report_row["hash"] == shown
    assert report_row["signature"]["kind"] == "strokes"
    verdict = await _ok(await client.get(f"/api/reports/{report_row['id']}/verify", headers=dispatcher))
    assert verdict["valid"], verdict
    assert verdict["signed_hash"] == shown


async def test_the_report_text_and_cannot_fix_are_recorded_offline_and_reach_the_server(
    client, admin, dispatcher, live_server, chromium
):
    username = "engineer10"
    world = await _order_for(client, admin, dispatcher, username)
    vid, oid = world["visit"]["id"], world["order"]["id"]
    async with phone(chromium) as (context, page, errors):
        await _on_site(page, live_server, username, vid)

        # No network all day: the report's text and the backup request wait in the outbox.
        await context.set_offline(True)
        await page.fill("#report-diagnosis", "电源模块故障，风扇停转")
        await page.fill("#report-actions", "更换电源模块前已备份配置")
        await page.check("#report-panel input[type=checkbox]")
        await page.fill("#report-backup-where", "U 盘，交客户保管")
        await page.click("#report-panel-send")
        await page.click("#cannot-fix-panel-send")
        assert "必填" in (await page.text_content("#cannot-fix-panel .error") or "")
        await page.fill("#cannot-fix-reason", "主板需原厂返修，48 小时内无法修复")
        await page.click("#cannot-fix-panel-send")
        queued = await page.evaluate(
            """async () => {
                const outbox = await import('/app/outbox.js');
                const session = await (await import('/app/store.js')).getMeta('session');
                return (await outbox.all(session.user_id)).map(m => m.name);
            }"""
        )
        assert {"report.edit@1", "visit.cannot_fix@1"} <= set(queued), queued

        await context.set_offline(False)
        await _synced(page)
        assert app_errors(errors) == [], errors
    (draft,) = (await _ok(await client.get(f"/api/work-orders/{oid}/reports", headers=dispatcher)))["items"]
    assert draft["content"]["diagnosis"] == "电源模块故障，风扇停转"
    assert draft["content"]["configuration_backup"] == {"done": True, "where": "U 盘，交客户保管"}
    loans = await _ok(await client.get("/api/stock/loans", headers=dispatcher, params={"work_order_id": oid}))
    items = loans["items"] if isinstance(loans, dict) else loans
    assert [loan["status"] for loan in items if loan["work_order_id"] == oid] == ["proposed"]


async def test_progress_on_a_visit_reassigned_meanwhile_is_kept_for_review_and_shown(
    client, admin, dispatcher, live_server, chromium
):
    username = "engineer10"
    world = await _order_for(client, admin, dispatcher, username)
    vid = world["visit"]["id"]
    async with phone(chromium) as (context, page, errors):
        await _sign_in(page, live_server, username)
        await page.locator(f".visit-card[data-visit-id='{vid}']").click()
        await page.locator("#act-travel").wait_for()

        await context.set_offline(True)
        current = await _ok(await client.get(f"/api/work-orders/{world['order']['id']}", headers=dispatcher))
        other = await engineer_id(client, dispatcher, "engineer11")
        moved = await client.put(
            f"/api/visits/{vid}/assignment",
            headers=dispatcher,
            json={"version": current["visits"][0]["version"], "engineer_id": other},
        )
        assert moved.status_code == 200, moved.text
        await page.fill("#arrive-customer", "李伟")
        await page.click("#act-arrive-customer")
        await _status(page, "on_site")
        await page.select_option("#finish-outcome", "follow_up")
        await page.click("#act-finish")
        await _status(page, "done")
        await context.set_offline(False)
        await _synced(page)

        conflicts = page.locator("#sync-issues li[data-status='conflict']")
        await conflicts.first.wait_for()
        assert await conflicts.count() == 2  # the arrival and the completion
        assert "改派" in (await conflicts.first.locator(".issue-words").text_content() or "")
        await page.locator("#visit-gone").wait_for()  # the visit left this phone
        assert app_errors(errors) == [], errors
    inbox = (await _ok(await client.get("/api/sync/conflicts", headers=dispatcher)))["items"]
    kept = [c for c in inbox if c["visit_id"] == vid]
    assert sorted(c["mutation_name"] for c in kept) == ["visit.arrive@1", "visit.complete@1"]
    assert {c["kind"] for c in kept} == {"reassigned"}


def shell_digest() -> str:
    """What the service worker's cache name must carry: a digest of every precached file, so a
    changed file always reaches phones (a new worker, the reload prompt) instead of a stale copy."""
    source = (WEB_APP / "sw.js").read_text()
    digest = hashlib.sha256()
    for path in sorted(set(re.findall(r'^\s+"([^"]+)",$', source, re.MULTILINE)) - {"./"}):
        digest.update(path.encode() + b"\0" + (WEB_APP / path).resolve().read_bytes())
    return digest.hexdigest()[:12]


def test_the_cache_name_changes_with_any_precached_file():
    version = re.search(r'const VERSION = "fsd-app-([^"]+)";', (WEB_APP / "sw.js").read_text())
    assert version is not None
    assert version[1] == shell_digest(), f'web/app/sw.js: set VERSION = "fsd-app-{shell_digest()}"'


async def test_a_phone_reported_lost_wipes_what_it_holds(client, admin, dispatcher, live_server, chromium):
    username = "engineer12"
    world = await _order_for(client, admin, dispatcher, username)
    vid = world["visit"]["id"]
    async with phone(chromium) as (context, page, _errors):
        await _sign_in(page, live_server, username)
        await page.locator(f".visit-card[data-visit-id='{vid}']").click()
        await context.set_offline(True)
        await page.click("#act-travel")
        await _pending(page, 1)

        engineer = await engineer_id(client, dispatcher, username)
        (device,) = (
            await _ok(await client.get("/api/sync/devices", headers=dispatcher, params={"user_id": engineer}))
        )["items"]
        revoked = await client.post(
            f"/api/sync/devices/{device['id']}/revoke",
            headers=dispatcher,
            json={"mode": "lost", "reason": "reported stolen"},
        )
        assert revoked.status_code == 200, revoked.text
        await context.set_offline(False)
        await page.click("#sync-now")
        # Reporting it lost ended the phone's sign-in: its next refresh is answered device-lost, and
        # it wipes itself at once, before anyone types a password into it.
        await page.locator("#signin-message", has_text="清除").wait_for()
        left = await page.evaluate(
            """async () => {
                const store = await import('/app/store.js');
                const db = await store.db();
                return Promise.all(['meta', 'outbox', 'blobs', 'replica', 'notes'].map(s => db.count(s)));
            }"""
        )
        assert left == [0, 0, 0, 0, 0]
    order = await _ok(await client.get(f"/api/work-orders/{world['order']['id']}", headers=dispatcher))
    assert order["visits"][0]["status"] == "assigned"  # nothing from the lost phone was applied


async def test_a_phone_too_far_behind_bootstraps_again_and_keeps_its_outbox(
    client, admin, dispatcher, demo_db, live_server, chromium
):
    username = "engineer13"
    first = await _order_for(client, admin, dispatcher, username)
    vid = first["visit"]["id"]
    async with phone(chromium) as (context, page, _errors):
        pulls: list[int] = []
        page.on("response", lambda r: pulls.append(r.status) if "/api/sync/pull" in r.url else None)
        await _sign_in(page, live_server, username)
        await page.locator(f".visit-card[data-visit-id='{vid}']").click()
        await context.set_offline(True)
        await page.click("#act-travel")
        await _pending(page, 1)

        # Meanwhile dispatch plans another visit, and the server prunes its change log past the
        # phone's cursor.
        second = await _order_for(client, admin, dispatcher, username)
        engine = make_engine(demo_db, pool_size=1)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                assert await changes.prune(session, dt.datetime.now(dt.UTC) + dt.timedelta(days=1)) > 0
        finally:
            await engine.dispose()

        await context.set_offline(False)
        await _synced(page)
        assert 410 in pulls
        await page.locator("#journal .journal-item[data-status='applied']").wait_for()
        await page.click("#tab-route")
        for visit in (first["visit"], second["visit"]):
            await page.locator(f".visit-card[data-visit-id='{visit['id']}']").wait_for()
        assert await page.get_attribute(f".visit-card[data-visit-id='{vid}']", "data-status") == "en_route"


async def test_a_suspended_phone_keeps_its_outbox_and_sends_it_once_reinstated(
    client, admin, dispatcher, live_server, chromium
):
    username = "engineer14"
    world = await _order_for(client, admin, dispatcher, username)
    vid = world["visit"]["id"]
    async with phone(chromium) as (_context, page, _errors):
        await _sign_in(page, live_server, username)
        await page.locator(f".visit-card[data-visit-id='{vid}']").wait_for()
        engineer = await engineer_id(client, dispatcher, username)
        (device,) = (
            await _ok(await client.get("/api/sync/devices", headers=dispatcher, params={"user_id": engineer}))
        )["items"]
        suspended = await client.post(
            f"/api/sync/devices/{device['id']}/revoke",
            headers=dispatcher,
            json={"mode": "suspend", "reason": "left in a taxi, being looked for"},
        )
        assert suspended.status_code == 200, suspended.text
        await page.locator(f".visit-card[data-visit-id='{vid}']").click()
        await page.click("#act-travel")
        await page.locator("#sync-state[data-status='suspended']").wait_for(state="attached")
        await _pending(page, 1)  # kept on the phone

        # Dispatch finds the phone and applies what it held; the phone's resend is a replay.
        reinstated = await client.post(
            f"/api/sync/devices/{device['id']}/reinstate", headers=dispatcher, json={"held": "apply"}
        )
        assert reinstated.status_code == 200, reinstated.text
        assert [o["status"] for o in reinstated.json()["held_outcomes"]] == ["applied"]
        await _synced(page)
        await page.locator("#journal .journal-item[data-status='applied']").wait_for()
    order = await _ok(await client.get(f"/api/work-orders/{world['order']['id']}", headers=dispatcher))
    assert order["visits"][0]["status"] == "en_route"
    assert [e["to_status"] for e in order["timeline"] or []].count("en_route") == 1
