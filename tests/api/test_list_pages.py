"""The work order list answered from a kept page: never stale after a write through the API, a
phone's sync push or another process, nor after time moves the clocks; ETag and 304; a
customer's contact or an engineer never gets another scope's page; every staff read, 304
included, leaves its audit row."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import event, func, select, text

from core.audit import AuditLog
from tests.support.api import auth_headers, sign_in
from tests.support.scenario import asset, contract, customer_with_site, engineer_id, planned_visit, report

CONTACT_PASSWORD = "contact-list-password"


async def _new_contact(client, admin, customer_id: str, display_name: str | None = None) -> str:
    """A new contact of the customer's, whose password is CONTACT_PASSWORD: its user name."""
    username = f"contact-{uuid.uuid4().hex[:6]}"
    created = await client.post(
        "/api/users",
        headers=admin,
        json={
            "username": username,
            "display_name": display_name or username,
            "role": "customer_contact",
            "password": CONTACT_PASSWORD,
            "customer_id": customer_id,
        },
    )
    assert created.status_code == 201, created.text
    return username


@pytest.fixture(scope="module")
async def desk(client, admin, dispatcher) -> dict[str, Any]:
    """A customer of its own with two orders, one with a visit of engineer01's, and its contact."""
    customer, site = await customer_with_site(client, admin)
    unit = await asset(client, admin, site, await contract(client, admin, customer, kind="7x24"))
    visited, plain = [await report(client, dispatcher, site, unit) for _ in range(2)]
    visit = await planned_visit(client, dispatcher, visited, await engineer_id(client, admin, "engineer01"))
    username = await _new_contact(client, admin, customer["id"], "列表联系人")
    tokens = await sign_in(client, username, CONTACT_PASSWORD)
    return {
        "customer": customer,
        "site": site,
        "asset": unit,
        "orders": [visited["id"], plain["id"]],
        "visit": visit,
        "contact": {"Authorization": f"Bearer {tokens['access_token']}"},
        "contact_name": username,
    }


async def _list(client, headers, **params: Any) -> Any:
    answer = await client.get("/api/work-orders", headers=headers, params=params)
    assert answer.status_code == 200, answer.text
    return answer


def _visit_of(answer: Any, desk: dict[str, Any]) -> dict[str, Any]:
    order = next(o for o in answer.json()["items"] if o["id"] == desk["orders"][0])
    [visit] = order["visits"]
    return dict(visit)


async def test_a_kept_page_shows_every_write_at_once(client, dispatcher, desk, db, clock):
    mine = {"customer_id": desk["customer"]["id"]}
    first = await _list(client, dispatcher, **mine)
    again = await _list(client, dispatcher, **mine)
    assert again.json() == first.json()
    assert again.headers["etag"] == first.headers["etag"]

    # Through the API: an engineer's note.
    engineer = await auth_headers(client, "engineer01")
    note = await client.post(
        f"/api/visits/{desk['visit']['id']}/notes", headers=engineer, json={"body": "已联系客户"}
    )
    assert note.status_code == 201, note.text
    after_note = await _list(client, dispatcher, **mine)
    assert [n["body"] for n in _visit_of(after_note, desk)["notes"]] == ["已联系客户"]
    assert after_note.headers["etag"] != first.headers["etag"]

    # Through a phone's sync push: another note, applied in the push's own transactions.
    device = str(uuid.uuid4())
    tokens = (
        await client.post(
            "/api/auth/login", json={"username": "engineer01", "password": "demo-pass", "device_id": device}
        )
    ).json()
    phone = {"Authorization": f"Bearer {tokens['access_token']}"}
    registered = await client.post(
        "/api/sync/devices", headers=phone, json={"device_id": device, "label": "手机"}
    )
    assert registered.status_code == 201, registered.text
    pushed = await client.post(
        "/api/sync/push",
        headers=phone,
        json={
            "device_id": device,
            "device_time": clock.now().isoformat(),
            "mutations": [
                {
                    "id": str(uuid.uuid4()),
                    "seq": 1,
                    "name": "visit.add_note@1",
                    "args": {
                        "visit_id": desk["visit"]["id"],
                        "note_id": str(uuid.uuid4()),
                        "body": "手机离线记录",
                        "at": clock.now().isoformat(),
                    },
                }
            ],
        },
    )
    assert pushed.status_code == 200, pushed.text
    assert pushed.json()["outcomes"][0]["status"] == "applied", pushed.text
    after_push = await _list(client, dispatcher, **mine)
    assert {n["body"] for n in _visit_of(after_push, desk)["notes"]} == {"已联系客户", "手机离线记录"}

    # By another process, straight in the database: the site's name and the engineer's name.
    async with db.begin() as conn:
        await conn.execute(
            text("UPDATE site SET name = '改名后的机房' WHERE id = :id"), {"id": desk["site"]["id"]}
        )
        await conn.execute(
            text("UPDATE app_user SET display_name = '工程师一号' WHERE username = 'engineer01'")
        )
    renamed = await _list(client, dispatcher, **mine)
    assert {o["site"]["name"] for o in renamed.json()["items"]} == {"改名后的机房"}
    assert _visit_of(renamed, desk)["engineer_name"] == "工程师一号"

    # A new order enters the kept page.
    order = await report(client, dispatcher, desk["site"], desk["asset"])
    grown = await _list(client, dispatcher, **mine)
    assert order["id"] in {o["id"] for o in grown.json()["items"]}


