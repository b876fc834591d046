"""`make up`'s one command (`python -m api.serve`): FSD_API_WORKERS API processes on one port and
one queue worker beside them, all stopped together by Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.localdb import LocalCluster, free_port
from core.settings import PROJECT_ROOT
from tests.conftest import _fresh
from tests.support.api import DEMO_PASSWORD


@pytest.fixture
def lone_db(cluster: LocalCluster, admin_dsn: str, demo_template: str) -> Iterator[str]:
    yield from _fresh(cluster, admin_dsn, demo_template)


def _children(pid: int) -> dict[int, str]:
    """A process's children and their command lines (from /proc: no extra tools)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == pid:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _wait(check: object, what: str, patience: float) -> None:
    deadline = time.monotonic() + patience
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_one_command_serves_two_api_processes_and_a_worker_and_ctrl_c_stops_them(
    lone_db: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "FSD_DATABASE_URL": lone_db,
        "FSD_JWT_SECRET": "serve-secret-" + "s" * 32,
        "FSD_VAR_DIR": str(tmp_path),
        "FSD_PORT": str(port),
        "FSD_API_WORKERS": "2",
        "FSD_WATCH_INTERVAL_SECONDS": "0",
    }
    log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen(
        [sys.executable, "-m", "api.serve"],
        cwd=PROJECT_ROOT,
        env=env,
        start_new_session=True,
        stdout=log,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return httpx.get(f"{url}/api/health", timeout=2).status_code == 200
        except httpx.TransportError:
            return serve.poll() is not None

    try:
        _wait(healthy, "the server did not start", 90)
        assert serve.poll() is None, (tmp_path / "serve.log").read_text()
        children = _children(serve.pid)
        assert sum("dispatch.worker" in c for c in children.values()) == 1, children
        # uvicorn's supervisor runs the API processes as children of its own.
        assert sum("spawn_main" in c for c in children.values()) == 2, children

        # A plan asked of the API is solved by the worker that the one command started.
        login = httpx.post(
            f"{url}/api/auth/login", json={"username": "dispatcher", "password": DEMO_PASSWORD}
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        plan = httpx.post(
            f"{url}/api/dispatch/plans", headers=headers, json={"horizon_hours": 8, "time_limit_seconds": 1}
        )
        assert plan.status_code == 202, plan.text

        def solved() -> bool:
            answer = httpx.get(f"{url}/api/dispatch/plans/{plan.json()['id']}", headers=headers, timeout=10)
            return answer.json()["status"] not in {"queued", "running"}

        _wait(solved, "the plan was not solved", 90)

        # Ctrl-C reaches the whole foreground group: everything ends.
        os.killpg(serve.pid, signal.SIGINT)
        serve.wait(timeout=60)
        _wait(lambda: not any(_alive(pid) for pid in children), "a child outlived the server", 30)
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait(timeout=10)
