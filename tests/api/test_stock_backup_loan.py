"""The backup-device loan end to end through the API, and nearest stock against brute force."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.database import make_engine, make_sessionmaker
from core.geo import lonlat
from dispatch.engineers.models import Engineer
from inventory.models import Location, LocationKind, StockBalance, Unit, UnitState
from tests.support.api import assert_problem, auth_headers
from tests.support.scenario import (
    asset,
    clock_of,
    contract,
    customer_with_site,
    engineer_id,
    planned_visit,
    report,
)


@pytest.fixture(scope="module")
async def heads(client):
    return {
        name: await auth_headers(client, name) for name in ("admin", "dispatcher", "warehouse", "engineer01")
    }


async def _ok(response, status=201):
    assert response.status_code == status, response.text
    return response.json()


async def _assign_and_arrive(client, heads, visit_id, engineer):
    await _ok(
        await client.put(
            f"/api/visits/{visit_id}/assignment",
            headers=heads["dispatcher"],
            json={"version": 1, "engineer_id": engineer},
        ),
        200,
    )
    await _ok(await client.post(f"/api/visits/{visit_id}/arrive", headers=heads["engineer01"], json={}), 200)


async def test_backup_loan_from_fault_to_closed_loan(client, clock, heads):
    admin, dispatcher, warehouse, engineer = (
        heads["admin"],
        heads["dispatcher"],
        heads["warehouse"],
        heads["engineer01"],
    )
    customer, site = await customer_with_site(client, admin)
    row = await contract(client, admin, customer, kind="7x24")
    device = await asset(client, admin, site, row)
    order = await report(client, dispatcher, site, device, severity="critical")
    me = await engineer_id(client, dispatcher, "engineer01")
    await planned_visit(client, dispatcher, order, me)
    deadline = clock_of(order, "restore")["deadline"]

    # The unit came from the nearest holder by travel time.
    nearest = (
        await client.get(
            "/api/stock/nearest",
            headers=dispatcher,
            params={
                "model": device["model"],
                "lon": site["point"]["coordinates"][0],
                "lat": site["point"]["coordinates"][1],
            },
        )
    ).json()["items"]
    # The engineer declares that the repair cannot finish within 48 h.
    clock.advance(timedelta(minutes=5))
    proposal = await _ok(
        await client.post(
            "/api/stock/backup-requests",
            headers=engineer,
            json={"work_order_id": order["id"], "reason": "主板需原厂返修，48 小时内无法修复"},
        )
    )
    loan = proposal["loan"]
    assert loan["status"] == "proposed"
    assert proposal["window_end"] == deadline
    serial = proposal["serial"]
    # The unit came from the nearest holder by travel time.
    assert (proposal["from_location"], serial) == (nearest[0]["code"], nearest[0]["serial"])
    # A second request returns the same loan, nothing reserved twice.
    again = await _ok(
        await client.post(
            "/api/stock/backup-requests",
            headers=dispatcher,
            json={"work_order_id": order["id"], "reason": "again"},
        )
    )
    assert again["loan"]["id"] == loan["id"]

    # Installation needs the dispatcher's approval first.
    await _assign_and_arrive(client, heads, proposal["visit_id"], me)
    early = await client.post(
        "/api/stock/backup-installations",
        headers=engineer,
        json={"visit_id": proposal["visit_id"], "serial": serial, "signed_by": "李伟"},
    )
    assert_problem(early, 409, "illegal-stock-step")
    await _ok(await client.post(f"/api/stock/loans/{loan['id']}/approve", headers=dispatcher), 201)
    wrong = await client.post(
        "/api/stock/backup-installations",
        headers=engineer,
        json={"visit_id": proposal["visit_id"], "serial": "NOT-THIS-ONE", "signed_by": "李伟"},
    )
    assert_problem(wrong, 422, "invalid-input")
    installed = await _ok(
        await client.post(
            "/api/stock/backup-installations",
            headers=engineer,
            json={
                "visit_id": proposal["visit_id"],
                "serial": serial,
                "signed_by": "李伟",
                "configuration": "2×Xeon, 256 GB, RAID 5",
            },
        )
    )
    assert installed["status"] == "open"
    assert installed["signed_by"] == "李伟"
    now_order = (await client.get(f"/api/work-orders/{order['id']}", headers=dispatcher)).json()
    assert now_order["status"] == "backup_installed"
    restore = clock_of(now_order, "restore")
    assert restore["state"] == "met"

    # The faulty unit goes through repair.
    cases = (
        await client.get("/api/stock/repairs", headers=warehouse, params={"work_order_id": order["id"]})
    ).json()["items"]
    assert len(cases) == 1
    case = cases[0]
    await _ok(
        await client.post(
            f"/api/stock/repairs/{case['id']}/ship", headers=warehouse, json={"waybill": "SF123456"}
        )
    )
    await _ok(await client.post(f"/api/stock/repairs/{case['id']}/vendor-received", headers=warehouse))
    warehouses = (await client.get("/api/locations", headers=warehouse, params={"kind": "warehouse"})).json()[
        "items"
    ]
    back = await _ok(
        await client.post(
            f"/api/stock/repairs/{case['id']}/returned",
            headers=warehouse,
            json={"warehouse_id": warehouses[0]["id"]},
        )
    )
    assert back["case"]["status"] == "returned"
    swap_visit = back["swap_back_visit_id"]
    assert swap_visit

    # Swap-back: repaired unit in, backup out (quarantined), the order resolved.
    await _assign_and_arrive(client, heads, swap_visit, me)
    swapped = await _ok(
        await client.post("/api/stock/swap-backs", headers=engineer, json={"visit_id": swap_visit})
    )
    assert swapped["status"] == "returning"
    assert (await client.get(f"/api/work-orders/{order['id']}", headers=dispatcher)).json()[
        "status"
    ] == "resolved"

    # Back in stock and wiped: the loan closes, the unit is available again.
    unit_id = installed["unit_id"]
    await _ok(
        await client.post(
            f"/api/stock/units/{unit_id}/back-in-stock",
            headers=warehouse,
            json={"warehouse_id": warehouses[0]["id"]},
        )
    )
    assert (
        await client.get("/api/stock/loans", headers=dispatcher, params={"work_order_id": order["id"]})
    ).json()["items"][0]["status"] == "returning"
    wiped = await _ok(
        await client.post(
            f"/api/stock/units/{unit_id}/wipe",
            headers=warehouse,
            json={"method": "NIST 800-88 purge", "operator": "王芳"},
        )
    )
    assert wiped["state"] == "available"
    closed = (
        await client.get("/api/stock/loans", headers=dispatcher, params={"work_order_id": order["id"]})
    ).json()["items"]
    assert closed[0]["status"] == "closed"

    history = (await client.get(f"/api/stock/units/{unit_id}/history", headers=warehouse)).json()
    kinds = [e["kind"] for e in history["events"]]
    for step in (
        "reserved",
        "loan_approved",
        "installed_on_loan",
        "collected",
        "back_in_stock",
        "wiped",
        "loan_closed",
    ):
        assert step in kinds, kinds
    assert [m["kind"] for m in history["moves"]][-4:] == ["reserve", "transfer", "return", "return"]
    faulty = (await client.get(f"/api/stock/units/{case['unit_id']}/history", headers=warehouse)).json()
    assert [e["kind"] for e in faulty["events"]] == [
        "taken_in",
        "rma_shipped",
        "rma_at_vendor",
        "rma_returned",
        "reinstalled",
    ]

    # The reinstalled unit fails again: it is at the customer's site, not in stock, so the next
    # loan takes it in as it did the first time.
    second = await report(client, dispatcher, site, device, severity="critical")
    await planned_visit(client, dispatcher, second, me)
    clock.advance(timedelta(minutes=5))
    proposal = await _ok(
        await client.post(
            "/api/stock/backup-requests",
            headers=engineer,
            json={"work_order_id": second["id"], "reason": "再次故障，需返厂"},
        )
    )
    await _ok(
        await client.post(f"/api/stock/loans/{proposal['loan']['id']}/approve", headers=dispatcher), 201
    )
    await _assign_and_arrive(client, heads, proposal["visit_id"], me)
    await _ok(
        await client.post(
            "/api/stock/backup-installations",
            headers=engineer,
            json={"visit_id": proposal["visit_id"], "serial": proposal["serial"], "signed_by": "李伟"},
        )
    )
    faulty = (await client.get(f"/api/stock/units/{case['unit_id']}/history", headers=warehouse)).json()
    assert [e["kind"] for e in faulty["events"]][-2:] == ["reinstalled", "taken_in"]
    assert faulty["moves"][-1]["kind"] == "transfer"


async def test_stock_errors_are_problems_and_roles_hold(client, heads):
    engineer, warehouse = heads["engineer01"], heads["warehouse"]
    items = (await client.get("/api/stock/items", headers=engineer, params={"kind": "part"})).json()["items"]
    psu = next(i for i in items if i["sku"] == "PSU-750W")
    warehouses = (await client.get("/api/locations", headers=warehouse, params={"kind": "warehouse"})).json()[
        "items"
    ]
    east, other = warehouses[0]["id"], warehouses[1]["id"]
    stock = (
        await client.get(
            "/api/stock/balances", headers=warehouse, params={"item_id": psu["id"], "location_id": east}
        )
    ).json()["items"]
    too_many = stock[0]["free"] + 1
    refused = await client.post(
        "/api/stock/moves",
        headers={**warehouse, "Idempotency-Key": "move-too-many"},
        json={
            "kind": "transfer",
            "item_id": psu["id"],
            "quantity": too_many,
            "from_location_id": east,
            "to_location_id": other,
        },
    )
    assert_problem(refused, 409, "out-of-stock")
    moved = await client.post(
        "/api/stock/moves",
        headers={**warehouse, "Idempotency-Key": "move-one"},
        json={
            "kind": "transfer",
            "item_id": psu["id"],
            "quantity": 1,
            "from_location_id": east,
            "to_location_id": other,
        },
    )
    assert moved.status_code == 201, moved.text
    replay = await client.post(
        "/api/stock/moves",
        headers={**warehouse, "Idempotency-Key": "move-one"},
        json={
            "kind": "transfer",
            "item_id": psu["id"],
            "quantity": 1,
            "from_location_id": east,
            "to_location_id": other,
        },
    )
    assert replay.headers.get("idempotency-replayed") == "true"
    after = (
        await client.get(
            "/api/stock/balances", headers=warehouse, params={"item_id": psu["id"], "location_id": east}
        )
    ).json()["items"]
    assert after[0]["on_hand"] == stock[0]["on_hand"] - 1
    # An engineer's consumption of parts the books do not show: refused online, accepted from the device.
    _, site = await customer_with_site(client, heads["admin"])
    order = await report(client, heads["dispatcher"], site, None, asset_model="R750", asset_serial="SN-PSU-1")
    await planned_visit(
        client, heads["dispatcher"], order, await engineer_id(client, heads["dispatcher"], "engineer01")
    )
    body = {"item_id": psu["id"], "quantity": 50, "work_order_id": order["id"]}
    assert_problem(
        await client.post("/api/stock/consumptions", headers=engineer, json=body), 409, "out-of-stock"
    )
    lines = await _ok(
        await client.post("/api/stock/consumptions", headers=engineer, json={**body, "from_device": True})
    )
    assert lines[0]["kind"] == "adjust"
    mine = (await client.get("/api/stock/my-stock", headers=engineer)).json()["items"]
    assert all(b["on_hand"] >= 0 for b in mine)


async def test_nearest_stock_matches_brute_force_haversine(demo_db, client, heads):
    """The nearest holder of an item by straight-line distance, computed in Python."""
    engine = make_engine(demo_db, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session:
            units = list(
                (
                    await session.execute(
                        select(Unit).where(Unit.state == UnitState.AVAILABLE, Unit.customer_owned.is_(False))
                    )
                ).scalars()
            )
            item_id = units[0].item_id
            holders = {u.location_id for u in units if u.item_id == item_id}
            locations = {
                loc.id: loc
                for loc in (await session.execute(select(Location).where(Location.id.in_(holders)))).scalars()
            }
            homes = {e.id: lonlat(e.home_base) for e in (await session.execute(select(Engineer))).scalars()}
            assert (await session.execute(select(StockBalance))).first() is not None
    finally:
        await engine.dispose()

    def point(loc):
        return homes[loc.engineer_id] if loc.kind is LocationKind.VAN else lonlat(loc.point)

    def haversine(a, b):
        lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
        h = (
            math.sin((lat2 - lat1) / 2) ** 2
            + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
        )
        return 2 * 6_371_008.8 * math.asin(math.sqrt(h))

    for target in [(113.62, 34.74), (113.75, 34.72), (113.55, 34.81), (113.68, 34.79), (113.60, 34.70)]:
        expected = sorted(locations.values(), key=lambda loc: haversine(point(loc), target))
        found = (
            await client.get(
                "/api/stock/nearest",
                headers=heads["dispatcher"],
                params={"item_id": str(item_id), "lon": target[0], "lat": target[1], "limit": 50},
            )
        ).json()["items"]
        assert found[0]["code"] == expected[0].code
        assert [f["code"] for f in found] == [loc.code for loc in expected]
        assert found[0]["metres"] == pytest.approx(haversine(point(expected[0]), target), rel=0.005)
