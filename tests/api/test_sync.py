"""Offline sync through the HTTP API: every push outcome, replays, gaps, revoked devices,
cross-engineer pushes, blobs, pulls with removals, 410, the commit-order case, device time."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select, text

from core.database import make_sessionmaker
from core.identity.roles import Actor, Role
from core.pagination import cursor_key
from dispatch.work_orders.lifecycle import takes_notes
from dispatch.work_orders.models import Status, VisitNote, VisitStatus
from inventory.models import Item, ItemKind, StockMove
from offline_sync import changes, mutations, note_append
from offline_sync.client import DeviceClient
from tests.support.api import assert_problem, auth_headers, sign_in
from tests.support.db import watch_once
from tests.support.scenario import asset, contract, customer_with_site, engineer_id, planned_visit, report


@pytest.fixture(scope="module")
async def setting(client, admin):
    customer, site = await customer_with_site(client, admin)
    row = await contract(client, admin, customer, kind="7x24")
    return site, await asset(client, admin, site, row)


class Phone:
    """One engineer's outbox on one phone, as the tests drive it."""

    def __init__(self, client, username: str) -> None:
        self.client, self.username = client, username
        self.device_id = str(uuid.uuid4())
        self.seq = 0
        self.headers: dict[str, str] = {}
        self.refresh_token = ""
        self.pk = ""

    async def start(self) -> Phone:
        tokens = (
            await self.client.post(
                "/api/auth/login",
                json={"username": self.username, "password": "demo-pass", "device_id": self.device_id},
            )
        ).json()
        self.headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        self.refresh_token = tokens["refresh_token"]
        response = await self.client.post(
            "/api/sync/devices", headers=self.headers, json={"device_id": self.device_id, "label": "测试手机"}
        )
        assert response.status_code == 201, response.text
        self.pk = response.json()["id"]
        return self

    async def refresh(self) -> None:
        response = await self.client.post("/api/auth/refresh", json={"refresh_token": self.refresh_token})
        assert response.status_code == 200, response.text
        self.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
        self.refresh_token = response.json()["refresh_token"]

    def mutation(self, name: str, **args: Any) -> dict[str, Any]:
        self.seq += 1
        return {"id": str(uuid.uuid4()), "seq": self.seq, "name": name, "args": args}

    async def push(self, *mutations: dict[str, Any], device_time: dt.datetime | None = None) -> Any:
        body = {
            "device_id": self.device_id,
            "device_time": (device_time or NOW_HOLDER[0]()).isoformat(),
            "mutations": list(mutations),
        }
        return await self.client.post("/api/sync/push", headers=self.headers, json=body)

    async def pull_all(self, cursor: str | None = None) -> tuple[dict[str, dict[str, Any]], str, list[str]]:
        docs: dict[str, dict[str, Any]] = {}
        removed: list[str] = []
        while True:
            params = {"device_id": self.device_id, "limit": 2}
            if cursor:
                params["cursor"] = cursor
            response = await self.client.get("/api/sync/pull", headers=self.headers, params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            for change in page["changes"]:
                if change["op"] == "upsert":
                    docs[change["id"]] = change["data"]
                else:
                    docs.pop(change["id"], None)
                    removed.append(change["id"])
            cursor = page["cursor"]
            if not page["has_more"]:
                return docs, cursor, removed


NOW_HOLDER: list[Any] = []


@pytest.fixture(scope="module", autouse=True)
def _now(clock):
    NOW_HOLDER[:] = [clock.now]


async def _visit(client, dispatcher, setting, username: str) -> tuple[dict[str, Any], dict[str, Any]]:
    site, unit = setting
    order = await report(client, dispatcher, site, unit)
    visit = await planned_visit(client, dispatcher, order, await engineer_id(client, dispatcher, username))
    return order, visit


def _at(clock, minutes: float = 0) -> str:
    return str((clock.now() + dt.timedelta(minutes=minutes)).isoformat())


async def _count(db, sql: str, **params: Any) -> int:
    async with db.connect() as conn:
        return int((await conn.execute(text(sql), params)).scalar_one())


async def test_each_outcome_and_replay_applies_nothing_twice(client, dispatcher, setting, clock, db):
    phone = await Phone(client, "engineer01").start()
    _, visit = await _visit(client, dispatcher, setting, "engineer01")
    vid = visit["id"]
    note_id = str(uuid.uuid4())
    image = b"\xff\xd8\xff photo " + uuid.uuid4().bytes
    sha = hashlib.sha256(image).hexdigest()
    assert (
        await client.put(f"/api/sync/blobs/{sha}", headers=phone.headers, content=image)
    ).status_code == 200
    batch = [
        phone.mutation("visit.start_travel@1", visit_id=vid, at=_at(clock, -30)),
        phone.mutation(
            "visit.arrive@1",
            visit_id=vid,
            at=_at(clock, -10),
            proof="customer_confirmation",
            proof_reference="王女士",
        ),
        phone.mutation("visit.add_note@1", visit_id=vid, note_id=note_id, body="更换电源", at=_at(clock, -5)),
        phone.mutation("visit.arrive@1", visit_id=vid, at=_at(clock, -4)),
        phone.mutation("visit.no_such_thing@1", visit_id=vid),
        phone.mutation(
            "visit.attach_photo@1", visit_id=vid, photo_id=str(uuid.uuid4()), sha256=sha, at=_at(clock, -2)
        ),
        phone.mutation("visit.complete@1", visit_id=vid, outcome="resolved", at=_at(clock, -1)),
    ]
    response = await phone.push(*batch)
    assert response.status_code == 200, response.text
    outcomes = response.json()["outcomes"]
    assert [o["status"] for o in outcomes] == [
        "applied",
        "applied",
        "applied",
        "rejected",
        "rejected",
        "applied",
        "applied",
    ]
    assert outcomes[3]["problem"]["type"] == "/problems/illegal-visit-step"
    assert outcomes[4]["problem"]["type"] == "/problems/invalid-input"
    assert response.json()["next_seq"] == 8

    # The response was lost: the phone sends the same batch again, reordered and duplicated.
    again = await phone.push(*reversed(batch), batch[0])
    assert again.status_code == 200
    replayed = again.json()["outcomes"]
    assert [o["seq"] for o in replayed] == [1, 2, 3, 4, 5, 6, 7]
    assert all(o["replayed"] for o in replayed)
    assert [o["status"] for o in replayed] == [o["status"] for o in outcomes]
    assert await _count(db, "SELECT count(*) FROM visit_note WHERE id = :id", id=note_id) == 1
    order = (await client.get(f"/api/work-orders/{visit['work_order_id']}", headers=dispatcher)).json()
    assert order["status"] == "resolved"
    assert (
        await _count(
            db,
            "SELECT count(*) FROM work_order_event WHERE work_order_id = :id AND to_status = 'on_site'",
            id=visit["work_order_id"],
        )
        == 1
    )


async def test_a_gap_stops_the_batch_and_nothing_after_it_is_stored(client, dispatcher, setting, clock, db):
    phone = await Phone(client, "engineer01").start()
    _, visit = await _visit(client, dispatcher, setting, "engineer01")
    first = phone.mutation("visit.start_travel@1", visit_id=visit["id"], at=_at(clock))
    phone.seq += 1  # seq 2 never sent
    third = phone.mutation("visit.arrive@1", visit_id=visit["id"], at=_at(clock))
    outcomes = (await phone.push(first, third)).json()
    assert [o["status"] for o in outcomes["outcomes"]] == ["applied", "not_processed"]
    assert outcomes["outcomes"][1]["problem"]["expected_seq"] == 2
    assert outcomes["next_seq"] == 2
    visit_now = (await client.get(f"/api/work-orders/{visit['work_order_id']}", headers=dispatcher)).json()
    assert visit_now["visits"][0]["status"] == "en_route"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"device_id": "not-a-uuid", "device_time": "2026-03-02T01:00:00Z", "mutations": []},
        {"device_id": str(uuid.uuid4()), "device_time": "2026-03-02T01:00:00", "mutations": []},
        {"device_id": str(uuid.uuid4()), "device_time": "2026-03-02T01:00:00Z", "mutations": [{"seq": 1}]},
        {
            "device_id": str(uuid.uuid4()),
            "device_time": "2026-03-02T01:00:00Z",
            "mutations": [{"id": str(uuid.uuid4()), "seq": 0, "name": "visit.arrive@1", "args": {}}],
        },
        {"device_id": str(uuid.uuid4()), "device_time": "2026-03-02T01:00:00Z", "mutations": [], "extra": 1},
    ],
)
async def test_malformed_batches_are_4xx_problems(client, body):
    headers = await auth_headers(client, "engineer01")
    response = await client.post("/api/sync/push", headers=headers, json=body)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_unregistered_device_and_non_json_body(client):
    headers = await auth_headers(client, "engineer01")
    response = await client.post(
        "/api/sync/push",
        headers=headers,
        json={"device_id": str(uuid.uuid4()), "device_time": "2026-03-02T01:00:00Z", "mutations": []},
    )
    assert_problem(response, 409, "device-not-registered")
    response = await client.post(
        "/api/sync/push", headers={**headers, "content-type": "application/json"}, content=b"{nope"
    )
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_bad_args_are_rejected_and_consume_the_seq(client, dispatcher, setting, clock):
    phone = await Phone(client, "engineer01").start()
    _, visit = await _visit(client, dispatcher, setting, "engineer01")
    naive = phone.mutation("visit.arrive@1", visit_id=visit["id"], at="2026-03-02T01:00:00")
    unknown_field = phone.mutation("visit.arrive@1", visit_id=visit["id"], at=_at(clock), colour="red")
    good = phone.mutation("visit.arrive@1", visit_id=visit["id"], at=_at(clock))
    outcomes = (await phone.push(naive, unknown_field, good)).json()
    assert [o["status"] for o in outcomes["outcomes"]] == ["rejected", "rejected", "applied"]
    assert outcomes["next_seq"] == 4


