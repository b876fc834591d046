"""SLA rules through the HTTP API, each with a deadline computed by hand: regional holidays per
site, a business-hours contract that must name a holiday calendar, a 24-hour business day.

Sites in Asia/Shanghai; faults reported Friday 2026-03-06 16:00 local time unless said otherwise.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.api.test_sync import Phone
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
ON_SITE_12H = [target("critical", "on_site", minutes=12 * 60, count_mode="business")]


def local(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(SH)


@pytest.fixture
async def at_report_time(clock: Any) -> Any:
    start = clock.now()
    clock.set(REPORTED.astimezone(UTC))
    yield clock
    clock.set(start)


@pytest.fixture
async def admin(client: Any, at_report_time: Any) -> dict[str, str]:
    return await auth_headers(client, "admin")


@pytest.fixture
async def dispatcher(client: Any, at_report_time: Any) -> dict[str, str]:
    return await auth_headers(client, "dispatcher")


async def _calendar(client: Any, admin: dict[str, str], name: str, **extra: Any) -> dict[str, Any]:
    created = await client.post(
        "/api/holiday-calendars", headers=admin, json={"name": name, "region": "HN", **extra}
    )
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


async def _second_site(
    client: Any, admin: dict[str, str], customer: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    created = await client.post(
        "/api/sites",
        headers=admin,
        json={
            "customer_id": customer["id"],
            "name": "第二站点",
            "address": "河南省洛阳市",
            "point": {"type": "Point", "coordinates": [112.45, 34.62]},
            "time_zone": "Asia/Shanghai",
            **extra,
        },
    )
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


async def test_a_regional_holiday_counts_at_its_site_only(client, admin, dispatcher):
    region = await _calendar(client, admin, "河南 地方假日 2026")
    published = await client.put(
        f"/api/holiday-calendars/{region['id']}/years/2026",
        headers=admin,
        json={"days": [{"day": "2026-03-09", "kind": "holiday", "name": "地方节日"}]},
    )
    assert published.status_code == 200, published.text
    customer, plain_site = await customer_with_site(client, admin)
    regional_site = await _second_site(client, admin, customer, region_calendar_id=region["id"])
    assert regional_site["region_calendar_id"] == region["id"]
    assert plain_site["region_calendar_id"] is None
    row = await contract(
        client,
        admin,
        customer,
        kind="business_hours",
        hours=OFFICE_9_TO_5,
        calendar_id=await cn_calendar_id(client, admin),
        targets=ON_SITE_12H,
    )
    plain = await report(client, dispatcher, plain_site, await asset(client, admin, plain_site, row))
    regional = await report(client, dispatcher, regional_site, await asset(client, admin, regional_site, row))
    # 12 business hours from Friday 16:00: Fri 1 h + Mon 8 h + Tue 3 h; at the regional site Monday
    # is a holiday, so Fri 1 h + Tue 8 h + Wed 3 h.
    assert local(clock_of(plain, "on_site")["deadline"]) == datetime(2026, 3, 10, 12, 0, tzinfo=SH)
    assert local(clock_of(regional, "on_site")["deadline"]) == datetime(2026, 3, 11, 12, 0, tzinfo=SH)


async def test_a_sites_regional_calendar_is_patched_read_and_checked(client, admin):
    region = await _calendar(client, admin, "河南 地方假日 补丁")
    _, site = await customer_with_site(client, admin)
    patched = await client.patch(
        f"/api/sites/{site['id']}",
        headers=admin,
        json={"version": site["version"], "region_calendar_id": region["id"]},
    )
    assert patched.status_code == 200, patched.text
    read = (await client.get(f"/api/sites/{site['id']}", headers=admin)).json()
    assert read["region_calendar_id"] == region["id"]
    unknown = await client.patch(
        f"/api/sites/{site['id']}",
        headers=admin,
        json={"version": read["version"], "region_calendar_id": "00000000-0000-4000-8000-000000000000"},
    )
    assert_problem(unknown, 404)
    cleared = await client.patch(
        f"/api/sites/{site['id']}",
        headers=admin,
        json={"version": read["version"], "region_calendar_id": None},
    )
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["region_calendar_id"] is None


def _contract_body(customer: dict[str, Any], number: str, **extra: Any) -> dict[str, Any]:
    return {
        "customer_id": customer["id"],
        "contract_number": number,
        "name": "5x8 合同",
        "calendar_kind": "business_hours",
        "starts_on": "2026-01-01",
        "ends_on": "2027-12-31",
        "business_hours": OFFICE_9_TO_5,
        **extra,
    }


async def test_a_business_hours_contract_without_a_holiday_calendar_is_refused(client, admin):
    customer, _ = await customer_with_site(client, admin)
    refused = await client.post("/api/contracts", headers=admin, json=_contract_body(customer, "SC-NOCAL-1"))
    body = assert_problem(refused, 422, "invalid-input")
    assert [e["field"] for e in body["errors"]] == ["holiday_calendar_id"]
    listed = (
        await client.get("/api/contracts", headers=admin, params={"customer_id": customer["id"]})
    ).json()
    assert listed["items"] == []
    named = await client.post(
        "/api/contracts",
        headers=admin,
        json=_contract_body(customer, "SC-NOCAL-2", holiday_calendar_id=await cn_calendar_id(client, admin)),
    )
    assert named.status_code == 201, named.text
    dropped = await client.patch(
        f"/api/contracts/{named.json()['id']}",
        headers=admin,
        json={"version": named.json()["version"], "holiday_calendar_id": None},
    )
    body = assert_problem(dropped, 422, "invalid-input")
    assert [e["field"] for e in body["errors"]] == ["holiday_calendar_id"]
    # 7x24 contracts count elapsed time and need none.
    always = await client.post(
        "/api/contracts",
        headers=admin,
        json=_contract_body(customer, "SC-NOCAL-3", calendar_kind="7x24", business_hours={}),
    )
    assert always.status_code == 201, always.text


async def test_no_public_holidays_is_a_calendar_chosen_on_purpose(client, admin, dispatcher, clock):
    none = await _calendar(client, admin, "无法定节假日", no_public_holidays=True)
    assert none["no_public_holidays"] is True
    refused = await client.put(
        f"/api/holiday-calendars/{none['id']}/years/2027",
        headers=admin,
        json={"days": [{"day": "2027-01-01", "kind": "holiday", "name": "元旦"}]},
    )
    assert_problem(refused, 422, "invalid-input")
    customer, site = await customer_with_site(client, admin)
    row = await contract(
        client,
        admin,
        customer,
        kind="business_hours",
        hours=OFFICE_9_TO_5,
        calendar_id=none["id"],
        targets=[target("critical", "restore", minutes=48 * 60, count_mode="business")],
    )
    unit = await asset(client, admin, site, row)
    clock.set(datetime(2026, 12, 31, 16, 0, tzinfo=SH).astimezone(UTC))
    order = await report(client, await auth_headers(client, "dispatcher"), site, unit)
    # No year is "not loaded" and New Year's Day is worked: Thu 1 h, Fri 1 Jan 8 h, then Mon 4 Jan
    # to Thu 7 Jan 32 h, Fri 8 Jan 7 h → 16:00.
    assert local(clock_of(order, "restore")["deadline"]) == datetime(2027, 1, 8, 16, 0, tzinfo=SH)


ROUND_THE_CLOCK = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


async def test_a_24_hour_business_day_has_no_hole(client, admin, dispatcher):
    customer, site = await customer_with_site(client, admin)
    row = await contract(
        client,
        admin,
        customer,
        kind="business_hours",
        hours=ROUND_THE_CLOCK,
        calendar_id=await cn_calendar_id(client, admin),
        targets=[target("critical", "restore", minutes=48 * 60, count_mode="business")],
    )
    assert row["business_hours"]["sat"] == [["00:00", "24:00"]]
    order = await report(client, dispatcher, site, await asset(client, admin, site, row))
    # 48 business hours of a day that never closes are 48 hours: Sunday 16:00, not a minute later
    # for each midnight.
    assert local(clock_of(order, "restore")["deadline"]) == REPORTED + timedelta(hours=48)
    for bad in (["00:00", "24:01"], ["24:00", "24:00"], ["00:00", "25:00"]):
        refused = await client.patch(
            f"/api/contracts/{row['id']}",
            headers=admin,
            json={"version": row["version"], "business_hours": {"mon": [bad]}},
        )
        assert_problem(refused, 422, "invalid-input")


MONDAY_11 = datetime(2026, 3, 9, 11, 0, tzinfo=SH)


def _pause_body(order: dict[str, Any], **times: datetime) -> dict[str, Any]:
    return {
        "version": order["version"],
        "reason": "escort_delay",
        "customer_name": "保安 张",
        "channel": "phone",
        "call_reference": "GATE-2026-0309",
        **{name: value.isoformat() for name, value in times.items()},
    }


async def _business_order(client: Any, admin: dict[str, str], dispatcher: dict[str, str]) -> dict[str, Any]:
    customer, site = await customer_with_site(client, admin)
    row = await contract(
        client,
        admin,
        customer,
        kind="business_hours",
        hours=OFFICE_9_TO_5,
        calendar_id=await cn_calendar_id(client, admin),
        targets=ON_SITE_12H,
    )
    order = await report(client, dispatcher, site, await asset(client, admin, site, row))
    # Fri 1 h + Mon 8 h + Tue 3 h.
    assert local(clock_of(order, "on_site")["deadline"]) == datetime(2026, 3, 10, 12, 0, tzinfo=SH)
    return order


async def test_a_pause_entered_afterwards_moves_the_deadline_by_its_business_time(
    client, admin, dispatcher, at_report_time, demo_db
):
    order = await _business_order(client, admin, dispatcher)
    at_report_time.set(MONDAY_11.astimezone(UTC))
    desk = await auth_headers(client, "dispatcher")
    started, resumed = datetime(2026, 3, 6, 16, 30, tzinfo=SH), datetime(2026, 3, 9, 10, 0, tzinfo=SH)
    entered = await client.post(
        f"/api/work-orders/{order['id']}/pauses",
        headers=desk,
        json=_pause_body(order, started_at=started, resumed_at=resumed),
    )
    assert entered.status_code == 201, entered.text
    body = entered.json()
    # Paused business time: Fri 16:30–17:00 and Mon 09:00–10:00, 1 h 30 min; the weekend was not
    # counted anyway. The pause is over, so the order does not wait on the customer.
    assert local(clock_of(body, "on_site")["deadline"]) == datetime(2026, 3, 10, 13, 30, tzinfo=SH)
    assert body["status"] == "new"
    event = next(e for e in body["timeline"] if e["kind"] == "pause_recorded")
    assert datetime.fromisoformat(event["data"]["started_at"]) == started
    assert event["data"]["call_reference"] == "GATE-2026-0309"
    engine = create_async_engine(demo_db)
    async with engine.connect() as conn:
        audited = await conn.execute(
            text(
                "SELECT count(*) FROM audit_log, jsonb_array_elements(changes) c"
                " WHERE c->>'entity' = 'sla_pause' AND c->'after'->>'work_order_id' = :id"
            ),
            {"id": order["id"]},
        )
        assert audited.scalar_one() == 1
    await engine.dispose()


@pytest.mark.parametrize(
    ("times", "status", "field"),
    [
        # Overlaps the pause already entered (Fri 16:30 – Mon 10:00).
        ({"started_at": datetime(2026, 3, 9, 9, 30, tzinfo=SH)}, 409, None),
        (
            {
                "started_at": datetime(2026, 3, 6, 15, 0, tzinfo=SH),
                "resumed_at": datetime(2026, 3, 6, 15, 30, tzinfo=SH),
            },
            422,
            "started_at",
        ),
        ({"started_at": datetime(2026, 3, 9, 11, 30, tzinfo=SH)}, 422, "started_at"),
        (
            {
                "started_at": datetime(2026, 3, 9, 10, 30, tzinfo=SH),
                "resumed_at": datetime(2026, 3, 9, 12, 0, tzinfo=SH),
            },
            422,
            "resumed_at",
        ),
        (
            {
                "started_at": datetime(2026, 3, 9, 10, 30, tzinfo=SH),
                "resumed_at": datetime(2026, 3, 9, 10, 30, tzinfo=SH),
            },
            422,
            "resumed_at",
        ),
    ],
    ids=["overlaps", "before-the-report", "in-the-future", "resumes-in-the-future", "empty"],
)
async def test_a_pause_outside_the_orders_history_is_refused(
    client, admin, dispatcher, at_report_time, times, status, field
):
    order = await _business_order(client, admin, dispatcher)
    at_report_time.set(MONDAY_11.astimezone(UTC))
    desk = await auth_headers(client, "dispatcher")
    first = await client.post(
        f"/api/work-orders/{order['id']}/pauses",
        headers=desk,
        json=_pause_body(
            order,
            started_at=datetime(2026, 3, 6, 16, 30, tzinfo=SH),
            resumed_at=datetime(2026, 3, 9, 10, 0, tzinfo=SH),
        ),
    )
    assert first.status_code == 201, first.text
    refused = await client.post(
        f"/api/work-orders/{order['id']}/pauses", headers=desk, json=_pause_body(first.json(), **times)
    )
    problem = assert_problem(refused, status, "pause-overlaps" if status == 409 else "invalid-input")
    if field:
        assert [e["field"] for e in problem["errors"]] == [field]
    after = (await client.get(f"/api/work-orders/{order['id']}", headers=desk)).json()
    assert clock_of(after, "on_site")["deadline"] == clock_of(first.json(), "on_site")["deadline"]
    assert after["version"] == first.json()["version"]


async def test_a_running_pause_started_earlier_and_resumed_at_a_past_time(
    client, admin, dispatcher, at_report_time
):
    order = await _business_order(client, admin, dispatcher)
    at_report_time.set(MONDAY_11.astimezone(UTC))
    desk = await auth_headers(client, "dispatcher")
    paused = await client.post(
        f"/api/work-orders/{order['id']}/pauses",
        headers=desk,
        json=_pause_body(order, started_at=datetime(2026, 3, 9, 10, 0, tzinfo=SH)),
    )
    assert paused.status_code == 201, paused.text
    assert paused.json()["status"] == "waiting_customer"
    early = await client.post(
        f"/api/work-orders/{order['id']}/resume",
        headers=desk,
        json={
            "version": paused.json()["version"],
            "resumed_at": datetime(2026, 3, 9, 9, 59, tzinfo=SH).isoformat(),
        },
    )
    assert [e["field"] for e in assert_problem(early, 422, "invalid-input")["errors"]] == ["resumed_at"]
    resumed = await client.post(
        f"/api/work-orders/{order['id']}/resume",
        headers=desk,
        json={
            "version": paused.json()["version"],
            "resumed_at": datetime(2026, 3, 9, 10, 40, tzinfo=SH).isoformat(),
        },
    )
    assert resumed.status_code == 200, resumed.text
    body = resumed.json()
    assert body["status"] == "new"
    # 40 business minutes paused: Tuesday 12:00 → 12:40.
    assert local(clock_of(body, "on_site")["deadline"]) == datetime(2026, 3, 10, 12, 40, tzinfo=SH)


async def test_a_pause_entered_after_the_arrival_decides_the_breach_anew(
    client, admin, dispatcher, at_report_time
):
    customer, site = await customer_with_site(client, admin)
    row = await contract(client, admin, customer, kind="7x24")
    order = await report(client, dispatcher, site, await asset(client, admin, site, row))
    engineer = await engineer_id(client, dispatcher, "engineer01")
    visit = await planned_visit(client, dispatcher, order, engineer)
    at_report_time.advance(timedelta(hours=13))
    field = await auth_headers(client, "engineer01")
    assert (
        await client.post(f"/api/visits/{visit['id']}/start-travel", headers=field, json={})
    ).status_code == 200
    arrived = await client.post(
        f"/api/visits/{visit['id']}/arrive",
        headers=field,
        json={"location": {"type": "Point", "coordinates": [113.66, 34.76]}},
    )
    assert arrived.status_code == 200, arrived.text
    desk = await auth_headers(client, "dispatcher")
    late = (await client.get(f"/api/work-orders/{order['id']}", headers=desk)).json()
    assert clock_of(late, "on_site")["state"] == "breached"
    # The gate kept the engineer waiting two hours (Sat 01:00–03:00), entered once he got in: the
    # 12 h promise from Fri 16:00 becomes Sat 06:00, and the arrival at 05:00 met it.
    entered = await client.post(
        f"/api/work-orders/{order['id']}/pauses",
        headers=desk,
        json=_pause_body(
            late,
            started_at=datetime(2026, 3, 7, 1, 0, tzinfo=SH),
            resumed_at=datetime(2026, 3, 7, 3, 0, tzinfo=SH),
        ),
    )
    assert entered.status_code == 201, entered.text
    on_site = clock_of(entered.json(), "on_site")
    assert local(on_site["deadline"]) == datetime(2026, 3, 7, 6, 0, tzinfo=SH)
    assert on_site["state"] == "met"
    assert on_site["breached_at"] is None


async def test_one_visit_is_read_by_staff_and_its_own_engineer_only(client, admin, dispatcher):
    customer, site = await customer_with_site(client, admin)
    row = await contract(client, admin, customer, kind="7x24")
    order = await report(client, dispatcher, site, await asset(client, admin, site, row))
    visit = await planned_visit(
        client, dispatcher, order, await engineer_id(client, dispatcher, "engineer01")
    )
    for reader in ("dispatcher", "supervisor", "warehouse", "engineer01"):
        read = await client.get(f"/api/visits/{visit['id']}", headers=await auth_headers(client, reader))
        assert read.status_code == 200, (reader, read.text)
        assert read.json()["id"] == visit["id"]
        assert read.json()["engineer_id"] == visit["engineer_id"]
    other = await client.get(f"/api/visits/{visit['id']}", headers=await auth_headers(client, "engineer02"))
    assert_problem(other, 404, "not-found")
    customer_contact = await client.get(
        f"/api/visits/{visit['id']}", headers=await auth_headers(client, "customer01")
    )
    assert_problem(customer_contact, 403, "forbidden")


async def _remote_fix(client: Any, order: dict[str, Any], desk: dict[str, str]) -> dict[str, Any]:
    contacted = await client.post(
        f"/api/work-orders/{order['id']}/contacts",
        headers=desk,
        json={"person_name": "调度员 周明", "channel": "phone"},
    )
    assert contacted.status_code == 201, contacted.text
    fixed = await client.post(
        f"/api/work-orders/{order['id']}/transitions",
        headers=desk,
        json={"version": contacted.json()["version"], "to": "remote_fix", "note": "远程重启服务"},
    )
    assert fixed.status_code == 200, fixed.text
    body: dict[str, Any] = fixed.json()
    return body


async def _notifications(client: Any, order_id: str, measure: str) -> list[dict[str, Any]]:
    page = await client.get(
        "/api/notifications",
        headers=await auth_headers(client, "dispatcher"),
        params={"work_order_id": order_id, "limit": 500},
    )
    return [n for n in page.json()["items"] if (n.get("data") or {}).get("measure") == measure]


async def _restore_compliance(
    client: Any, desk: dict[str, str], customer: dict[str, Any]
) -> tuple[int, int, int]:
    """The restore row of the compliance report for the customer's March orders: met, breached, running."""
    rows = await client.get(
        "/api/reports/sla-compliance",
        headers=desk,
        params={
            "since": "2026-03-01T00:00:00+08:00",
            "until": "2026-04-01T00:00:00+08:00",
            "customer_id": customer["id"],
        },
    )
    assert rows.status_code == 200, rows.text
    restore = next(r for r in rows.json()["groups"][0]["measures"] if r["measure"] == "restore")
    return restore["met"], restore["breached"], restore["running"]


