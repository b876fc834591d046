"""Failed sign-ins slow the attacker without locking the account's owner out, behind a
reverse proxy too: a real server on a loopback port that trusts 127.0.0.1 as its proxy."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import psycopg
import pytest
from argon2 import PasswordHasher

from api.app import create_app
from core.clock import ManualClock
from tests.conftest import settings_for
from tests.support.api import DEMO_PASSWORD, assert_problem
from tests.support.live_server import LiveServer

# Cheap hashes for the accounts under attack: these tests count attempts, not hash cost.
USERS = ["engineer20", "engineer21", "engineer22", "engineer23", "engineer24"]
# Made-up names are checked against a full-cost dummy hash: a lower address limit keeps this quick.
PER_ADDRESS = 10


@pytest.fixture(scope="module")
def db(demo_db: str) -> Iterator[psycopg.Connection[Any]]:
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(DEMO_PASSWORD)
    with psycopg.connect(demo_db.replace("postgresql+asyncpg://", "postgresql://"), autocommit=True) as conn:
        conn.execute("UPDATE app_user SET password_hash = %s WHERE username = ANY(%s)", (cheap, USERS))
        yield conn


@pytest.fixture(scope="module")
def proxied(
    db: psycopg.Connection[Any], demo_db: str, clock: ManualClock, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    settings = settings_for(
        demo_db,
        tmp_path_factory.mktemp("var"),
        trusted_proxies=("127.0.0.1/32",),
        login_failures_per_address=PER_ADDRESS,
    )
    with LiveServer(create_app(settings, clock=clock)) as server, httpx.Client(base_url=server.url) as http:
        yield http


def _login(http: Any, username: str, password: str, client_address: str) -> Any:
    return http.post(
        "/api/auth/login",
        json={"username": username, "password": password},
        headers={"X-Forwarded-For": client_address},
    )


def test_an_attacker_is_slowed_while_the_owner_signs_in_from_elsewhere(proxied, clock):
    attacker, owner = "203.0.113.7", "198.51.100.20"
    for _ in range(5):
        assert_problem(_login(proxied, "engineer20", "guess", attacker), 401)
    limited = _login(proxied, "engineer20", "guess", attacker)
    body = assert_problem(limited, 429, "rate-limited")
    assert limited.headers["retry-after"] == str(body["retry_after"]) == "1"
    # Even the right password waits from the attacker's address …
    assert_problem(_login(proxied, "engineer20", DEMO_PASSWORD, attacker), 429)
    # … but the owner, elsewhere, is not locked out.
    assert _login(proxied, "engineer20", DEMO_PASSWORD, owner).status_code == 200

    # Each further failure doubles the attacker's wait.
    start = clock.now()
    waits = []
    try:
        for _ in range(4):
            clock.advance(timedelta(seconds=int(limited.headers["retry-after"])))
            assert_problem(_login(proxied, "engineer20", "guess", attacker), 401)
            limited = _login(proxied, "engineer20", "guess", attacker)
            waits.append(int(assert_problem(limited, 429)["retry_after"]))
    finally:
        clock.set(start)
    assert waits == [2, 4, 8, 16]


def test_made_up_names_leave_no_row_each(proxied, db):
    rows_before = db.execute("SELECT count(*) FROM login_throttle").fetchone()
    names = [f"nobody-{n}" for n in range(5)]
    for name in names:
        assert_problem(_login(proxied, name, "guess", "192.0.2.50"), 401)
    rows = db.execute("SELECT key, failures FROM login_throttle").fetchall()
    assert not [key for key, _ in rows if any(name in key for name in names)]
    assert ("addr:192.0.2.50", 5) in rows
    assert db.execute("SELECT count(*) FROM login_throttle").fetchone() == (rows_before[0] + 1,)


def test_an_address_spraying_names_is_slowed(proxied, clock):
    start = clock.now()
    try:
        for n in range(PER_ADDRESS):
            assert_problem(_login(proxied, f"spray-{n}", "guess", "192.0.2.77"), 401)
        assert_problem(_login(proxied, "engineer21", DEMO_PASSWORD, "192.0.2.77"), 429, "rate-limited")
        assert _login(proxied, "engineer21", DEMO_PASSWORD, "192.0.2.78").status_code == 200
    finally:
        clock.set(start)


def test_the_account_as_a_whole_is_slowed_briefly_never_locked(proxied, clock):
    start = clock.now()
    try:
        # Twenty failures from four addresses: none of them is slowed on its own yet …
        for address in ("198.18.0.1", "198.18.0.2", "198.18.0.3", "198.18.0.4"):
            for _ in range(5):
                assert_problem(_login(proxied, "engineer22", "guess", address), 401)
        # … but the account now answers slowly, for everyone, for at most half a minute.
        slowed = assert_problem(_login(proxied, "engineer22", DEMO_PASSWORD, "198.18.0.9"), 429)
        assert 0 < slowed["retry_after"] <= 30
        clock.advance(timedelta(seconds=slowed["retry_after"]))
        assert _login(proxied, "engineer22", DEMO_PASSWORD, "198.18.0.9").status_code == 200
    finally:
        clock.set(start)


def test_a_forwarded_address_counts_only_through_the_trusted_proxy(proxied):
    # Through the trusted proxy, a client that prepends made-up hops is still known by the
    # hop the proxy added (the right-most untrusted one).
    for n in range(5):
        assert_problem(_login(proxied, "engineer23", "guess", f"10.9.9.{n}, 203.0.113.99"), 401)
    assert_problem(_login(proxied, "engineer23", "guess", "10.9.9.200, 203.0.113.99"), 429)
    assert _login(proxied, "engineer23", DEMO_PASSWORD, "203.0.113.100").status_code == 200


async def test_an_untrusted_peers_forwarded_header_is_ignored(client, db):
    # The test client's peer is not a trusted proxy: a fresh X-Forwarded-For per attempt
    # does not give the attacker fresh counters.
    for n in range(5):
        response = await client.post(
            "/api/auth/login",
            json={"username": "engineer24", "password": "guess"},
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        )
        assert_problem(response, 401)
    limited = await client.post(
        "/api/auth/login",
        json={"username": "engineer24", "password": DEMO_PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.77"},
    )
    assert_problem(limited, 429, "rate-limited")