async def test_another_engineers_visit_is_forbidden_and_untouched(client, dispatcher, setting, clock, db):
    intruder = await Phone(client, "engineer02").start()
    _, visit = await _visit(client, dispatcher, setting, "engineer01")
    note_id = str(uuid.uuid4())
    outcomes = (
        await intruder.push(
            intruder.mutation("visit.arrive@1", visit_id=visit["id"], at=_at(clock)),
            intruder.mutation(
                "visit.add_note@1", visit_id=visit["id"], note_id=note_id, body="x", at=_at(clock)
            ),
        )
    ).json()["outcomes"]
    assert [o["status"] for o in outcomes] == ["rejected", "rejected"]
    assert {o["problem"]["status"] for o in outcomes} == {403}
    after = (await client.get(f"/api/work-orders/{visit['work_order_id']}", headers=dispatcher)).json()
    assert after["visits"][0]["status"] == "assigned"
    assert await _count(db, "SELECT count(*) FROM visit_note WHERE id = :id", id=note_id) == 0


async def test_pushed_notes_are_audited_captured_and_refused_like_online_ones(
    client, dispatcher, setting, clock, db
):
    phone = await Phone(client, "engineer01").start()
    order, visit = await _visit(client, dispatcher, setting, "engineer01")
    _, moved = await _visit(client, dispatcher, setting, "engineer01")
    reassigned = await client.put(
        f"/api/visits/{moved['id']}/assignment",
        headers=dispatcher,
        json={
            "version": moved["version"],
            "engineer_id": await engineer_id(client, dispatcher, "engineer03"),
        },
    )
    assert reassigned.status_code == 200, reassigned.text
    first, last = str(uuid.uuid4()), str(uuid.uuid4())

    def note(visit_id: str, note_id: str, body: str) -> dict[str, Any]:
        args = {"visit_id": visit_id, "note_id": note_id, "body": body, "at": _at(clock)}
        return phone.mutation("visit.add_note@1", **args)

    outcomes = (
        await phone.push(
            note(visit["id"], first, "更换电源"),
            note(visit["id"], first, "另一条"),  # a note id already taken
            note(moved["id"], str(uuid.uuid4()), "已离开"),
            note(visit["id"], last, "测试通过"),
        )
    ).json()["outcomes"]
    assert [o["status"] for o in outcomes] == ["applied", "rejected", "conflict", "applied"]
    # The reused id is refused as online, before any second row under that id reaches the flush.
    assert outcomes[1]["problem"]["type"] == "/problems/duplicate"
    online = await client.post(
        f"/api/visits/{visit['id']}/notes", headers=phone.headers, json={"body": "另一条", "id": first}
    )
    assert_problem(online, 409, "duplicate")
    assert outcomes[2]["conflict"] == "reassigned"
    bodies = (await client.get(f"/api/work-orders/{order['id']}", headers=dispatcher)).json()["visits"][0]
    assert sorted(n["body"] for n in bodies["notes"]) == sorted(["更换电源", "测试通过"])
    for note_id, body in ((first, "更换电源"), (last, "测试通过")):
        entry = [{"entity": "visit_note", "id": note_id, "op": "insert", "after": {"body": body}}]
        audited = "SELECT count(*) FROM audit_log WHERE action = :a AND changes @> CAST(:c AS jsonb)"
        assert await _count(db, audited, a="sync visit.add_note@1 (applied)", c=json.dumps(entry)) == 1
        captured = "SELECT count(*) FROM sync_change WHERE entity_id = :n AND work_order_id = :o"
        assert await _count(db, captured, n=note_id, o=order["id"]) == 1
    assert await _count(db, "SELECT count(*) FROM visit_note WHERE visit_id = :v", v=moved["id"]) == 0


