"""Answers that name a customer, site or person carry its name beside its id, read from the record
itself (a renamed customer shows its new name)."""

from __future__ import annotations

from tests.support.api import auth_headers
from tests.support.scenario import asset, contract, customer_with_site, engineer_id, planned_visit, report


async def test_sites_assets_and_contracts_name_their_customer_and_site(client) -> None:
    admin = await auth_headers(client, "admin")
    customer, site = await customer_with_site(client, admin)
    deal = await contract(client, admin, customer, kind="7x24")
    unit = await asset(client, admin, site, deal)
    assert site["customer_name"] == customer["name"]
    assert unit["site_name"] == site["name"]
    assert deal["customer_name"] == customer["name"]

    renamed = await client.patch(
        f"/api/customers/{customer['id']}",
        headers=admin,
        json={"version": customer["version"], "name": "改名后的客户"},
    )
    assert renamed.status_code == 200, renamed.text
    listed = (await client.get("/api/sites", headers=admin, params={"customer_id": customer["id"]})).json()
    assert [s["customer_name"] for s in listed["items"]] == ["改名后的客户"]
    one = (await client.get(f"/api/contracts/{deal['id']}", headers=admin)).json()
    assert one["customer_name"] == "改名后的客户"
    assets = (await client.get("/api/assets", headers=admin, params={"site_id": site["id"]})).json()
    assert [a["site_name"] for a in assets["items"]] == [site["name"]]


async def test_work_orders_name_engineers_note_authors_and_event_actors(client) -> None:
    admin = await auth_headers(client, "admin")
    dispatcher = await auth_headers(client, "dispatcher")
    customer, site = await customer_with_site(client, admin)
    unit = await asset(client, admin, site, await contract(client, admin, customer, kind="7x24"))
    order = await report(client, dispatcher, site, unit)
    engineer = await engineer_id(client, dispatcher, "engineer01")
    visit = await planned_visit(client, dispatcher, order, engineer)
    me = await auth_headers(client, "engineer01")
    desk = (await client.get("/api/users/me", headers=dispatcher)).json()
    was = (await client.get(f"/api/users/{engineer}", headers=admin)).json()["display_name"]
    assert visit["engineer_name"] == was
    assert visit["partner_engineer_name"] is None

    noted = await client.post(f"/api/visits/{visit['id']}/notes", headers=me, json={"body": "到达前电话联系"})
    assert noted.status_code == 201, noted.text
    assert noted.json()["author_name"] == was
    detail = (await client.get(f"/api/work-orders/{order['id']}", headers=dispatcher)).json()
    assert {e["actor_name"] for e in detail["timeline"] if e["actor_id"] == desk["id"]} == {
        desk["display_name"]
    }

    renamed = await client.patch(
        f"/api/users/{engineer}", headers=admin, json={"display_name": "改名后的工程师"}
    )
    assert renamed.status_code == 200, renamed.text
    detail = (await client.get(f"/api/work-orders/{order['id']}", headers=dispatcher)).json()
    listed = (
        await client.get("/api/work-orders", headers=dispatcher, params={"q": order["problem_number"]})
    ).json()["items"]
    one = (await client.get(f"/api/visits/{visit['id']}", headers=me)).json()
    mine = (await client.get("/api/engineers/me/visits", headers=me)).json()["items"]
    for shown in (
        detail["visits"][0],
        listed[0]["visits"][0],
        one,
        next(v for v in mine if v["id"] == visit["id"]),
    ):
        assert shown["engineer_name"] == "改名后的工程师"
        assert [n["author_name"] for n in shown["notes"]] == ["改名后的工程师"]
