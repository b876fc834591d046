"""A warehouse moving onto the system: CSV imports of items, units and opening balances checked
row by row, all or nothing, idempotent; CSV exports of balances and movements that Excel opens
with the Chinese intact."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import pytest

from tests.support.api import assert_problem, auth_headers


@pytest.fixture(scope="module")
async def h(client) -> dict[str, dict[str, str]]:
    return {name: await auth_headers(client, name) for name in ("warehouse", "dispatcher")}


async def _import(client, h, kind: str, text: str, status: int = 201) -> Any:
    response = await client.post(f"/api/stock/imports/{kind}", headers=h["warehouse"], json={"csv": text})
    assert response.status_code == status, response.text
    return response.json()


async def _count(client, h, path: str, **params: Any) -> int:
    page = (await client.get(path, headers=h["warehouse"], params={**params, "limit": 500})).json()
    return len(page["items"])


async def test_items_units_and_opening_balances_import_once(client, h):
    tag = uuid.uuid4().hex[:6].upper()
    houses = (await client.get("/api/locations", headers=h["warehouse"], params={"kind": "warehouse"})).json()
    house = houses["items"][0]
    items = (
        "\ufeffsku,name,kind,model,data_bearing\n"
        f"PSU-{tag},电源模块 {tag},part,,false\n"
        f"SRV-{tag},备用服务器 {tag},device,R740-{tag},true\n"
    )
    done = await _import(client, h, "items", items)
    assert (done["applied"], done["created"], done["unchanged"], done["rejected"]) == (True, 2, 0, [])
    again = await _import(client, h, "items", items)
    assert (again["applied"], again["created"], again["unchanged"]) == (True, 0, 2)

    code = house["code"]
    units = "serial,sku,location_code\n" + "".join(f"SN-{tag}-{n},SRV-{tag},{code}\n" for n in (1, 2))
    assert (await _import(client, h, "units", units))["created"] == 2
    assert (await _import(client, h, "units", units))["unchanged"] == 2
    found = (await client.get("/api/stock/units", headers=h["warehouse"], params={"q": f"SN-{tag}"})).json()
    assert {u["serial"] for u in found["items"]} == {f"SN-{tag}-1", f"SN-{tag}-2"}
    assert {u["location_name"] for u in found["items"]} == {house["name"]}

    balances = f"sku,location_code,quantity\nPSU-{tag},{house['code']},12\n"
    assert (await _import(client, h, "balances", balances))["created"] == 1
    assert (await _import(client, h, "balances", balances))["unchanged"] == 1
    stock = (
        await client.get("/api/stock/balances", headers=h["warehouse"], params={"q": f"PSU-{tag}"})
    ).json()
    assert [(b["on_hand"], b["location_name"]) for b in stock["items"]] == [(12, house["name"])]
    moves = await client.get(
        "/api/stock/moves.csv", headers=h["warehouse"], params={"location_id": house["id"]}
    )
    assert moves.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(moves.content.decode("utf-8-sig"))))
    opening = [r for r in rows if r["sku"] == f"PSU-{tag}"]
    assert [(r["kind"], r["quantity"], r["reason"]) for r in opening] == [
        ("receive", "12", "opening balance (import)")
    ]


async def test_a_file_with_bad_rows_writes_nothing_and_says_which(client, h):
    tag = uuid.uuid4().hex[:6].upper()
    before = await _count(client, h, "/api/stock/items", q=tag)
    text = (
        "sku,name,kind\n"
        f"OK-{tag}-1,好的 {tag},part\n"
        f"BAD SKU {tag},坏的,part\n"
        f"OK-{tag}-2,好的二 {tag},widget\n"
        f"OK-{tag}-3,好的三 {tag},part\n"
    )
    report = await _import(client, h, "items", text)
    assert report["applied"] is False
    assert report["created"] == 0
    assert [r["line"] for r in report["rejected"]] == [3, 4]
    assert "SKU" in report["rejected"][0]["reason"]
    assert "kind" in report["rejected"][1]["reason"]
    assert await _count(client, h, "/api/stock/items", q=tag) == before
    # A header without the needed columns is refused as a whole.
    assert_problem(
        await client.post("/api/stock/imports/units", headers=h["warehouse"], json={"csv": "serial\nX\n"}),
        422,
    )
    assert_problem(
        await client.post("/api/stock/imports/other", headers=h["warehouse"], json={"csv": "a\n"}), 422
    )


async def test_balances_export_opens_in_excel_with_names(client, h):
    response = await client.get(
        "/api/stock/balances.csv", headers=h["warehouse"], params={"location_kind": "van"}
    )
    assert response.status_code == 200, response.text
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    page = (
        await client.get(
            "/api/stock/balances", headers=h["warehouse"], params={"location_kind": "van", "limit": 500}
        )
    ).json()
    assert len(rows) == len(page["items"])
    assert all(r["engineer"] and r["location_kind"] == "van" for r in rows)
    assert all(int(r["free"]) == int(r["on_hand"]) - int(r["reserved"]) for r in rows)