@pytest.mark.parametrize(
    ("table", "status", "kind"),
    [
        ("visit", "cancelled", "cancelled"),
        ("work_order", "cancelled", "cancelled"),
        ("work_order", "closed", "closed"),
    ],
)
async def test_a_visit_that_takes_no_notes_refuses_them_online_and_pushed(
    client, dispatcher, setting, clock, db, table, status, kind
):
    """Each status in which the domain takes no notes: online a 409, pushed a conflict of that
    kind, and no note written by either path (the one-statement path included)."""
    phone = await Phone(client, "engineer01").start()
    order, visit = await _visit(client, dispatcher, setting, "engineer01")
    row_id = visit["id"] if table == "visit" else order["id"]
    async with db.begin() as conn:
        await conn.execute(
            text(f"UPDATE {table} SET status = :s WHERE id = :id"),  # noqa: S608 - the test's own names
            {"s": status, "id": row_id},
        )
    note_id = str(uuid.uuid4())
    args = {"visit_id": visit["id"], "note_id": note_id, "body": "已完成", "at": _at(clock)}

    outcomes = (await phone.push(phone.mutation("visit.add_note@1", **args))).json()["outcomes"]
    online = await client.post(
        f"/api/visits/{visit['id']}/notes", headers=phone.headers, json={"body": "已完成"}
    )

    assert [(o["status"], o.get("conflict")) for o in outcomes] == [("conflict", kind)]
    assert_problem(online, 409, "illegal-visit-step")
    assert await _count(db, "SELECT count(*) FROM visit_note WHERE visit_id = :v", v=visit["id"]) == 0