async def test_a_restore_is_met_only_once_the_customer_confirms(
    client, admin, dispatcher, at_report_time, demo_db
):
    customer, site = await customer_with_site(client, admin)
    row = await contract(client, admin, customer, kind="7x24")
    order = await report(client, dispatcher, site, await asset(client, admin, site, row))
    restored_at = datetime(2026, 3, 7, 10, 0, tzinfo=SH)  # Sat 10:00; 48 h from Fri 16:00 is Sun 16:00
    at_report_time.set(restored_at.astimezone(UTC))
    desk = await auth_headers(client, "dispatcher")
    fixed = await _remote_fix(client, order, desk)
    restore = clock_of(fixed, "restore")
    assert restore["state"] == "awaiting_confirmation"
    assert restore["met_at"] is None
    assert local(restore["unconfirmed_at"]) == restored_at
    # Past the deadline, still unconfirmed: no breach, no warning, not among the late orders.
    at_report_time.set(datetime(2026, 3, 9, 10, 0, tzinfo=SH).astimezone(UTC))
    await watch_once(demo_db, at_report_time)
    desk = await auth_headers(client, "dispatcher")
    waiting = (await client.get(f"/api/work-orders/{order['id']}", headers=desk)).json()
    assert clock_of(waiting, "restore")["state"] == "awaiting_confirmation"
    assert clock_of(waiting, "restore")["breached_at"] is None
    assert await _notifications(client, order["id"], "restore") == []
    assert await _restore_compliance(client, desk, customer) == (0, 0, 1)
    incomplete = await client.post(
        f"/api/work-orders/{order['id']}/restore-confirmations",
        headers=desk,
        json={"confirmed_by": "李伟", "channel": "phone"},
    )
    assert_problem(incomplete, 422, "invalid-input")
    confirmed = await client.post(
        f"/api/work-orders/{order['id']}/restore-confirmations",
        headers=desk,
        json={"confirmed_by": "李伟", "channel": "phone", "call_reference": "CALL-20260309-07"},
    )
    assert confirmed.status_code == 201, confirmed.text
    restore = clock_of(confirmed.json(), "restore")
    # Met at the restore time, not at the confirmation's.
    assert restore["state"] == "met"
    assert local(restore["met_at"]) == restored_at
    assert restore["confirmation"]["kind"] == "remote"
    assert restore["confirmation"]["call_reference"] == "CALL-20260309-07"
    assert await _restore_compliance(client, desk, customer) == (1, 0, 0)
    event = next(e for e in confirmed.json()["timeline"] if e["kind"] == "restore_confirmed")
    assert event["data"]["by"] == "李伟"
    again = await client.post(
        f"/api/work-orders/{order['id']}/restore-confirmations",
        headers=desk,
        json={"confirmed_by": "李伟", "channel": "phone", "call_reference": "CALL-20260309-08"},
    )
    assert_problem(again, 409, "conflict")


