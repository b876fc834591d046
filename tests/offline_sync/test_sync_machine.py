"""Several phones, a dispatcher making random edits, and a bad network, as a hypothesis state
machine driving the reference client against the in-process API.

Faults: requests dropped on the way, responses dropped after the server committed, the
server restarted (the app rebuilt) between committing a push and answering it, batches
duplicated and reordered, phone clocks days off, and a writer that takes a lower change
number but commits after a phone pulled a higher one. After every step: seqs contiguous,
nothing acknowledged lost or applied twice, parts used offline in the ledger exactly once,
no visit in a state the lifecycle does not allow. At the end, after a clean sync, every
phone holds exactly the server's documents for its scope, and nothing it saw removed
came back unless it is in scope again.

Cost per example is kept low so that `make test` runs the acceptance size (100 examples of
30 steps): one database and one app for the whole run; each example starts by truncating
the work orders and the sync tables and creating only its five visits; phone stores live in
memory; the dispatcher signs in once and refreshes when the clock passes the token's life;
the demo users' password hashes are re-hashed with cheap argon2 parameters (the sign-in
path itself is unchanged, it just stops costing ~130 ms of CPU per phone).
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from litestar.testing import TestClient
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from api.app import create_app
from core.clock import ManualClock
from dispatch.work_orders.models import VisitNote
from inventory.models import Item, ItemKind
from offline_sync.client import DeviceClient
from tests.conftest import settings_for

ENGINEERS = ("engineer10", "engineer11")
ACTIONS = ("travel", "arrive", "note", "part", "complete", "follow_up")
LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
# The acceptance size in `make test`; `make bench-sync` (profile `long`) runs far more.
EXAMPLES = int(os.environ.get("SYNC_MACHINE_EXAMPLES", 10_000 if LONG else 100))
STEPS = 30
# What one example starts from: no work orders, no devices, no change log.
RESET = (
    "TRUNCATE work_order, sync_device, sync_change, sync_blob, sync_retention, sync_conflict, "
    "sync_held_push, sync_mutation CASCADE"
)


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


class Server:
    """The API in process; `restart()` throws the app away and builds a new one."""

    def __init__(self, database_url: str, var_dir: Any, clock: ManualClock) -> None:
        self.database_url, self.var_dir, self.clock = database_url, var_dir, clock
        self.client = self._start()
        self.restarts = 0

    def _start(self) -> TestClient[Any]:
        app = create_app(settings_for(self.database_url, self.var_dir), clock=self.clock)
        client: TestClient[Any] = TestClient(app=app, raise_server_exceptions=False)
        client.__enter__()
        return client

    def restart(self) -> None:
        self.client.__exit__(None, None, None)
        self.client = self._start()
        self.restarts += 1

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        return self.client.request(method, url, **kwargs)

    def close(self) -> None:
        self.client.__exit__(None, None, None)


class Flaky:
    """A phone's network: loses the next request or the next response when told to, or has
    the server restart after it committed and before it answered."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.drop_request = self.drop_response = self.restart = False

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        if self.drop_request:
            self.drop_request = False
            raise httpx.ConnectError("dropped on the way")
        response = self.server.request(method, url, **kwargs)
        if self.restart and url == "/api/sync/push":
            self.restart = False
            self.server.restart()
            raise httpx.RemoteProtocolError("the server went away before answering")
        if self.drop_response:
            self.drop_response = False
            raise httpx.ReadError("dropped after the server answered")
        return response


class Dispatcher:
    """Signs in once; refreshes only when the access token has expired."""

    def __init__(self, server: Server) -> None:
        self.server = server
        tokens = _ok(
            server.request("POST", "/api/auth/login", json={"username": "dispatcher", "password": PW})
        )
        self._tokens(tokens)

    def _tokens(self, body: dict[str, Any]) -> None:
        self.headers = {"Authorization": f"Bearer {body['access_token']}"}
        self.refresh_token = body["refresh_token"]

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        response = self.server.request(method, url, headers=self.headers, **kwargs)
        if response.status_code == 401:
            refreshed = self.server.request(
                "POST", "/api/auth/refresh", json={"refresh_token": self.refresh_token}
            )
            self._tokens(_ok(refreshed))
            response = self.server.request(method, url, headers=self.headers, **kwargs)
        return response