async def test_the_one_statement_path_takes_notes_exactly_where_the_domain_does(
    client, dispatcher, setting, clock, db
):
    """Every visit status against every order status: the SQL of `note_append` writes a note
    exactly when `lifecycle.takes_notes` says the visit takes it (each case rolled back)."""
    _, visit = await _visit(client, dispatcher, setting, "engineer01")
    user_id = uuid.UUID(await engineer_id(client, dispatcher, "engineer01"))
    actor = Actor(user_id=user_id, role=Role.ENGINEER, username="engineer01")
    differ = []
    for visit_status in VisitStatus:
        for order_status in Status:
            async with make_sessionmaker(db)() as session, session.begin():
                await session.execute(
                    text("UPDATE visit SET status = :s WHERE id = :v"),
                    {"s": visit_status.value, "v": visit["id"]},
                )
                await session.execute(
                    text(
                        "UPDATE work_order SET status = :s FROM visit"
                        " WHERE visit.work_order_id = work_order.id AND visit.id = :v"
                    ),
                    {"s": order_status.value, "v": visit["id"]},
                )
                note = mutations.AddNote(
                    visit_id=uuid.UUID(visit["id"]), note_id=uuid.uuid4(), body="x", at=clock.now()
                )
                [written] = await note_append.append_many(session, actor, [(note, clock.now())])
                if written != takes_notes(visit_status, order_status):
                    differ.append((visit_status.value, order_status.value, written))
                await session.rollback()
    assert differ == []


