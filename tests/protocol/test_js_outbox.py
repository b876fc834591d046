"""The shared protocol vectors (vectors.json) played through the phone app's own modules
(web/app/sync.js, outbox.js, store.js) in Debian's Chromium against a real server on a loopback
port. The page imports the modules the app serves; the client steps run in it, the server steps
come from server_steps (as for the Python reference client) and the expectations are the same
checks (expectations.py). Offline is Playwright's offline mode; a push whose answer is lost is a
request that reaches the server and commits, then fails on the way back."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.async_api import BrowserContext, Page, Route, async_playwright

from api.app import create_app
from core.clock import ManualClock
from tests.conftest import settings_for
from tests.protocol.expectations import check
from tests.protocol.server_steps import PASSWORD, USERS, World
from tests.support.live_server import LiveServer
from tests.web.test_console import CHROMIUM, CHROMIUM_ARGS

VECTORS = json.loads((Path(__file__).parent / "vectors.json").read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = VECTORS["cases"]

# A blank page at the app's origin and path: the modules it imports are the ones the app serves.
HARNESS = "/app/protocol-vectors.html"

LOAD = """async () => {
  const [sync, outbox, store, ids] = await Promise.all(
    ["sync", "outbox", "store", "ids"].map((name) => import(`/app/${name}.js`)));
  sync.timing.firstDelay = 0.05;  // the retries still happen, without a test waiting on them
  window.fsd = { sync, outbox, store, ids };
}"""

# One client step; returns the failure as the client reports it (offline, suspended, wiped).
ACT = """async ([kind, user, username, password, resend]) => {
  const { sync, outbox } = window.fsd;
  const failures = [[sync.Offline, "offline"], [sync.DeviceSuspended, "suspended"],
                    [sync.DeviceWiped, "wiped"]];
  try {
    if (!(await sync.session())?.access_token) await sync.signIn(username, password);
    if (kind === "sync") {
      await sync.sync();
      if (sync.state.status === "signin") {
        // The sign-in ended (a lost phone's ends with it): the engineer types the password again.
        await sync.signIn(username, password);
        await sync.sync();
      }
      const status = sync.state.status;
      if (["offline", "suspended", "wiped"].includes(status)) return status;
      if (status !== "idle") throw new Error(`sync ended ${status}: ${sync.state.detail}`);
    } else if (kind === "push") await sync.push(user);
    else if (kind === "pull") await sync.pull(user);
    else if (kind === "resend") {
      const again = (await outbox.all(user)).filter((m) => resend.includes(m.id));
      await sync.push(user, again.map(({ id, seq, name, args }) => ({ id, seq, name, args })));
    } else throw new Error(`unknown step ${kind}`);
  } catch (error) {
    const known = failures.find(([type]) => error instanceof type);
    if (known) return known[1];
    throw error;
  }
  return null;
}"""

SNAPSHOT = """async (user) => {
  const { outbox, store } = window.fsd;
  const all = await outbox.all(user);
  return { pending: (await outbox.pending(user)).length, seqs: all.map((m) => m.seq),
           replica: await store.replica(user) };
}"""


@pytest.fixture(scope="module")
def server(demo_db: str, clock: ManualClock, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = create_app(
        settings_for(demo_db, tmp_path_factory.mktemp("live"), watch_interval_seconds=0), clock=clock
    )
    with LiveServer(app) as live:
        yield live.url


class JsPhone:
    """The app's modules in a fresh browser context (a new device, an empty IndexedDB), and the
    network between them and the server: answers to pushes are remembered, a push's answer can
    be lost after the server committed it."""

    def __init__(self, context: BrowserContext, page: Page, clock: ManualClock) -> None:
        self.context, self.page, self.clock = context, page, clock
        self.offline = False
        self.drop_next_push_response = False
        self.answers: dict[str, dict[str, Any]] = {}
        self.aliases: dict[str, str] = {}
        self.requests: list[tuple[str, int]] = []
        self.user = self.device_id = ""
        self.state: dict[str, Any] = {"pending": 0, "seqs": [], "replica": {}}

    async def start(self, base: str) -> JsPhone:
        await self.page.route(
            base + HARNESS, lambda route: route.fulfill(content_type="text/html", body="<!doctype html>")
        )
        await self.page.route("**/api/sync/push", self._between)
        await self.page.route("**/api/sync/pull?*", self._between)
        await self.page.goto(base + HARNESS)
        await self.page.evaluate(LOAD)
        await self._set_clock()
        await self.page.evaluate("([u, p]) => window.fsd.sync.signIn(u, p)", [USERS["me"], PASSWORD])
        session = await self.page.evaluate("() => window.fsd.sync.session()")
        self.user = session["user_id"]
        self.device_id = await self.page.evaluate("() => window.fsd.sync.deviceId()")
        return self

    async def _between(self, route: Route) -> None:
        if self.offline:
            await route.abort("internetdisconnected")
            return
        response = await route.fetch()
        path = urlparse(route.request.url).path
        self.requests.append((path, response.status))
        if path == "/api/sync/push" and response.status == 200:
            if self.drop_next_push_response:
                self.drop_next_push_response = False
                await route.abort("connectionreset")  # committed, but the phone never hears it
                return
            for outcome in (await response.json())["outcomes"]:
                self.answers[outcome["id"]] = outcome
        await route.fulfill(response=response)

    async def _set_clock(self) -> None:
        """The device's clock reads the test clock, as the reference client's does."""
        await self.page.evaluate(
            "(iso) => { window.fsd.ids.clock.now = () => new Date(iso); }", self.clock.now().isoformat()
        )

    async def network(self, mode: str) -> None:
        if mode == "drop_next_push_response":
            self.drop_next_push_response = True
        else:
            self.offline = mode == "offline"
            await self.context.set_offline(self.offline)

    async def record(self, name: str, alias: str, args: dict[str, Any]) -> None:
        script = "([u, n, a]) => window.fsd.outbox.record(u, n, a).then((m) => m.id)"
        self.aliases[alias] = await self.page.evaluate(script, [self.user, name, args])

    async def blob(self, data: bytes) -> None:
        script = "(b) => window.fsd.outbox.addBlob(new Uint8Array(b), 'application/octet-stream')"
        await self.page.evaluate(script, list(data))

    async def act(self, kind: str, resend: list[str]) -> str | None:
        await self._set_clock()
        ids = [self.aliases[a] for a in resend]
        error: str | None = await self.page.evaluate(ACT, [kind, self.user, USERS["me"], PASSWORD, ids])
        return error

    async def read(self) -> None:
        self.state = await self.page.evaluate(SNAPSHOT, self.user)

    # What the expectations read (expectations.Phone) -----------------------------------------

    def answer(self, alias: str) -> dict[str, Any]:
        return self.answers[self.aliases[alias]]

    def pending(self) -> int:
        return int(self.state["pending"])

    def seqs(self) -> list[int]:
        return [int(s) for s in self.state["seqs"]]

    def seen(self) -> list[tuple[str, int]]:
        return self.requests

    def replica(self) -> dict[str, dict[str, Any]]:
        replica: dict[str, dict[str, Any]] = self.state["replica"]
        return replica

    def wiped(self) -> bool:
        return not self.state["seqs"] and not self.state["replica"]


@asynccontextmanager
async def js_phone(base: str, clock: ManualClock) -> AsyncIterator[JsPhone]:
    assert CHROMIUM.exists(), "Debian's chromium is required: run scripts/ensure-chromium.sh (make test does)"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        errors: list[str] = []
        try:
            context = await browser.new_context()
            page = await context.new_page()
            page.set_default_timeout(30_000)  # a sync round on a loaded 2-core runner
            page.on("pageerror", lambda e: errors.append(str(e)))
            yield await JsPhone(context, page, clock).start(base)
        except BaseException:
            print("browser errors:", errors)
            raise
        finally:
            await browser.close()


async def _play(world: World, phone: JsPhone, step: dict[str, Any], clock: ManualClock) -> str | None:
    if "record" in step:
        await phone.record(step["record"], step["as"], world.resolve(step["args"], clock.now()))
    elif "blob" in step:
        await phone.blob(world.blobs[step["blob"]])
    elif "network" in step:
        await phone.network(step["network"])
    elif "server" in step:
        await world.step(step, phone.device_id, clock.now())
    else:
        kind = next(k for k in ("sync", "push", "pull", "resend") if k in step)
        return await phone.act(kind, step.get("resend", []))
    return None


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
async def test_vector(
    case: dict[str, Any], server: str, client: Any, demo_db: str, clock: ManualClock
) -> None:
    world = await World(client, demo_db, case).setup()
    async with js_phone(server, clock) as phone:
        for index, step in enumerate(case["steps"]):
            where = f"{case['name']} step {index + 1}"
            phone.requests.clear()
            error = await _play(world, phone, step, clock)
            assert error == step.get("expect", {}).get("error"), (where, error)
            await phone.read()
            await check(world, phone, step.get("expect", {}), where)
