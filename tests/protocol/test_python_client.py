"""The shared protocol vectors (vectors.json) played through the Python reference client against a
real server on a loopback port. The network between them is simulated here (offline, a push
whose answer is lost after the server committed it); the server-side changes come from
server_steps, which the phone app's runner uses too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from offline_sync.client import DeviceClient, DeviceSuspended, DeviceWiped, Offline
from tests.conftest import settings_for
from tests.protocol.expectations import check
from tests.protocol.server_steps import PASSWORD, USERS, World
from tests.support.live_server import LiveServer

VECTORS = json.loads((Path(__file__).parent / "vectors.json").read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = VECTORS["cases"]


@pytest.fixture(scope="module")
def server(demo_db: str, clock: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = create_app(settings_for(demo_db, tmp_path_factory.mktemp("live")), clock=clock)
    with LiveServer(app) as live:
        yield live.url


class Network:
    """Between the phone and the server: up, down, or losing the next push's answer after the
    server has committed it. Remembers the newest answer the phone got for each mutation."""

    def __init__(self, inner: httpx.Client) -> None:
        self.inner = inner
        self.offline = False
        self.drop_next_push_response = False
        self.answers: dict[str, dict[str, Any]] = {}
        # (path, status) of every answer during the current step.
        self.seen: list[tuple[str, int]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        if self.offline:
            raise httpx.ConnectError("no network")
        response = self.inner.request(method, url, **kwargs)
        self.seen.append((url, response.status_code))
        if url == "/api/sync/push" and response.status_code == 200:
            if self.drop_next_push_response:
                self.drop_next_push_response = False
                raise httpx.ReadError("the answer was lost on the way back")
            for outcome in response.json()["outcomes"]:
                self.answers[outcome["id"]] = outcome
        return response


class PythonPhone:
    """The client under test, driven by the vector steps."""

    def __init__(self, server: str, db: Path, clock: Any) -> None:
        self.network = Network(httpx.Client(base_url=server, timeout=30))
        self.device = DeviceClient(
            self.network, str(db), USERS["me"], PASSWORD, device_clock=clock.now, sleep=lambda _s: None
        )
        self.device_id = self.device.device_id
        self.aliases: dict[str, str] = {}  # vector alias -> mutation id

    def close(self) -> None:
        self.network.inner.close()

    def _outbox(self) -> list[tuple[int, str, str, str]]:
        rows = self.device.db.execute("SELECT seq, id, name, args FROM outbox ORDER BY seq").fetchall()
        return [(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]

    def record(self, name: str, alias: str, args: dict[str, Any]) -> None:
        seq = self.device.record(name, **args)
        self.aliases[alias] = next(r[1] for r in self._outbox() if r[0] == seq)

    def act(self, step: dict[str, Any]) -> str | None:
        """Run one client step; the kind of failure the client reported, if any."""
        try:
            if "sync" in step:
                self.device.sync()
            elif "push" in step:
                self._signed_in()
                self.device.push()
            elif "pull" in step:
                self._signed_in()
                self.device.pull()
            elif "resend" in step:
                wanted = {self.aliases[a] for a in step["resend"]}
                batch = [
                    {"id": i, "seq": seq, "name": name, "args": json.loads(args)}
                    for seq, i, name, args in self._outbox()
                    if i in wanted
                ]
                self.device.push(batch)
            else:
                raise ValueError(f"unknown step {step}")
        except Offline:
            return "offline"
        except DeviceSuspended:
            return "suspended"
        except DeviceWiped:
            return "wiped"
        return None

    def _signed_in(self) -> None:
        if self.device._meta("access_token") is None:
            self.device.sign_in()

    # What the expectations read ------------------------------------------------------------

    def answer(self, alias: str) -> dict[str, Any]:
        return self.network.answers[self.aliases[alias]]

    def pending(self) -> int:
        return len(self.device.pending())

    def seqs(self) -> list[int]:
        return [r[0] for r in self._outbox()]

    def seen(self) -> list[tuple[str, int]]:
        return self.network.seen

    def replica(self) -> dict[str, dict[str, Any]]:
        return self.device.replica()

    def wiped(self) -> bool:
        return not self._outbox() and not self.device.replica()


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
async def test_vector(
    case: dict[str, Any], server: str, client: Any, demo_db: str, clock: Any, tmp_path: Path
) -> None:
    world = await World(client, demo_db, case).setup()
    phone = PythonPhone(server, tmp_path / "phone.sqlite", clock)
    try:
        for index, step in enumerate(case["steps"]):
            where = f"{case['name']} step {index + 1}"
            error: str | None = None
            phone.network.seen.clear()
            if "record" in step:
                phone.record(step["record"], step["as"], world.resolve(step["args"], clock.now()))
            elif "blob" in step:
                phone.device.add_blob(world.blobs[step["blob"]])
            elif "network" in step:
                mode = step["network"]
                if mode == "drop_next_push_response":
                    phone.network.drop_next_push_response = True
                else:
                    phone.network.offline = mode == "offline"
            elif "server" in step:
                await world.step(step, phone.device_id, clock.now())
            else:
                error = phone.act(step)
            expect = step.get("expect", {})
            assert error == expect.get("error"), (where, error)
            await check(world, phone, expect, where)
    finally:
        phone.close()


def test_the_vectors_are_plain_json_with_named_steps() -> None:
    """What a runner in another language relies on: every step has exactly one known action."""
    actions = {"record", "blob", "network", "server", "sync", "push", "pull", "resend"}
    servers = {
        "reassign_visit",
        "cancel_order",
        "prune_change_log",
        "suspend_device",
        "reinstate_device",
        "mark_device_lost",
        "edit_report",
    }
    assert VECTORS["format"] == "fsd-sync-vectors/1"
    names = [c["name"] for c in CASES]
    assert len(set(names)) == len(names)
    for case in CASES:
        for step in case["steps"]:
            assert len(actions & set(step)) == 1, step
            assert set(step) - actions <= {"as", "args", "expect", "visit", "report", "changes"}, step
            if "server" in step:
                assert step["server"] in servers, step
