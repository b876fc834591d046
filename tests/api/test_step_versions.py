"""Lifecycle steps that change an existing record name the version they change: a stale one is
refused with 409 `version-conflict` and the current version, and changes nothing; without one
(older clients) the step applies as before."""

from __future__ import annotations

import uuid

from tests.support.api import assert_problem, auth_headers
from tests.support.scenario import asset, contract, customer_with_site, engineer_id, planned_visit, report


async def test_a_user_change_with_a_stale_version_changes_nothing(client) -> None:
    admin = await auth_headers(client, "admin")
    name = f"wh-{uuid.uuid4().hex[:8]}"
    created = await client.post(
        "/api/users",
        headers=admin,
        json={"username": name, "display_name": name, "role": "warehouse", "password": "first-password-1"},
    )
    assert created.status_code == 201, created.text
    user = created.json()
    url = f"/api/users/{user['id']}"

    changed = await client.patch(
        url, headers=admin, json={"version": user["version"], "display_name": "仓库一"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] > user["version"]

    stale = await client.patch(url, headers=admin, json={"version": user["version"], "active": False})
    problem = assert_problem(stale, 409, "version-conflict")
    assert problem["current_version"] == changed.json()["version"]
    now = (await client.get(url, headers=admin)).json()
    assert (now["active"], now["display_name"], now["version"]) == (True, "仓库一", changed.json()["version"])

    # Without a version the change applies to whatever is current.
    unversioned = await client.patch(url, headers=admin, json={"display_name": "仓库二"})
    assert unversioned.status_code == 200, unversioned.text
    assert unversioned.json()["display_name"] == "仓库二"


async def test_revoking_or_reinstating_a_device_with_a_stale_version_changes_nothing(client) -> None:
    dispatcher = await auth_headers(client, "dispatcher")
    engineer = await auth_headers(client, "engineer03")
    registered = await client.post(
        "/api/sync/devices", headers=engineer, json={"device_id": str(uuid.uuid4()), "label": "测试手机"}
    )
    assert registered.status_code in {200, 201}, registered.text
    device = registered.json()
    url = f"/api/sync/devices/{device['id']}"

    suspended = await client.post(
        f"{url}/revoke",
        headers=dispatcher,
        json={"mode": "suspend", "reason": "核查", "version": device["version"]},
    )
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["version"] > device["version"]

    # Read before the suspension: both steps are refused and the device stays suspended.
    lost = await client.post(
        f"{url}/revoke",
        headers=dispatcher,
        json={"mode": "lost", "reason": "丢失", "version": device["version"]},
    )
    assert assert_problem(lost, 409, "version-conflict")["current_version"] == suspended.json()["version"]
    back = await client.post(f"{url}/reinstate", headers=dispatcher, json={"version": device["version"]})
    assert_problem(back, 409, "version-conflict")
    listed = (await client.get("/api/sync/devices", headers=dispatcher)).json()["items"]
    shown = next(d for d in listed if d["id"] == device["id"])
    assert (shown["status"], shown["revoke_reason"]) == ("suspended", "核查")

    reinstated = await client.post(
        f"{url}/reinstate", headers=dispatcher, json={"version": suspended.json()["version"]}
    )
    assert reinstated.status_code == 200, reinstated.text
    assert reinstated.json()["status"] == "active"


async def test_an_overrun_on_a_stale_visit_moves_nothing(client) -> None:
    admin = await auth_headers(client, "admin")
    dispatcher = await auth_headers(client, "dispatcher")
    customer, site = await customer_with_site(client, admin)
    unit = await asset(client, admin, site, await contract(client, admin, customer, kind="7x24"))
    order = await report(client, dispatcher, site, unit)
    visit = await planned_visit(
        client, dispatcher, order, await engineer_id(client, dispatcher, "engineer04")
    )
    url = f"/api/visits/{visit['id']}"

    stale = await client.post(
        f"{url}/overrun", headers=dispatcher, json={"extra_minutes": 60, "version": visit["version"] - 1}
    )
    assert assert_problem(stale, 409, "version-conflict")["current_version"] == visit["version"]
    unchanged = (await client.get(url, headers=dispatcher)).json()
    assert (unchanged["duration_minutes"], unchanged["version"]) == (
        visit["duration_minutes"],
        visit["version"],
    )

    longer = await client.post(
        f"{url}/overrun", headers=dispatcher, json={"extra_minutes": 60, "version": visit["version"]}
    )
    assert longer.status_code == 200, longer.text
    assert (await client.get(url, headers=dispatcher)).json()["duration_minutes"] == visit[
        "duration_minutes"
    ] + 60


async def test_warehouse_hours_on_a_stale_location_change_nothing(client) -> None:
    warehouse = await auth_headers(client, "warehouse")
    houses = (await client.get("/api/locations", headers=warehouse, params={"kind": "warehouse"})).json()[
        "items"
    ]
    house = houses[-1]
    url = f"/api/locations/{house['id']}/hours"
    before = (house["opens"], house["closes"])

    changed = await client.put(
        url, headers=warehouse, json={"opens": "07:00:00", "closes": "19:00:00", "version": house["version"]}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] > house["version"]
    stale = await client.put(
        url, headers=warehouse, json={"opens": None, "closes": None, "version": house["version"]}
    )
    assert assert_problem(stale, 409, "version-conflict")["current_version"] == changed.json()["version"]
    listed = (await client.get("/api/locations", headers=warehouse, params={"kind": "warehouse"})).json()[
        "items"
    ]
    shown = next(w for w in listed if w["id"] == house["id"])
    assert (shown["opens"], shown["closes"]) == ("07:00:00", "19:00:00")

    # Put back as the demo had it, without a version (as older clients do).
    restored = await client.put(url, headers=warehouse, json={"opens": before[0], "closes": before[1]})
    assert restored.status_code == 200, restored.text
