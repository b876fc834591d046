"""Bad input gets a clear problem and changes nothing; a retried POST applies once;
every write leaves exactly one audit row, which nobody can change."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.support.api import assert_problem


async def _count(db, sql: str, **params) -> int:
    async with db.connect() as conn:
        return int((await conn.execute(text(sql), params)).scalar_one())


def _customer(number: str) -> dict[str, str]:
    return {"customer_number": number, "name": "黄河数据服务有限公司"}


async def test_health_ready_and_schema(client):
    assert (await client.get("/api/health")).json() == {"status": "ok"}
    ready = (await client.get("/api/ready")).json()
    assert ready["status"] == "ready"
    assert ready["schema_revision"] == ready["expected_revision"]
    schema = (await client.get("/schema/openapi.json")).json()
    assert "/api/sites" in schema["paths"]


@pytest.mark.parametrize(
    ("body", "status", "slug"),
    [
        (b"{not json", 400, "malformed-body"),
        (b'{"customer_number": 12, "name": "x"}', 422, "invalid-input"),
        (b'{"customer_number": "C1", "name": "x", "surprise": true}', 422, "invalid-input"),
        (b'{"name": "x"}', 422, "invalid-input"),
        (b'{"customer_number": "C 1 !", "name": "x"}', 422, "invalid-input"),
        (b'{"customer_number": "C1", "name": ""}', 422, "invalid-input"),
        (b"[]", 422, "invalid-input"),
        (b"", 400, "malformed-body"),
    ],
)
async def test_bad_bodies_get_problems_and_write_nothing(client, admin, db, body, status, slug):
    before = await _count(db, "SELECT count(*) FROM customer")
    audits = await _count(db, "SELECT count(*) FROM audit_log")
    response = await client.post(
        "/api/customers", content=body, headers={**admin, "content-type": "application/json"}
    )
    problem = assert_problem(response, status, slug)
    if slug == "invalid-input":
        assert problem["errors"], problem
    assert await _count(db, "SELECT count(*) FROM customer") == before
    assert await _count(db, "SELECT count(*) FROM audit_log") == audits


async def test_wrong_field_is_named(client, admin):
    response = await client.post("/api/customers", json={"customer_number": 12, "name": "x"}, headers=admin)
    assert [e["field"] for e in assert_problem(response, 422)["errors"]] == ["customer_number"]


async def test_oversize_body_is_refused(client, admin, db):
    before = await _count(db, "SELECT count(*) FROM customer")
    huge = {"customer_number": "C-HUGE", "name": "x", "notes": "长" * 600_000}
    response = await client.post("/api/customers", json=huge, headers=admin)
    assert_problem(response, 413, "body-too-large")
    # the same through the idempotent path, which reads the body itself
    keyed = await client.post("/api/customers", json=huge, headers={**admin, "Idempotency-Key": "huge"})
    assert_problem(keyed, 413, "body-too-large")
    # under the size limit but over a field's limit: the field is named
    long_notes = await client.post("/api/customers", json={**huge, "notes": "长" * 5000}, headers=admin)
    assert [e["field"] for e in assert_problem(long_notes, 422)["errors"]] == ["notes"]
    assert await _count(db, "SELECT count(*) FROM customer") == before


@pytest.mark.parametrize(
    "url",
    [
        "/api/sites?limit=abc",
        "/api/sites?limit=100000",
        "/api/sites?cursor=%%%",
        "/api/sites?cursor=WyJ4Il0",
        "/api/sites?customer_id=not-a-uuid",
        "/api/sites/not-a-uuid",
        "/api/sites/00000000-0000-4000-8000-000000000000",
        "/api/engineers?employer_kind=alien",
        "/api/sites?q=" + "%00" * 3,
    ],
)
async def test_odd_queries_are_4xx_never_5xx(client, admin, url):
    response = await client.get(url, headers=admin)
    assert 400 <= response.status_code < 500, response.text
    assert_problem(response, response.status_code)


async def test_a_retried_post_applies_once(client, admin, db):
    headers = {**admin, "Idempotency-Key": "create-c7001"}
    first = await client.post("/api/customers", json=_customer("C7001"), headers=headers)
    again = await client.post("/api/customers", json=_customer("C7001"), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["idempotency-replayed"] == "true"
    assert await _count(db, "SELECT count(*) FROM customer WHERE customer_number = 'C7001'") == 1
    other = await client.post("/api/customers", json=_customer("C7002"), headers=headers)
    assert_problem(other, 422, "idempotency-key-reused")


async def test_concurrent_retries_apply_once(client, admin, db):
    headers = {**admin, "Idempotency-Key": "create-c7003"}
    responses = await asyncio.gather(
        *(client.post("/api/customers", json=_customer("C7003"), headers=headers) for _ in range(5))
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert await _count(db, "SELECT count(*) FROM customer WHERE customer_number = 'C7003'") == 1


async def test_failed_request_is_not_remembered_under_its_key(client, admin):
    headers = {**admin, "Idempotency-Key": "retry-after-fix"}
    assert_problem(await client.post("/api/customers", json={"name": "x"}, headers=headers), 422)
    fixed = await client.post("/api/customers", json=_customer("C7004"), headers=headers)
    assert fixed.status_code == 201


async def test_each_write_leaves_exactly_one_audit_row(client, admin, db):
    before = await _count(db, "SELECT count(*) FROM audit_log")
    created = await client.post("/api/customers", json=_customer("C7005"), headers=admin)
    assert created.status_code == 201
    rows = await _count(db, "SELECT count(*) FROM audit_log")
    assert rows == before + 1
    async with db.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT action, actor_role, changes FROM audit_log ORDER BY id DESC LIMIT 1")
            )
        ).one()
    assert row.action == "POST /api/customers"
    assert row.actor_role == "admin"
    assert row.changes[0]["entity"] == "customer"
    assert row.changes[0]["after"]["customer_number"] == "C7005"
    patched = await client.patch(
        f"/api/customers/{created.json()['id']}", json={"version": 1, "name": "新名字"}, headers=admin
    )
    assert patched.status_code == 200
    async with db.connect() as conn:
        change = (
            await conn.execute(text("SELECT changes FROM audit_log ORDER BY id DESC LIMIT 1"))
        ).scalar_one()
    assert change[0]["before"]["name"] == "黄河数据服务有限公司"
    assert change[0]["after"]["name"] == "新名字"
    assert await _count(db, "SELECT count(*) FROM audit_log") == before + 2


async def test_passwords_never_reach_the_audit_log(client, admin, db):
    created = await client.post(
        "/api/users",
        json={
            "username": "new.user",
            "display_name": "新同事",
            "role": "dispatcher",
            "password": "a-long-password",
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    async with db.connect() as conn:
        text_of_row = (
            await conn.execute(text("SELECT changes::text FROM audit_log ORDER BY id DESC LIMIT 1"))
        ).scalar_one()
    assert "new.user" in text_of_row
    assert "password" not in text_of_row
    assert "argon2" not in text_of_row


async def test_the_database_refuses_to_change_the_audit_log(db):
    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
        async with db.connect() as conn:
            with pytest.raises(DBAPIError, match="append-only"):
                await conn.execute(text(statement))
