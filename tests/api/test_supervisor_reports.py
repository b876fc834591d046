"""The supervisor's reports against a hand-built February with known answers.

Region CN-SUP holds two customers' sites in Asia/Shanghai (UTC+8); the orders below are reported
in February 2026 as that zone counts it, one of them at 01:00 on 1 February local time (still
31 January in UTC) and one at 00:30 on 1 March local time (still February in UTC). The demo's
clock stands at 2 March 2026 01:00 UTC. Times below are UTC.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from core.geo import to_geography
from dispatch.contracts.models import HolidayCalendar, Measure, Severity
from dispatch.customers.models import Customer, Site
from dispatch.sla.models import SlaClock
from dispatch.work_orders.models import Channel, Status, Visit, VisitKind, VisitStatus, WorkOrder
from tests.support.api import assert_problem, auth_headers
from tests.support.scenario import engineer_id

REGION = "CN-SUP"
FEBRUARY = {"since": "2026-02-01", "until": "2026-02-28", "region": REGION}
RESPONSE, RESTORE = Measure.RESPONSE, Measure.RESTORE


def at(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=dt.UTC)


async def _order(
    session: AsyncSession,
    n: int,
    customer: Customer,
    site: Site,
    reported: dt.datetime,
    severity: Severity,
    status: Status,
    engineer: uuid.UUID | None,
) -> WorkOrder:
    order = WorkOrder(
        id=uuid.uuid4(),
        problem_number=f"WO-SUP-{n:04d}",
        archive_id=f"SUP-{n:04d}",
        customer_id=customer.id,
        site_id=site.id,
        asset_model="R750",
        asset_serial=f"SUP-SN-{n}",
        contact_name="李伟",
        contact_phone="13800000001",
        fault_description="宕机",
        severity=severity,
        channel=Channel.PHONE,
        status=status,
        reported_at=reported,
        version=1,
    )
    session.add(order)
    await session.flush()
    if engineer is not None:
        session.add(
            Visit(
                id=uuid.uuid4(),
                work_order_id=order.id,
                kind=VisitKind.REPAIR,
                status=VisitStatus.ASSIGNED,
                duration_minutes=60,
                engineer_id=engineer,
                version=1,
            )
        )
    return order


def _clock(
    order: WorkOrder,
    measure: Measure,
    deadline: dt.datetime,
    *,
    met: dt.datetime | None = None,
    breached: bool = False,
    excused: bool = False,
    at_risk: dt.datetime | None = None,
    escalation: int = 0,
) -> SlaClock:
    return SlaClock(
        work_order_id=order.id,
        measure=measure,
        target={},
        started_at=order.reported_at,
        base_deadline=deadline,
        deadline=deadline,
        met_at=met,
        breached_at=deadline if breached else None,
        at_risk_since=at_risk,
        customer_excused=excused,
        escalation_level=escalation,
    )


@pytest.fixture(scope="module")
async def world(client, demo_db: str, admin) -> dict[str, Any]:
    e1 = uuid.UUID(await engineer_id(client, admin, "engineer01"))
    e2 = uuid.UUID(await engineer_id(client, admin, "engineer02"))
    engine = create_async_engine(demo_db)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        calendar = HolidayCalendar(
            id=uuid.uuid4(), name="Supervisor test region", region=REGION, years=[2026]
        )
        hospital = Customer(id=uuid.uuid4(), customer_number="SUP001", name="甲医院", version=1)
        bank = Customer(id=uuid.uuid4(), customer_number="SUP002", name="乙银行", version=1)
        session.add_all([calendar, hospital, bank])
        await session.flush()
        sites = {}
        for customer, name in ((hospital, "甲医院机房"), (bank, "乙银行数据中心")):
            sites[customer.id] = Site(
                id=uuid.uuid4(),
                customer_id=customer.id,
                name=name,
                address="郑州市",
                point=to_geography((113.66, 34.76)),
                time_zone="Asia/Shanghai",
                region_calendar_id=calendar.id,
                version=1,
            )
        session.add_all(sites.values())
        await session.flush()

        async def order(
            n: int, c: Customer, when: dt.datetime, sev: Severity, st: Status, e: Any
        ) -> WorkOrder:
            return await _order(session, n, c, sites[c.id], when, sev, st, e)

        # o1: hospital, critical, engineer01: answered in time, restored late. Closed (its old
        # escalation is no longer open).
        o1 = await order(1, hospital, at(2, 10, 2), Severity.CRITICAL, Status.CLOSED, e1)
        # o2: hospital, high, engineer02: restored late, but the customer declined a backup device.
        o2 = await order(2, hospital, at(2, 11, 2), Severity.HIGH, Status.RESOLVED, e2)
        # o3: bank, critical, engineer01: restore still running, at risk and escalated.
        o3 = await order(3, bank, at(2, 27, 2), Severity.CRITICAL, Status.ON_SITE, e1)
        # o4: bank, low, nobody assigned: answered in time.
        o4 = await order(4, bank, at(2, 12, 2), Severity.LOW, Status.TRIAGED, None)
        # o5: 1 February 01:00 in Shanghai, engineer02: answered late.
        o5 = await order(5, hospital, at(1, 31, 17), Severity.HIGH, Status.RESOLVED, e2)
        # o6: 1 March 00:30 in Shanghai: not February there. Late, and must not count.
        o6 = await order(6, bank, at(2, 28, 16, 30), Severity.CRITICAL, Status.NEW, e1)
        session.add_all(
            [
                _clock(o1, RESPONSE, at(2, 10, 3), met=at(2, 10, 2, 30)),
                _clock(o1, RESTORE, at(2, 11, 2), breached=True, escalation=2),
                _clock(o2, RESPONSE, at(2, 11, 3), met=at(2, 11, 2, 30)),
                _clock(o2, RESTORE, at(2, 12, 2), breached=True, excused=True),
                _clock(o3, RESPONSE, at(2, 27, 3), met=at(2, 27, 2, 30)),
                _clock(o3, RESTORE, at(3, 3, 2), at_risk=at(3, 1, 0), escalation=1),
                _clock(o4, RESPONSE, at(2, 12, 3), met=at(2, 12, 2, 30)),
                _clock(o5, RESPONSE, at(1, 31, 18), breached=True),
                _clock(o6, RESPONSE, at(2, 28, 17), breached=True),
            ]
        )
        await session.commit()
    await engine.dispose()
    return {"e1": str(e1), "e2": str(e2), "hospital": str(hospital.id), "bank": str(bank.id)}


def _measures(group: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["measure"]: m for m in group["measures"]}


async def test_february_by_plain_dates_is_february_in_the_sites_zone(client, world) -> None:
    desk = await auth_headers(client, "supervisor")
    response = await client.get("/api/reports/sla-compliance", headers=desk, params=FEBRUARY)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["time_zone"] == "Asia/Shanghai"
    assert body["since"].startswith("2026-01-31T16:00:00")
    assert body["until"].startswith("2026-02-28T16:00:00")
    [everything] = body["groups"]
    m = _measures(everything)
    # o1-o5 answered: o5 late. o6 (1 March in Shanghai) left out.
    assert (m["response"]["clocks"], m["response"]["met"], m["response"]["breached"]) == (5, 4, 1)
    assert m["response"]["raw_compliance"] == 0.8
    # Restores: o1 late, o2 late but excused, o3 running.
    restore = m["restore"]
    assert (restore["clocks"], restore["breached"], restore["customer_excused"], restore["running"]) == (
        3,
        2,
        1,
        1,
    )
    assert restore["raw_compliance"] == 0.0
    assert restore["contractual_compliance"] == 0.5

    # The same start as an instant at UTC midnight leaves o5 (31 January in UTC) out.
    utc = {**FEBRUARY, "since": "2026-02-01T00:00:00Z"}
    [instant] = (await client.get("/api/reports/sla-compliance", headers=desk, params=utc)).json()["groups"]
    assert _measures(instant)["response"]["clocks"] == 4


async def test_breakdown_by_engineer_customer_and_severity_with_names(client, world) -> None:
    desk = await auth_headers(client, "supervisor")
    by = {}
    for group_by in ("engineer", "customer", "severity", "region"):
        body = (
            await client.get(
                "/api/reports/sla-compliance", headers=desk, params={**FEBRUARY, "group_by": group_by}
            )
        ).json()
        assert body["group_by"] == group_by
        by[group_by] = {g["key"]: g for g in body["groups"]}
    engineers = by["engineer"]
    assert set(engineers) == {world["e1"], world["e2"], ""}
    assert engineers[world["e1"]]["name"]
    assert engineers[world["e1"]]["name"] != world["e1"]
    e2 = _measures(engineers[world["e2"]])
    assert (e2["response"]["met"], e2["response"]["breached"], e2["response"]["raw_compliance"]) == (
        1,
        1,
        0.5,
    )
    assert (e2["restore"]["raw_compliance"], e2["restore"]["contractual_compliance"]) == (0.0, 1.0)
    assert _measures(engineers[""])["response"]["clocks"] == 1  # o4: nobody assigned
    customers = by["customer"]
    assert {g["name"] for g in customers.values()} == {"甲医院", "乙银行"}
    assert _measures(customers[world["hospital"]])["response"]["clocks"] == 3
    assert _measures(by["severity"]["critical"])["restore"]["clocks"] == 2
    assert set(by["region"]) == {REGION}


async def test_orders_behind_a_figure_page_by_keyset_with_names(client, world) -> None:
    desk = await auth_headers(client, "supervisor")
    params = {**FEBRUARY, "group_by": "engineer", "key": world["e2"], "outcome": "breached", "limit": 1}
    first = (await client.get("/api/reports/sla-compliance/orders", headers=desk, params=params)).json()
    assert [o["problem_number"] for o in first["items"]] == ["WO-SUP-0005"]
    assert first["next_cursor"]
    second = (
        await client.get(
            "/api/reports/sla-compliance/orders",
            headers=desk,
            params={**params, "cursor": first["next_cursor"]},
        )
    ).json()
    assert [o["problem_number"] for o in second["items"]] == ["WO-SUP-0002"]
    assert second["next_cursor"] is None
    order = second["items"][0]
    assert (order["customer_name"], order["site_name"]) == ("甲医院", "甲医院机房")
    assert order["engineer_id"] == world["e2"]
    assert order["engineer_name"]
    assert [c["measure"] for c in order["clocks"]] == ["restore"]
    assert order["clocks"][0]["customer_excused"] is True

    at_risk = (
        await client.get(
            "/api/reports/sla-compliance/orders",
            headers=desk,
            params={**FEBRUARY, "group_by": "engineer", "key": world["e1"], "outcome": "at_risk"},
        )
    ).json()
    assert [o["problem_number"] for o in at_risk["items"]] == ["WO-SUP-0003"]
    restore_only = (
        await client.get(
            "/api/reports/sla-compliance/orders",
            headers=desk,
            params={**FEBRUARY, "measure": "response"},
        )
    ).json()
    assert [o["problem_number"] for o in restore_only["items"]] == ["WO-SUP-0005"]


async def test_csv_numbers_are_the_apis(client, world) -> None:
    desk = await auth_headers(client, "supervisor")
    params = {**FEBRUARY, "group_by": "engineer"}
    api = (await client.get("/api/reports/sla-compliance", headers=desk, params=params)).json()
    response = await client.get("/api/reports/sla-compliance.csv", headers=desk, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    expected = {
        (g["key"], m["measure"]): (g["name"], m["breached"], m["raw_compliance"], m["contractual_compliance"])
        for g in api["groups"]
        for m in g["measures"]
    }
    got = {
        (r["key"], r["measure"]): (
            r["name"],
            int(r["breached"]),
            float(r["raw_compliance"]) if r["raw_compliance"] else None,
            float(r["contractual_compliance"]) if r["contractual_compliance"] else None,
        )
        for r in rows
    }
    assert got == expected

    orders = await client.get(
        "/api/reports/sla-compliance/orders.csv",
        headers=desk,
        params={**params, "key": world["e2"], "outcome": "breached"},
    )
    lines = list(csv.DictReader(io.StringIO(orders.content.decode("utf-8-sig"))))
    assert [r["problem_number"] for r in lines] == ["WO-SUP-0005", "WO-SUP-0002"]
    assert lines[1]["customer"] == "甲医院"


async def test_open_escalations_name_their_order(client, world) -> None:
    desk = await auth_headers(client, "supervisor")
    page = (
        await client.get("/api/reports/escalations", headers=desk, params={"region": REGION, "limit": 10})
    ).json()
    # o1's escalated restore is on a closed order: not open any more.
    assert [(e["problem_number"], e["measure"], e["escalation_level"]) for e in page["items"]] == [
        ("WO-SUP-0003", "restore", 1)
    ]
    assert page["items"][0]["customer_name"] == "乙银行"
    assert page["items"][0]["breached"] is False


async def test_engineer_time_adds_up_to_the_utilisation_kpi(client, world) -> None:
    desk = await auth_headers(client, "supervisor")
    report = (
        await client.get("/api/reports/engineer-time", headers=desk, params={"month": "2026-02"})
    ).json()
    assert report["since"].startswith("2026-01-31T16:00:00")
    assert report["engineers"]
    assert all(e["engineer_name"] for e in report["engineers"])
    kpis = (
        await client.get(
            "/api/kpis",
            headers=desk,
            params={"from": "2026-02-01T00:00:00+08:00", "to": "2026-03-01T00:00:00+08:00"},
        )
    ).json()
    utilisation = next(k for k in kpis["kpis"] if k["key"] == "engineer_utilisation")
    n = len(report["engineers"])
    assert sum(e["shift_hours"] for e in report["engineers"]) == pytest.approx(
        utilisation["denominator"], abs=0.01 * n
    )
    assert sum(e["on_site_hours"] for e in report["engineers"]) == pytest.approx(
        utilisation["numerator"], abs=0.01 * n
    )
    rows = list(
        csv.DictReader(
            io.StringIO(
                (
                    await client.get(
                        "/api/reports/engineer-time.csv", headers=desk, params={"month": "2026-02"}
                    )
                ).content.decode("utf-8-sig")
            )
        )
    )
    assert [float(r["shift_hours"]) for r in rows] == [e["shift_hours"] for e in report["engineers"]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2026-02-30"}, "since"),
        ({"until": "1999-12-31"}, "until"),
        ({"since": "2026-02-01T00:00:00"}, "since"),
        ({"since": "2026-03-01", "until": "2026-02-01"}, "until"),
    ],
)
async def test_bad_dates_are_named(client, world, params, field) -> None:
    desk = await auth_headers(client, "supervisor")
    response = await client.get("/api/reports/sla-compliance", headers=desk, params=params)
    problem = assert_problem(response, 422, "invalid-input")
    assert [e["field"] for e in problem["errors"]] == [field]