async def test_a_degraded_restore_by_the_desk_alone_waits_for_the_customer(
    client, admin, dispatcher, at_report_time, demo_db
):
    customer, site = await customer_with_site(client, admin)
    row = await contract(client, admin, customer, kind="7x24")
    order = await report(client, dispatcher, site, await asset(client, admin, site, row))
    at_report_time.advance(timedelta(hours=2))
    desk = await auth_headers(client, "dispatcher")
    degraded = await client.post(
        f"/api/work-orders/{order['id']}/restored-degraded",
        headers=desk,
        json={"version": order["version"], "severity": "medium", "note": "切换到备用链路"},
    )
    assert degraded.status_code == 200, degraded.text
    assert clock_of(degraded.json(), "restore")["state"] == "awaiting_confirmation"
    assert clock_of(degraded.json(), "restore")["met_at"] is None
    # Nobody confirms: 72 h after the restore (the contract's default period) it counts as
    # confirmed, met at the restore time (Fri 18:00).
    at_report_time.advance(timedelta(hours=71, minutes=59))
    await watch_once(demo_db, at_report_time)
    desk = await auth_headers(client, "dispatcher")
    early = (await client.get(f"/api/work-orders/{order['id']}", headers=desk)).json()
    assert clock_of(early, "restore")["state"] == "awaiting_confirmation"
    at_report_time.advance(timedelta(minutes=1))
    await watch_once(demo_db, at_report_time)
    desk = await auth_headers(client, "dispatcher")
    late = (await client.get(f"/api/work-orders/{order['id']}", headers=desk)).json()
    restore = clock_of(late, "restore")
    assert restore["state"] == "met"
    assert local(restore["met_at"]) == REPORTED + timedelta(hours=2)
    assert restore["confirmation"]["kind"] == "by_default"


