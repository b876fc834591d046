"""Several phones, a dispatcher making random edits, and a bad network, as a hypothesis state
machine driving the reference client over HTTP.

Faults: requests dropped on the way, responses dropped after the server committed (the
server "restarted" before answering), batches duplicated and reordered, phone clocks days
off. After every step: seqs contiguous, nothing acknowledged lost or applied twice, no visit
in a state the lifecycle does not allow. At the end, after a clean sync, every phone holds
exactly the server's documents for its scope.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import uuid
from typing import Any

import httpx
import psycopg
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from litestar.testing import TestClient

from offline_sync.client import DeviceClient

ENGINEERS = ("engineer10", "engineer11")
ACTIONS = ("travel", "arrive", "note", "complete", "follow_up")
# Kept small enough for `make test` on two cores; `HYPOTHESIS_PROFILE=long` runs more.
EXAMPLES = 200 if os.environ.get("HYPOTHESIS_PROFILE") == "long" else 12
STEPS = 30 if os.environ.get("HYPOTHESIS_PROFILE") == "long" else 20


class Flaky:
    """A transport that loses the next request or the next response when told to."""

    def __init__(self, inner: TestClient[Any]) -> None:
        self.inner = inner
        self.drop_request = self.drop_response = False

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        if self.drop_request:
            self.drop_request = False
            raise httpx.ConnectError("dropped on the way")
        response = self.inner.request(method, url, **kwargs)
        if self.drop_response:
            self.drop_response = False
            raise httpx.ReadError("dropped after the server answered")
        return response


@pytest.fixture(scope="module")
def http(app):
    with TestClient(app=app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def dsn(demo_db: str) -> str:
    return demo_db.replace("postgresql+asyncpg://", "postgresql://")


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def test_sync_state_machine(http, clock, dsn, tmp_path):
    def auth(username: str) -> dict[str, str]:
        token = _ok(http.post("/api/auth/login", json={"username": username, "password": "demo-pass"}))
        return {"Authorization": f"Bearer {token['access_token']}"}

    engineers = {
        e["username"]: e["id"]
        for e in _ok(http.get("/api/engineers", headers=auth("admin"), params={"limit": 500}))["items"]
    }
    admin = auth("admin")
    customer = _ok(
        http.post("/api/customers", headers=admin, json={"customer_number": "SYNC-M", "name": "同步测试"}),
        201,
    )
    site = _ok(
        http.post(
            "/api/sites",
            headers=admin,
            json={
                "customer_id": customer["id"],
                "name": "机房",
                "address": "郑州",
                "point": {"type": "Point", "coordinates": [113.66, 34.76]},
                "time_zone": "Asia/Shanghai",
            },
        ),
        201,
    )

    class Machine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.dispatcher = auth("dispatcher")
            self.dir = tempfile.mkdtemp(dir=tmp_path)
            self.skews: list[dt.timedelta] = []
            self.phones: list[DeviceClient] = []
            self.transports: list[Flaky] = []
            for n, username in enumerate(
                (*ENGINEERS, ENGINEERS[0])
            ):  # the third: a second phone of the first
                transport = Flaky(http)
                self.skews.append(dt.timedelta(0))
                phone = DeviceClient(
                    transport,
                    os.path.join(self.dir, f"{n}.sqlite"),
                    username,
                    "demo-pass",
                    device_clock=self._device_clock(n),
                    sleep=lambda _s: None,
                )
                phone.sync()
                self.phones.append(phone)
                self.transports.append(transport)
            self.visits: list[dict[str, Any]] = []
            for username in ENGINEERS:
                for _ in range(2):
                    order = _ok(
                        http.post(
                            "/api/work-orders",
                            headers=self.dispatcher,
                            json={
                                "site_id": site["id"],
                                "contact_name": "王工",
                                "contact_phone": "13800000000",
                                "fault_description": "故障",
                                "severity": "high",
                                "channel": "phone",
                                "asset_model": "R750",
                                "asset_serial": f"SM-{uuid.uuid4().hex[:10]}",
                            },
                        ),
                        201,
                    )
                    visit = _ok(
                        http.post(
                            f"/api/work-orders/{order['id']}/visits",
                            headers=self.dispatcher,
                            json={"kind": "repair", "duration_minutes": 60},
                        ),
                        201,
                    )
                    visit = _ok(
                        http.put(
                            f"/api/visits/{visit['id']}/assignment",
                            headers=self.dispatcher,
                            json={"version": visit["version"], "engineer_id": engineers[username]},
                        )
                    )
                    self.visits.append(visit)
            self.removed: dict[int, set[str]] = {i: set() for i in range(len(self.phones))}
            self.unreachable = [False] * len(self.phones)

        def _device_clock(self, n: int) -> Any:
            return lambda: clock.now() + self.skews[n]

        def _visit_for(self, phone: int, pick: int) -> dict[str, Any] | None:
            docs = self.phones[phone].replica()
            visits = [v for d in docs.values() for v in d["visits"]]
            return visits[pick % len(visits)] if visits else None

        @rule(phone=st.integers(0, 2), pick=st.integers(0, 7), action=st.sampled_from(ACTIONS))
        def record(self, phone: int, pick: int, action: str) -> None:
            visit = self._visit_for(phone, pick)
            if visit is None:
                return
            device = self.phones[phone]
            at, vid = device.now(), visit["id"]
            if action == "travel":
                device.record("visit.start_travel@1", visit_id=vid, at=at)
            elif action == "arrive":
                device.record("visit.arrive@1", visit_id=vid, at=at, proof="qr_code")
            elif action == "note":
                device.record("visit.add_note@1", visit_id=vid, note_id=str(uuid.uuid4()), body="记录", at=at)
            else:
                device.record(
                    "visit.complete@1",
                    visit_id=vid,
                    outcome="resolved" if action == "complete" else "follow_up",
                    at=at,
                )

        @rule(phone=st.integers(0, 2), fault=st.sampled_from(["none", "request", "response", "both"]))
        def sync(self, phone: int, fault: str) -> None:
            transport = self.transports[phone]
            transport.drop_request = fault in {"request", "both"}
            transport.drop_response = fault in {"response", "both"}
            before = self.phones[phone].replica()
            self.phones[phone].sync()
            after = self.phones[phone].replica()
            self.removed[phone] |= set(before) - set(after)

        @rule(phone=st.integers(0, 2))
        def duplicated_and_reordered_batch(self, phone: int) -> None:
            device = self.phones[phone]
            batch = device.pending()
            if batch:
                device.push([*reversed(batch), batch[0]])

        @rule(phone=st.integers(0, 2), days=st.integers(-3, 3))
        def skew_clock(self, phone: int, days: int) -> None:
            self.skews[phone] = dt.timedelta(days=days, minutes=days * 7)

        @rule(minutes=st.integers(1, 90))
        def time_passes(self, minutes: int) -> None:
            clock.advance(dt.timedelta(minutes=minutes))
            self.dispatcher = auth("dispatcher")

        @rule(pick=st.integers(0, 3))
        def dispatcher_reassigns(self, pick: int) -> None:
            visit_id = self.visits[pick]["id"]
            order = _ok(
                http.get(f"/api/work-orders/{self.visits[pick]['work_order_id']}", headers=self.dispatcher)
            )
            visit = next(v for v in order["visits"] if v["id"] == visit_id)
            if visit["status"] != "assigned":
                return
            other = next(e for e in ENGINEERS if engineers[e] != visit["engineer_id"])
            _ok(
                http.put(
                    f"/api/visits/{visit_id}/assignment",
                    headers=self.dispatcher,
                    json={"version": visit["version"], "engineer_id": engineers[other]},
                )
            )

        @rule(pick=st.integers(0, 3))
        def dispatcher_cancels(self, pick: int) -> None:
            order = _ok(
                http.get(f"/api/work-orders/{self.visits[pick]['work_order_id']}", headers=self.dispatcher)
            )
            if order["status"] == "scheduled":
                _ok(
                    http.post(
                        f"/api/work-orders/{order['id']}/transitions",
                        headers=self.dispatcher,
                        json={"version": order["version"], "to": "cancelled"},
                    )
                )

        @invariant()
        def server_is_consistent(self) -> None:
            with psycopg.connect(dsn, autocommit=True) as conn:
                for device in self.phones:
                    rows = conn.execute(
                        "SELECT m.seq, m.mutation_id::text, m.status, d.next_seq FROM sync_mutation m "
                        "JOIN sync_device d ON d.id = m.device_pk "
                        "WHERE d.device_id = %s "
                        "AND d.user_id = (SELECT id FROM app_user WHERE username = %s) "
                        "ORDER BY m.seq",
                        (device.device_id, device.username),
                    ).fetchall()
                    seqs = [r[0] for r in rows]
                    assert seqs == list(range(1, len(seqs) + 1)), seqs  # contiguous
                    if rows:
                        assert rows[0][3] == len(seqs) + 1
                    stored = {r[1]: (r[0], r[2]) for r in rows}
                    for mutation_id, (seq, status) in device.acknowledged().items():
                        assert stored.get(mutation_id, (None, None))[0] == seq  # acknowledged ⇒ stored
                        if status != "pending_blob":
                            assert stored[mutation_id][1] == status
                ids = [v["id"] for v in self.visits]
                twice = conn.execute(
                    "SELECT data->>'visit_id', to_status, count(*) FROM work_order_event "
                    "WHERE kind = 'status' AND data->>'visit_id' = ANY(%s) "
                    "AND to_status IN ('en_route', 'on_site') "
                    "GROUP BY 1, 2 HAVING count(*) > 1",
                    (ids,),
                ).fetchall()
                assert twice == []  # no progress applied twice
                for status, arrived, finished, en_route in conn.execute(
                    "SELECT status, arrived_at, finished_at, en_route_at FROM visit WHERE id::text = ANY(%s)",
                    (ids,),
                ).fetchall():
                    assert status in {"assigned", "en_route", "on_site", "done", "planned", "cancelled"}
                    assert (status in {"on_site", "done"}) <= (arrived is not None)
                    assert (status == "done") == (finished is not None)
                    assert (status == "en_route") <= (en_route is not None)

        def teardown(self) -> None:
            for n, device in enumerate(self.phones):
                self.transports[n].drop_request = self.transports[n].drop_response = False
                device.sync()
                device.sync()
                assert device.pending() == []  # every mutation has its outcome
                # A fresh bootstrap of the same scope, on a throwaway phone store.
                probe = DeviceClient(
                    http, os.path.join(self.dir, f"probe{n}.sqlite"), device.username, "demo-pass"
                )
                probe._set("device_id", device.device_id)
                probe.sign_in()
                probe.pull()
                assert device.replica() == probe.replica()
                assert not (self.removed[n] & set(device.replica())) or all(
                    i in probe.replica() for i in self.removed[n] & set(device.replica())
                )  # nothing deleted comes back unless it is in scope again

    Machine.TestCase.settings = settings(
        max_examples=EXAMPLES,
        stateful_step_count=STEPS,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    Machine.TestCase().runTest()
