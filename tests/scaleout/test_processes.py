"""Several hosts' worth of processes on one database, as production scales out: two API processes
and two queue workers (real processes on loopback ports, nothing shared but PostgreSQL).

A plan asked of one API process is solved by some worker and read through the other; the SLA
sweep runs once per period across both workers; a customer message is sent exactly once; an API
process killed mid-request loses nothing it acknowledged; a worker killed mid-solve leaves a plan
that reads as failed with the reason within the heartbeat timeout, and the other worker goes on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.policy import default
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from aiosmtpd.controller import Controller

from core.database import make_engine, make_sessionmaker
from core.localdb import LocalCluster, free_port
from core.settings import PROJECT_ROOT
from dispatch.messaging.outbox import enqueue
from tests.conftest import _fresh
from tests.support.api import DEMO_PASSWORD
from tests.support.scenario import asset, contract, customer_with_site, engineer_id, planned_visit, report

HEARTBEAT_S = 0.5
PLAN = {"horizon_hours": 8, "time_limit_seconds": 1}
SWEEP_LINE = re.compile(r"sweep period=(\d+) pid=(\d+)")


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        self.messages.append(message_from_bytes(envelope.content, policy=default))
        return "250 OK"


@dataclass
class Processes:
    database_url: str
    env: dict[str, str]
    logs: Path
    apis: dict[str, tuple[str, subprocess.Popen[bytes]]] = field(default_factory=dict)
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def _start(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        return subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=self.env, start_new_session=True, stdout=log, stderr=log
        )

    def start_api(self, name: str) -> None:
        port = free_port()
        command = [sys.executable, "-m", "uvicorn", "--factory", "api.app:app_from_env", "--port", str(port)]
        self.apis[name] = (f"http://127.0.0.1:{port}", self._start(name, command))

    def start_worker(self, name: str) -> None:
        self.workers[name] = self._start(name, [sys.executable, "-m", "dispatch.worker"])

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def url(self, name: str) -> str:
        return self.apis[name][0]

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL to the process and its children (a worker's solver): no chance to tidy up."""
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def query(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        dsn = self.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
        with psycopg.connect(dsn) as conn:
            return conn.execute(sql, params).fetchall()


def _wait(check: Any, what: str, patience: float = 60.0) -> None:
    deadline = time.monotonic() + patience
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/health", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture(scope="module")
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler, port = Inbox(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture(scope="module")
def processes(
    cluster: LocalCluster,
    admin_dsn: str,
    demo_template: str,
    inbox: tuple[Inbox, int],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Processes]:
    for database_url in _fresh(cluster, admin_dsn, demo_template):
        logs = tmp_path_factory.mktemp("logs")
        env = {
            **os.environ,
            "FSD_DATABASE_URL": database_url,
            "FSD_JWT_SECRET": "scaleout-secret-" + "z" * 32,
            "FSD_VAR_DIR": str(logs),
            "FSD_WATCH_INTERVAL_SECONDS": "1",
            "FSD_PLAN_HEARTBEAT_SECONDS": str(HEARTBEAT_S),
            "FSD_PLAN_WORKERS": "1",
            "FSD_DB_POOL_SIZE": "3",
            "FSD_SMTP_HOST": "127.0.0.1",
            "FSD_SMTP_PORT": str(inbox[1]),
        }
        running = Processes(database_url, env, logs)
        try:
            for name in ("api-a", "api-b"):
                running.start_api(name)
            for name in ("worker-1", "worker-2"):
                running.start_worker(name)
            for name, (url, process) in running.apis.items():
                _wait(
                    lambda u=url, p=process: _healthy(u) or p.poll() is not None, f"{name} did not start", 90
                )
                assert process.poll() is None, running.log(name)
            # Each worker process serves two queue workers (solves; sweeps and messages).
            _wait(
                lambda r=running: r.query("SELECT count(*) FROM procrastinate_workers")[0][0] >= 4,
                "the workers did not register",
                90,
            )
            yield running
        finally:
            for process in [*(p for _, p in running.apis.values()), *running.workers.values()]:
                running.kill(process)


async def _sign_in(url: str, username: str, **extra: Any) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        login = await client.post(
            "/api/auth/login", json={"username": username, "password": DEMO_PASSWORD, **extra}
        )
        assert login.status_code == 200, login.text
        return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def _plan_until(
    client: httpx.AsyncClient, headers: dict[str, str], plan_id: str, leave: set[str], patience: float
) -> dict[str, Any]:
    deadline = time.monotonic() + patience
    while True:
        plan: dict[str, Any] = (await client.get(f"/api/dispatch/plans/{plan_id}", headers=headers)).json()
        if plan["status"] not in leave:
            return plan
        assert time.monotonic() < deadline, f"the plan stayed {plan['status']}"
        await asyncio.sleep(0.1)


async def test_a_plan_asked_of_one_api_process_is_solved_by_a_worker_and_read_through_another(
    processes: Processes,
) -> None:
    headers = await _sign_in(processes.url("api-a"), "dispatcher")
    async with httpx.AsyncClient(base_url=processes.url("api-a"), timeout=30) as a:
        started = await a.post("/api/dispatch/plans", headers=headers, json=PLAN)
        assert started.status_code == 202, started.text
    plan_id = started.json()["id"]
    # The sign-in made at A is good at B: sessions live in the database.
    async with httpx.AsyncClient(base_url=processes.url("api-b"), timeout=30) as b:
        plan = await _plan_until(b, headers, plan_id, {"queued", "running"}, 90)
    assert plan["status"] == "done", plan["error"]
    # The demo's shifts lie in its own days, not on this wall-clock day: the plan may route nobody.
    assert {"routes", "unassigned"} <= set(plan["result"])
    solvers = [name for name in processes.workers if f"plan {plan_id}: solving" in processes.log(name)]
    assert len(solvers) == 1, solvers


def _periods(processes: Processes) -> Counter[int]:
    periods: Counter[int] = Counter()
    for name in processes.workers:
        periods.update(int(m.group(1)) for m in SWEEP_LINE.finditer(processes.log(name)))
    return periods


async def test_the_sla_sweep_runs_once_per_period_across_both_workers(processes: Processes) -> None:
    first = time.time()
    await asyncio.to_thread(
        _wait, lambda: len([p for p in _periods(processes) if p >= first]) >= 4, "too few sweeps", 60
    )
    periods = _periods(processes)
    assert periods, "no periodic sweep ran"
    assert max(periods.values()) == 1, [p for p, n in periods.items() if n > 1]


async def test_a_customer_message_is_sent_exactly_once(
    processes: Processes, inbox: tuple[Inbox, int]
) -> None:
    handler, _ = inbox
    engine = make_engine(processes.database_url, pool_size=1)
    recipients = [f"kunde-{n}@example.com" for n in range(8)]
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            for recipient in recipients:
                await enqueue(
                    session,
                    dt.datetime.now(dt.UTC),
                    channel="email",
                    recipient=recipient,
                    subject="服务确认",
                    body="您好",
                    order_id=None,
                    dedupe_key=f"scaleout:{recipient}",
                )
    finally:
        await engine.dispose()

    def all_sent() -> bool:
        rows = processes.query(
            "SELECT count(*) FROM outbox_message WHERE dedupe_key LIKE 'scaleout:%%' AND status = 'sent'"
        )
        return bool(rows[0][0] == len(recipients))

    await asyncio.to_thread(_wait, all_sent, "the messages were not sent", 60)
    # Both workers keep delivering every second: give them three more periods to send any twice.
    await asyncio.sleep(3)
    received = Counter(str(m["To"]) for m in handler.messages)
    assert {r: received[r] for r in recipients} == dict.fromkeys(recipients, 1)
    attempts = processes.query("SELECT attempts FROM outbox_message WHERE dedupe_key LIKE 'scaleout:%%'")
    assert {a for (a,) in attempts} == {1}


async def _phone_and_visit(processes: Processes) -> tuple[str, str, dict[str, str]]:
    """engineer01's new visit, and engineer01 signed in on a registered phone (at API A)."""
    url = processes.url("api-a")
    admin, dispatcher = await _sign_in(url, "admin"), await _sign_in(url, "dispatcher")
    async with httpx.AsyncClient(base_url=url, timeout=30) as a:
        customer, site = await customer_with_site(a, admin)  # type: ignore[arg-type]
        terms = await contract(a, admin, customer, kind="7x24")  # type: ignore[arg-type]
        order = await report(a, dispatcher, site, await asset(a, admin, site, terms))  # type: ignore[arg-type]
        engineer = await engineer_id(a, dispatcher, "engineer01")  # type: ignore[arg-type]
        visit = await planned_visit(a, dispatcher, order, engineer)  # type: ignore[arg-type]
    device_id = str(uuid.uuid4())
    headers = await _sign_in(url, "engineer01", device_id=device_id)
    async with httpx.AsyncClient(base_url=url, timeout=30) as a:
        phone = await a.post(
            "/api/sync/devices", headers=headers, json={"device_id": device_id, "label": "测试手机"}
        )
        assert phone.status_code == 201, phone.text
    return str(visit["id"]), device_id, headers


def _note(seq: int, visit_id: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "seq": seq,
        "name": "visit.add_note@1",
        "args": {
            "visit_id": visit_id,
            "note_id": str(uuid.uuid4()),
            "body": f"记录 {seq}",
            "at": dt.datetime.now(dt.UTC).isoformat(),
        },
    }


async def test_an_api_process_killed_mid_request_loses_nothing_it_acknowledged(processes: Processes) -> None:
    visit_id, device_id, headers = await _phone_and_visit(processes)
    outbox = [_note(seq, visit_id) for seq in range(1, 31)]

    def push_body(mutations: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "device_id": device_id,
            "device_time": dt.datetime.now(dt.UTC).isoformat(),
            "mutations": mutations,
        }

    acknowledged: dict[int, dict[str, Any]] = {}
    five = asyncio.Event()
    url_a, process_a = processes.apis["api-a"]

    async def push_until_killed() -> None:
        async with httpx.AsyncClient(base_url=url_a, timeout=30) as a:
            for mutation in outbox:
                try:
                    answer = await a.post("/api/sync/push", headers=headers, json=push_body([mutation]))
                except httpx.TransportError:
                    return  # the process died under this request
                assert answer.status_code == 200, answer.text
                acknowledged[mutation["seq"]] = answer.json()["outcomes"][0]
                if len(acknowledged) == 5:
                    five.set()

    pushing = asyncio.create_task(push_until_killed())
    await asyncio.wait_for(five.wait(), 60)
    processes.kill(process_a)
    await pushing
    assert 5 <= len(acknowledged) < len(outbox)
    assert {o["status"] for o in acknowledged.values()} == {"applied"}

    # The phone goes on at API B with the whole outbox: what A acknowledged is there (and answered
    # as stored, not applied again), the rest is applied once.
    async with httpx.AsyncClient(base_url=processes.url("api-b"), timeout=30) as b:
        answer = await b.post("/api/sync/push", headers=headers, json=push_body(outbox))
    assert answer.status_code == 200, answer.text
    outcomes = {o["seq"]: o for o in answer.json()["outcomes"]}
    for seq, outcome in acknowledged.items():
        assert outcomes[seq]["status"] == "applied"
        assert outcomes[seq].get("result") == outcome.get("result")
    notes = processes.query(
        "SELECT id FROM visit_note WHERE id = ANY(%s)", [uuid.UUID(m["args"]["note_id"]) for m in outbox]
    )
    assert len(notes) == len(outbox)


async def test_a_worker_killed_mid_solve_leaves_a_failed_plan_and_the_other_worker_goes_on(
    processes: Processes,
) -> None:
    headers = await _sign_in(processes.url("api-b"), "dispatcher")
    async with httpx.AsyncClient(base_url=processes.url("api-b"), timeout=30) as b:
        started = await b.post(
            "/api/dispatch/plans", headers=headers, json={**PLAN, "time_limit_seconds": 20}
        )
        assert started.status_code == 202, started.text
        plan_id = started.json()["id"]
        await _plan_until(b, headers, plan_id, {"queued"}, 60)
        solver = next(n for n in processes.workers if f"plan {plan_id}: solving" in processes.log(n))
        killed_at = time.monotonic()
        processes.kill(processes.workers[solver])
        plan = await _plan_until(b, headers, plan_id, {"running"}, 3 * HEARTBEAT_S + 15)
        assert plan["status"] == "failed"
        assert "stopped" in plan["error"]
        assert time.monotonic() - killed_at < 3 * HEARTBEAT_S + 15

        # The other worker takes the next plan.
        again = await b.post("/api/dispatch/plans", headers=headers, json=PLAN)
        assert again.status_code == 202, again.text
        done = await _plan_until(b, headers, again.json()["id"], {"queued", "running"}, 90)
    assert done["status"] == "done", done["error"]
    (survivor,) = [n for n in processes.workers if n != solver]
    assert f"plan {again.json()['id']}: solving" in processes.log(survivor)