async def test_a_degraded_restore_confirmed_on_the_call_is_met_at_once(
    client, admin, dispatcher, at_report_time
):
    customer, site = await customer_with_site(client, admin)
    row = await contract(client, admin, customer, kind="7x24")
    order = await report(client, dispatcher, site, await asset(client, admin, site, row))
    at_report_time.advance(timedelta(hours=1))
    desk = await auth_headers(client, "dispatcher")
    degraded = await client.post(
        f"/api/work-orders/{order['id']}/restored-degraded",
        headers=desk,
        json={
            "version": order["version"],
            "severity": "medium",
            "note": "切换到备用链路",
            "confirmed_by": "李伟",
            "confirmation_channel": "phone",
            "call_reference": "CALL-20260306-11",
        },
    )
    assert degraded.status_code == 200, degraded.text
    restore = clock_of(degraded.json(), "restore")
    assert restore["state"] == "met"
    assert local(restore["met_at"]) == REPORTED + timedelta(hours=1)


def _historical(
    site: dict[str, Any], unit: dict[str, Any], reported: datetime, **history: datetime
) -> dict[str, Any]:
    return {
        "site_id": site["id"],
        "asset_id": unit["id"],
        "contact_name": "李伟",
        "contact_phone": "13800000001",
        "fault_description": "纸质工单补录",
        "severity": "critical",
        "channel": "phone",
        "reported_at": reported.isoformat(),
        **{name: value.isoformat() for name, value in history.items()},
    }