async def test_etag_answers_304_and_the_read_is_still_audited(client, dispatcher, desk, db):
    mine = {"customer_id": desk["customer"]["id"]}
    page = await _list(client, dispatcher, **mine)
    etag = page.headers["etag"]
    assert etag.startswith('W/"')
    assert page.headers["cache-control"] == "private, no-cache"
    async with db.connect() as conn:
        last = (await conn.execute(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1))).scalar()

    unchanged = await client.get(
        "/api/work-orders", headers={**dispatcher, "If-None-Match": etag}, params=mine
    )
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["etag"] == etag
    async with db.connect() as conn:
        [row] = (await conn.execute(select(AuditLog.reads).where(AuditLog.id > (last or 0)))).all()
    assert row.reads == [{"entity": "work_order.contact", "ids": [o["id"] for o in page.json()["items"]]}]

    other = await client.get(
        "/api/work-orders", headers={**dispatcher, "If-None-Match": 'W/"something-else"'}, params=mine
    )
    assert other.status_code == 200
    assert other.json() == page.json()

    plain = desk["orders"][1]
    changed = await client.post(
        f"/api/work-orders/{plain}/contacts",
        headers=dispatcher,
        json={"person_name": "张三", "channel": "phone"},
    )
    assert changed.status_code == 201, changed.text
    after = await client.get("/api/work-orders", headers={**dispatcher, "If-None-Match": etag}, params=mine)
    assert after.status_code == 200
    assert after.headers["etag"] != etag


async def test_each_caller_gets_only_its_own_scope(client, admin, dispatcher, desk):
    other, site = await customer_with_site(client, admin)
    await report(
        client,
        dispatcher,
        site,
        await asset(client, admin, site, await contract(client, admin, other, kind="7x24")),
    )
    everyone = await _list(client, dispatcher, limit=500)
    customers = {o["customer_id"] for o in everyone.json()["items"]}
    assert len(customers) > 1
    contact = await _list(client, desk["contact"], limit=500)
    assert {o["customer_id"] for o in contact.json()["items"]} == {desk["customer"]["id"]}
    assert contact.headers["etag"] != everyone.headers["etag"]

    engineer = await auth_headers(client, "engineer01")
    mine = await _list(client, engineer, limit=500)
    me = await engineer_id(client, dispatcher, "engineer01")
    for order in mine.json()["items"]:
        assert any(me in (v["engineer_id"], v["partner_engineer_id"]) for v in order["visits"])
    # A staff ETag is no use to another scope.
    refused = await client.get(
        "/api/work-orders",
        headers={**desk["contact"], "If-None-Match": everyone.headers["etag"]},
        params={"limit": 500},
    )
    assert refused.status_code == 200


async def test_the_countdown_and_states_follow_the_clock(client, dispatcher, desk, clock):
    mine = {"customer_id": desk["customer"]["id"]}
    page = await _list(client, dispatcher, **mine)
    ticking = [
        (o["id"], c)
        for o in page.json()["items"]
        for c in o["clocks"]
        if c["remaining_seconds"] is not None and c["state"] != "breached"
    ]
    assert ticking
    order_id, first = min(ticking, key=lambda t: t[1]["remaining_seconds"])

    clock.advance(dt.timedelta(seconds=90))
    later = await _list(client, dispatcher, **mine)
    same = _clock(later, order_id, first["measure"])
    assert same["remaining_seconds"] == pytest.approx(first["remaining_seconds"] - 90)
    assert same["state"] == first["state"]
    assert later.headers["etag"] == page.headers["etag"]  # only the countdown moved

    clock.advance(dt.timedelta(seconds=first["remaining_seconds"]))
    late = await _list(client, await auth_headers(client, "dispatcher"), **mine)  # the old token expired
    assert _clock(late, order_id, first["measure"])["state"] == "breached"
    assert _clock(late, order_id, first["measure"])["remaining_seconds"] == pytest.approx(-90)
    assert late.headers["etag"] != page.headers["etag"]


