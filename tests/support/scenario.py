"""Builds customers, sites, contracts and work orders through the API, for scenario tests."""

from __future__ import annotations

import itertools
from typing import Any

from litestar.testing import AsyncTestClient

SHANGHAI = "Asia/Shanghai"
OFFICE_9_TO_5 = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
_numbers = itertools.count(1)


def target(
    severity: str,
    measure: str,
    *,
    minutes: int | None = None,
    rule: str = "duration",
    count_mode: str = "elapsed",
    start_rule: str = "immediate",
    cutoff: str | None = None,
) -> dict[str, Any]:
    return {
        "severity": severity,
        "measure": measure,
        "rule": rule,
        "minutes": minutes,
        "count_mode": count_mode,
        "start_rule": start_rule,
        "cutoff": cutoff,
    }


async def _ok(response: Any, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def customer_with_site(
    client: AsyncTestClient[Any], admin: dict[str, str], *, point: tuple[float, float] = (113.66, 34.76)
) -> tuple[dict[str, Any], dict[str, Any]]:
    n = next(_numbers)
    customer = await _ok(
        await client.post(
            "/api/customers", headers=admin, json={"customer_number": f"T{n:05d}", "name": f"测试客户{n}"}
        )
    )
    site = await _ok(
        await client.post(
            "/api/sites",
            headers=admin,
            json={
                "customer_id": customer["id"],
                "name": f"测试站点{n}",
                "address": "河南省郑州市金水区花园路 1 号",
                "point": {"type": "Point", "coordinates": list(point)},
                "time_zone": SHANGHAI,
            },
        )
    )
    return customer, site


async def contract(
    client: AsyncTestClient[Any],
    admin: dict[str, str],
    customer: dict[str, Any],
    *,
    kind: str,
    targets: list[dict[str, Any]] | None = None,
    hours: dict[str, list[list[str]]] | None = None,
    calendar_id: str | None = None,
    escalation: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    n = next(_numbers)
    body: dict[str, Any] = {
        "customer_id": customer["id"],
        "contract_number": f"SC-T-{n:05d}",
        "name": f"合同{n}",
        "calendar_kind": kind,
        "starts_on": "2025-01-01",
        "ends_on": "2027-12-31",
        "business_hours": hours or {},
        "holiday_calendar_id": calendar_id,
        "escalation": escalation or [],
    }
    if targets is not None:
        body["targets"] = targets
    return await _ok(await client.post("/api/contracts", headers=admin, json=body))


async def asset(
    client: AsyncTestClient[Any],
    admin: dict[str, str],
    site: dict[str, Any],
    contract_row: dict[str, Any],
    *,
    warranty_end: str = "2028-01-01",
) -> dict[str, Any]:
    n = next(_numbers)
    return await _ok(
        await client.post(
            "/api/assets",
            headers=admin,
            json={
                "site_id": site["id"],
                "model": "PowerEdge R750",
                "serial": f"SNT{n:07d}",
                "contract_id": contract_row["id"],
                "purchase_date": "2024-01-01",
                "warranty_end": warranty_end,
            },
        )
    )


async def cn_calendar_id(client: AsyncTestClient[Any], admin: dict[str, str]) -> str:
    calendars = (await client.get("/api/holiday-calendars", headers=admin)).json()["items"]
    return str(calendars[0]["id"])


async def report(
    client: AsyncTestClient[Any],
    headers: dict[str, str],
    site: dict[str, Any],
    asset_row: dict[str, Any] | None,
    *,
    severity: str = "critical",
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "site_id": site["id"],
        "contact_name": "李伟",
        "contact_phone": "13800000001",
        "fault_description": "服务器宕机，业务中断",
        "severity": severity,
        "channel": "phone",
        "impact_scope": "核心业务系统",
        **extra,
    }
    if asset_row is not None:
        body["asset_id"] = asset_row["id"]
    return await _ok(await client.post("/api/work-orders", headers=headers, json=body))


def clock_of(order: dict[str, Any], measure: str) -> dict[str, Any]:
    return next(c for c in order["clocks"] if c["measure"] == measure)


async def engineer_id(client: AsyncTestClient[Any], headers: dict[str, str], username: str) -> str:
    engineers = (await client.get("/api/engineers", headers=headers, params={"limit": 500})).json()["items"]
    return str(next(e["id"] for e in engineers if e["username"] == username))


async def planned_visit(
    client: AsyncTestClient[Any],
    dispatcher: dict[str, str],
    order: dict[str, Any],
    engineer: str,
    **extra: Any,
) -> dict[str, Any]:
    visit = await _ok(
        await client.post(
            f"/api/work-orders/{order['id']}/visits",
            headers=dispatcher,
            json={"kind": "repair", "duration_minutes": 90, **extra},
        )
    )
    return await _ok(
        await client.put(
            f"/api/visits/{visit['id']}/assignment",
            headers=dispatcher,
            json={"version": visit["version"], "engineer_id": engineer},
        ),
        200,
    )