COUNTS = text(
    "SELECT (SELECT count(*) FROM work_order WHERE id::text = ANY(:ids)),"
    " (SELECT count(*) FROM notification WHERE work_order_id::text = ANY(:ids)),"
    " (SELECT count(*) FROM live_event WHERE work_order_id::text = ANY(:ids))"
)


async def _stored_orders(db: str, order_ids: list[str]) -> tuple[int, int, int]:
    """Orders, notifications and live events stored for these orders."""
    engine = create_async_engine(db)
    try:
        async with engine.connect() as conn:
            orders, notifications, events = (await conn.execute(COUNTS, {"ids": order_ids})).one()
            return orders, notifications, events
    finally:
        await engine.dispose()


async def test_historical_orders_are_imported_quietly(client, admin, dispatcher, at_report_time, demo_db):
    customer, site = await customer_with_site(client, admin)
    row = await contract(client, admin, customer, kind="7x24")
    unit = await asset(client, admin, site, row)
    reported = datetime(2026, 1, 10, 10, 0, tzinfo=SH)  # 55 days before "now" (2026-03-06 16:00)
    live = await client.post("/api/work-orders", headers=dispatcher, json=_historical(site, unit, reported))
    problem = assert_problem(live, 422, "invalid-input")
    assert "/api/work-orders/imports" in problem["detail"]
    done = _historical(
        site,
        unit,
        reported,
        responded_at=reported + timedelta(minutes=10),
        arrived_at=reported + timedelta(hours=13),
        restored_at=reported + timedelta(hours=20),
        closed_at=reported + timedelta(days=2),
    )
    still_open = _historical(site, unit, datetime(2026, 1, 20, 9, 0, tzinfo=SH))
    imported = await client.post(
        "/api/work-orders/imports", headers=dispatcher, json={"items": [done, still_open]}
    )
    assert imported.status_code == 201, imported.text
    assert imported.json()["imported"] == 2
    ids = [item["id"] for item in imported.json()["items"]]
    assert [item["status"] for item in imported.json()["items"]] == ["closed", "new"]
    first = (await client.get(f"/api/work-orders/{ids[0]}", headers=dispatcher)).json()
    assert first["imported"] is True
    # 7x24 critical from Sat 10 Jan 10:00: response by 10:15 (met 10:10), on site by 22:00 (arrived
    # 23:00: breached), restored by Mon 12 Jan 10:00 (restored Sun 06:00: met).
    assert clock_of(first, "response")["state"] == "met"
    assert local(clock_of(first, "on_site")["deadline"]) == datetime(2026, 1, 10, 22, 0, tzinfo=SH)
    assert clock_of(first, "on_site")["state"] == "breached"
    assert clock_of(first, "restore")["state"] == "met"
    assert local(clock_of(first, "restore")["met_at"]) == datetime(2026, 1, 11, 6, 0, tzinfo=SH)
    # The open one's clocks ran out weeks ago; the watch raises nothing for it, and nothing of either
    # order was announced live.
    await watch_once(demo_db, at_report_time)
    assert await _stored_orders(demo_db, ids) == (2, 0, 0)