def _clock(answer: Any, order_id: str, measure: str) -> dict[str, Any]:
    order = next(o for o in answer.json()["items"] if o["id"] == order_id)
    return dict(next(c for c in order["clocks"] if c["measure"] == measure))


# The tables a page shows, whose every writer moves the list's change counter.
SHOWN = ("work_order", "site", "sla_clock", "sla_pause", "visit", "visit_note", "app_user")


async def _count(db) -> int:
    async with db.connect() as conn:
        return int((await conn.execute(text("SELECT sum(changes) FROM list_change"))).scalar_one())


async def test_every_writer_of_a_shown_table_moves_the_counter_once_per_transaction(client, desk, db):
    pause = (
        "INSERT INTO sla_pause (id, work_order_id, reason, customer_name, channel, call_reference,"
        " started_at, by_user_id) SELECT gen_random_uuid(), :order, 'escort_delay', '张三', 'phone', '-',"
        " now(), (SELECT id FROM app_user ORDER BY id LIMIT 1)"
    )
    writes = [
        pause,
        *(f"UPDATE {t} SET id = id WHERE id = (SELECT id FROM {t} ORDER BY id LIMIT 1)" for t in SHOWN),  # noqa: S608
        "DELETE FROM sla_pause WHERE work_order_id = :order",
    ]
    for write in writes:
        before = await _count(db)
        async with db.begin() as conn:
            assert (await conn.execute(text(write), {"order": desk["orders"][1]})).rowcount == 1
        assert await _count(db) == before + 1, write

    # Many rows of several tables in one transaction: one bump.
    before = await _count(db)
    async with db.begin() as conn:
        for table in SHOWN:
            await conn.execute(text(f"UPDATE {table} SET id = id"))  # noqa: S608
    assert await _count(db) == before + 1

    # Rolled back, or writing nothing shown: no bump.
    async with db.connect() as conn:
        await conn.execute(text("UPDATE work_order SET id = id"))
        await conn.rollback()
    async with db.begin() as conn:
        await conn.execute(text("UPDATE work_order SET id = id WHERE false"))
        await conn.execute(text("UPDATE customer SET id = id"))
    assert await _count(db) == before + 1


async def test_a_change_elsewhere_keeps_the_page_and_its_etag(client, desk, db):
    # Signed in afresh: an earlier test moved the clock past the module's tokens.
    admin, dispatcher = await auth_headers(client, "admin"), await auth_headers(client, "dispatcher")
    mine = {"customer_id": desk["customer"]["id"]}
    first = await _list(client, dispatcher, **mine)
    other, site = await customer_with_site(client, admin)
    before = await _count(db)
    await report(
        client,
        dispatcher,
        site,
        await asset(client, admin, site, await contract(client, admin, other, kind="7x24")),
    )
    assert await _count(db) > before
    again = await _list(client, dispatcher, **mine)
    assert again.headers["etag"] == first.headers["etag"]
    assert again.json() == first.json()
    # The clock of an order on the page, straight in the database.
    async with db.begin() as conn:
        await conn.execute(
            text("UPDATE sla_clock SET deadline = deadline + interval '1 hour' WHERE work_order_id = :id"),
            {"id": desk["orders"][1]},
        )
    moved = await _list(client, dispatcher, **mine)
    assert moved.headers["etag"] != first.headers["etag"]


