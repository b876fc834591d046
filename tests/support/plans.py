"""Plans through the API: start one and wait for its end; take a work order out of later plans."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from litestar.testing import AsyncTestClient

RUNNING = {"queued", "running"}


async def wait_for_plan(
    client: AsyncTestClient[Any], headers: dict[str, str], plan_id: str, patience: float = 90.0
) -> dict[str, Any]:
    """The plan once it is no longer queued or running (or as it is when patience runs out)."""
    deadline = time.monotonic() + patience
    while True:
        plan: dict[str, Any] = (await client.get(f"/api/dispatch/plans/{plan_id}", headers=headers)).json()
        if plan["status"] not in RUNNING or time.monotonic() > deadline:
            return plan
        await asyncio.sleep(0.1)


async def run_plan(
    client: AsyncTestClient[Any], headers: dict[str, str], body: dict[str, Any], patience: float = 90.0
) -> dict[str, Any]:
    """Start a plan (202) and wait for its end."""
    started = await client.post("/api/dispatch/plans", headers=headers, json=body)
    assert started.status_code == 202, started.text
    return await wait_for_plan(client, headers, started.json()["id"], patience)


async def cancel_order(client: AsyncTestClient[Any], headers: dict[str, str], order: dict[str, Any]) -> None:
    """Cancel a work order, which takes its visits out of later plans."""
    current = (await client.get(f"/api/work-orders/{order['id']}", headers=headers)).json()
    cancelled = await client.post(
        f"/api/work-orders/{order['id']}/transitions",
        headers=headers,
        json={"version": current["version"], "to": "cancelled"},
    )
    assert cancelled.status_code == 200, cancelled.text