async def test_an_import_is_all_or_nothing_and_names_the_bad_row(
    client, admin, dispatcher, at_report_time, demo_db
):
    customer, site = await customer_with_site(client, admin)
    row = await contract(client, admin, customer, kind="7x24")
    unit = await asset(client, admin, site, row)
    reported = datetime(2025, 12, 1, 9, 0, tzinfo=SH)
    good = _historical(site, unit, reported)
    bad = _historical(site, unit, reported, restored_at=reported - timedelta(hours=1))
    refused = await client.post("/api/work-orders/imports", headers=dispatcher, json={"items": [good, bad]})
    problem = assert_problem(refused, 422, "invalid-input")
    assert [e["field"] for e in problem["errors"]] == ["items[1].restored_at"]
    future = _historical(site, unit, datetime(2026, 3, 7, 9, 0, tzinfo=SH))
    refused = await client.post("/api/work-orders/imports", headers=dispatcher, json={"items": [future]})
    assert [e["field"] for e in assert_problem(refused, 422)["errors"]] == ["items[0].reported_at"]
    header = (
        "site_id,asset_id,contact_name,contact_phone,fault_description,severity,channel,reported_at,closed_at"
    )
    line = f"{site['id']},{unit['id']},李伟,13800000001,补录,high,phone,2025-12-01T09:00:00+08:00,"
    broken = await client.post(
        "/api/work-orders/imports",
        headers=dispatcher,
        json={"csv": f"{header}\n{line}\n{line.replace('high', 'urgent')}\n"},
    )
    problem = assert_problem(broken, 422, "invalid-input")
    assert "line 3" in problem["detail"]
    from_csv = await client.post(
        "/api/work-orders/imports",
        headers=dispatcher,
        json={"csv": f"{header}\n{line}\n{line}2025-12-03T18:00:00+08:00\n"},
    )
    assert from_csv.status_code == 201, from_csv.text
    assert [item["status"] for item in from_csv.json()["items"]] == ["new", "closed"]
    listed = await client.get(
        "/api/work-orders", headers=dispatcher, params={"customer_id": customer["id"], "limit": 50}
    )
    assert len(listed.json()["items"]) == 2
    assert all(item["imported"] for item in listed.json()["items"])
    engineer = await client.post(
        "/api/work-orders/imports", headers=await auth_headers(client, "customer01"), json={"items": [good]}
    )
    assert_problem(engineer, 403, "forbidden")


