"""A sign-in follows its account: changed role, organisation, password or active flag take
effect on the very next request; a retried refresh keeps the sign-in; no token is stored."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from tests.support.api import assert_problem, auth_headers, sign_in

PASSWORD = "first-password-1"


@pytest.fixture(scope="module")
def db(demo_db: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(demo_db.replace("postgresql+asyncpg://", "postgresql://"), autocommit=True) as conn:
        yield conn


async def _new_user(client, admin: dict[str, str], role: str, **extra: Any) -> str:
    name = f"{role[:8]}-{uuid.uuid4().hex[:8]}"
    body = {"username": name, "display_name": name, "role": role, "password": PASSWORD, **extra}
    response = await client.post("/api/users", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return name


def _bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def _refresh(client, tokens: dict[str, Any], key: str | None = None):
    headers = {"Idempotency-Key": key} if key else {}
    return await client.post(
        "/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}, headers=headers
    )


async def test_the_role_comes_from_the_account_not_the_token(client, admin, db):
    name = await _new_user(client, admin, "admin")
    tokens = await sign_in(client, name, PASSWORD)
    assert (await client.get("/api/users", headers=_bearer(tokens))).status_code == 200
    # Changed behind the API's back (no sign-in is ended): the same token now acts as a dispatcher.
    db.execute("UPDATE app_user SET role = 'dispatcher' WHERE username = %s", (name,))
    assert_problem(await client.get("/api/users", headers=_bearer(tokens)), 403, "forbidden")
    me = await client.get("/api/users/me", headers=_bearer(tokens))
    assert me.json()["role"] == "dispatcher"


async def test_a_demoted_user_is_signed_out_everywhere(client, admin):
    name = await _new_user(client, admin, "admin")
    tokens = await sign_in(client, name, PASSWORD)
    user_id = tokens["user_id"]
    assert (await client.get("/api/users", headers=_bearer(tokens))).status_code == 200

    demoted = await client.patch(f"/api/users/{user_id}", json={"role": "dispatcher"}, headers=admin)
    assert demoted.status_code == 200, demoted.text

    assert assert_problem(await client.get("/api/users", headers=_bearer(tokens)), 401)["reason"] == "revoked"
    assert_problem(await _refresh(client, tokens), 401, "unauthenticated")
    again = await sign_in(client, name, PASSWORD)
    assert again["role"] == "dispatcher"
    assert_problem(await client.get("/api/users", headers=_bearer(again)), 403, "forbidden")


async def test_a_contact_moved_to_another_organisation_sees_only_the_new_one(client, admin):
    customers = (await client.get("/api/customers", params={"limit": 2}, headers=admin)).json()["items"]
    first, second = customers[0]["id"], customers[1]["id"]
    name = await _new_user(client, admin, "customer_contact", customer_id=first)
    tokens = await sign_in(client, name, PASSWORD)
    seen = (await client.get("/api/customers", headers=_bearer(tokens))).json()["items"]
    assert [c["id"] for c in seen] == [first]

    moved = await client.patch(f"/api/users/{tokens['user_id']}", json={"customer_id": second}, headers=admin)
    assert moved.status_code == 200, moved.text

    assert_problem(await client.get(f"/api/customers/{first}", headers=_bearer(tokens)), 401)
    assert_problem(await _refresh(client, tokens), 401)
    again = await sign_in(client, name, PASSWORD)
    assert [
        c["id"] for c in (await client.get("/api/customers", headers=_bearer(again))).json()["items"]
    ] == [second]
    assert_problem(await client.get(f"/api/customers/{first}", headers=_bearer(again)), 404)


async def test_a_deactivated_user_is_refused_at_once(client, admin):
    name = await _new_user(client, admin, "warehouse")
    tokens = await sign_in(client, name, PASSWORD)
    off = await client.patch(f"/api/users/{tokens['user_id']}", json={"active": False}, headers=admin)
    assert off.status_code == 200, off.text
    assert_problem(await client.get("/api/users/me", headers=_bearer(tokens)), 401)
    assert_problem(await _refresh(client, tokens), 401)
    assert_problem(await client.post("/api/auth/login", json={"username": name, "password": PASSWORD}), 401)


async def test_a_harmless_change_keeps_the_sign_in(client, admin):
    name = await _new_user(client, admin, "warehouse")
    tokens = await sign_in(client, name, PASSWORD)
    renamed = await client.patch(
        f"/api/users/{tokens['user_id']}", json={"display_name": "New"}, headers=admin
    )
    assert renamed.status_code == 200
    assert (await client.get("/api/users/me", headers=_bearer(tokens))).status_code == 200
    assert (await _refresh(client, tokens)).status_code == 200


async def test_a_password_set_by_an_admin_ends_every_sign_in(client, admin):
    name = await _new_user(client, admin, "dispatcher")
    one, two = await sign_in(client, name, PASSWORD), await sign_in(client, name, PASSWORD)
    changed = await client.patch(
        f"/api/users/{one['user_id']}", json={"password": "second-password-2"}, headers=admin
    )
    assert changed.status_code == 200
    for tokens in (one, two):
        assert_problem(await client.get("/api/users/me", headers=_bearer(tokens)), 401)
        assert_problem(await _refresh(client, tokens), 401)
    assert_problem(await client.post("/api/auth/login", json={"username": name, "password": PASSWORD}), 401)
    await sign_in(client, name, "second-password-2")


async def test_changing_my_password_ends_my_other_sign_ins_and_keeps_this_one(client, admin):
    name = await _new_user(client, admin, "engineer")
    here, elsewhere = await sign_in(client, name, PASSWORD), await sign_in(client, name, PASSWORD)
    change = {"current_password": PASSWORD, "new_password": "my-new-password-3"}

    response = await client.post("/api/users/me/password", json=change, headers=_bearer(here))
    assert response.status_code == 204, response.text

    assert (await client.get("/api/users/me", headers=_bearer(here))).status_code == 200
    refreshed = await _refresh(client, here)
    assert refreshed.status_code == 200
    assert (await client.get("/api/users/me", headers=_bearer(refreshed.json()))).status_code == 200
    assert_problem(await client.get("/api/users/me", headers=_bearer(elsewhere)), 401)
    assert_problem(await _refresh(client, elsewhere), 401)
    assert_problem(await client.post("/api/auth/login", json={"username": name, "password": PASSWORD}), 401)
    await sign_in(client, name, "my-new-password-3")

    # The answer was lost and the phone sends the same request again: still 204, nothing changes.
    retry = await client.post("/api/users/me/password", json=change, headers=_bearer(refreshed.json()))
    assert retry.status_code == 204, retry.text
    await sign_in(client, name, "my-new-password-3")


async def test_my_password_change_refuses_a_wrong_current_password_or_a_short_one(client, admin):
    name = await _new_user(client, admin, "engineer")
    headers = _bearer(await sign_in(client, name, PASSWORD))
    wrong = await client.post(
        "/api/users/me/password",
        json={"current_password": "not-my-password", "new_password": "another-password-4"},
        headers=headers,
    )
    assert assert_problem(wrong, 422, "invalid-input")["errors"][0]["field"] == "current_password"
    short = await client.post(
        "/api/users/me/password",
        json={"current_password": PASSWORD, "new_password": "short"},
        headers=headers,
    )
    assert assert_problem(short, 422, "invalid-input")["errors"][0]["field"] == "new_password"
    await sign_in(client, name, PASSWORD)


async def test_a_sign_in_that_raced_with_a_change_is_refused(client, admin, db):
    name = await _new_user(client, admin, "dispatcher")
    tokens = await sign_in(client, name, PASSWORD)
    # As if an admin's change committed just after this sign-in had read the account:
    # its refresh tokens carry the old session version.
    db.execute("UPDATE app_user SET session_version = session_version + 1 WHERE username = %s", (name,))
    assert_problem(await client.get("/api/users/me", headers=_bearer(tokens)), 401)
    assert_problem(await _refresh(client, tokens), 401)


async def test_a_refresh_retried_with_its_key_keeps_the_sign_in(client, admin):
    name = await _new_user(client, admin, "engineer")
    first = await sign_in(client, name, PASSWORD)
    lost = await _refresh(client, first, key="refresh-1")  # the phone never sees this answer
    assert lost.status_code == 200
    retried = await _refresh(client, first, key="refresh-1")
    assert retried.status_code == 200, retried.text
    assert retried.json()["refresh_token"] not in {first["refresh_token"], lost.json()["refresh_token"]}
    # and again (the retry's answer was lost too)
    retried = await _refresh(client, first, key="refresh-1")
    assert retried.status_code == 200, retried.text

    # The sign-in lives on with the newest pair; the undelivered ones are retired, not alarms.
    assert (await client.get("/api/users/me", headers=_bearer(retried.json()))).status_code == 200
    assert assert_problem(await _refresh(client, lost.json()), 401)["reason"] == "invalid-refresh"
    after = await _refresh(client, retried.json(), key="refresh-2")
    assert after.status_code == 200
    assert (await client.get("/api/users/me", headers=_bearer(after.json()))).status_code == 200


@pytest.mark.parametrize("how", ["no key", "another key", "too late", "successor used"])
async def test_a_real_reuse_still_ends_the_sign_in(client, admin, clock, how):
    name = await _new_user(client, admin, "engineer")
    first = await sign_in(client, name, PASSWORD)
    second = (await _refresh(client, first, key="k-1")).json()
    start = clock.now()
    try:
        if how == "successor used":
            second = (await _refresh(client, second, key="k-2")).json()
            reuse = await _refresh(client, first, key="k-1")
        elif how == "too late":
            clock.advance(timedelta(seconds=31))
            reuse = await _refresh(client, first, key="k-1")
        else:
            reuse = await _refresh(client, first, key=None if how == "no key" else "k-other")
        assert assert_problem(reuse, 401)["reason"] == "reused"
        assert_problem(await client.get("/api/users/me", headers=_bearer(second)), 401)
        assert_problem(await _refresh(client, second), 401)
    finally:
        clock.set(start)


async def test_no_token_or_key_is_stored_in_clear(client, admin, db):
    name = await _new_user(client, admin, "engineer")
    login = await client.post(
        "/api/auth/login",
        json={"username": name, "password": PASSWORD},
        headers={"Idempotency-Key": "login-7"},
    )
    assert login.status_code == 200
    refreshed = await _refresh(client, login.json(), key="refresh-7")
    assert refreshed.status_code == 200
    retried_login = await client.post(
        "/api/auth/login",
        json={"username": name, "password": PASSWORD},
        headers={"Idempotency-Key": "login-7"},
    )
    assert retried_login.status_code == 200  # a retried sign-in signs in again
    assert "idempotency-replayed" not in retried_login.headers

    stored = db.execute(
        "SELECT key, convert_from(body, 'UTF8') FROM idempotency_key WHERE key IN ('login-7', 'refresh-7')"
    ).fetchall()
    assert stored == []
    secrets = [
        t[field]
        for t in (login.json(), refreshed.json(), retried_login.json())
        for field in ("access_token", "refresh_token")
    ]
    leaked = db.execute(
        "SELECT count(*) FROM idempotency_key WHERE position(%s in convert_from(body, 'UTF8')) > 0"
        " OR position(%s in convert_from(body, 'UTF8')) > 0",
        (secrets[1], secrets[3]),
    ).fetchone()
    assert leaked == (0,)
    columns = db.execute(
        "SELECT token_hash, coalesce(rotated_by_key, '') FROM refresh_token WHERE user_id = %s",
        (login.json()["user_id"],),
    ).fetchall()
    assert columns
    assert all(s not in "".join(row) for row in columns for s in [*secrets, "refresh-7"])
    assert any(len(row[1]) == 64 for row in columns)  # the key's hash, not the key


async def test_an_idempotent_post_is_kept_under_the_caller_who_sent_it(client):
    """The stored answer belongs to whoever was signed in when the request arrived."""
    headers = {**(await auth_headers(client, "engineer01")), "Idempotency-Key": "consent-1"}
    first = await client.post("/api/engineers/me/position-consent", headers=headers)
    assert first.status_code < 300, first.text
    again = await client.post("/api/engineers/me/position-consent", headers=headers)
    assert again.headers.get("idempotency-replayed") == "true"


async def test_an_admin_setting_their_own_password_keeps_the_sign_in_in_use(client, admin):
    name = await _new_user(client, admin, "admin")
    here, elsewhere = await sign_in(client, name, PASSWORD), await sign_in(client, name, PASSWORD)
    changed = await client.patch(
        f"/api/users/{here['user_id']}", json={"password": "admin-password-5"}, headers=_bearer(here)
    )
    assert changed.status_code == 200, changed.text
    assert (await client.get("/api/users", headers=_bearer(here))).status_code == 200
    assert_problem(await client.get("/api/users", headers=_bearer(elsewhere)), 401)
    assert_problem(await _refresh(client, elsewhere), 401)
