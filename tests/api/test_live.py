"""Live updates over a real HTTP stream: a change committed by another API process reaches an open
stream through LISTEN/NOTIFY; tickets open one stream once; a reconnecting stream catches up from
the last event it saw; a failed request announces nothing."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import psycopg
import pytest

from api.app import create_app
from api.log_redaction import redact
from core.clock import ManualClock
from tests.conftest import settings_for
from tests.support.api import assert_problem, auth_headers
from tests.support.live_server import LiveServer
from tests.support.scenario import asset, contract, customer_with_site, engineer_id, report

STREAM_SECONDS = 8.0


@pytest.fixture(scope="module")
def live_server(demo_db: str, clock: ManualClock, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = settings_for(
        demo_db, tmp_path_factory.mktemp("var"), live_stream_seconds=STREAM_SECONDS, live_ping_seconds=1.0
    )
    with LiveServer(create_app(settings, clock=clock)) as server:
        yield server.url


async def _ticket(http: httpx.AsyncClient, headers: dict[str, str]) -> str:
    response = await http.post("/api/live/tickets", headers=headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["stream"] == "/api/live"
    return str(body["ticket"])


async def _events(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """The stream's events as {event, id, data}."""
    fields: dict[str, Any] = {}
    async for line in response.aiter_lines():
        if line == "":
            if fields:
                yield fields
            fields = {}
        else:
            name, _, value = line.partition(":")
            fields[name] = json.loads(value.strip()) if name == "data" else value.strip()


@contextlib.asynccontextmanager
async def _stream(http: httpx.AsyncClient, ticket: str, **headers: str) -> AsyncIterator[httpx.Response]:
    async with http.stream("GET", "/api/live", params={"ticket": ticket}, headers=headers) as response:
        yield response


async def _until(events: AsyncIterator[dict[str, Any]], wanted: Any, within: float = 10.0) -> dict[str, Any]:
    async def find() -> dict[str, Any]:
        async for event in events:
            if wanted(event):
                return event
        raise AssertionError("the stream ended first")

    return await asyncio.wait_for(find(), within)


async def _order(client, admin, dispatcher) -> dict[str, Any]:
    customer, site = await customer_with_site(client, admin)
    row = await contract(client, admin, customer, kind="7x24")
    return await report(client, dispatcher, site, await asset(client, admin, site, row))


async def test_a_change_made_elsewhere_reaches_an_open_stream(client, admin, dispatcher, live_server):
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as http:
        headers = await auth_headers(http, "dispatcher")
        async with _stream(http, await _ticket(http, headers)) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            events = _events(response)
            # Another API process (the test client's app) takes the call: the stream hears of it.
            order = await _order(client, admin, dispatcher)
            seen = await _until(
                events, lambda e: e.get("event") == "order" and e["data"]["work_order_id"] == order["id"]
            )
            assert int(seen["id"]) == seen["data"]["id"]
            assert seen["data"]["entity_id"] == order["id"]
            # Nothing more happens: pings keep the stream open, then it asks to reconnect.
            ending = await _until(events, lambda e: e.get("event") in ("ping", "reconnect"))
            assert ending["event"] == "ping"
            await _until(events, lambda e: e.get("event") == "reconnect", within=STREAM_SECONDS + 10)


async def test_a_reconnecting_stream_catches_up_from_the_last_event_it_saw(
    client, admin, dispatcher, live_server
):
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as http:
        headers = await auth_headers(http, "dispatcher")
        async with _stream(http, await _ticket(http, headers)) as response:
            events = _events(response)
            first = await _order(client, admin, dispatcher)
            last = await _until(events, lambda e: e.get("data", {}).get("work_order_id") == first["id"])
        # Offline for a while: another order comes in.
        missed = await _order(client, admin, dispatcher)
        async with _stream(http, await _ticket(http, headers), **{"Last-Event-ID": last["id"]}) as response:
            caught = await _until(
                _events(response), lambda e: e.get("data", {}).get("work_order_id") == missed["id"]
            )
            assert int(caught["id"]) > int(last["id"])


async def test_a_ticket_opens_one_stream_once_and_only_for_staff(client, live_server):
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as http:
        headers = await auth_headers(http, "supervisor")
        ticket = await _ticket(http, headers)
        async with _stream(http, ticket) as response:
            assert response.status_code == 200
        again = await http.get("/api/live", params={"ticket": ticket})
        assert_problem(again, 401, "unauthenticated")
        assert_problem(await http.get("/api/live", params={"ticket": "x" * 43}), 401, "unauthenticated")
        assert_problem(await http.get("/api/live"), 422, "invalid-input")
        engineer = await auth_headers(http, "engineer01")
        assert_problem(await http.post("/api/live/tickets", headers=engineer), 403)
        # Signed out: a ticket issued before no longer opens a stream.
        late = await _ticket(http, headers)
        assert (await http.post("/api/auth/logout", headers=headers)).status_code in (200, 204)
        assert_problem(await http.get("/api/live", params={"ticket": late}), 401, "unauthenticated")


async def test_a_failed_request_announces_nothing(client, admin, dispatcher, demo_db):
    order = await _order(client, admin, dispatcher)

    def count() -> int:
        with psycopg.connect(demo_db.replace("postgresql+asyncpg://", "postgresql://")) as conn:
            row = conn.execute("SELECT count(*) FROM live_event").fetchone()
        assert row is not None
        return int(row[0])

    before = count()
    refused = await client.post(
        f"/api/work-orders/{order['id']}/transitions",
        headers=dispatcher,
        json={"to": "closed", "version": order["version"]},
    )
    assert refused.status_code in (404, 409, 422), refused.text
    assert count() == before


def test_the_access_log_never_shows_a_stream_ticket():
    assert redact("/api/live?ticket=abc_DEF-123&last_event_id=7") == "/api/live?ticket=…&last_event_id=7"
    assert redact("/api/live?last_event_id=7&ticket=abc") == "/api/live?last_event_id=7&ticket=…"


def _last_event_id(demo_db: str) -> int:
    with psycopg.connect(demo_db.replace("postgresql+asyncpg://", "postgresql://")) as conn:
        row = conn.execute("SELECT coalesce(max(id), 0) FROM live_event").fetchone()
    assert row is not None
    return int(row[0])


async def test_an_absence_recorded_or_removed_elsewhere_reaches_an_open_board(
    client, admin, dispatcher, live_server, demo_db
):
    me = await engineer_id(client, dispatcher, "engineer07")
    url = f"/api/engineers/{me}/absences"
    before = _last_event_id(demo_db)
    made = await client.post(
        url,
        headers=dispatcher,
        json={
            "starts_at": "2026-03-09T00:00:00Z",
            "ends_at": "2026-03-09T08:00:00Z",
            "kind": "sick",
            "note": "发烧",
        },
    )
    assert made.status_code == 201, made.text
    absence = made.json()
    gone = await client.delete(
        f"{url}/{absence['id']}", headers=dispatcher, params={"version": absence["version"]}
    )
    assert gone.status_code == 204, gone.text
    # A board that was open since before both changes hears of each (replayed from its last event
    # id, so the test does not race the stream's lifetime on a loaded machine).
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as http:
        headers = await auth_headers(http, "dispatcher")
        stream = _stream(http, await _ticket(http, headers), **{"Last-Event-ID": str(before)})
        async with stream as response:
            events = _events(response)
            recorded = await _until(events, lambda e: e.get("event") == "absence")
            removed = await _until(events, lambda e: e.get("event") == "absence")
    assert recorded["data"]["entity_id"] == removed["data"]["entity_id"] == me
    assert int(removed["id"]) > int(recorded["id"]) > before
