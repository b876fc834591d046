"""The SLA promise through the HTTP API on PostGIS: the exact cases of the contract practice.

Site in Asia/Shanghai; a critical fault reported Friday 2026-03-06 16:00 local time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support.api import assert_problem, auth_headers
from tests.support.db import watch_once
from tests.support.scenario import (
    OFFICE_9_TO_5,
    asset,
    clock_of,
    cn_calendar_id,
    contract,
    customer_with_site,
    engineer_id,
    planned_visit,
    report,
    target,
)

SH = ZoneInfo("Asia/Shanghai")
REPORTED = datetime(2026, 3, 6, 16, 0, tzinfo=SH)


def local(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(SH)


@pytest.fixture
async def at_report_time(clock):
    start = clock.now()
    clock.set(REPORTED.astimezone(UTC))
    yield clock
    clock.set(start)


@pytest.fixture
async def admin(client, at_report_time):
    return await auth_headers(client, "admin")


@pytest.fixture
async def dispatcher(client, at_report_time):
    return await auth_headers(client, "dispatcher")


async def _order_on(client, admin, dispatcher, *, kind, targets=None, hours=None, calendar=True, **extra):
    customer, site = await customer_with_site(client, admin)
    calendar_id = await cn_calendar_id(client, admin) if calendar else None
    row = await contract(
        client, admin, customer, kind=kind, targets=targets, hours=hours, calendar_id=calendar_id
    )
    unit = await asset(client, admin, site, row)
    return await report(client, dispatcher, site, unit, **extra)


async def test_business_hours_contract(client, admin, dispatcher):
    targets = [
        target("critical", "response", minutes=15),
        target("critical", "on_site", minutes=12 * 60, count_mode="business"),
        target("critical", "restore", minutes=48 * 60, count_mode="business"),
    ]
    order = await _order_on(
        client, admin, dispatcher, kind="business_hours", targets=targets, hours=OFFICE_9_TO_5
    )
    assert local(clock_of(order, "on_site")["deadline"]) == datetime(2026, 3, 10, 12, 0, tzinfo=SH)
    assert local(clock_of(order, "restore")["deadline"]) == datetime(2026, 3, 16, 16, 0, tzinfo=SH)
    assert clock_of(order, "on_site")["deadline_local"].startswith("2026-03-10T12:00:00+08:00")
    assert order["reported_at_local"].startswith("2026-03-06T16:00:00+08:00")
    assert order["problem_number"].startswith("WO-2026-")
    assert order["archive_id"].endswith("-20260306")


async def test_7x24_contract(client, admin, dispatcher):
    order = await _order_on(client, admin, dispatcher, kind="7x24")
    assert local(clock_of(order, "on_site")["deadline"]) == datetime(2026, 3, 7, 4, 0, tzinfo=SH)
    assert local(clock_of(order, "restore")["deadline"]) == datetime(2026, 3, 8, 16, 0, tzinfo=SH)
    assert local(clock_of(order, "response")["deadline"]) == datetime(2026, 3, 6, 16, 15, tzinfo=SH)


async def test_next_business_day_contract_with_cutoff(client, admin, dispatcher):
    targets = [
        target(
            "critical",
            "on_site",
            rule="next_business_day",
            count_mode="business",
            start_rule="next_business_opening",
            cutoff="15:00:00",
        )
    ]
    order = await _order_on(
        client, admin, dispatcher, kind="business_hours", targets=targets, hours=OFFICE_9_TO_5
    )
    on_site = clock_of(order, "on_site")
    assert local(on_site["started_at"]) == datetime(2026, 3, 9, 9, 0, tzinfo=SH)
    assert local(on_site["deadline"]) == datetime(2026, 3, 10, 17, 0, tzinfo=SH)


@pytest.mark.parametrize(("hours_later", "state"), [(11, "met"), (13, "breached")])
async def test_arrival_against_the_12_hour_promise(
    client, admin, dispatcher, at_report_time, hours_later, state
):
    order = await _order_on(client, admin, dispatcher, kind="7x24")
    engineer = await engineer_id(client, dispatcher, "engineer01")
    visit = await planned_visit(client, dispatcher, order, engineer)
    at_report_time.advance(timedelta(hours=hours_later))
    engineer_headers = await auth_headers(client, "engineer01")
    assert (
        await client.post(f"/api/visits/{visit['id']}/start-travel", headers=engineer_headers, json={})
    ).status_code == 200
    arrived = await client.post(
        f"/api/visits/{visit['id']}/arrive",
        headers=engineer_headers,
        json={"location": {"type": "Point", "coordinates": [113.66, 34.76]}},
    )
    assert arrived.status_code == 200, arrived.text
    fresh = await client.get(
        f"/api/work-orders/{order['id']}", headers=await auth_headers(client, "dispatcher")
    )
    body = fresh.json()
    assert body["status"] == "on_site"
    assert clock_of(body, "on_site")["state"] == state
    assert (clock_of(body, "on_site")["breached_at"] is None) == (state == "met")
    kinds = [e["kind"] for e in body["timeline"]]
    assert kinds[0] == "created"
    assert "visit_assignment" in kinds


async def test_customer_pause_moves_the_deadline_by_its_length(client, admin, dispatcher, at_report_time):
    order = await _order_on(client, admin, dispatcher, kind="7x24")
    before = local(clock_of(order, "on_site")["deadline"])
    at_report_time.advance(timedelta(hours=1))
    headers = await auth_headers(client, "dispatcher")
    paused = await client.post(
        f"/api/work-orders/{order['id']}/pauses",
        headers=headers,
        json={
            "version": order["version"],
            "reason": "customer_postponed",
            "customer_name": "王经理",
            "channel": "phone",
            "call_reference": "CALL-20260306-01",
        },
    )
    assert paused.status_code == 201, paused.text
    assert paused.json()["status"] == "waiting_customer"
    assert clock_of(paused.json(), "on_site")["state"] == "paused"
    at_report_time.advance(timedelta(hours=2))
    headers = await auth_headers(client, "dispatcher")
    resumed = await client.post(
        f"/api/work-orders/{order['id']}/resume", headers=headers, json={"version": paused.json()["version"]}
    )
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["status"] == "new"
    assert local(clock_of(resumed.json(), "on_site")["deadline"]) == before + timedelta(hours=2)
    assert local(clock_of(resumed.json(), "restore")["deadline"]) == datetime(2026, 3, 8, 18, 0, tzinfo=SH)


async def test_waiting_for_parts_does_not_pause(client, admin, dispatcher):
    order = await _order_on(client, admin, dispatcher, kind="7x24")
    refused = await client.post(
        f"/api/work-orders/{order['id']}/pauses",
        headers=dispatcher,
        json={
            "version": order["version"],
            "reason": "waiting_for_parts",
            "customer_name": "王经理",
            "channel": "phone",
            "call_reference": "x",
        },
    )
    assert_problem(refused, 422, "invalid-input")
    again = (await client.get(f"/api/work-orders/{order['id']}", headers=dispatcher)).json()
    assert clock_of(again, "on_site")["deadline"] == clock_of(order, "on_site")["deadline"]
    assert again["status"] == "new"


async def test_a_pause_until_a_time_resumes_by_itself(client, admin, dispatcher, at_report_time, demo_db):
    order = await _order_on(client, admin, dispatcher, kind="7x24")
    until = REPORTED + timedelta(hours=3)
    paused = await client.post(
        f"/api/work-orders/{order['id']}/pauses",
        headers=dispatcher,
        json={
            "version": order["version"],
            "reason": "site_not_accessible",
            "customer_name": "保安 张",
            "channel": "phone",
            "call_reference": "GATE-1",
            "until": until.isoformat(),
        },
    )
    assert paused.status_code == 201, paused.text
    at_report_time.advance(timedelta(hours=5))
    await watch_once(demo_db, at_report_time)
    body = await client.get(
        f"/api/work-orders/{order['id']}", headers=await auth_headers(client, "dispatcher")
    )
    resumed = body.json()
    assert resumed["status"] == "new"
    assert local(clock_of(resumed, "on_site")["deadline"]) == datetime(2026, 3, 7, 7, 0, tzinfo=SH)


async def test_response_is_met_by_a_named_person_not_an_auto_reply(client, admin, dispatcher, at_report_time):
    order = await _order_on(client, admin, dispatcher, kind="7x24")
    assert clock_of(order, "response")["state"] == "ok"
    at_report_time.advance(timedelta(minutes=10))
    headers = await auth_headers(client, "dispatcher")
    contacted = await client.post(
        f"/api/work-orders/{order['id']}/contacts",
        headers=headers,
        json={"person_name": "调度员 周明", "channel": "phone", "note": "已联系报修人"},
    )
    assert contacted.status_code == 201, contacted.text
    assert clock_of(contacted.json(), "response")["state"] == "met"
    assert contacted.json()["status"] == "triaged"


async def test_an_unloaded_calendar_year_is_refused(client, admin, dispatcher, clock, demo_db):
    clock.set(datetime(2026, 12, 31, 16, 0, tzinfo=SH).astimezone(UTC))
    headers = await auth_headers(client, "admin")
    customer, site = await customer_with_site(client, headers)
    row = await contract(
        client,
        headers,
        customer,
        kind="business_hours",
        hours=OFFICE_9_TO_5,
        calendar_id=await cn_calendar_id(client, headers),
        targets=[target("critical", "restore", minutes=48 * 60, count_mode="business")],
    )
    unit = await asset(client, headers, site, row)
    engine = create_async_engine(demo_db)
    async with engine.connect() as conn:
        before = (await conn.execute(text("SELECT count(*) FROM work_order"))).scalar_one()
    response = await client.post(
        "/api/work-orders",
        headers=await auth_headers(client, "dispatcher"),
        json={
            "site_id": site["id"],
            "asset_id": unit["id"],
            "contact_name": "李伟",
            "contact_phone": "13800000001",
            "fault_description": "宕机",
            "severity": "critical",
            "channel": "phone",
        },
    )
    body = assert_problem(response, 422, "calendar-not-loaded")
    assert "2027" in body["detail"]
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM work_order"))).scalar_one() == before
    await engine.dispose()