async def test_the_openapi_document_names_the_problems_these_routes_give(client):
    doc = (await client.get("/schema/openapi.json")).json()
    pauses = doc["paths"]["/api/work-orders/{order_id}/pauses"]["post"]["responses"]
    # A route's own problems are listed beside the ones every write can give.
    for slug in ("pause-overlaps", "illegal-transition", "version-conflict"):
        assert f"/problems/{slug}" in pauses["409"]["description"]
    assert list(pauses["409"]["content"]) == ["application/problem+json"]
    assert "/problems/calendar-not-loaded" in pauses["422"]["description"]
    assert "/problems/invalid-input" in pauses["422"]["description"]
    intake = doc["paths"]["/api/work-orders"]["post"]["responses"]
    assert "/problems/calendar-not-loaded" in intake["422"]["description"]
    visit = doc["paths"]["/api/visits/{visit_id}"]["get"]["responses"]
    assert list(visit["404"]["content"]) == ["application/problem+json"]
    # The cut-off is a time of day, not an ISO 8601 duration.
    cutoff = doc["components"]["schemas"]["TargetIO"]["properties"]["cutoff"]
    text_form = next(s for s in cutoff["oneOf"] if s.get("type") == "string")
    assert text_form.get("format") != "duration"
    assert text_form["pattern"].startswith("^([01][0-9]|2[0-3])")


