"""Engineer absences: the desk records them, an engineer reads their own, and two absences of one
engineer never overlap."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import assert_problem, auth_headers
from tests.support.scenario import engineer_id

SICK = {"starts_at": "2026-03-04T08:00:00+08:00", "ends_at": "2026-03-04T18:00:00+08:00", "kind": "sick"}


async def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


@pytest.fixture(scope="module")
async def engineer01(client) -> dict[str, str]:
    return await auth_headers(client, "engineer01")


async def test_the_desk_records_an_absence_and_only_that_engineer_reads_it(
    client, admin, dispatcher, engineer01
):
    me, other = await engineer_id(client, admin, "engineer01"), await engineer_id(client, admin, "engineer02")
    made = await _ok(
        await client.post(f"/api/engineers/{me}/absences", headers=dispatcher, json={**SICK, "note": "发烧"}),
        201,
    )
    assert (made["kind"], made["note"], made["version"], made["engineer_id"]) == ("sick", "发烧", 1, me)
    assert made["created_by"] is not None

    mine = (await _ok(await client.get(f"/api/engineers/{me}/absences", headers=engineer01)))["items"]
    assert [a["id"] for a in mine] == [made["id"]]
    # Another engineer's absences do not exist for them, and they record none.
    assert_problem(await client.get(f"/api/engineers/{other}/absences", headers=engineer01), 404, "not-found")
    refused = await client.post(f"/api/engineers/{me}/absences", headers=engineer01, json=SICK)
    assert_problem(refused, 403)
    warehouse = await auth_headers(client, "warehouse")
    assert_problem(await client.get(f"/api/engineers/{me}/absences", headers=warehouse), 403)

    # A window: only absences touching it.
    before = {"from": "2026-03-01T00:00:00+08:00", "to": "2026-03-04T08:00:00+08:00"}
    assert (await _ok(await client.get(f"/api/engineers/{me}/absences", headers=dispatcher, params=before)))[
        "items"
    ] == []
    during = {"from": "2026-03-04T17:00:00+08:00", "to": "2026-03-05T00:00:00+08:00"}
    found = (await _ok(await client.get(f"/api/engineers/{me}/absences", headers=dispatcher, params=during)))[
        "items"
    ]
    assert [a["id"] for a in found] == [made["id"]]

    # Removed with the version read; a stale version changes nothing.
    stale = await client.delete(
        f"/api/engineers/{me}/absences/{made['id']}", headers=dispatcher, params={"version": 7}
    )
    assert_problem(stale, 409, "version-conflict")
    assert (
        len((await _ok(await client.get(f"/api/engineers/{me}/absences", headers=dispatcher)))["items"]) == 1
    )
    gone = await client.delete(
        f"/api/engineers/{me}/absences/{made['id']}", headers=dispatcher, params={"version": 1}
    )
    assert gone.status_code == 204, gone.text
    assert (await _ok(await client.get(f"/api/engineers/{me}/absences", headers=dispatcher)))["items"] == []


async def test_an_overlapping_absence_is_refused_and_a_backwards_one_is_invalid(client, admin, dispatcher):
    who = await engineer_id(client, admin, "engineer03")
    url = f"/api/engineers/{who}/absences"
    first = await _ok(await client.post(url, headers=dispatcher, json=SICK), 201)
    training = {"starts_at": "2026-03-04T13:00:00+08:00", "ends_at": "2026-03-05T12:00:00+08:00"}
    clash = await client.post(url, headers=dispatcher, json={**training, "kind": "training"})
    problem = assert_problem(clash, 409, "absence-overlap")
    assert problem["absence_id"] == first["id"]
    # Touching end to start is no overlap.
    after = {"starts_at": SICK["ends_at"], "ends_at": "2026-03-05T12:00:00+08:00", "kind": "training"}
    await _ok(await client.post(url, headers=dispatcher, json=after), 201)
    backwards = {**SICK, "ends_at": SICK["starts_at"]}
    assert_problem(await client.post(url, headers=dispatcher, json=backwards), 422, "invalid-input")
    assert_problem(await client.post(url, headers=dispatcher, json={**SICK, "kind": "holiday"}), 422)
    unknown = "00000000-0000-4000-8000-000000000000"
    assert_problem(
        await client.post(f"/api/engineers/{unknown}/absences", headers=dispatcher, json=SICK), 404
    )
    assert len(await _ok(await client.get(url, headers=dispatcher))) == 2