async def test_a_kept_pages_read_leaves_the_same_audit_row_as_a_built_one(client, desk, db):
    dispatcher = await auth_headers(client, "dispatcher")
    mine = {"customer_id": desk["customer"]["id"]}
    rows: list[tuple[Any, str]] = []
    for request_id in ("list-built", "list-kept", "list-kept-304"):
        async with db.connect() as conn:
            last = (await conn.execute(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1))).scalar()
        etag = {"If-None-Match": rows[0][1]} if request_id.endswith("304") else {}
        answer = await client.get(
            "/api/work-orders", headers={**dispatcher, **etag, "X-Request-Id": request_id}, params=mine
        )
        assert answer.status_code == (304 if etag else 200)
        async with db.connect() as conn:
            columns = (AuditLog.request_id, AuditLog.action, AuditLog.actor_id, AuditLog.actor_role)
            shown = select(*columns, AuditLog.changes, AuditLog.reads).where(AuditLog.id > (last or 0))
            [row] = (await conn.execute(shown)).all()
        rows.append((row, answer.headers["etag"]))
    built, kept, not_modified = (r for r, _ in rows)
    for row, request_id in ((built, "list-built"), (kept, "list-kept"), (not_modified, "list-kept-304")):
        assert row.request_id == request_id
        assert (row.action, row.actor_id, row.actor_role, row.changes) == (
            built.action,
            built.actor_id,
            "dispatcher",
            [],
        )
        assert row.reads == built.reads
    assert built.action == "GET /api/work-orders"
    assert built.actor_id is not None


async def test_the_recheck_writes_its_audit_row_lazily_and_only_when_the_page_stands(db):
    from sqlalchemy.ext.asyncio import AsyncSession

    from dispatch.work_orders import page_versions

    trail = page_versions.ReadTrail(
        actor_id=uuid.uuid4(),
        actor_role="dispatcher",
        action="GET /api/work-orders",
        request_id="recheck",
        reads='[{"entity": "work_order.contact", "ids": []}]',
        lazy=True,
    )
    async with AsyncSession(db) as session, session.begin():
        # The test cluster does not wait for the disk at all; a production server does.
        await session.execute(text("SET LOCAL synchronous_commit = on"))
        counted = await page_versions.change_count(session)
        assert await page_versions.change_count_unless(session, "an older count", trail) == counted
        assert (await session.execute(text("SHOW synchronous_commit"))).scalar_one() == "on"
        assert (await session.execute(text("SELECT pg_current_xact_id_if_assigned()"))).scalar() is None
        assert await page_versions.change_count_unless(session, counted, trail) == counted
        assert (await session.execute(text("SHOW synchronous_commit"))).scalar_one() == "off"
        [written] = (
            await session.execute(select(AuditLog).where(AuditLog.request_id == "recheck"))
        ).scalars()
        assert written.reads == [{"entity": "work_order.contact", "ids": []}]
        await session.rollback()
    # Outside a transaction (how the list runs): the statement commits its row by itself.
    async with AsyncSession(db) as session:
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        counted = await page_versions.change_count(session)
        assert await page_versions.change_count_unless(session, counted, trail) == counted
        await session.rollback()
    async with db.connect() as conn:
        assert (
            await conn.execute(text("SELECT count(*) FROM audit_log WHERE request_id = 'recheck'"))
        ).scalar() == 1


async def test_a_refused_list_request_leaves_no_audit_row(client, desk, db):
    dispatcher = await auth_headers(client, "dispatcher")
    mine = {"customer_id": desk["customer"]["id"]}
    await _list(client, dispatcher, **mine)
    async with db.connect() as conn:
        last = (await conn.execute(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1))).scalar()
    refused = await client.get("/api/work-orders", headers=dispatcher, params={**mine, "cursor": "forged"})
    assert refused.status_code == 422, refused.text
    async with db.connect() as conn:
        assert (await conn.execute(select(AuditLog.id).where(AuditLog.id > (last or 0)))).all() == []


async def test_the_lists_connections_go_back_to_the_pool_with_transactions(client, app, desk):
    await _list(client, await auth_headers(client, "dispatcher"), customer_id=desk["customer"]["id"])
    engine = app.state["context"].engine
    idle = engine.pool.checkedin()
    assert idle >= 1
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(idle):
            conn = await stack.enter_async_context(engine.connect())
            assert (await conn.get_raw_connection()).dbapi_connection.autocommit is False


def _without_hop_headers(answer: Any) -> dict[str, str]:
    return {k: v for k, v in answer.headers.items() if k not in {"x-request-id", "date"}}


