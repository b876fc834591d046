"""Core records through the API: lists, filters, map viewport, object-level access, versions."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support.api import assert_problem, auth_headers


async def _all_pages(client, url: str, headers, limit: int = 37, **filters: str) -> list[dict[str, Any]]:
    items, cursor = [], None
    while True:
        params = {"limit": limit, **filters} | ({"cursor": cursor} if cursor else {})
        response = await client.get(url, params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


async def test_demo_data_set_is_there(client, admin):
    sites = await _all_pages(client, "/api/sites", admin, limit=500)
    assert len(sites) == 200
    assert len(await _all_pages(client, "/api/assets", admin, limit=500)) == 400
    engineers = await _all_pages(client, "/api/engineers", admin, limit=500)
    assert len(engineers) == 30
    assert sum(e["employer_kind"] == "manufacturer" for e in engineers) == 2
    listed = await client.get("/api/locations", params={"kind": "warehouse"}, headers=admin)
    warehouses = listed.json()["items"]
    assert len(warehouses) == 3
    # Chinese text survives the round trip
    assert any("郑州市" in s["address"] for s in sites)


async def test_keyset_pages_cover_everything_once(client, dispatcher):
    sites = await _all_pages(client, "/api/sites", dispatcher, limit=37)
    ids = [s["id"] for s in sites]
    assert len(ids) == len(set(ids)) == 200
    assert [s["name"] for s in sites] == sorted(s["name"] for s in sites)


async def test_bbox_returns_exactly_the_sites_inside(client, dispatcher):
    everything = await _all_pages(client, "/api/sites", dispatcher, limit=500)
    west, south, east, north = 113.58, 34.70, 113.70, 34.78
    inside = await _all_pages(
        client, "/api/sites", dispatcher, limit=50, bbox=f"{west},{south},{east},{north}"
    )
    expected = {
        s["id"]
        for s in everything
        if west <= s["point"]["coordinates"][0] <= east and south <= s["point"]["coordinates"][1] <= north
    }
    assert 0 < len(expected) < 200
    assert {s["id"] for s in inside} == expected
    geojson = await client.get(
        "/api/sites/map", params={"bbox": f"{west},{south},{east},{north}"}, headers=dispatcher
    )
    assert geojson.json()["type"] == "FeatureCollection"
    assert {f["id"] for f in geojson.json()["features"]} == expected


@pytest.mark.parametrize("bbox", ["1,2,3", "a,b,c,d", "200,0,201,1", "10,50,20,40", "20,0,10,1"])
async def test_bad_bbox_is_a_clear_422(client, dispatcher, bbox):
    assert_problem(
        await client.get("/api/sites", params={"bbox": bbox}, headers=dispatcher), 422, "invalid-input"
    )


async def test_customer_contact_sees_only_their_organisation(client, admin):
    contact = await auth_headers(client, "customer01")
    me = (await client.get("/api/users/me", headers=contact)).json()
    own = me["customer_id"]
    customers = (await client.get("/api/customers", headers=contact)).json()["items"]
    assert [c["id"] for c in customers] == [own]
    sites = await _all_pages(client, "/api/sites", contact)
    assert sites
    assert {s["customer_id"] for s in sites} == {own}
    contracts = (await client.get("/api/contracts", headers=contact)).json()["items"]
    assert {c["customer_id"] for c in contracts} == {own}

    foreign_site = next(
        s for s in await _all_pages(client, "/api/sites", admin, limit=500) if s["customer_id"] != own
    )
    assert_problem(await client.get(f"/api/sites/{foreign_site['id']}", headers=contact), 404, "not-found")
    assert_problem(await client.get(f"/api/customers/{foreign_site['customer_id']}", headers=contact), 404)
    foreign_asset = (
        await client.get("/api/assets", params={"site_id": foreign_site["id"]}, headers=admin)
    ).json()
    for asset in foreign_asset["items"]:
        assert_problem(await client.get(f"/api/assets/{asset['id']}", headers=contact), 404)
    # asking for another organisation's records by filter yields nothing
    filtered = await client.get(
        "/api/sites", params={"customer_id": foreign_site["customer_id"]}, headers=contact
    )
    assert filtered.json()["items"] == []


async def test_engineer_reads_own_record_not_another(client, admin):
    engineer = await auth_headers(client, "engineer01")
    mine = (await client.get("/api/engineers/me", headers=engineer)).json()
    assert mine["username"] == "engineer01"
    assert (await client.get(f"/api/engineers/{mine['id']}", headers=engineer)).status_code == 200
    everyone = await _all_pages(client, "/api/engineers", admin, limit=500)
    other = next(e for e in everyone if e["username"] == "engineer02")
    assert_problem(await client.get(f"/api/engineers/{other['id']}", headers=engineer), 404)
    assert_problem(await client.get("/api/engineers", headers=engineer), 403, "forbidden")


async def test_create_patch_with_versions(client, admin):
    customer = await client.post(
        "/api/customers", json={"customer_number": "C9001", "name": "郑州测试科技有限公司"}, headers=admin
    )
    assert customer.status_code == 201, customer.text
    site = await client.post(
        "/api/sites",
        headers=admin,
        json={
            "customer_id": customer.json()["id"],
            "name": "测试机房",
            "address": "河南省郑州市金水区花园路 1 号",
            "point": {"type": "Point", "coordinates": [113.66, 34.78]},
            "contact_name": "张伟",
            "contact_phone": "13800000000",
        },
    )
    assert site.status_code == 201, site.text
    body = site.json()
    assert body["version"] == 1
    changed = await client.patch(
        f"/api/sites/{body['id']}", headers=admin, json={"version": 1, "name": "测试机房二号"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2
    assert changed.json()["name"] == "测试机房二号"
    stale = await client.patch(
        f"/api/sites/{body['id']}", headers=admin, json={"version": 1, "name": "旧版本"}
    )
    assert assert_problem(stale, 409, "version-conflict")["current_version"] == 2
    current = (await client.get(f"/api/sites/{body['id']}", headers=admin)).json()
    assert current["name"] == "测试机房二号"
    # a customer still referenced by a site cannot be deleted
    in_use = await client.delete(f"/api/customers/{customer.json()['id']}", headers=admin)
    assert_problem(in_use, 409)


async def test_contract_defaults_to_the_severity_table(client, admin):
    customers = (await client.get("/api/customers", headers=admin)).json()["items"]
    created = await client.post(
        "/api/contracts",
        headers=admin,
        json={
            "customer_id": customers[0]["id"],
            "contract_number": "SC-TEST-1",
            "name": "7x24 合同",
            "calendar_kind": "7x24",
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
        },
    )
    assert created.status_code == 201, created.text
    targets = {(t["severity"], t["measure"]): t for t in created.json()["targets"]}
    assert targets[("critical", "on_site")]["minutes"] == 12 * 60
    assert targets[("critical", "restore")]["minutes"] == 48 * 60
    assert targets[("critical", "response")]["minutes"] == 15
    bad_hours = await client.patch(
        f"/api/contracts/{created.json()['id']}",
        headers=admin,
        json={"version": 1, "business_hours": {"mon": [["17:00", "09:00"]]}},
    )
    assert_problem(bad_hours, 422, "invalid-input")


async def test_staff_reads_of_contact_data_are_audited(client, dispatcher, demo_db):
    site = (await client.get("/api/sites", params={"limit": 1}, headers=dispatcher)).json()["items"][0]
    await client.get(f"/api/sites/{site['id']}", headers=dispatcher, params={"_": uuid.uuid4().hex})
    engine = create_async_engine(demo_db)
    async with engine.connect() as conn:
        rows = (
            (
                await conn.execute(
                    text(
                        "SELECT reads FROM audit_log"
                        " WHERE action = 'GET /api/sites/{site_id:uuid}' AND actor_role = 'dispatcher'"
                    )
                )
            )
            .scalars()
            .all()
        )
    await engine.dispose()
    assert any(r[0]["ids"] == [site["id"]] for r in rows)
