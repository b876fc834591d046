"""Answers that name a customer or site carry its name beside its id, read from the record
itself (a renamed customer shows its new name)."""

from __future__ import annotations

from tests.support.api import auth_headers
from tests.support.scenario import asset, contract, customer_with_site


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