async def test_completion_of_a_reassigned_visit_is_kept_as_a_conflict(client, dispatcher, setting, clock):
    phone = await Phone(client, "engineer01").start()
    _, visit = await _visit(client, dispatcher, setting, "engineer01")
    # Offline: the engineer works the visit; meanwhile dispatch gives it to engineer03.
    moved = await client.put(
        f"/api/visits/{visit['id']}/assignment",
        headers=dispatcher,
        json={
            "version": visit["version"],
            "engineer_id": await engineer_id(client, dispatcher, "engineer03"),
        },
    )
    assert moved.status_code == 200, moved.text
    outcomes = (
        await phone.push(
            phone.mutation("visit.arrive@1", visit_id=visit["id"], at=_at(clock)),
            phone.mutation("visit.complete@1", visit_id=visit["id"], outcome="resolved", at=_at(clock)),
        )
    ).json()["outcomes"]
    assert [o["status"] for o in outcomes] == ["conflict", "conflict"]
    assert outcomes[1]["conflict"] == "reassigned"
    assert outcomes[1]["server_view"]["visit"]["status"] == "assigned"
    inbox = (await client.get("/api/sync/conflicts", headers=dispatcher)).json()["items"]
    mine = [c for c in inbox if c["visit_id"] == visit["id"]]
    assert [c["mutation_name"] for c in mine] == ["visit.arrive@1", "visit.complete@1"]
    resolved = await client.post(
        f"/api/sync/conflicts/{mine[1]['id']}/resolve", headers=dispatcher, json={"resolution": "已电话确认"}
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["resolved_at"] is not None


async def test_pushes_held_while_suspended_can_be_discarded_on_reinstatement(
    client, dispatcher, setting, clock, db
):
    phone = await Phone(client, "engineer02").start()
    _, visit = await _visit(client, dispatcher, setting, "engineer02")
    arrive = phone.mutation("visit.arrive@1", visit_id=visit["id"], at=_at(clock))
    await client.post(
        f"/api/sync/devices/{phone.pk}/revoke", headers=dispatcher, json={"mode": "suspend", "reason": "核查"}
    )
    assert_problem(await phone.push(arrive), 403, "device-suspended")
    reinstated = await client.post(
        f"/api/sync/devices/{phone.pk}/reinstate", headers=dispatcher, json={"held": "discard"}
    )
    assert reinstated.status_code == 200, reinstated.text
    assert reinstated.json()["held_outcomes"] == []
    listed = (await client.get("/api/sync/devices", headers=dispatcher)).json()["items"]
    assert next(d for d in listed if d["id"] == phone.pk)["held_pushes"] == 0
    after = (await client.get(f"/api/work-orders/{visit['work_order_id']}", headers=dispatcher)).json()
    assert after["visits"][0]["status"] == "assigned"  # nothing applied
    discarded = "sync.held pushes discarded on reinstatement"
    assert await _count(db, "SELECT count(*) FROM audit_log WHERE action = :a", a=discarded) == 1
    bad = await client.post(
        f"/api/sync/devices/{phone.pk}/reinstate", headers=dispatcher, json={"held": "maybe"}
    )
    assert bad.status_code in {400, 409, 422}


async def test_suspended_device_is_held_then_reinstated_and_lost_device_is_told_to_wipe(
    client, dispatcher, setting, clock
):
    phone = await Phone(client, "engineer01").start()
    _, visit = await _visit(client, dispatcher, setting, "engineer01")
    arrive = phone.mutation("visit.arrive@1", visit_id=visit["id"], at=_at(clock))
    revoked = await client.post(
        f"/api/sync/devices/{phone.pk}/revoke", headers=dispatcher, json={"mode": "suspend", "reason": "核查"}
    )
    assert revoked.status_code == 200, revoked.text
    body = assert_problem(await phone.push(arrive), 403, "device-suspended")
    assert body["wipe"] is False
    after = (await client.get(f"/api/work-orders/{visit['work_order_id']}", headers=dispatcher)).json()
    assert after["visits"][0]["status"] == "assigned"
    listed = (await client.get("/api/sync/devices", headers=dispatcher)).json()["items"]
    assert next(d for d in listed if d["id"] == phone.pk)["held_pushes"] == 1

    # Reinstated after review: the held push is applied now, and the phone's resend is a replay.
    reinstated = await client.post(f"/api/sync/devices/{phone.pk}/reinstate", headers=dispatcher)
    assert reinstated.status_code == 200, reinstated.text
    assert [o["status"] for o in reinstated.json()["held_outcomes"]] == ["applied"]
    assert reinstated.json()["held_pushes"] == 0
    again = (await phone.push(arrive)).json()["outcomes"]
    assert [(o["status"], o.get("replayed")) for o in again] == [("applied", True)]

    lost = await client.post(
        f"/api/sync/devices/{phone.pk}/revoke", headers=dispatcher, json={"mode": "lost", "reason": "丢失"}
    )
    assert lost.status_code == 200
    # Its sign-in ended with it: the access token and the device-bound refresh token stop working.
    assert_problem(await phone.push(), 401, "unauthenticated")
    # The phone learns it at its next refresh, and wipes what it holds.
    told = assert_problem(
        await client.post("/api/auth/refresh", json={"refresh_token": phone.refresh_token}),
        403,
        "device-lost",
    )
    assert told["wipe"] is True
    # Signed in again (say, with the password), the lost phone is still refused and told to wipe.
    tokens = await sign_in(client, "engineer01")
    phone.headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    body = assert_problem(await phone.push(), 403, "device-lost")
    assert body["wipe"] is True
    assert_problem(
        await client.get("/api/sync/pull", headers=phone.headers, params={"device_id": phone.device_id}),
        403,
        "device-lost",
    )


async def test_device_bound_refresh_keeps_the_outbox_after_a_long_offline_period(
    client, dispatcher, setting, clock
):
    phone = await Phone(client, "engineer01").start()
    _, visit = await _visit(client, dispatcher, setting, "engineer01")
    arrive = phone.mutation("visit.arrive@1", visit_id=visit["id"], at=_at(clock))
    clock.advance(dt.timedelta(hours=3))  # the access token expired while offline
    try:
        assert_problem(await phone.push(arrive), 401)
        await phone.refresh()
        assert [o["status"] for o in (await phone.push(arrive)).json()["outcomes"]] == ["applied"]
    finally:
        clock.advance(dt.timedelta(hours=-3))


async def test_a_photo_waits_for_its_blob_then_is_applied(client, dispatcher, setting, clock, db):
    phone = await Phone(client, "engineer01").start()
    _, visit = await _visit(client, dispatcher, setting, "engineer01")
    image = b"\x89PNG fake image bytes " + uuid.uuid4().bytes
    sha = hashlib.sha256(image).hexdigest()
    photo_id = str(uuid.uuid4())
    attach = phone.mutation(
        "visit.attach_photo@1", visit_id=visit["id"], photo_id=photo_id, sha256=sha, at=_at(clock)
    )
    outcome = (await phone.push(attach)).json()["outcomes"][0]
    assert outcome["status"] == "pending_blob"
    assert outcome["blob"] == sha
    assert (await client.head(f"/api/sync/blobs/{sha}", headers=phone.headers)).status_code == 404

    wrong = await client.put(f"/api/sync/blobs/{sha}", headers=phone.headers, content=b"other bytes")
    assert_problem(wrong, 422, "invalid-input")
    assert_problem(await client.put("/api/sync/blobs/XYZ", headers=phone.headers, content=image), 422)
    stored = await client.put(
        f"/api/sync/blobs/{sha}", headers={**phone.headers, "content-type": "image/png"}, content=image
    )
    assert stored.status_code == 200, stored.text
    assert stored.json() == {"sha256": sha, "size": len(image), "stored": True, "applied_waiting": 1}
    assert (await client.head(f"/api/sync/blobs/{sha}", headers=phone.headers)).status_code == 200
    replay = (await phone.push(attach)).json()["outcomes"][0]
    assert replay["status"] == "applied"
    assert replay["replayed"] is True
    assert await _count(db, "SELECT count(*) FROM visit_attachment WHERE id = :id", id=photo_id) == 1
    # Uploading the same bytes again changes nothing.
    again = await client.put(f"/api/sync/blobs/{sha}", headers=phone.headers, content=image)
    assert again.json()["stored"] is False
    assert again.json()["applied_waiting"] == 0


async def test_a_large_photo_uploads_in_chunks_and_resumes(client):
    phone = await Phone(client, "engineer03").start()
    data = bytes(range(256)) * 1000
    sha = hashlib.sha256(data).hexdigest()
    url = f"/api/sync/blobs/{sha}"

    async def chunk(start: int, end: int, body: bytes = data, address: str = url) -> Any:
        headers = {**phone.headers, "Content-Range": f"bytes {start}-{end - 1}/{len(body)}"}
        return await client.put(address, headers=headers, content=body[start:end])

    first = await chunk(0, 100_000)
    assert first.status_code == 202, first.text
    assert first.json()["received"] == 100_000
    # The connection dropped: the phone asks how much arrived.
    head = await client.head(url, headers=phone.headers)
    assert (head.status_code, head.headers["x-blob-received"]) == (404, "100000")
    # A retry of a chunk whose answer was lost changes nothing.
    assert (await chunk(0, 100_000)).json()["received"] == 100_000
    # A chunk from the wrong place is refused, with where to go on from.
    assert assert_problem(await chunk(150_000, 200_000), 409, "upload-offset-mismatch")["received"] == 100_000
    assert_problem(
        await client.put(url, headers={**phone.headers, "Content-Range": "bytes 5-1/9"}, content=b"x"),
        422,
        "invalid-input",
    )
    done = await chunk(100_000, len(data))
    assert done.status_code == 200, done.text
    assert (done.json()["stored"], done.json()["size"]) == (True, len(data))
    assert (await client.head(url, headers=phone.headers)).headers["x-blob-size"] == str(len(data))
    # Chunks that do not hash to their address are discarded when the last one arrives.
    other = hashlib.sha256(b"something else").hexdigest()
    bad = bytes(300)
    assert (await chunk(0, 150, bad, f"/api/sync/blobs/{other}")).status_code == 202
    assert_problem(await chunk(150, 300, bad, f"/api/sync/blobs/{other}"), 422, "invalid-input")
    head = await client.head(f"/api/sync/blobs/{other}", headers=phone.headers)
    assert (head.status_code, head.headers["x-blob-received"]) == (404, "0")


async def test_parts_used_offline_reach_the_ledger_once(client, dispatcher, setting, clock, db):
    phone = await Phone(client, "engineer01").start()
    _, visit = await _visit(client, dispatcher, setting, "engineer01")
    sessions = make_sessionmaker(db)
    async with sessions() as session, session.begin():
        item = Item(
            id=uuid.uuid4(), sku=f"T-{uuid.uuid4().hex[:12]}", name="电源模块", kind=ItemKind.PART, version=1
        )
        session.add(item)
    use = phone.mutation(
        "visit.consume_part@1", visit_id=visit["id"], item_id=str(item.id), quantity=2, at=_at(clock)
    )
    first = (await phone.push(use)).json()["outcomes"][0]
    assert first["status"] == "applied", first
    await phone.push(use)
    async with sessions() as session:
        used = await session.scalar(
            select(func.coalesce(func.sum(StockMove.quantity), 0)).where(
                StockMove.item_id == item.id, StockMove.kind == "consume"
            )
        )
    assert used == 2


async def test_pull_bootstraps_then_delivers_changes_and_removals(client, dispatcher, setting, clock):
    phone = await Phone(client, "engineer04").start()
    orders = [await _visit(client, dispatcher, setting, "engineer04") for _ in range(3)]
    docs, cursor, _ = await phone.pull_all()
    for order, visit in orders:
        assert docs[order["id"]]["visits"][0]["id"] == visit["id"]
    # Progress on one, reassignment of another.
    order0, visit0 = orders[0]
    await phone.push(phone.mutation("visit.start_travel@1", visit_id=visit0["id"], at=_at(clock)))
    order1, visit1 = orders[1]
    current = (await client.get(f"/api/work-orders/{order1['id']}", headers=dispatcher)).json()["visits"][0]
    await client.put(
        f"/api/visits/{visit1['id']}/assignment",
        headers=dispatcher,
        json={
            "version": current["version"],
            "engineer_id": await engineer_id(client, dispatcher, "engineer05"),
        },
    )
    docs2, cursor2, removed = await phone.pull_all(cursor)
    assert docs2[order0["id"]]["visits"][0]["status"] == "en_route"
    assert order1["id"] in removed
    assert order1["id"] not in docs2
    # Nothing new: an empty page and a cursor that still works.
    docs3, _, removed3 = await phone.pull_all(cursor2)
    assert docs3 == {}
    assert removed3 == []


async def test_a_pull_records_the_phones_contact_when_it_moved_by_a_minute(client, dispatcher, clock):
    phone = await Phone(client, "engineer11").start()
    registered = clock.now()

    async def contact() -> dt.datetime:
        listed = (await client.get("/api/sync/devices", headers=dispatcher)).json()["items"]
        return dt.datetime.fromisoformat(next(d for d in listed if d["id"] == phone.pk)["last_contact_at"])

    moved = dt.timedelta(0)
    try:
        moved += dt.timedelta(seconds=30)
        clock.advance(dt.timedelta(seconds=30))
        await phone.pull_all()  # pages of 2: a pull of several pages
        assert await contact() == registered  # within the minute: the row is not written again
        moved += dt.timedelta(minutes=2)
        clock.advance(dt.timedelta(minutes=2))
        await phone.pull_all()
        assert await contact() == clock.now()
        moved -= dt.timedelta(minutes=5)
        clock.advance(dt.timedelta(minutes=-5))  # a server clock set back is recorded as well
        await phone.pull_all()
        assert await contact() == clock.now()
    finally:
        clock.advance(-moved)


async def test_a_cursor_older_than_the_log_is_410_and_bootstrap_recovers(
    client, dispatcher, setting, clock, db
):
    phone = await Phone(client, "engineer06").start()
    order, _ = await _visit(client, dispatcher, setting, "engineer06")
    _, cursor, _ = await phone.pull_all()
    await _visit(client, dispatcher, setting, "engineer06")  # a change after the cursor
    sessions = make_sessionmaker(db)
    async with sessions() as session, session.begin():
        assert await changes.prune(session, dt.datetime.now(dt.UTC) + dt.timedelta(days=1)) > 0
    response = await client.get(
        "/api/sync/pull", headers=phone.headers, params={"device_id": phone.device_id, "cursor": cursor}
    )
    assert_problem(response, 410, "sync-cursor-expired")
    docs, _, _ = await phone.pull_all()
    assert order["id"] in docs
    bad = await client.get(
        "/api/sync/pull", headers=phone.headers, params={"device_id": phone.device_id, "cursor": "garbage"}
    )
    assert_problem(bad, 422, "invalid-input")


async def test_van_stock_and_the_catalogue_reach_the_phone(client, dispatcher, setting, clock, db):
    phone = await Phone(client, "engineer06").start()
    _, visit = await _visit(client, dispatcher, setting, "engineer06")
    docs, cursor, _ = await phone.pull_all()
    assert {"van_stock", "catalogue"} <= set(docs)
    sessions = make_sessionmaker(db)
    async with sessions() as session, session.begin():
        item = Item(
            id=uuid.uuid4(), sku=f"V-{uuid.uuid4().hex[:12]}", name="风扇", kind=ItemKind.PART, version=1
        )
        session.add(item)
    docs, cursor, _ = await phone.pull_all(cursor)
    assert str(item.id) in {i["id"] for i in docs["catalogue"]["items"]}
    use = phone.mutation(
        "visit.consume_part@1", visit_id=visit["id"], item_id=str(item.id), quantity=1, at=_at(clock)
    )
    assert (await phone.push(use)).json()["outcomes"][0]["status"] == "applied"
    docs, cursor, _ = await phone.pull_all(cursor)
    # Used in the field without being on the books: booked in from the discrepancy location and
    # consumed, so the van is back at zero for it and the document no longer lists it.
    assert "van_stock" in docs
    assert str(item.id) not in {i["item_id"] for i in docs["van_stock"]["items"]}
    fresh, _, _ = await (await Phone(client, "engineer06").start()).pull_all()
    assert fresh["van_stock"] == docs["van_stock"]
    assert fresh["van_stock"]["location_id"] is not None


async def test_a_site_change_reaches_phones_with_visits_there(client, admin, dispatcher, clock):
    phone = await Phone(client, "engineer09").start()
    customer, site = await customer_with_site(client, admin)
    unit = await asset(client, admin, site, await contract(client, admin, customer, kind="7x24"))
    order = await report(client, dispatcher, site, unit)
    await planned_visit(client, dispatcher, order, await engineer_id(client, dispatcher, "engineer09"))
    _, cursor, _ = await phone.pull_all()
    changed = await client.patch(
        f"/api/sites/{site['id']}", headers=admin, json={"version": site["version"], "access_notes": "走北门"}
    )
    assert changed.status_code == 200, changed.text
    docs, _, _ = await phone.pull_all(cursor)
    assert docs[order["id"]]["site"]["access_notes"] == "走北门"


async def test_a_change_committed_late_with_a_lower_number_still_arrives(
    client, dispatcher, setting, clock, db
):
    phone = await Phone(client, "engineer07").start()
    order, visit = await _visit(client, dispatcher, setting, "engineer07")
    _, cursor, _ = await phone.pull_all()
    author = await engineer_id(client, dispatcher, "engineer07")
    sessions = make_sessionmaker(db)
    late, early = sessions(), sessions()
    try:
        # The late writer starts first and takes the lower transaction id and change number...
        await late.begin()
        late.add(
            VisitNote(id=uuid.uuid4(), visit_id=visit["id"], at=clock.now(), author_id=author, body="late")
        )
        await late.flush()
        # ...another transaction commits a higher-numbered change, and the device pulls it.
        async with early.begin():
            early.add(
                VisitNote(
                    id=uuid.uuid4(), visit_id=visit["id"], at=clock.now(), author_id=author, body="early"
                )
            )
        async with db.connect() as conn:
            ids = (
                await conn.execute(text("SELECT id, xact_id FROM sync_change ORDER BY id DESC LIMIT 1"))
            ).one()
        docs, cursor, _ = await phone.pull_all(cursor)
        # The device may see the document now, but its cursor does not pass the open transaction.
        key = cursor_key(client.app.state["context"].settings.jwt_secret)
        assert changes.Cursor.decode(cursor, key).low <= ids.xact_id
        await late.commit()
    finally:
        await late.close()
        await early.close()
    docs, _, _ = await phone.pull_all(cursor)
    bodies = {n["body"] for n in docs[order["id"]]["visits"][0]["notes"]}
    assert {"late", "early"} <= bodies


async def test_an_on_time_arrival_synced_late_withdraws_the_breach(
    client, dispatcher, setting, clock, db, demo_db
):
    phone = await Phone(client, "engineer08").start()
    order, visit = await _visit(client, dispatcher, setting, "engineer08")
    on_site = next(c for c in order["clocks"] if c["measure"] == "on_site")
    deadline = dt.datetime.fromisoformat(on_site["deadline"])
    skew = dt.timedelta(days=2)  # the phone's clock runs two days ahead
    arrived_device_time = deadline - dt.timedelta(minutes=30) + skew
    saved = clock.now()
    clock.set(deadline + dt.timedelta(hours=2))
    try:
        await watch_once(demo_db, clock)
        dispatcher = await auth_headers(client, "dispatcher")
        await phone.refresh()
        breached = (await client.get(f"/api/work-orders/{order['id']}", headers=dispatcher)).json()
        assert next(c for c in breached["clocks"] if c["measure"] == "on_site")["breached_at"] is not None
        outcome = (
            await phone.push(
                phone.mutation("visit.arrive@1", visit_id=visit["id"], at=arrived_device_time.isoformat()),
                device_time=clock.now() + skew,
            )
        ).json()["outcomes"][0]
        assert outcome["status"] == "applied", outcome
        after = (await client.get(f"/api/work-orders/{order['id']}", headers=dispatcher)).json()
        measured = next(c for c in after["clocks"] if c["measure"] == "on_site")
        assert measured["breached_at"] is None
        assert dt.datetime.fromisoformat(measured["met_at"]) == deadline - dt.timedelta(minutes=30)
        async with db.connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT device_at, effective_at FROM sync_mutation WHERE mutation_id = :id"),
                    {"id": outcome["id"]},
                )
            ).one()
        assert row.device_at == arrived_device_time
        assert row.effective_at == deadline - dt.timedelta(minutes=30)
    finally:
        clock.set(saved)


