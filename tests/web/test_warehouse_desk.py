"""The warehouse desk in real Chromium against a live server on the demo data: the warehouse role
lands on it, finds a unit by serial and reads its history, moves a backup loan through its stages
from the board, loads tomorrow's restock with one click, imports a CSV with two bad rows (reported,
nothing written) and prints a label sheet whose QR codes decode back."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from playwright.async_api import Page, async_playwright

from tests.api.test_stock_contract import _loan_installed
from tests.api.test_stock_labels import read_back
from tests.support.api import auth_headers
from tests.support.scenario import asset, contract, customer_with_site, engineer_id, planned_visit, report
from tests.web import test_console
from tests.web.test_console import CHROMIUM_ARGS

chromium = test_console.chromium
live_server = test_console.live_server

DOCS = Path(os.environ.get("FSD_SCREENSHOTS") or Path(tempfile.gettempdir()) / "fsd-screenshots")
DOCS.mkdir(parents=True, exist_ok=True)
SHANGHAI = ZoneInfo("Asia/Shanghai")
WAIT = 30_000


@asynccontextmanager
async def warehouse_desk(url: str, executable: str, *, lang: str | None = None) -> AsyncIterator[Page]:
    """Signed in as `warehouse` on the console's sign-in form: the desk opens by itself."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(
                viewport={"width": 1440, "height": 900},
                locale="zh-CN",
                timezone_id="Asia/Shanghai",
                accept_downloads=True,
            )
            if lang:
                await context.add_init_script(f"localStorage.setItem('fsd.console.lang', '{lang}')")
            page = await context.new_page()
            page.set_default_timeout(WAIT)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on(
                "console",
                lambda m: (
                    errors.append(m.text) if m.type == "error" and "status of 4" not in m.text else None
                ),
            )
            await page.goto(url + "/")
            await page.fill("#login-username", "warehouse")
            await page.fill("#login-password", "demo-pass")
            await page.click("#login-form button[type=submit]")
            await page.wait_for_url("**/warehouse.html*")
            await page.locator("#desk table.wh-table").first.wait_for()
            yield page
            assert errors == [], errors
        finally:
            await browser.close()


async def test_find_a_unit_by_serial_and_read_its_history(client, live_server, chromium):
    warehouse = await auth_headers(client, "warehouse")
    tag = uuid.uuid4().hex[:6].upper()
    body = {"sku": f"DV-{tag}", "name": f"备用存储 {tag}", "kind": "device", "model": f"OceanStor-{tag}"}
    item = (await client.post("/api/stock/items", headers=warehouse, json=body)).json()
    houses = (await client.get("/api/locations", headers=warehouse, params={"kind": "warehouse"})).json()
    body = {"item_id": item["id"], "serial": f"SN{tag}01", "location_id": houses["items"][0]["id"]}
    unit = (await client.post("/api/stock/units", headers=warehouse, json=body)).json()
    async with warehouse_desk(live_server, chromium) as page:
        assert await page.locator("#wh-nav button[aria-current=page]").text_content() == "库存"
        await page.screenshot(path=str(DOCS / "warehouse-1440.png"))
        await page.fill("#wh-q", unit["serial"])
        await page.press("#wh-q", "Enter")
        await page.locator("a.unit-link", has_text=unit["serial"]).click()
        await page.locator("#unit-title", has_text=unit["serial"]).wait_for()
        shown = await page.locator("#wh-main").text_content() or ""
        assert unit["item_name"] in shown
        assert unit["location_name"] in shown
        assert await page.locator("tr.history-row").count() >= 1


async def _card(page: Page, loan_id: str, stage: str) -> Any:
    card = page.locator(f".wh-column[data-stage='{stage}'] .wh-card[data-loan='{loan_id}']")
    await card.wait_for()
    return card


async def test_a_loan_moves_through_its_stages_from_the_board(client, live_server, chromium):
    h = {
        name: await auth_headers(client, name) for name in ("admin", "dispatcher", "warehouse", "engineer01")
    }
    world = await _loan_installed(client, h, "engineer01")
    loan = world["loan"]["id"]
    async with warehouse_desk(live_server, chromium) as page:
        await page.click("#wh-nav button[data-section=loans]")
        card = await _card(page, loan, "installed")
        await card.locator("input[name=waybill]").fill("SF7788")
        await card.locator("button[type=submit]").click()
        card = await _card(page, loan, "at_vendor")
        await card.locator("button", has_text="厂商已签收").click()
        card = await _card(page, loan, "at_vendor")
        await card.locator("span", has_text="RMA 厂商处").wait_for()  # redrawn at the case's new version
        await card.locator("form", has=page.locator("select")).locator("button").click()
        await _card(page, loan, "returned")

        # The engineer swaps back on site; the desk takes the backup in and records its wipe.
        repairs = await client.get("/api/stock/repairs", headers=h["warehouse"], params={"limit": 500})
        case = next(r for r in repairs.json()["items"] if r["loan_id"] == loan)
        assert (case["status"], case["waybill"]) == ("returned", "SF7788")
        visit = next(
            v
            for v in (
                await client.get(f"/api/work-orders/{world['order']['id']}", headers=h["dispatcher"])
            ).json()["visits"]
            if v["kind"] == "swap_back"
        )
        assignment = {"version": visit["version"], "engineer_id": world["engineer"]}
        assert (
            await client.put(
                f"/api/visits/{visit['id']}/assignment", headers=h["dispatcher"], json=assignment
            )
        ).status_code == 200
        await client.post(f"/api/visits/{visit['id']}/arrive", headers=h["engineer01"], json={})
        swapped = await client.post(
            "/api/stock/swap-backs", headers=h["engineer01"], json={"visit_id": visit["id"]}
        )
        assert swapped.status_code == 201, swapped.text

        await page.reload()
        card = await _card(page, loan, "swap_back")
        await card.locator("button[type=submit]").click()
        card = await _card(page, loan, "quarantined")
        await page.screenshot(path=str(DOCS / "warehouse-loans-1440.png"))
        await card.locator("input[name=method]").fill("DoD 5220.22-M")
        await card.locator("input[name=operator]").fill("王芳")
        await card.locator("button[type=submit]").click()
        await _card(page, loan, "closed")
    loans = await client.get(
        "/api/stock/loans", headers=h["dispatcher"], params={"work_order_id": world["order"]["id"]}
    )
    assert [item["status"] for item in loans.json()["items"]] == ["closed"]


