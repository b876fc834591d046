"""The server side of the protocol vectors: each case's visits, the named server-side changes
(`{"server": …}` steps) and what the server knows of a device. Any client's runner uses these,
so every client is held to the same world."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from core.database import make_engine, make_sessionmaker
from offline_sync import changes
from tests.support.api import auth_headers
from tests.support.plans import cancel_order
from tests.support.scenario import asset, contract, customer_with_site, engineer_id, report

# The case's engineer (`me`) and another one (`other`), demo users with the demo password.
USERS = {"me": "engineer18", "other": "engineer19"}
PASSWORD = "demo-pass"


async def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def blob_bytes(spec: dict[str, Any]) -> bytes:
    return str(spec["text"]).encode()


class World:
    """One case's server-side state: its visits and orders, named ids and blobs."""

    def __init__(self, client: Any, database_url: str, case: dict[str, Any]) -> None:
        self.client, self.database_url, self.case = client, database_url, case
        self.visits: dict[str, dict[str, Any]] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.sites: dict[str, dict[str, Any]] = {}
        self.ids: dict[str, str] = {}
        self.blobs = {name: blob_bytes(spec) for name, spec in case.get("setup", {}).get("blobs", {}).items()}
        self.headers: dict[str, dict[str, str]] = {}

    async def setup(self) -> World:
        for name in ("admin", "dispatcher", *USERS.values()):
            self.headers[name] = await auth_headers(self.client, name)
        for alias, spec in self.case.get("setup", {}).get("visits", {}).items():
            await self._visit(alias, USERS[spec["engineer"]], spec)
        return self

    async def _visit(self, alias: str, username: str, spec: dict[str, Any]) -> None:
        admin, dispatcher = self.headers["admin"], self.headers["dispatcher"]
        customer, site = await customer_with_site(self.client, admin)
        flags: dict[str, Any] = {k: spec[k] for k in ("reception_code", "no_photography") if k in spec}
        if flags:
            body: dict[str, Any] = {"version": site["version"], **flags}
            site = await _ok(await self.client.patch(f"/api/sites/{site['id']}", headers=admin, json=body))
        device = await asset(
            self.client, admin, site, await contract(self.client, admin, customer, kind="7x24")
        )
        order = await report(self.client, dispatcher, site, device)
        visit = await _ok(
            await self.client.post(
                f"/api/work-orders/{order['id']}/visits",
                headers=dispatcher,
                json={"kind": "repair", "duration_minutes": 60},
            ),
            201,
        )
        assigned = await _ok(
            await self.client.put(
                f"/api/visits/{visit['id']}/assignment",
                headers=dispatcher,
                json={
                    "version": visit["version"],
                    "engineer_id": await engineer_id(self.client, dispatcher, username),
                },
            )
        )
        self.visits[alias], self.orders[alias], self.sites[alias] = assigned, order, site

    # Placeholders ---------------------------------------------------------------------------

    def resolve(self, value: Any, now: dt.datetime) -> Any:
        """`$visit:v1`, `$id:name`, `$now`, `$now-15m`, `$blob:name` inside any JSON value."""
        if isinstance(value, dict):
            return {k: self.resolve(v, now) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v, now) for v in value]
        if not isinstance(value, str) or not value.startswith("$"):
            return value
        kind, _, name = value[1:].partition(":")
        if kind == "visit":
            return self.visits[name]["id"]
        if kind == "id":
            return self.ids.setdefault(name, str(uuid.uuid4()))
        if kind == "blob":
            return hashlib.sha256(self.blobs[name]).hexdigest()
        if kind.startswith("now"):
            minutes = int(kind[3:-1]) if kind.endswith("m") else 0
            return (now + dt.timedelta(minutes=minutes)).isoformat()
        raise ValueError(f"unknown placeholder {value}")

    # Server-side steps ----------------------------------------------------------------------

    async def step(self, step: dict[str, Any], device_id: str, now: dt.datetime) -> None:
        name = step["server"]
        params = self.resolve({k: v for k, v in step.items() if k != "server"}, now)
        handler = getattr(self, f"_{name}", None)
        if handler is None:
            raise ValueError(f"unknown server step {name}")
        await handler(params, device_id)

    async def _reassign_visit(self, params: dict[str, Any], _device: str) -> None:
        """The dispatcher gives the visit to the other engineer."""
        dispatcher = self.headers["dispatcher"]
        visit, order = self.visits[params["visit"]], self.orders[params["visit"]]
        detail = await _ok(await self.client.get(f"/api/work-orders/{order['id']}", headers=dispatcher))
        current = next(v for v in detail["visits"] if v["id"] == visit["id"])
        other = await engineer_id(self.client, dispatcher, USERS["other"])
        await _ok(
            await self.client.put(
                f"/api/visits/{visit['id']}/assignment",
                headers=dispatcher,
                json={"version": current["version"], "engineer_id": other},
            )
        )

    async def _cancel_order(self, params: dict[str, Any], _device: str) -> None:
        await cancel_order(self.client, self.headers["dispatcher"], self.orders[params["visit"]])

    async def _prune_change_log(self, params: dict[str, Any], _device: str) -> None:
        """The admin edits the visit's site (a change after every cursor handed out), then the whole
        change log is pruned, as the worker does after the retention period."""
        site = self.sites[params["visit"]]
        current = await _ok(await self.client.get(f"/api/sites/{site['id']}", headers=self.headers["admin"]))
        await _ok(
            await self.client.patch(
                f"/api/sites/{site['id']}",
                headers=self.headers["admin"],
                json={"version": current["version"], "access_notes": "protocol vector: pruned"},
            )
        )
        engine = make_engine(self.database_url, pool_size=1)
        try:
            sessions: async_sessionmaker[Any] = make_sessionmaker(engine)
            async with sessions() as session, session.begin():
                # The log is stamped with the database's own time.
                await changes.prune(session, dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1))
        finally:
            await engine.dispose()

    async def _device(self, device_id: str) -> dict[str, Any]:
        dispatcher = self.headers["dispatcher"]
        me = await engineer_id(self.client, dispatcher, USERS["me"])
        found = await _ok(
            await self.client.get("/api/sync/devices", headers=dispatcher, params={"user_id": me})
        )
        device: dict[str, Any] = next(d for d in found["items"] if d["device_id"] == device_id)
        return device

    async def _revoke(self, device_id: str, mode: str) -> None:
        device = await self._device(device_id)
        await _ok(
            await self.client.post(
                f"/api/sync/devices/{device['id']}/revoke",
                headers=self.headers["dispatcher"],
                json={"mode": mode, "reason": "protocol vector"},
            )
        )

    async def _suspend_device(self, _params: dict[str, Any], device_id: str) -> None:
        await self._revoke(device_id, "suspend")

    async def _mark_device_lost(self, _params: dict[str, Any], device_id: str) -> None:
        await self._revoke(device_id, "lost")

    async def _reinstate_device(self, _params: dict[str, Any], device_id: str) -> None:
        device = await self._device(device_id)
        await _ok(
            await self.client.post(
                f"/api/sync/devices/{device['id']}/reinstate",
                headers=self.headers["dispatcher"],
                json={"held": "apply"},
            )
        )

    async def _edit_report(self, params: dict[str, Any], _device: str) -> None:
        """The engineer edits the report online (another phone, a laptop) at its current revision."""
        engineer = self.headers[USERS["me"]]
        current = await _ok(await self.client.get(f"/api/reports/{params['report']}", headers=engineer))
        await _ok(
            await self.client.patch(
                f"/api/reports/{params['report']}",
                headers=engineer,
                json={"revision": current["revision"], **params["changes"]},
            )
        )

    async def next_seq(self, device_id: str) -> int:
        return int((await self._device(device_id))["next_seq"])
