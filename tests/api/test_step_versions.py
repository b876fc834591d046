"""Lifecycle steps that change an existing record name the version they change: a stale one is
refused with 409 `version-conflict` and the current version, and changes nothing; without one
(older clients) the step applies as before."""

from __future__ import annotations

import uuid

from tests.support.api import assert_problem, auth_headers


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