PW = "demo-pass"


@pytest.fixture(scope="module")
def server(demo_db: str, clock: ManualClock, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(demo_db, tmp_path_factory.mktemp("var"), clock)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def conn(demo_db: str) -> Iterator[psycopg.Connection[Any]]:
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PW)
    with psycopg.connect(demo_db.replace("postgresql+asyncpg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(
            "UPDATE app_user SET password_hash = %s WHERE username = ANY(%s)",
            (cheap, [*ENGINEERS, "dispatcher", "admin"]),
        )
        yield conn


def test_sync_state_machine(
    server: Server, clock: ManualClock, conn: psycopg.Connection[Any], demo_db: str
) -> None:
    admin = Dispatcher.__new__(Dispatcher)
    admin.server = server
    admin._tokens(_ok(server.request("POST", "/api/auth/login", json={"username": "admin", "password": PW})))
    dispatcher = Dispatcher(server)
    engineers = {
        e["username"]: e["id"]
        for e in _ok(admin.request("GET", "/api/engineers", params={"limit": 500}))["items"]
    }
    customer = _ok(
        admin.request("POST", "/api/customers", json={"customer_number": "SYNC-M", "name": "同步测试"}), 201
    )
    site = _ok(
        admin.request(
            "POST",
            "/api/sites",
            json={
                "customer_id": customer["id"],
                "name": "机房",
                "address": "郑州",
                "point": {"type": "Point", "coordinates": [113.66, 34.76]},
                "time_zone": "Asia/Shanghai",
                # A secure room: completions need no photo, so phones can resolve offline.
                "no_photography": True,
            },
        ),
        201,
    )
    # The late writer goes through the ORM, so its change is captured like any service's.
    orm = create_engine(demo_db.replace("postgresql+asyncpg://", "postgresql+psycopg://"))
    item_id = str(uuid.uuid4())
    with Session(orm) as session, session.begin():
        session.add(
            Item(
                id=uuid.UUID(item_id), sku=f"SM-{item_id[:8]}", name="电源模块", kind=ItemKind.PART, version=1
            )
        )
    stats = {"examples": 0, "steps": 0}

    class Machine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            stats["examples"] += 1
            conn.execute(RESET)
            self.skews: list[dt.timedelta] = []
            self.phones: list[DeviceClient] = []
            self.transports: list[Flaky] = []
            self.late: Session | None = None
            for n, username in enumerate(
                (*ENGINEERS, ENGINEERS[0])
            ):  # the third: a second phone of the first
                transport = Flaky(server)
                self.skews.append(dt.timedelta(0))
                phone = DeviceClient(
                    transport,
                    ":memory:",
                    username,
                    PW,
                    device_clock=self._device_clock(n),
                    sleep=lambda _s: None,
                )
                self.phones.append(phone)
                self.transports.append(transport)
            self.visits = [self._new_visit(username) for username in ENGINEERS for _ in range(2)]
            # A visit nobody else touches, so the late writer's open transaction blocks no one.
            self.quiet = self._new_visit(ENGINEERS[0])
            for phone in self.phones:
                phone.sync()
            self.removed: dict[int, set[str]] = {i: set() for i in range(len(self.phones))}

        def _new_visit(self, username: str) -> dict[str, Any]:
            order = _ok(
                dispatcher.request(
                    "POST",
                    "/api/work-orders",
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
                dispatcher.request(
                    "POST",
                    f"/api/work-orders/{order['id']}/visits",
                    json={"kind": "repair", "duration_minutes": 60},
                ),
                201,
            )
            return dict(
                _ok(
                    dispatcher.request(
                        "PUT",
                        f"/api/visits/{visit['id']}/assignment",
                        json={"version": visit["version"], "engineer_id": engineers[username]},
                    )
                )
            )

        def _device_clock(self, n: int) -> Any:
            return lambda: clock.now() + self.skews[n]

        def _visit_for(self, phone: int, pick: int) -> dict[str, Any] | None:
            docs = self.phones[phone].replica()
            visits = [v for d in docs.values() for v in d.get("visits", []) if v["id"] != self.quiet["id"]]
            return visits[pick % len(visits)] if visits else None

        @rule(phone=st.integers(0, 2), pick=st.integers(0, 7), action=st.sampled_from(ACTIONS))
        def record(self, phone: int, pick: int, action: str) -> None:
            stats["steps"] += 1
            visit = self._visit_for(phone, pick)
            if visit is None:
                return
            device = self.phones[phone]
            at, vid = device.now(), visit["id"]
            if action == "travel":
                device.record("visit.start_travel@1", visit_id=vid, at=at)
            elif action == "arrive":
                device.record(
                    "visit.arrive@1",
                    visit_id=vid,
                    at=at,
                    proof="customer_confirmation",
                    proof_reference="张工",
                )
            elif action == "note":
                device.record("visit.add_note@1", visit_id=vid, note_id=str(uuid.uuid4()), body="记录", at=at)
            elif action == "part":
                device.record(
                    "visit.consume_part@1", visit_id=vid, item_id=item_id, quantity=1 + pick % 3, at=at
                )
            else:
                device.record(
                    "visit.complete@1",
                    visit_id=vid,
                    outcome="resolved" if action == "complete" else "follow_up",
                    at=at,
                )

        @rule(
            phone=st.integers(0, 2),
            fault=st.sampled_from(["none", "request", "response", "both", "restart"]),
        )
        def sync(self, phone: int, fault: str) -> None:
            stats["steps"] += 1
            transport = self.transports[phone]
            transport.drop_request = fault in {"request", "both"}
            transport.drop_response = fault in {"response", "both"}
            transport.restart = fault == "restart"
            before = self.phones[phone].replica()
            self.phones[phone].sync()
            transport.restart = False  # nothing to push: no restart this time
            after = self.phones[phone].replica()
            self.removed[phone] |= set(before) - set(after)

        @rule(phone=st.integers(0, 2))
        def duplicated_and_reordered_batch(self, phone: int) -> None:
            stats["steps"] += 1
            device = self.phones[phone]
            batch = device.pending()
            if batch:
                device.push([*reversed(batch), batch[0]])

        @rule(phone=st.integers(0, 2), days=st.integers(-3, 3))
        def skew_clock(self, phone: int, days: int) -> None:
            stats["steps"] += 1
            self.skews[phone] = dt.timedelta(days=days, minutes=days * 7)

        @rule(minutes=st.integers(1, 90))
        def time_passes(self, minutes: int) -> None:
            stats["steps"] += 1
            clock.advance(dt.timedelta(minutes=minutes))

        @rule(pick=st.integers(0, 3))
        def dispatcher_reassigns(self, pick: int) -> None:
            stats["steps"] += 1
            visit_id = self.visits[pick]["id"]
            order = _ok(dispatcher.request("GET", f"/api/work-orders/{self.visits[pick]['work_order_id']}"))
            visit = next(v for v in order["visits"] if v["id"] == visit_id)
            if visit["status"] != "assigned":
                return
            other = next(e for e in ENGINEERS if engineers[e] != visit["engineer_id"])
            _ok(
                dispatcher.request(
                    "PUT",
                    f"/api/visits/{visit_id}/assignment",
                    json={"version": visit["version"], "engineer_id": engineers[other]},
                )
            )

        @rule(pick=st.integers(0, 3))
        def dispatcher_cancels(self, pick: int) -> None:
            stats["steps"] += 1
            order = _ok(dispatcher.request("GET", f"/api/work-orders/{self.visits[pick]['work_order_id']}"))
            if order["status"] == "scheduled":
                _ok(
                    dispatcher.request(
                        "POST",
                        f"/api/work-orders/{order['id']}/transitions",
                        json={"version": order["version"], "to": "cancelled"},
                    )
                )

        @precondition(lambda self: self.late is None)
        @rule()
        def late_writer_begins(self) -> None:
            """Takes a change number now and commits only later: phones pull meanwhile."""
            stats["steps"] += 1
            self.late = Session(orm)
            self.late.add(
                VisitNote(
                    id=uuid.uuid4(),
                    visit_id=self.quiet["id"],
                    at=clock.now(),
                    author_id=engineers[ENGINEERS[0]],
                    body="迟到的记录",
                )
            )
            self.late.flush()

        @precondition(lambda self: self.late is not None)
        @rule()
        def late_writer_commits(self) -> None:
            stats["steps"] += 1
            self._commit_late()

        def _commit_late(self) -> None:
            if self.late is not None:
                self.late.commit()
                self.late.close()
                self.late = None

        @invariant()
        def server_is_consistent(self) -> None:
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
            # Parts used offline: the ledger holds exactly the moves of the applied mutations,
            # and their quantities, once each.
            applied = [
                m
                for (m,) in conn.execute(
                    "SELECT jsonb_array_elements_text(outcome->'result'->'stock_moves') FROM sync_mutation "
                    "WHERE name = 'visit.consume_part@1' AND status = 'applied'"
                )
            ]
            used = conn.execute(
                "SELECT coalesce(sum((args->>'quantity')::int), 0) FROM sync_mutation "
                "WHERE name = 'visit.consume_part@1' AND status = 'applied'"
            ).fetchone()
            ledger = conn.execute(
                "SELECT coalesce(array_agg(id::text), '{}'), "
                "coalesce(sum(quantity) FILTER (WHERE kind = 'consume'), 0) "
                "FROM stock_move WHERE item_id = %s AND visit_id::text = ANY(%s)",
                (item_id, ids),
            ).fetchone()
            assert ledger is not None
            assert used is not None
            assert sorted(applied) == sorted(ledger[0])
            assert ledger[1] == used[0]
            for status, arrived, finished, en_route in conn.execute(
                "SELECT status, arrived_at, finished_at, en_route_at FROM visit WHERE id::text = ANY(%s)",
                (ids,),
            ).fetchall():
                assert status in {"assigned", "en_route", "on_site", "done", "planned", "cancelled"}
                assert (status in {"on_site", "done"}) <= (arrived is not None)
                assert (status == "done") == (finished is not None)
                assert (status == "en_route") <= (en_route is not None)

        def teardown(self) -> None:
            self._commit_late()
            try:
                for n, device in enumerate(self.phones):
                    self.transports[n].drop_request = self.transports[n].drop_response = False
                    device.sync()
                    device.sync()
                    assert device.pending() == []  # every mutation has its outcome
                    # A fresh bootstrap of the same scope, on a throwaway phone store.
                    probe = DeviceClient(server, ":memory:", device.username, PW)
                    probe._set("device_id", device.device_id)
                    probe.sign_in()
                    probe.pull()
                    mine, truth = device.replica(), probe.replica()
                    assert mine == truth
                    # Nothing deleted comes back unless it is in scope again.
                    assert all(i in truth for i in self.removed[n] & set(mine))
            finally:
                for device in self.phones:
                    device.db.close()

    Machine.TestCase.settings = settings(
        max_examples=EXAMPLES,
        stateful_step_count=STEPS,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    try:
        Machine.TestCase().runTest()
    finally:
        orm.dispose()
        print(
            f"sync state machine: {stats['examples']} examples, {stats['steps']} steps, "
            f"{server.restarts} server restarts"
        )
    assert stats["examples"] >= min(EXAMPLES, 100)
