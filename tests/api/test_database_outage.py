"""A PostgreSQL restart under the API: requests meanwhile get 503 `database-unavailable` with
Retry-After (never a 500), readiness says not ready, and once the server is back the same
clients carry on; what was acknowledged before is still there and nothing applies twice."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from litestar.testing import TestClient

from api.app import create_app
from core.clock import ManualClock
from core.localdb import LocalCluster, throwaway_cluster
from core.settings import PROJECT_ROOT
from offline_sync.client import DeviceClient
from tests.conftest import DEMO_NOW, settings_for
from tests.support.api import DEMO_PASSWORD, assert_problem
from tests.support.db import migrate, seed_demo


@pytest.fixture(scope="module")
def private_cluster() -> Iterator[LocalCluster]:
    """A cluster of this module's own: stopping it disturbs no other test."""
    cluster = throwaway_cluster(PROJECT_ROOT / "var")
    try:
        migrate(cluster.url)
        seed_demo(cluster.url, DEMO_NOW)
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="module")
def http(
    private_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient[Any]]:
    settings = settings_for(private_cluster.url, Path(tmp_path_factory.mktemp("var")))
    app = create_app(settings, clock=ManualClock(DEMO_NOW))
    with TestClient(app=app, raise_server_exceptions=False) as client:
        yield client


def _headers(http: TestClient[Any], username: str) -> dict[str, str]:
    response = http.post("/api/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _unavailable(response: Any) -> None:
    assert_problem(response, 503, "database-unavailable")
    assert int(response.headers["retry-after"]) >= 1


def test_requests_during_a_restart_get_503_and_the_same_clients_carry_on(
    http: TestClient[Any], private_cluster: LocalCluster
) -> None:
    admin = _headers(http, "admin")
    phone = DeviceClient(
        http, ":memory:", "engineer05", DEMO_PASSWORD, sleep=lambda _s: None, device_clock=lambda: DEMO_NOW
    )
    phone.sign_in()
    customer = http.post(
        "/api/customers",
        headers={**admin, "Idempotency-Key": "before"},
        json={"customer_number": "OUT-1", "name": "停机前客户"},
    )
    assert customer.status_code == 201, customer.text
    before = _timesheet(phone)
    outcomes = phone.push()
    assert [o["status"] for o in outcomes] == ["applied"], outcomes

    # The list twice: the second answer comes from the kept page, as the one during the outage would.
    for _ in range(2):
        assert http.get("/api/work-orders", headers=admin).status_code == 200

    private_cluster.stop()
    try:
        assert http.get("/api/health").status_code == 200  # the process itself is alive
        ready = http.get("/api/ready")
        assert ready.status_code == 503
        assert int(ready.headers["retry-after"]) >= 1
        _unavailable(http.get(f"/api/customers/{customer.json()['id']}", headers=admin))
        _unavailable(http.get("/api/work-orders", headers=admin))
        _unavailable(http.post("/api/auth/login", json={"username": "admin", "password": DEMO_PASSWORD}))
        _unavailable(
            http.post(
                "/api/customers",
                headers={**admin, "Idempotency-Key": "outage-1"},
                json={"customer_number": "OUT-2", "name": "X"},
            )
        )
        _unavailable(
            http.post(
                "/api/sync/push",
                headers=phone._headers(),
                json={"device_id": phone.device_id, "device_time": phone.now(), "mutations": []},
            )
        )

        # The phone's next sync meets the outage: it waits as told, and the server comes back.
        waits: list[float] = []

        def restart_on_first_wait(seconds: float) -> None:
            waits.append(seconds)
            if not private_cluster.running():
                private_cluster.start()

        phone.sleep = restart_on_first_wait
        during = _timesheet(phone)
        assert [o["status"] for o in phone.push()] == ["applied"]
        assert waits
        assert waits[0] >= 1
    finally:
        if not private_cluster.running():
            private_cluster.start()

    assert http.get("/api/ready").status_code == 200
    assert http.get("/api/work-orders", headers=admin).status_code == 200
    # The customer made before the outage is there; the one refused during it is not.
    assert http.get(f"/api/customers/{customer.json()['id']}", headers=admin).status_code == 200
    numbers = [
        c["customer_number"] for c in http.get("/api/customers?limit=500", headers=admin).json()["items"]
    ]
    assert "OUT-1" in numbers
    assert "OUT-2" not in numbers
    # Both time entries are stored, once each; pushing the outbox again applies nothing twice.
    assert _time_entries(private_cluster, [before, during]) == 2
    phone.push([dict(m) for m in _outbox(phone)])
    assert _time_entries(private_cluster, [before, during]) == 2
    assert phone.pending() == []


def _timesheet(phone: DeviceClient) -> str:
    entry = str(uuid.uuid4())
    now = dt.datetime.fromisoformat(phone.now())
    phone.record(
        "timesheet.add@1",
        entry_id=entry,
        kind="work",
        started_at=(now - dt.timedelta(minutes=30)).isoformat(),
        ended_at=now.isoformat(),
        backdated_reason="written up after the job",
    )
    return entry


def _outbox(phone: DeviceClient) -> list[dict[str, Any]]:
    rows = phone.db.execute("SELECT seq, id, name, args FROM outbox ORDER BY seq").fetchall()
    return [{"seq": seq, "id": id_, "name": name, "args": json.loads(args)} for seq, id_, name, args in rows]


def _time_entries(cluster: LocalCluster, ids: list[str]) -> int:
    dsn = cluster.url.replace("postgresql+asyncpg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM time_entry WHERE id = ANY(%s::uuid[])", (ids,)).fetchone()
    assert row is not None
    return int(row[0])
