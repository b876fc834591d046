"""Sign-in, refresh rotation with reuse detection, sign-out, and refused tokens."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support.api import assert_problem, auth_headers, sign_in

SECRET = "test-secret-" + "x" * 32


async def test_login_returns_tokens_and_me_works(client):
    tokens = await sign_in(client, "dispatcher")
    assert tokens["token_type"] == "Bearer"
    assert tokens["role"] == "dispatcher"
    me = await client.get("/api/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200
    assert me.json()["username"] == "dispatcher"


async def test_wrong_password_and_unknown_user_look_alike(client):
    wrong = await client.post("/api/auth/login", json={"username": "supervisor", "password": "nope"})
    unknown = await client.post("/api/auth/login", json={"username": "nobody-here", "password": "nope"})
    assert assert_problem(wrong, 401, "unauthenticated")["detail"] == assert_problem(unknown, 401)["detail"]


async def test_refresh_rotates_and_reuse_revokes_the_family(client):
    first = await sign_in(client, "engineer02")
    second = (await client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})).json()
    assert second["refresh_token"] != first["refresh_token"]
    third = (await client.post("/api/auth/refresh", json={"refresh_token": second["refresh_token"]})).json()
    assert "access_token" in third

    # The first token comes back: stolen. The whole sign-in ends, including the newest tokens.
    reuse = await client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert assert_problem(reuse, 401, "unauthenticated")["reason"] == "reused"
    newest = await client.post("/api/auth/refresh", json={"refresh_token": third["refresh_token"]})
    assert_problem(newest, 401)
    me = await client.get("/api/users/me", headers={"Authorization": f"Bearer {third['access_token']}"})
    assert_problem(me, 401)


async def test_logout_ends_access_and_refresh(client):
    tokens = await sign_in(client, "engineer03")
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await client.post("/api/auth/logout", headers=headers)).status_code == 204
    assert_problem(await client.get("/api/users/me", headers=headers), 401)
    assert_problem(
        await client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}), 401
    )


async def test_other_sign_ins_survive_a_logout(client):
    one = await auth_headers(client, "engineer04")
    other = await auth_headers(client, "engineer04")
    assert (await client.post("/api/auth/logout", headers=one)).status_code == 204
    assert (await client.get("/api/users/me", headers=other)).status_code == 200


def _forge(payload: dict[str, object], key: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, key, algorithm=algorithm)


async def test_refused_tokens(client, clock):
    tokens = await sign_in(client, "engineer05")
    good = jwt.decode(tokens["access_token"], options={"verify_signature": False})

    def call(token: str):
        return client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})

    # tampered: the role changed, the signature kept
    header, _, signature = tokens["access_token"].split(".")
    body = base64.urlsafe_b64encode(json.dumps({**good, "role": "admin"}).encode()).rstrip(b"=").decode()
    assert_problem(await call(f"{header}.{body}.{signature}"), 401, "unauthenticated")
    # alg: none
    unsigned = jwt.encode(good, None, algorithm="none")
    assert_problem(await call(unsigned), 401)
    # wrong audience, wrong issuer, wrong key, another algorithm with the same key
    assert_problem(await call(_forge({**good, "aud": "someone-else"})), 401)
    assert_problem(await call(_forge({**good, "iss": "someone-else"})), 401)
    assert_problem(await call(_forge(good, key="another-secret-" + "y" * 32)), 401)
    assert_problem(await call(_forge(good, algorithm="HS512")), 401)
    # garbage and a wrong scheme
    assert_problem(await call("not-a-jwt"), 401)
    basic = await client.get("/api/users/me", headers={"Authorization": "Basic ZGlzcGF0Y2hlcjpkZW1vLXBhc3M="})
    assert_problem(basic, 401)
    # the genuine token still works …
    assert (await call(tokens["access_token"])).status_code == 200
    # … until it expires (the injectable clock moves, nothing sleeps)
    start = clock.now()
    clock.advance(timedelta(minutes=16))
    try:
        expired = assert_problem(await call(tokens["access_token"]), 401)
        assert expired["reason"] == "expired"
    finally:
        clock.set(start)


async def test_login_attempts_are_slowed_per_account_and_address_in_the_database(client, demo_db):
    for _ in range(5):
        assert_problem(
            await client.post("/api/auth/login", json={"username": "engineer06", "password": "x"}), 401
        )
    limited = await client.post("/api/auth/login", json={"username": "engineer06", "password": "demo-pass"})
    body = assert_problem(limited, 429, "rate-limited")
    assert int(limited.headers["retry-after"]) == body["retry_after"] > 0
    # the counter lives in PostgreSQL, where every API process sees it
    engine = create_async_engine(demo_db)
    async with engine.connect() as conn:
        failures = (
            await conn.execute(
                text(
                    "SELECT failures FROM login_throttle WHERE key = "
                    "'pair:' || (SELECT id FROM app_user WHERE username = 'engineer06') || :address"
                ),
                {"address": ":testclient"},
            )
        ).scalar_one()
    await engine.dispose()
    assert failures == 5
    # other accounts are not affected
    await sign_in(client, "engineer07")


async def test_rate_limit_window_passes(client, clock):
    for _ in range(5):
        await client.post("/api/auth/login", json={"username": "engineer08", "password": "x"})
    assert_problem(
        await client.post("/api/auth/login", json={"username": "engineer08", "password": "demo-pass"}), 429
    )
    start = clock.now()
    clock.advance(timedelta(minutes=16))
    try:
        await sign_in(client, "engineer08")
    finally:
        clock.set(start)