async def test_the_phones_site_document_names_its_regional_calendar(client, admin, dispatcher):
    region = await _calendar(client, admin, "河南 地方假日 手机")
    customer, _ = await customer_with_site(client, admin)
    regional = await _second_site(client, admin, customer, region_calendar_id=region["id"])
    unit = await asset(client, admin, regional, await contract(client, admin, customer, kind="7x24"))
    order = await report(client, dispatcher, regional, unit)
    await planned_visit(client, dispatcher, order, await engineer_id(client, dispatcher, "engineer07"))
    phone = await Phone(client, "engineer07").start()
    docs, _, _ = await phone.pull_all()
    assert docs[order["id"]]["site"]["region_calendar_id"] == region["id"]


async def test_the_confirmation_period_is_a_contract_setting_and_demo_contracts_name_calendars(client, admin):
    customer, _ = await customer_with_site(client, admin)
    row = await contract(client, admin, customer, kind="7x24")
    assert row["restore_confirmation_hours"] == 72
    for bad in (0, 31 * 24):
        refused = await client.patch(
            f"/api/contracts/{row['id']}",
            headers=admin,
            json={"version": row["version"], "restore_confirmation_hours": bad},
        )
        assert_problem(refused, 422, "invalid-input")
    changed = await client.patch(
        f"/api/contracts/{row['id']}",
        headers=admin,
        json={"version": row["version"], "restore_confirmation_hours": 24},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["restore_confirmation_hours"] == 24
    page: dict[str, Any] = {"next_cursor": None}
    business = []
    while True:
        params = {"limit": 200, **({"cursor": page["next_cursor"]} if page["next_cursor"] else {})}
        page = (await client.get("/api/contracts", headers=admin, params=params)).json()
        business += [c for c in page["items"] if c["calendar_kind"] == "business_hours"]
        if not page["next_cursor"]:
            break
    assert business, "the demo data has business-hours contracts"
    assert all(c["holiday_calendar_id"] for c in business)
