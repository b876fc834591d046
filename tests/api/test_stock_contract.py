"""The stock API as the warehouse desk reads it: answers name what they refer to, every step of
the loan, repair, count, defective-return and shipment lifecycles names the version it changes
(a stale one is 409 and changes nothing), and every stock list walks page by page."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from tests.support.api import assert_problem, auth_headers
from tests.support.scenario import asset, contract, customer_with_site, engineer_id, planned_visit, report

STALE = 99


@pytest.fixture(scope="module")
async def h(client) -> dict[str, dict[str, str]]:
    names = ("admin", "dispatcher", "warehouse", "engineer01", "engineer02", "engineer03")
    return {name: await auth_headers(client, name) for name in names}


async def _ok(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _get(client, headers, path: str, **params: Any) -> Any:
    return await _ok(await client.get(path, headers=headers, params=params), 200)


async def _stale(client, headers, path: str, body: dict[str, Any], current: int) -> None:
    """The step with a stale version: 409 naming the current one."""
    problem = assert_problem(
        await client.post(path, headers=headers, json={**body, "version": STALE}), 409, "version-conflict"
    )
    assert problem["current_version"] == current


async def _locations(client, h, kind: str) -> list[dict[str, Any]]:
    page = await _get(client, h["warehouse"], "/api/locations", kind=kind, limit=500)
    found: list[dict[str, Any]] = page["items"]
    return found


async def _item(client, h, kind: str = "part") -> dict[str, Any]:
    sku = f"C-{uuid.uuid4().hex[:10]}"
    body = {"sku": sku, "name": f"测试件 {sku}", "kind": kind}
    found: dict[str, Any] = await _ok(
        await client.post("/api/stock/items", headers=h["warehouse"], json=body)
    )
    return found


async def _loan_installed(client, h, engineer: str) -> dict[str, Any]:
    """A critical order whose backup was proposed, approved and installed: the loan is open."""
    admin, dispatcher = h["admin"], h["dispatcher"]
    customer, site = await customer_with_site(client, admin)
    device = await asset(client, admin, site, await contract(client, admin, customer, kind="7x24"))
    order = await report(client, dispatcher, site, device, severity="critical")
    me = await engineer_id(client, dispatcher, engineer)
    await planned_visit(client, dispatcher, order, me)
    proposal = await _ok(
        await client.post(
            "/api/stock/backup-requests",
            headers=dispatcher,
            json={"work_order_id": order["id"], "reason": "主板返修"},
        )
    )
    loan = proposal["loan"]
    path = f"/api/stock/loans/{loan['id']}/approve"
    await _stale(client, dispatcher, path, {}, loan["version"])
    loans = await _get(client, dispatcher, "/api/stock/loans", work_order_id=order["id"])
    assert [item["status"] for item in loans["items"]] == ["proposed"]  # nothing changed
    approved = await _ok(await client.post(path, headers=dispatcher, json={"version": loan["version"]}))
    assert approved["status"] == "approved"
    visit = proposal["visit_id"]
    await _ok(
        await client.put(
            f"/api/visits/{visit}/assignment", headers=dispatcher, json={"version": 1, "engineer_id": me}
        ),
        200,
    )
    await _ok(await client.post(f"/api/visits/{visit}/arrive", headers=h[engineer], json={}), 200)
    installed = await _ok(
        await client.post(
            "/api/stock/backup-installations",
            headers=h[engineer],
            json={"visit_id": visit, "serial": proposal["serial"], "signed_by": "李伟"},
        )
    )
    return {"order": order, "loan": installed, "site": site, "device": device, "engineer": me}


async def test_a_loan_and_its_repair_take_each_step_at_the_version_they_name(client, h, clock):
    warehouse, dispatcher = h["warehouse"], h["dispatcher"]
    first = await _loan_installed(client, h, "engineer01")
    second = await _loan_installed(client, h, "engineer02")

    # Loans name the backup's serial and model.
    loans = await _get(client, dispatcher, "/api/stock/loans", limit=500)
    listed = next(loan for loan in loans["items"] if loan["id"] == first["loan"]["id"])
    assert listed["serial"]
    assert listed["item_name"]
    assert listed["item_sku"]
    assert listed["overdue"] is False

    cases = await _get(client, warehouse, "/api/stock/repairs", work_order_id=first["order"]["id"])
    case = cases["items"][0]
    assert case["serial"] == first["device"]["serial"]
    assert case["days_at_vendor"] is None
    base = f"/api/stock/repairs/{case['id']}"
    await _stale(client, warehouse, f"{base}/ship", {"waybill": "SF-STALE"}, case["version"])
    again = await _get(client, warehouse, "/api/stock/repairs", work_order_id=first["order"]["id"])
    assert again["items"][0]["status"] == "awaiting_shipment"
    shipped = await _ok(
        await client.post(
            f"{base}/ship", headers=warehouse, json={"waybill": "SF1", "version": case["version"]}
        )
    )
    await _stale(client, warehouse, f"{base}/vendor-received", {}, shipped["version"])
    at_vendor = await _ok(
        await client.post(f"{base}/vendor-received", headers=warehouse, json={"version": shipped["version"]})
    )
    clock.advance(timedelta(days=3, hours=1))
    for name in h:  # tokens expire meanwhile
        h[name] = await auth_headers(client, name)
    warehouse, dispatcher = h["warehouse"], h["dispatcher"]
    cases = await _get(client, warehouse, "/api/stock/repairs", status="at_vendor")
    assert next(c for c in cases["items"] if c["id"] == case["id"])["days_at_vendor"] == 3
    house = (await _locations(client, h, "warehouse"))[0]
    # `returned` takes the version like every other step, and still the warehouse it reached.
    await _stale(client, warehouse, f"{base}/returned", {"warehouse_id": house["id"]}, at_vendor["version"])
    back = await _ok(
        await client.post(
            f"{base}/returned",
            headers=warehouse,
            json={"warehouse_id": house["id"], "version": at_vendor["version"]},
        )
    )
    assert back["case"]["status"] == "returned"

    # The other repair is written off: the same rule.
    other = (await _get(client, warehouse, "/api/stock/repairs", work_order_id=second["order"]["id"]))[
        "items"
    ][0]
    path = f"/api/stock/repairs/{other['id']}/write-off"
    await _stale(client, warehouse, path, {"note": "unrepairable"}, other["version"])
    written = await _ok(
        await client.post(path, headers=warehouse, json={"note": "unrepairable", "version": other["version"]})
    )
    assert written["status"] == "written_off"

    # Swap-back, then the backup unit's own steps name the unit's version.
    swap_visit = back["swap_back_visit_id"]
    assignment = {"version": 1, "engineer_id": first["engineer"]}
    await _ok(
        await client.put(f"/api/visits/{swap_visit}/assignment", headers=dispatcher, json=assignment), 200
    )
    await _ok(await client.post(f"/api/visits/{swap_visit}/arrive", headers=h["engineer01"], json={}), 200)
    await _ok(
        await client.post("/api/stock/swap-backs", headers=h["engineer01"], json={"visit_id": swap_visit})
    )
    unit_id = first["loan"]["unit_id"]
    unit = (await _get(client, warehouse, f"/api/stock/units/{unit_id}/history"))["unit"]
    assert unit["state"] == "quarantined"
    await _stale(
        client,
        warehouse,
        f"/api/stock/units/{unit_id}/back-in-stock",
        {"warehouse_id": house["id"]},
        unit["version"],
    )
    assert (await _get(client, warehouse, f"/api/stock/units/{unit_id}/history"))["unit"] == unit
    unit = await _ok(
        await client.post(
            f"/api/stock/units/{unit_id}/back-in-stock",
            headers=warehouse,
            json={"warehouse_id": house["id"], "version": unit["version"]},
        )
    )
    assert (unit["location_id"], unit["location_name"]) == (house["id"], house["name"])
    wipe = {"method": "DoD 5220.22-M", "operator": "王芳"}
    await _stale(client, warehouse, f"/api/stock/units/{unit_id}/wipe", wipe, unit["version"])
    wiped = await _ok(
        await client.post(
            f"/api/stock/units/{unit_id}/wipe", headers=warehouse, json={**wipe, "version": unit["version"]}
        )
    )
    assert wiped["state"] == "available"
    history = await _get(client, warehouse, f"/api/stock/units/{unit_id}/history")
    assert all(m["item_name"] for m in history["moves"])
    assert any(m["to_location_name"] == house["name"] for m in history["moves"])


async def _swap(client, h, ctx: dict[str, Any], board: dict[str, Any], serial: str) -> dict[str, Any]:
    house = (await _locations(client, h, "warehouse"))[0]["id"]
    van = next(v["id"] for v in await _locations(client, h, "van") if v["engineer_id"] == ctx["engineer"])
    unit = await _ok(
        await client.post(
            "/api/stock/units",
            headers=h["warehouse"],
            json={"item_id": board["id"], "serial": f"{serial}-NEW", "location_id": house},
        )
    )
    lines = [{"item_id": board["id"], "unit_id": unit["id"]}]
    transfer = {"from_location_id": house, "to_location_id": van, "lines": lines}
    await _ok(await client.post("/api/stock/transfers", headers=h["warehouse"], json=transfer))
    body = {
        "visit_id": ctx["visit"]["id"],
        "installed_serial": f"{serial}-NEW",
        "removed_serial": f"{serial}-OLD",
    }
    swap: dict[str, Any] = await _ok(
        await client.post("/api/stock/part-swaps", headers=h["engineer03"], json=body)
    )
    return swap


async def test_counts_shipments_and_defective_returns_name_their_version(client, h):
    warehouse = h["warehouse"]
    admin, dispatcher = h["admin"], h["dispatcher"]
    customer, site = await customer_with_site(client, admin)
    device = await asset(client, admin, site, await contract(client, admin, customer, kind="7x24"))
    order = await report(client, dispatcher, site, device)
    me = await engineer_id(client, dispatcher, "engineer03")
    visit = await planned_visit(client, dispatcher, order, me)
    await _ok(await client.post(f"/api/visits/{visit['id']}/arrive", headers=h["engineer03"], json={}), 200)
    board = await _item(client, h, kind="device")
    ctx = {"visit": visit, "engineer": me}
    swap = await _swap(client, h, ctx, board, "MB-A")
    await _swap(client, h, ctx, board, "MB-B")
    assert (swap["item_name"], swap["overdue"]) == (board["name"], False)
    assert swap["bin_location_name"]
    path = f"/api/stock/part-swaps/{swap['id']}/return"
    await _stale(client, warehouse, path, {"waybill": "SF-R1"}, swap["version"])
    open_returns = await _get(client, warehouse, "/api/stock/part-swaps", open_returns=True, limit=500)
    assert swap["id"] in {s["id"] for s in open_returns["items"]}
    returned = await _ok(
        await client.post(path, headers=warehouse, json={"waybill": "SF-R1", "version": swap["version"]})
    )
    assert returned["return_waybill"] == "SF-R1"
    assert returned["version"] == swap["version"] + 1

    # A blind count: entering, submitting and approving each name the count's version.
    part = await _item(client, h)
    van = next(v["id"] for v in await _locations(client, h, "van") if v["engineer_id"] == me)
    receive = {"kind": "receive", "item_id": part["id"], "quantity": 4, "to_location_id": van}
    await _ok(await client.post("/api/stock/moves", headers=warehouse, json=receive))
    count = await _ok(await client.post("/api/stock/counts", headers=warehouse, json={"engineer_id": me}))
    assert count["engineer_name"]
    assert count["location_name"]
    base = f"/api/stock/counts/{count['id']}"
    lines = {"lines": [{"item_id": part["id"], "counted": 3}]}
    await _stale(client, h["engineer03"], f"{base}/lines", lines, count["version"])
    assert (await _get(client, warehouse, base))["lines"] == []
    entered = await _ok(
        await client.post(
            f"{base}/lines", headers=h["engineer03"], json={**lines, "version": count["version"]}
        )
    )
    assert entered["lines"][0]["item_name"] == part["name"]
    await _stale(client, h["engineer03"], f"{base}/submit", {}, entered["version"])
    assert (await _get(client, warehouse, base))["status"] == "open"
    submitted = await _ok(
        await client.post(f"{base}/submit", headers=h["engineer03"], json={"version": entered["version"]})
    )
    await _stale(client, warehouse, f"{base}/approve", {"reason": "月度盘点"}, submitted["version"])
    balance = await _get(client, warehouse, "/api/stock/balances", location_id=van, item_id=part["id"])
    assert balance["items"][0]["on_hand"] == 4  # no adjustment from the refused approval
    approved = await _ok(
        await client.post(
            f"{base}/approve", headers=warehouse, json={"reason": "月度盘点", "version": submitted["version"]}
        )
    )
    assert approved["count"]["status"] == "approved"
    listed = await _get(client, warehouse, "/api/stock/counts", status="approved")
    assert count["id"] in {c["id"] for c in listed["items"]}

    # A shipment's arrival names the shipment's version; its lines name the parts.
    house = (await _locations(client, h, "warehouse"))[0]
    shipment = await _ok(
        await client.post(
            "/api/stock/shipments",
            headers=warehouse,
            json={
                "waybill": "SF-T1",
                "eta": "2026-03-05T10:00:00+08:00",
                "to_location_id": house["id"],
                "lines": [{"item_id": part["id"], "quantity": 2}],
            },
        )
    )
    assert shipment["destination_name"] == house["name"]
    assert [(li["item_sku"], li["quantity"]) for li in shipment["lines"]] == [(part["sku"], 2)]
    path = f"/api/stock/shipments/{shipment['id']}/arrival"
    await _stale(client, warehouse, path, {}, shipment["version"])
    waiting = await _get(client, warehouse, "/api/stock/shipments", destination_id=house["id"])
    assert shipment["id"] in {s["id"] for s in waiting["items"]}
    arrived = await _ok(await client.post(path, headers=warehouse, json={"version": shipment["version"]}))
    assert arrived["lines"] == []


async def test_answers_name_items_locations_and_engineers(client, h):
    warehouse = h["warehouse"]
    vans = await _locations(client, h, "van")
    assert all(v["engineer_name"] for v in vans if v["engineer_id"])
    units = await _get(client, warehouse, "/api/stock/units", limit=5)
    unit = units["items"][0]
    assert unit["item_sku"]
    assert unit["item_name"]
    assert unit["location_name"]
    # Search by part of a serial.
    found = await _get(client, warehouse, "/api/stock/units", q=unit["serial"][2:-1])
    assert unit["id"] in {u["id"] for u in found["items"]}
    # Balances in vans carry the engineer; search finds a balance by SKU, name or a held serial.
    in_vans = await _get(client, warehouse, "/api/stock/balances", location_kind="van", limit=20)
    assert in_vans["items"]
    assert all(b["engineer_name"] and b["location_kind"] == "van" for b in in_vans["items"])
    by_serial = await _get(client, warehouse, "/api/stock/balances", q=unit["serial"])
    assert (unit["item_id"], unit["location_id"]) in {
        (b["item_id"], b["location_id"]) for b in by_serial["items"]
    }
    by_name = await _get(client, warehouse, "/api/stock/balances", q=unit["item_name"], limit=500)
    assert {b["item_name"] for b in by_name["items"]} == {unit["item_name"]}
    house = (await _locations(client, h, "warehouse"))[0]
    point = house["point"]["coordinates"]
    nearest = await _get(
        client, h["dispatcher"], "/api/stock/nearest", item_id=unit["item_id"], lon=point[0], lat=point[1]
    )
    assert nearest["items"]
    assert all(n["location_name"] and n["item_name"] == unit["item_name"] for n in nearest["items"])


LISTS: list[tuple[str, dict[str, Any]]] = [
    ("/api/locations", {}),
    ("/api/stock/units", {}),
    ("/api/stock/balances", {}),
    ("/api/stock/moves", {}),
    ("/api/stock/loans", {}),
    ("/api/stock/repairs", {}),
    ("/api/stock/part-swaps", {}),
    ("/api/stock/shipments", {}),
    ("/api/stock/levels", {}),
    ("/api/stock/reorder-suggestions", {}),
    ("/api/stock/counts", {}),
]


async def test_every_stock_list_walks_two_pages(client, h):
    warehouse = h["warehouse"]
    house = (await _locations(client, h, "warehouse"))[0]["id"]
    for _ in range(2):
        part = await _item(client, h)
        level = {"item_id": part["id"], "location_id": house, "min_quantity": 5, "max_quantity": 10}
        await _ok(await client.put("/api/stock/levels", headers=warehouse, json=level), 200)
        shipment = {
            "waybill": f"SF-{part['sku']}",
            "eta": "2026-03-06T10:00:00+08:00",
            "to_location_id": house,
            "lines": [{"item_id": part["id"], "quantity": 1}],
        }
        await _ok(await client.post("/api/stock/shipments", headers=warehouse, json=shipment))
    someone = await engineer_id(client, h["dispatcher"], "engineer02")
    await _ok(await client.post("/api/stock/counts", headers=warehouse, json={"engineer_id": someone}))
    for path, params in LISTS:
        first = await _get(client, warehouse, path, limit=1, **params)
        assert len(first["items"]) == 1, path
        assert first["next_cursor"], path
        second = await _get(client, warehouse, path, limit=1, cursor=first["next_cursor"], **params)
        assert len(second["items"]) == 1, path
        assert second["items"][0] != first["items"][0], path
        # A cursor pages only the list it came from.
        other = "/api/stock/units" if path != "/api/stock/units" else "/api/locations"
        borrowed = await client.get(other, headers=warehouse, params={"cursor": first["next_cursor"]})
        assert_problem(borrowed, 422, "invalid-input")
    # Lists computed per request (alerts, restock lists) answer on the same contract.
    for path in ("/api/stock/alerts", "/api/stock/restock-lists"):
        page = await _get(client, warehouse, path, limit=1)
        assert set(page) == {"items", "next_cursor"}, path