async def test_notes_pull_as_records_that_rebuild_the_whole_document(client, dispatcher, setting, clock):
    phone = await Phone(client, "engineer12").start()
    (order, visit), (other_order, other_visit) = [
        await _visit(client, dispatcher, setting, "engineer12") for _ in range(2)
    ]
    docs, cursor, _ = await phone.pull_all()
    notes = [
        phone.mutation(
            "visit.add_note@1",
            visit_id=visit["id"],
            note_id=str(uuid.uuid4()),
            body=f"记录 {i}",
            at=_at(clock),
        )
        for i in range(3)
    ]
    travel = phone.mutation("visit.start_travel@1", visit_id=other_visit["id"], at=_at(clock))
    assert (await phone.push(*notes, travel)).status_code == 200
    params = {"device_id": phone.device_id, "cursor": cursor, "limit": 50}
    asked = await client.get("/api/sync/pull", headers=phone.headers, params={**params, "format": "records"})
    records = asked.json()["changes"]
    # An app that predates records (no `format`) still gets whole documents only.
    whole = {
        c["id"]: c["data"]
        for c in (await client.get("/api/sync/pull", headers=phone.headers, params=params)).json()["changes"]
    }
    assert set(whole) == {order["id"], other_order["id"]}
    # Notes only on one order: its notes alone; progress on the other: its whole document.
    assert sorted((c["entity"], c.get("work_order_id", c["id"])) for c in records) == sorted(
        [("visit_note", order["id"])] * 3 + [("work_order", other_order["id"])]
    )
    assert [c["data"] for c in records if c["entity"] == "work_order"] == [whole[other_order["id"]]]
    # Kept as the reference device keeps them (rows beside the document, whatever order they
    # come in), the notes make the document a whole one is.
    store = DeviceClient(None, ":memory:", "engineer12", "unused")
    pulled_before = {"entity": "work_order", "id": order["id"], "op": "upsert", "data": docs[order["id"]]}
    store._apply_page([pulled_before])
    store._apply_page(list(reversed(records)))
    assert store.replica()[order["id"]] == whole[order["id"]]
    unknown = await client.get("/api/sync/pull", headers=phone.headers, params={**params, "format": "x"})
    assert_problem(unknown, 422)
