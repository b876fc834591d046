"""An engineer's steps on a visit name the version they change: a stale one is refused with
409 and the current version, and changes nothing; without one the step applies as before (the
engineer app's offline steps go through the sync protocol, which keeps conflicts its own way)."""

from __future__ import annotations

from tests.support.api import assert_problem, auth_headers
from tests.support.scenario import asset, contract, customer_with_site, engineer_id, planned_visit, report


async def test_stale_version_is_refused_and_changes_nothing(client) -> None:
    admin = await auth_headers(client, "admin")
    dispatcher = await auth_headers(client, "dispatcher")
    customer, site = await customer_with_site(client, admin)
    unit = await asset(client, admin, site, await contract(client, admin, customer, kind="7x24"))
    order = await report(client, dispatcher, site, unit)
    visit = await planned_visit(
        client, dispatcher, order, await engineer_id(client, dispatcher, "engineer01")
    )
    me = await auth_headers(client, "engineer01")
    url = f"/api/visits/{visit['id']}"

    stale = await client.post(f"{url}/start-travel", headers=me, json={"version": visit["version"] - 1})
    problem = assert_problem(stale, 409, "version-conflict")
    assert problem["current_version"] == visit["version"]
    detail = (await client.get(f"/api/work-orders/{order['id']}", headers=dispatcher)).json()
    assert detail["visits"][0]["status"] == "assigned"

    travelling = await client.post(f"{url}/start-travel", headers=me, json={"version": visit["version"]})
    assert travelling.status_code == 200, travelling.text
    moved = travelling.json()
    assert moved["status"] == "en_route"
    assert moved["version"] > visit["version"]

    # The step before is now stale for arriving; without a version the step still applies.
    point = {"type": "Point", "coordinates": [113.66, 34.76]}
    late = await client.post(
        f"{url}/arrive", headers=me, json={"location": point, "version": visit["version"]}
    )
    assert_problem(late, 409, "version-conflict")
    arrived = await client.post(f"{url}/arrive", headers=me, json={"location": point})
    assert arrived.status_code == 200, arrived.text
    stale_finish = await client.post(
        f"{url}/finish", headers=me, json={"outcome": "resolved", "version": moved["version"]}
    )
    assert_problem(stale_finish, 409, "version-conflict")