async def test_tomorrows_restock_loads_with_one_click(client, live_server, chromium, clock):
    h = {name: await auth_headers(client, name) for name in ("admin", "dispatcher", "warehouse")}
    sku = f"RS-{uuid.uuid4().hex[:8]}"
    part = (
        await client.post(
            "/api/stock/items",
            headers=h["warehouse"],
            json={"sku": sku, "name": f"风扇 {sku}", "kind": "part"},
        )
    ).json()
    houses = (await client.get("/api/locations", headers=h["warehouse"], params={"kind": "warehouse"})).json()
    store = houses["items"][0]["id"]
    receive = {"kind": "receive", "item_id": part["id"], "quantity": 10, "to_location_id": store}
    assert (await client.post("/api/stock/moves", headers=h["warehouse"], json=receive)).status_code == 201
    me = await engineer_id(client, h["dispatcher"], "engineer03")
    customer, site = await customer_with_site(client, h["admin"])
    device = await asset(client, h["admin"], site, await contract(client, h["admin"], customer, kind="7x24"))
    order = await report(client, h["dispatcher"], site, device)
    await planned_visit(client, h["dispatcher"], order, me, required_parts=[{"sku": sku, "quantity": 3}])
    visit = (await client.get(f"/api/work-orders/{order['id']}", headers=h["dispatcher"])).json()["visits"][0]
    tomorrow = clock.now().astimezone(SHANGHAI).date() + timedelta(days=1)
    start = datetime.combine(tomorrow, datetime.min.time().replace(hour=10), SHANGHAI)
    moved = await client.put(
        f"/api/visits/{visit['id']}/assignment",
        headers=h["dispatcher"],
        json={"version": visit["version"], "engineer_id": me, "planned_start": start.isoformat()},
    )
    assert moved.status_code == 200, moved.text

    async with warehouse_desk(live_server, chromium) as page:
        await page.click("#wh-nav button[data-section=restock]")
        card = page.locator(f".restock[data-engineer='{me}']")
        await card.get_by_role("cell", name=sku, exact=True).wait_for()
        await card.locator("button.restock-transfer").click()
        await page.locator(f".restock[data-engineer='{me}'] .wh-ok").wait_for()
    vans = (
        await client.get("/api/locations", headers=h["warehouse"], params={"kind": "van", "limit": 500})
    ).json()
    van = next(v["id"] for v in vans["items"] if v["engineer_id"] == me)
    held = await client.get(
        "/api/stock/balances", headers=h["warehouse"], params={"location_id": van, "item_id": part["id"]}
    )
    assert [b["on_hand"] for b in held.json()["items"]] == [3]


async def test_an_import_with_two_bad_rows_is_reported_and_writes_nothing(
    client, live_server, chromium, tmp_path
):
    warehouse = await auth_headers(client, "warehouse")
    tag = uuid.uuid4().hex[:6].upper()
    path = tmp_path / "items.csv"
    path.write_text(
        "sku,name,kind\n"
        f"IM-{tag}-1,导入一 {tag},part\n"
        f"IM {tag} BAD,导入二,part\n"
        f"IM-{tag}-3,导入三 {tag},gadget\n"
        f"IM-{tag}-4,导入四 {tag},part\n",
        encoding="utf-8",
    )
    async with warehouse_desk(live_server, chromium) as page:
        await page.click("#wh-nav button[data-section=files]")
        await page.select_option("#import-form select[name=kind]", "items")
        await page.set_input_files("#import-form input[type=file]", str(path))
        await page.click("#import-form button[type=submit]")
        lines = page.locator("#import-report li")
        await lines.nth(1).wait_for()
        assert await lines.count() == 2
        assert "第 3 行" in (await lines.nth(0).text_content() or "")
        assert "第 4 行" in (await lines.nth(1).text_content() or "")
    found = await client.get("/api/stock/items", headers=warehouse, params={"q": tag})
    assert found.json()["items"] == []


async def test_a_label_sheet_prints_with_codes_that_scan(client, live_server, chromium, tmp_path):
    async with warehouse_desk(live_server, chromium) as page:
        await page.click("#wh-nav button[data-section=files]")
        async with page.expect_download() as waiting:
            await page.click("#print-unit-labels")
        download = await waiting.value
        saved = tmp_path / "labels.pdf"
        await download.save_as(saved)
    pdf = saved.read_bytes()
    assert pdf.startswith(b"%PDF")
    text, codes = read_back(pdf, tmp_path / "sheet")
    assert codes
    assert all(code.startswith("FSD:UNIT:") for code in codes)
    assert codes[0].removeprefix("FSD:UNIT:") in text
