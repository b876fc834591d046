"""The engineer app's field alternatives in real Chromium at a phone viewport: an arrival recorded
later (no phones in a secure room) with its real time and reason, the customer's stamped paper
form photographed instead of a signature on the pad, and a part's QR label read from a photo
(the path without BarcodeDetector, as on this Chromium: the vendored jsQR). What the server kept
is read through the API."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import segno
from PIL import Image, ImageFilter
from playwright.async_api import FilePayload, async_playwright

from core.clock import ManualClock
from tests.support.api import auth_headers
from tests.web.test_console import CHROMIUM_ARGS
from tests.web.test_engineer_app import (
    PHONE,
    _ok,
    _on_site,
    _order_for,
    _pending,
    _sign_in,
    _status,
    _synced,
    admin,
    app_errors,
    chromium,
    dispatcher,
    jpeg,
    live_server,
    phone,
    photo,
    shot,
)

__all__ = ["admin", "chromium", "dispatcher", "live_server"]  # the fixtures this module uses

SESSION_ARGS = """async (name) => {
    const outbox = await import('/app/outbox.js');
    const session = await (await import('/app/store.js')).getMeta('session');
    return (await outbox.all(session.user_id)).filter(m => m.name === name).map(m => m.args);
}"""


async def test_an_arrival_recorded_later_keeps_its_real_time_and_reason(
    client: Any,
    admin: Any,
    dispatcher: Any,
    clock: ManualClock,
    live_server: str,
    chromium: str,
    tmp_path: Path,
) -> None:
    username = "engineer11"
    world = await _order_for(client, admin, dispatcher, username)
    vid, oid = world["visit"]["id"], world["order"]["id"]
    # The fault was reported three hours ago; the engineer went into the machine room two hours ago.
    clock.advance(dt.timedelta(hours=3))
    reason = "机房禁止携带手机，出机房后补录"
    async with phone(chromium) as (_context, page, errors):
        await _sign_in(page, live_server, username)
        await page.locator(f".visit-card[data-visit-id='{vid}']").click()
        await page.check("#later-switch")
        shown = await page.input_value("#later-at")  # the phone's clock, in Shanghai time
        earlier = dt.datetime.fromisoformat(shown) - dt.timedelta(hours=2)
        await page.fill("#later-at", earlier.strftime("%Y-%m-%dT%H:%M"))
        await page.fill("#arrive-customer", "李伟")
        await page.click("#act-arrive-customer")
        assert "补录原因" in (await page.text_content("#later-error") or "")  # a reason is required
        assert await page.get_attribute("#visit-status", "data-status") == "assigned"
        await page.fill("#later-reason", reason)
        await page.locator("#later-panel").scroll_into_view_if_needed()
        await page.screenshot(path=shot("recorded-later", tmp_path))
        await page.click("#act-arrive-customer")
        await _status(page, "on_site")
        await _synced(page)
        (sent,) = await page.evaluate(SESSION_ARGS, "visit.arrive@1")
        assert sent["backdated_reason"] == reason
        assert errors == [], errors

    dispatcher = await auth_headers(client, "dispatcher")  # the clock moved past the token's life
    order = await _ok(await client.get(f"/api/work-orders/{oid}", headers=dispatcher))
    (arrival,) = [e for e in order["timeline"] if e["to_status"] == "on_site"]
    assert arrival["data"]["backdated_reason"] == reason
    at = dt.datetime.fromisoformat(arrival["data"]["at"])
    # Two hours before the server's now; the input holds whole minutes and the push takes a moment.
    expected = clock.now() - dt.timedelta(hours=2)
    assert expected - dt.timedelta(minutes=2) <= at <= expected + dt.timedelta(minutes=1), (at, expected)
    (visit,) = [v for v in order["visits"] if v["id"] == vid]
    assert dt.datetime.fromisoformat(visit["arrived_at"]) == at


async def test_the_customer_stamps_the_paper_form_and_its_photo_signs_the_report(
    client: Any, admin: Any, dispatcher: Any, live_server: str, chromium: str, tmp_path: Path
) -> None:
    username = "engineer12"
    world = await _order_for(client, admin, dispatcher, username)
    vid, oid = world["visit"]["id"], world["order"]["id"]
    async with phone(chromium) as (context, page, errors):
        await _on_site(page, live_server, username, vid)
        await page.set_input_files("#photo-input", files=[photo(jpeg(800, 600))])
        await page.locator("#photo-count", has_text="1").wait_for()
        await page.click("#act-finish")
        await _status(page, "done")
        await _synced(page)
        await page.click("#to-sign")
        await page.click("#act-draft")
        await page.locator("#report-hash").wait_for()
        shown = await page.text_content("#report-hash")

        await context.set_offline(True)
        await page.fill("#signer-role", "信息科科长")
        await page.locator("#stamped-panel").scroll_into_view_if_needed()
        await page.screenshot(path=shot("stamped-form", tmp_path))
        form = jpeg(3000, 2000)  # a phone camera's photo of the form
        await page.set_input_files("#stamped-input", files=[photo(form)])
        await page.locator("#sign-done").wait_for()
        await _pending(page, 1)
        (queued,) = await page.evaluate(SESSION_ARGS, "report.sign@1")
        assert (queued["kind"], queued["report_hash"]) == ("stamped_form", shown)
        assert (queued["signer_name"], queued["signer_role"]) == ("李伟", "信息科科长")
        assert "strokes" not in queued
        kept = await page.evaluate(
            "async (sha) => (await import('/app/outbox.js')).blob(sha).then((b) => b.data.byteLength)",
            queued["image_sha256"],
        )
        assert kept < len(form) / 2  # made smaller on the phone, like every photo

        await context.set_offline(False)
        await _synced(page)
        assert app_errors(errors) == [], errors
    order = await _ok(await client.get(f"/api/work-orders/{oid}", headers=dispatcher))
    assert order["status"] == "signed"
    (report_row,) = (await _ok(await client.get(f"/api/work-orders/{oid}/reports", headers=dispatcher)))[
        "items"
    ]
    assert report_row["signature"]["kind"] == "stamped_form"
    verdict = await _ok(await client.get(f"/api/reports/{report_row['id']}/verify", headers=dispatcher))
    assert verdict["valid"], verdict
    assert verdict["signed_hash"] == shown


def label_photo(text: str) -> FilePayload:
    """A phone photo of a printed label: the QR code a little askew on a mottled surface."""
    code = io.BytesIO()
    # make_qr: a full QR code, as the desk prints (segno.make may choose a Micro QR for short text).
    segno.make_qr(text, error="m").save(code, kind="png", scale=8, border=4)
    picture = Image.effect_noise((1600, 1200), 40).convert("RGB").filter(ImageFilter.GaussianBlur(6))
    picture.paste(Image.open(code).convert("RGB").rotate(7, expand=True, fillcolor="white"), (500, 350))
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=90)
    return {"name": "label.jpg", "mimeType": "image/jpeg", "buffer": out.getvalue()}


async def test_a_scanned_label_picks_the_part_and_fills_the_serial(
    client: Any, admin: Any, dispatcher: Any, live_server: str, chromium: str, tmp_path: Path
) -> None:
    username = "engineer09"  # a van with two kinds of parts in the demo
    world = await _order_for(client, admin, dispatcher, username)
    vid = world["visit"]["id"]
    async with phone(chromium) as (_context, page, errors):
        await _on_site(page, live_server, username, vid)
        await page.locator("#part-select option").first.wait_for(state="attached")
        options = await page.locator("#part-select option").evaluate_all(
            "(os) => os.map((o) => [o.value, o.textContent.split(' ')[0]])"
        )
        assert len(options) >= 2, options
        item_id, sku = options[-1]  # not the one picked by default
        assert await page.input_value("#part-select") != item_id

        await page.set_input_files("#part-scan-photo", files=[label_photo(f"FSD:ITEM:{sku}")])
        await page.locator("#part-scan-status[data-result=picked]").wait_for()
        assert await page.input_value("#part-select") == item_id
        assert sku in (await page.text_content("#part-scan-status") or "")

        await page.set_input_files("#part-scan-photo", files=[label_photo("FSD:ITEM:NO-SUCH-SKU-9")])
        await page.locator("#part-scan-status[data-result=unknown]").wait_for()
        assert "NO-SUCH-SKU-9" in (await page.text_content("#part-scan-status") or "")
        assert await page.input_value("#part-select") == item_id  # the pick stays

        unit = label_photo("FSD:UNIT:SN-PV-20261203-7")
        await page.set_input_files("#swap-fitted-scan-photo", files=[unit])
        await page.locator("#swap-fitted-scan-status[data-result=picked]").wait_for()
        assert await page.input_value("#swap-fitted") == "SN-PV-20261203-7"
        await page.set_input_files("#swap-removed-scan-photo", files=[label_photo("OLD-PSU-4411")])
        await page.locator("#swap-removed-scan-status[data-result=picked]").wait_for()
        assert await page.input_value("#swap-removed") == "OLD-PSU-4411"  # a maker's plain serial
        await page.set_input_files("#swap-removed-scan-photo", files=[label_photo(f"FSD:ITEM:{sku}")])
        await page.locator("#swap-removed-scan-status[data-result=unknown]").wait_for()

        await page.locator("#part-panel").scroll_into_view_if_needed()
        await page.set_input_files("#part-scan-photo", files=[label_photo(f"FSD:ITEM:{sku}")])
        await page.locator("#part-scan-status[data-result=picked]").wait_for()
        await page.screenshot(path=shot("scan", tmp_path))
        await page.click("#act-part")
        await page.locator("#parts-used .part-used").wait_for()
        await _synced(page)
        (sent,) = await page.evaluate(SESSION_ARGS, "visit.consume_part@1")
        assert sent["item_id"] == item_id
        assert errors == [], errors


def camera_file(text: str, path: Path) -> Path:
    """What the back camera sees, as a Y4M clip for Chromium's fake camera: the label held up."""
    code = io.BytesIO()
    segno.make_qr(text, error="m").save(code, kind="png", scale=8, border=4)
    frame = Image.new("RGB", (640, 480), (200, 196, 188))
    frame.paste(Image.open(code).convert("RGB"), (200, 120))
    y, cb, cr = frame.convert("YCbCr").split()
    half = (320, 240)
    planes = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    path.write_bytes(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n" + b"FRAME\n" + planes)
    return path


async def test_the_camera_reads_a_label_held_up_to_it(
    client: Any, admin: Any, dispatcher: Any, live_server: str, chromium: str, tmp_path: Path
) -> None:
    username = "engineer13"
    world = await _order_for(client, admin, dispatcher, username)
    vid = world["visit"]["id"]
    clip = camera_file("FSD:UNIT:SN-CAM-0042", tmp_path / "label.y4m")
    args = [*CHROMIUM_ARGS, "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={clip}"]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=args)
        try:
            context = await browser.new_context(**PHONE, permissions=["camera"])  # type: ignore[arg-type]
            page = await context.new_page()
            page.set_default_timeout(30_000)
            await _on_site(page, live_server, username, vid)
            await page.click("#swap-fitted-scan-camera")
            await page.locator("#swap-fitted-scan-status[data-result=picked]").wait_for()
            assert await page.input_value("#swap-fitted") == "SN-CAM-0042"
            assert await page.locator("video").count() == 0  # the camera is let go
        finally:
            await browser.close()
