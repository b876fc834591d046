"""Plan requests are bounded: one solve at a time here, two more wait in order, beyond that 429;
each dispatcher holds at most two; the time limit is capped; and a plan whose server process
died reads as failed instead of running forever. Real OR-Tools solves, with short limits."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from api.app import create_app
from core.clock import ManualClock
from core.localdb import LocalCluster, free_port
from core.settings import PROJECT_ROOT
from tests.conftest import _fresh, settings_for
from tests.support.api import DEMO_PASSWORD, assert_problem, auth_headers
from tests.support.plans import wait_for_plan

WORKERS, QUEUE, PER_USER = 1, 2, 2
HEARTBEAT_S = 0.5
PLAN = {"horizon_hours": 8, "time_limit_seconds": 1}


@pytest.fixture(scope="module")
def app(demo_db: str, clock: ManualClock, tmp_path_factory: pytest.TempPathFactory) -> Litestar:
    settings = settings_for(
        demo_db,
        tmp_path_factory.mktemp("var"),
        plan_workers=WORKERS,
        plan_queue=QUEUE,
        plans_per_user=PER_USER,
        plan_max_seconds=20.0,
        plan_heartbeat_seconds=HEARTBEAT_S,
    )
    return create_app(settings, clock=clock)


async def _active(demo_db: str) -> int:
    engine = create_async_engine(demo_db)
    try:
        async with engine.connect() as conn:
            count = await conn.scalar(
                text("SELECT count(*) FROM dispatch_plan WHERE status IN ('queued', 'running')")
            )
    finally:
        await engine.dispose()
    return int(count or 0)


async def test_plans_beyond_the_solver_wait_in_order_and_beyond_the_queue_get_429(
    client: Any, demo_db: str
) -> None:
    desks = [await auth_headers(client, name) for name in ("dispatcher", "dispatcher", "supervisor", "admin")]
    answers = await asyncio.gather(*(client.post("/api/dispatch/plans", headers=h, json=PLAN) for h in desks))
    accepted = [a.json() for a in answers if a.status_code == 202]
    refused = [a for a in answers if a.status_code != 202]
    assert len(accepted) == WORKERS + QUEUE, [a.text for a in answers]
    assert len(refused) == 1
    body = assert_problem(refused[0], 429, "too-many-plans")
    assert body["limit"] == "queue"
    assert int(refused[0].headers["retry-after"]) >= 1
    # Each accepted plan was told its place: one starts now, the others wait behind it.
    assert sorted(p["queue_position"] for p in accepted) == [0, 1, 2]
    assert {p["status"] for p in accepted} == {"queued"}
    by_place = sorted(accepted, key=lambda p: p["queue_position"])
    headers = desks[0]
    last = (await client.get(f"/api/dispatch/plans/{by_place[-1]['id']}", headers=headers)).json()
    assert last["status"] == "queued"
    assert last["queue_position"] >= 1

    finished = [await wait_for_plan(client, headers, p["id"], patience=120) for p in by_place]
    assert [p["status"] for p in finished] == ["done"] * len(finished), [p["error"] for p in finished]
    assert all(p["queue_position"] is None for p in finished)
    # Solved one at a time, in the order they were queued.
    ends = [p["finished_at"] for p in finished]
    assert ends == sorted(ends)
    assert await _active(demo_db) == 0
    # The places are free again.
    again = await client.post("/api/dispatch/plans", headers=headers, json=PLAN)
    assert again.status_code == 202, again.text
    assert (await wait_for_plan(client, headers, again.json()["id"], patience=60))["status"] == "done"


async def test_one_dispatcher_holds_at_most_two_plans(client: Any) -> None:
    dispatcher = await auth_headers(client, "dispatcher")
    answers = [await client.post("/api/dispatch/plans", headers=dispatcher, json=PLAN) for _ in range(3)]
    assert [a.status_code for a in answers] == [202, 202, 429]
    assert assert_problem(answers[2], 429, "too-many-plans")["limit"] == "per-user"
    # Another desk user still gets a place in the queue.
    supervisor = await auth_headers(client, "supervisor")
    other = await client.post("/api/dispatch/plans", headers=supervisor, json=PLAN)
    assert other.status_code == 202, other.text
    for plan in [answers[0].json(), answers[1].json(), other.json()]:
        done = await wait_for_plan(client, dispatcher, plan["id"], patience=120)
        assert done["status"] == "done", done["error"]


async def test_the_time_limit_a_plan_may_ask_for_is_capped(client: Any) -> None:
    dispatcher = await auth_headers(client, "dispatcher")
    body = assert_problem(
        await client.post("/api/dispatch/plans", headers=dispatcher, json={**PLAN, "time_limit_seconds": 30}),
        422,
        "invalid-input",
    )
    assert body["errors"][0]["field"] == "time_limit_seconds"


@pytest.fixture
def lone_db(cluster: LocalCluster, admin_dsn: str, demo_template: str) -> Iterator[str]:
    """A database of its own: no other worker may take the plan the server below solves."""
    yield from _fresh(cluster, admin_dsn, demo_template)


@pytest.fixture
def server(lone_db: str, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The API with the queue's worker in one process on a loopback port, as a one-process demo
    runs it (tests/scaleout/ runs API and worker processes apart)."""
    port = free_port()
    env = {
        **os.environ,
        "FSD_DATABASE_URL": lone_db,
        "FSD_JWT_SECRET": "server-secret-" + "y" * 32,
        "FSD_VAR_DIR": str(tmp_path),
        "FSD_WATCH_INTERVAL_SECONDS": "0",
        "FSD_WORKER_IN_PROCESS": "1",
        "FSD_PLAN_HEARTBEAT_SECONDS": str(HEARTBEAT_S),
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", "api.app:app_from_env", "--port", str(port)]
    process = subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            assert process.poll() is None, "the server exited"
            time.sleep(0.2)
        yield url, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


async def test_a_plan_whose_server_died_reads_as_failed(
    server: tuple[str, subprocess.Popen[bytes]], lone_db: str, tmp_path: Path
) -> None:
    url, process = server
    async with httpx.AsyncClient(base_url=url, timeout=30) as remote:
        login = await remote.post(
            "/api/auth/login", json={"username": "dispatcher", "password": DEMO_PASSWORD}
        )
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        started = await remote.post(
            "/api/dispatch/plans", headers=headers, json={**PLAN, "time_limit_seconds": 20}
        )
        assert started.status_code == 202, started.text
        plan_id = started.json()["id"]
        deadline = time.monotonic() + 30
        while (await remote.get(f"/api/dispatch/plans/{plan_id}", headers=headers)).json()[
            "status"
        ] != "running":
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
    # The whole process group dies at once: no chance to mark anything.
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)

    # Read through another API process (no worker of its own) on the same database.
    settings = settings_for(lone_db, tmp_path, worker_in_process=False, plan_heartbeat_seconds=HEARTBEAT_S)
    async with AsyncTestClient(app=create_app(settings), raise_server_exceptions=False) as client:
        dispatcher = await auth_headers(client, "dispatcher")
        deadline = time.monotonic() + 10 * HEARTBEAT_S + 5
        while True:
            plan = (await client.get(f"/api/dispatch/plans/{plan_id}", headers=dispatcher)).json()
            if plan["status"] != "running":
                break
            assert time.monotonic() < deadline, "the dead server's plan still reads as running"
            await asyncio.sleep(0.2)
    assert plan["status"] == "failed"
    assert "stopped" in plan["error"]