async def test_a_repeated_request_is_answered_by_one_statement_as_the_full_path_answers(
    client, app, desk, db
):
    dispatcher = await auth_headers(client, "dispatcher")
    mine = {"customer_id": desk["customer"]["id"]}
    built = await _list(client, dispatcher, **mine)
    through_orm: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        through_orm.append(statement)

    engine = app.state["context"].engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        async with db.connect() as conn:
            last = (await conn.execute(select(func.max(AuditLog.id)))).scalar()
        again = await client.get(
            "/api/work-orders", headers={**dispatcher, "X-Request-Id": "list-first"}, params=mine
        )
        not_modified = await client.get(
            "/api/work-orders", headers={**dispatcher, "If-None-Match": built.headers["etag"]}, params=mine
        )
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # Neither went through the session: the sign-in check, the counter and the audit row are the
    # one statement on the driver.
    assert through_orm == []
    assert again.status_code == 200
    assert again.content == built.content
    assert _without_hop_headers(again) == _without_hop_headers(built)
    assert again.headers["x-request-id"] == "list-first"
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified.headers["etag"] == built.headers["etag"]
    async with db.connect() as conn:
        rows = (
            await conn.execute(
                select(AuditLog.request_id).where(AuditLog.id > (last or 0)).order_by(AuditLog.id)
            )
        ).all()
    assert len(rows) == 2
    assert rows[0].request_id == "list-first"


# Changes made behind the API's back (no sign-in is ended by them), and what the very next list
# request must get: the kept page's one statement must see each of them.
BEHIND_THE_API = [
    ("UPDATE app_user SET active = false WHERE id = :id", 401, None),
    ("UPDATE refresh_token SET revoked_at = now() WHERE user_id = :id", 401, None),
    ("UPDATE app_user SET session_version = session_version + 1 WHERE id = :id", 401, None),
    ("UPDATE app_user SET role = 'warehouse' WHERE id = :id", 403, None),
    ("UPDATE app_user SET role = 'supervisor' WHERE id = :id", 200, "supervisor"),
]


@pytest.mark.parametrize(("change", "status", "audited_role"), BEHIND_THE_API)
async def test_a_changed_account_is_seen_by_the_very_next_list_request(
    client, desk, db, change, status, audited_role
):
    admin = await auth_headers(client, "admin")
    name = f"desk-{uuid.uuid4().hex[:8]}"
    created = await client.post(
        "/api/users",
        headers=admin,
        json={"username": name, "display_name": name, "role": "dispatcher", "password": CONTACT_PASSWORD},
    )
    assert created.status_code == 201, created.text
    tokens = await sign_in(client, name, CONTACT_PASSWORD)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    mine = {"customer_id": desk["customer"]["id"]}
    for _ in range(2):  # built, then answered from the kept page
        await _list(client, headers, **mine)
    async with db.begin() as conn:
        await conn.execute(text(change), {"id": tokens["user_id"]})
    # A change to an account moves the list's counter; another dispatcher's read of the same page
    # finds its rows unchanged and keeps it under the new count, so the next request's one
    # statement finds the count standing and only the sign-in check can refuse it.
    await _list(client, await auth_headers(client, "dispatcher"), **mine)
    async with db.connect() as conn:
        last = (await conn.execute(select(func.max(AuditLog.id)))).scalar()
    answer = await client.get("/api/work-orders", headers=headers, params=mine)
    assert answer.status_code == status, answer.text
    async with db.connect() as conn:
        roles = (await conn.execute(select(AuditLog.actor_role).where(AuditLog.id > (last or 0)))).scalars()
        assert list(roles) == ([audited_role] if audited_role else [])


_MOVE_CONTACT = text("UPDATE app_user SET customer_id = :to WHERE username = :name")


async def test_a_contact_moved_to_another_organisation_is_not_answered_the_old_page(client, desk, db):
    admin = await auth_headers(client, "admin")
    customers = (await client.get("/api/customers", params={"limit": 2}, headers=admin)).json()["items"]
    mine = desk["customer"]["id"]
    other = next(c["id"] for c in customers if c["id"] != mine)
    colleague = await _new_contact(client, admin, mine)
    contact, same_organisation = [
        {"Authorization": f"Bearer {(await sign_in(client, name, CONTACT_PASSWORD))['access_token']}"}
        for name in (desk["contact_name"], colleague)
    ]
    before = await _list(client, contact)
    assert before.json()["items"]
    assert (await _list(client, contact)).content == before.content  # from the kept page
    async with db.begin() as conn:
        await conn.execute(_MOVE_CONTACT, {"to": other, "name": desk["contact_name"]})
    try:
        # The colleague's read keeps the organisation's page under the moved counter.
        assert (await _list(client, same_organisation)).content == before.content
        moved = await _list(client, contact)
        assert {o["id"] for o in moved.json()["items"]}.isdisjoint(o["id"] for o in before.json()["items"])
    finally:
        async with db.begin() as conn:
            await conn.execute(_MOVE_CONTACT, {"to": mine, "name": desk["contact_name"]})
