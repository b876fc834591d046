"""KPIs against a hand-built week with known answers.

The week is Monday 2026-03-09 to Sunday 2026-03-15 in Asia/Shanghai (UTC+8), asked for as plain
dates: from 2026-03-08T16:00Z to 2026-03-15T16:00Z. One customer, 河南省人民医院, one site in
region CN-KPI; its work orders, timelines, clocks, visits, a loan and stock are written as
records with exact times (the services that write them have their own tests), and the API
must read the figures below back. Every expected number is derived by hand next to it.
Times below are UTC.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from completion.models import CustomerSurvey, ServiceReport
from core.clock import ManualClock
from core.geo import to_geography
from dispatch.contracts.models import HolidayCalendar, Measure, Severity
from dispatch.customers.models import Asset, Customer, Site
from dispatch.engineers.models import EngineerShift
from dispatch.sla.models import SlaClock
from dispatch.work_orders.models import (
    Channel,
    Status,
    Visit,
    VisitKind,
    VisitStatus,
    WorkOrder,
    WorkOrderEvent,
)
from inventory.models import (
    Item,
    ItemKind,
    Loan,
    LoanStatus,
    Location,
    LocationKind,
    MoveKind,
    StockMove,
    Unit,
    UnitState,
)
from tests.support.api import assert_problem, auth_headers
from tests.support.scenario import engineer_id

CUSTOMER_NAME = "河南省人民医院"
REGION = "CN-KPI"
WEEK = {"from": "2026-03-09", "to": "2026-03-15"}
# After the week: clocks still unmet with a deadline before this are breached.
NOW = dt.datetime(2026, 3, 20, tzinfo=dt.UTC)
RESPONSE, ON_SITE, RESTORE = Measure.RESPONSE, Measure.ON_SITE, Measure.RESTORE


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=dt.UTC)


class Builder:
    def __init__(self, session: AsyncSession, customer: Customer, site: Site) -> None:
        self.session, self.customer, self.site = session, customer, site
        self.n = 0

    async def order(
        self,
        reported_at: dt.datetime,
        severity: Severity,
        status: Status,
        *,
        asset: Asset | None = None,
        restored_at: dt.datetime | None = None,
    ) -> WorkOrder:
        self.n += 1
        order = WorkOrder(
            id=uuid.uuid4(),
            problem_number=f"WO-KPI-{self.n:04d}",
            archive_id=f"KPI-{self.n:04d}",
            customer_id=self.customer.id,
            site_id=self.site.id,
            asset_id=asset.id if asset else None,
            asset_model=asset.model if asset else "R750",
            asset_serial=asset.serial if asset else f"KPI-SN-{self.n}",
            contact_name="李伟",
            contact_phone="13800000001",
            fault_description="宕机",
            severity=severity,
            channel=Channel.PHONE,
            status=status,
            reported_at=reported_at,
            restored_at=restored_at,
            version=1,
        )
        self.session.add(order)
        await self.session.flush()
        self.event(order, reported_at, "created", to="new")
        return order

    def event(
        self,
        order: WorkOrder,
        when: dt.datetime,
        kind: str,
        *,
        to: str | None = None,
        came_from: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        self.session.add(
            WorkOrderEvent(
                work_order_id=order.id,
                at=when,
                kind=kind,
                from_status=came_from,
                to_status=to,
                data=data or {},
            )
        )

    def status(self, order: WorkOrder, when: dt.datetime, to: str, came_from: str | None = None) -> None:
        self.event(order, when, "status", to=to, came_from=came_from)

    def clock(
        self,
        order: WorkOrder,
        measure: Measure,
        deadline: dt.datetime,
        met: dt.datetime | None,
        *,
        excused: bool = False,
    ) -> None:
        late = (met is None and deadline < NOW) or (met is not None and met > deadline)
        self.session.add(
            SlaClock(
                work_order_id=order.id,
                measure=measure,
                target={},
                started_at=order.reported_at,
                base_deadline=deadline,
                deadline=deadline,
                met_at=met,
                breached_at=deadline if late else None,
                customer_excused=excused,
            )
        )

    def visit(
        self,
        order: WorkOrder,
        engineer: uuid.UUID,
        *,
        arrived: dt.datetime | None,
        finished: dt.datetime | None,
        outcome: str | None,
        en_route: dt.datetime | None = None,
        kind: VisitKind = VisitKind.REPAIR,
        partner: uuid.UUID | None = None,
        parts: list[dict[str, Any]] | None = None,
        planned: dt.datetime | None = None,
    ) -> Visit:
        visit = Visit(
            id=uuid.uuid4(),
            work_order_id=order.id,
            kind=kind,
            status=VisitStatus.DONE if finished else VisitStatus.ASSIGNED,
            duration_minutes=60,
            required_parts=parts or [],
            engineer_id=engineer,
            partner_engineer_id=partner,
            planned_start=planned,
            en_route_at=en_route,
            arrived_at=arrived,
            finished_at=finished,
            outcome=outcome,
            version=1,
        )
        self.session.add(visit)
        return visit

    async def survey(
        self,
        order: WorkOrder,
        visit: Visit,
        engineer: uuid.UUID,
        outcome: str,
        ratings: tuple[int | None, int | None, int | None, int | None],
    ) -> None:
        """The order's signed report and its survey, answered (or confirmed by default) as given."""
        await self.session.flush()
        finished = visit.finished_at or order.reported_at
        report = ServiceReport(
            id=uuid.uuid4(),
            work_order_id=order.id,
            visit_id=visit.id,
            form="fault",
            version=1,
            status="signed",
            content={},
            revision=1,
            drafted_by=engineer,
            created_at=finished,
            updated_at=finished,
            signed_at=finished,
        )
        self.session.add(report)
        await self.session.flush()
        timeliness, attitude, result, overall = ratings
        self.session.add(
            CustomerSurvey(
                id=uuid.uuid4(),
                work_order_id=order.id,
                report_id=report.id,
                token_sha256=uuid.uuid4().hex * 2,
                channel="sms",
                recipient=order.contact_phone,
                created_at=finished,
                expires_at=finished + dt.timedelta(days=7),
                answered_at=finished + dt.timedelta(hours=2),
                outcome=outcome,
                timeliness=timeliness,
                attitude=attitude,
                result_rating=result,
                overall=overall,
                complaint="处理太慢" if outcome == "complaint" else None,
            )
        )


@pytest.fixture(scope="module")
async def world(client, demo_db: str, clock: ManualClock, admin) -> dict[str, Any]:
    e1 = uuid.UUID(await engineer_id(client, admin, "engineer01"))
    e2 = uuid.UUID(await engineer_id(client, admin, "engineer02"))
    clock.set(NOW)
    engine = create_async_engine(demo_db)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        # Only our two engineers are on the books this week, both in Shanghai's zone.
        await session.execute(text("UPDATE engineer SET active = (id IN (:a, :b))"), {"a": e1, "b": e2})
        await session.execute(
            text("UPDATE engineer SET time_zone = 'Asia/Shanghai' WHERE id IN (:a, :b)"), {"a": e1, "b": e2}
        )
        await session.execute(
            text("DELETE FROM engineer_shift WHERE engineer_id IN (:a, :b)"), {"a": e1, "b": e2}
        )
        nine, five = dt.time(9), dt.time(17)
        session.add_all(EngineerShift(engineer_id=e1, weekday=d, starts=nine, ends=five) for d in range(5))
        session.add_all(EngineerShift(engineer_id=e2, weekday=d, starts=nine, ends=five) for d in range(4))
        session.add_all(
            [
                # Friday night 22:00 → Saturday 06:00.
                EngineerShift(engineer_id=e2, weekday=4, starts=dt.time(22), ends=dt.time(6)),
                # Sunday night 20:00 → Monday 04:00: the week's first Monday morning and last Sunday evening.
                EngineerShift(engineer_id=e2, weekday=6, starts=dt.time(20), ends=dt.time(4)),
                # Standby is not working time.
                EngineerShift(engineer_id=e2, weekday=5, starts=dt.time(8), ends=dt.time(20), on_call=True),
            ]
        )
        calendar = HolidayCalendar(id=uuid.uuid4(), name="KPI test region", region=REGION, years=[2026])
        customer = Customer(id=uuid.uuid4(), customer_number="KPI001", name=CUSTOMER_NAME, version=1)
        formula = Customer(id=uuid.uuid4(), customer_number="KPI002", name="=1+1 医院", version=1)
        session.add_all([calendar, customer, formula])
        await session.flush()
        site = Site(
            id=uuid.uuid4(),
            customer_id=customer.id,
            name="门诊楼机房",
            address="郑州市纬五路 7 号",
            point=to_geography((113.66, 34.76)),
            time_zone="Asia/Shanghai",
            region_calendar_id=calendar.id,
            version=1,
        )
        session.add(site)
        await session.flush()
        a1 = Asset(id=uuid.uuid4(), site_id=site.id, model="R750", serial="KPI-A1", version=1)
        session.add(a1)
        # A power supply in a warehouse since 1 March; KPI-NOWHERE is in nobody's catalogue.
        psu = Item(id=uuid.uuid4(), sku="KPI-PSU", name="电源模块", kind=ItemKind.PART, version=1)
        backup = Item(
            id=uuid.uuid4(), sku="KPI-BACKUP", name="备机", kind=ItemKind.DEVICE, model="R750", version=1
        )
        session.add_all([psu, backup])
        await session.flush()
        warehouse = (
            await session.execute(
                select(Location.id)
                .where(Location.kind == LocationKind.WAREHOUSE)
                .order_by(Location.code)
                .limit(1)
            )
        ).scalar_one()
        session.add(
            StockMove(
                at=at(1, 0), kind=MoveKind.RECEIVE, item_id=psu.id, quantity=5, to_location_id=warehouse
            )
        )
        unit = Unit(
            id=uuid.uuid4(),
            item_id=backup.id,
            serial="KPI-BK-1",
            state=UnitState.AVAILABLE,
            location_id=warehouse,
            version=1,
        )
        session.add(unit)
        await session.flush()

        b = Builder(session, customer, site)
        # Before the week: Sunday 23:00 in Shanghai. Left out.
        o0 = await b.order(at(8, 15), Severity.CRITICAL, Status.CLOSED, restored_at=at(8, 17))
        b.clock(o0, RESPONSE, at(8, 16), at(8, 15, 30))
        b.status(o0, at(8, 17), "resolved")

        # O1 critical, Mon 02:00: response, on site, restore all on time; one visit resolves it.
        o1 = await b.order(at(9, 2), Severity.CRITICAL, Status.CLOSED, restored_at=at(9, 6))
        b.clock(o1, RESPONSE, at(9, 2, 15), at(9, 2, 10))
        b.clock(o1, ON_SITE, at(9, 14), at(9, 4))
        b.clock(o1, RESTORE, at(11, 2), at(9, 6))
        v1 = b.visit(o1, e1, en_route=at(9, 3), arrived=at(9, 4), finished=at(9, 6), outcome="resolved")
        b.status(o1, at(9, 6), "resolved", "on_site")
        b.status(o1, at(9, 7), "signed", "resolved")
        b.status(o1, at(9, 8), "closed", "signed")

        # O2 high, Mon 04:00: on site late (17:00 > 16:00); a follow-up visit, a part, closed, then
        # reopened two days after closing and fixed remotely.
        o2 = await b.order(at(9, 4), Severity.HIGH, Status.REMOTE_FIX, restored_at=at(10, 4))
        b.clock(o2, RESPONSE, at(9, 5), at(9, 4, 30))
        b.clock(o2, ON_SITE, at(9, 16), at(9, 17))
        b.clock(o2, RESTORE, at(11, 4), at(10, 4))
        b.visit(o2, e1, en_route=at(9, 16), arrived=at(9, 17), finished=at(9, 18), outcome="follow_up")
        v2 = b.visit(
            o2,
            e2,
            partner=e1,
            en_route=at(10, 1),
            arrived=at(10, 2),
            finished=at(10, 4),
            outcome="resolved",
            parts=[{"sku": "KPI-PSU", "quantity": 1}],
        )
        b.status(o2, at(10, 4), "resolved", "on_site")
        b.status(o2, at(10, 6), "closed", "signed")
        b.status(o2, at(12, 6), "reopened", "closed")
        b.status(o2, at(12, 8), "remote_fix", "reopened")

        # O3 medium, Tue 02:00: response late; a backup unit installed (restored), lent two days,
        # swapped back on Thursday by a visit without a recorded start of travel.
        o3 = await b.order(at(10, 2), Severity.MEDIUM, Status.RESOLVED, restored_at=at(10, 8))
        b.clock(o3, RESPONSE, at(10, 4), at(10, 5))
        b.clock(o3, ON_SITE, at(11, 2), at(10, 7))
        b.clock(o3, RESTORE, at(13, 2), at(10, 8))
        b.visit(o3, e2, en_route=at(10, 6), arrived=at(10, 7), finished=at(10, 8), outcome="backup_installed")
        v3 = b.visit(
            o3, e2, arrived=at(12, 6), finished=at(12, 8), outcome="resolved", kind=VisitKind.SWAP_BACK
        )
        b.status(o3, at(10, 8), "backup_installed", "on_site")
        b.status(o3, at(12, 8), "resolved", "on_site")
        session.add(
            Loan(
                unit_id=unit.id,
                work_order_id=o3.id,
                status=LoanStatus.CLOSED,
                cause="restore at risk",
                opened_at=at(10, 8),
                returned_at=at(12, 8),
                closed_at=at(13, 8),
                version=1,
            )
        )

        # O4 critical, Wed 02:00: nobody on site by 14:00; the customer declined a backup unit and
        # service came back degraded on Saturday (severity down to medium); not resolved.
        o4 = await b.order(at(11, 2), Severity.MEDIUM, Status.TRIAGED, restored_at=at(14, 2))
        b.clock(o4, RESPONSE, at(11, 2, 15), at(11, 2, 5))
        b.clock(o4, ON_SITE, at(11, 14), None)
        b.clock(o4, RESTORE, at(13, 2), at(14, 2), excused=True)
        b.event(o4, at(14, 2), "severity_change", data={"from": "critical", "to": "medium"})

        # O5 low, Thu 02:00: responded, then cancelled.
        o5 = await b.order(at(12, 2), Severity.LOW, Status.CANCELLED)
        b.clock(o5, RESPONSE, at(13, 1), at(12, 2, 30))
        b.status(o5, at(12, 3), "cancelled", "triaged")

        # O6 high on asset A1, Thu 03:00: fixed by one visit at 07:00 ...
        o6 = await b.order(at(12, 3), Severity.HIGH, Status.CLOSED, asset=a1, restored_at=at(12, 7))
        b.clock(o6, RESPONSE, at(12, 4), at(12, 3, 30))
        b.clock(o6, ON_SITE, at(12, 15), at(12, 5))
        b.clock(o6, RESTORE, at(14, 3), at(12, 7))
        v6 = b.visit(o6, e1, en_route=at(12, 4), arrived=at(12, 5), finished=at(12, 7), outcome="resolved")
        b.status(o6, at(12, 7), "resolved", "on_site")
        b.status(o6, at(12, 9), "closed", "signed")

        # ... O7, A1 faulty again on Saturday 03:00; nobody there yet, the visit waits for a part
        # no stock holds.
        o7 = await b.order(at(14, 3), Severity.HIGH, Status.SCHEDULED, asset=a1)
        b.clock(o7, RESPONSE, at(14, 4), at(14, 3, 20))
        b.clock(o7, ON_SITE, at(14, 15), None)
        b.clock(o7, RESTORE, at(16, 3), None)
        b.visit(
            o7,
            e1,
            arrived=None,
            finished=None,
            outcome=None,
            planned=at(15, 1),
            parts=[{"sku": "KPI-NOWHERE", "quantity": 1}],
        )

        # The customer surveys: O1 confirmed and rated 5, 5, 4, 5; O2 a complaint (no ratings);
        # O3 confirmed and rated 3, 4, 4, 3; O6 unanswered for 7 days, confirmed by default.
        await b.survey(o1, v1, e1, "confirmed", (5, 5, 4, 5))
        await b.survey(o2, v2, e1, "complaint", (None, None, None, None))
        await b.survey(o3, v3, e1, "confirmed", (3, 4, 4, 3))
        await b.survey(o6, v6, e1, "confirmed_by_default", (None, None, None, None))

        # O8 low, Sunday 23:30 in Shanghai: still in the week (the plain `to` date is inclusive).
        await b.order(at(15, 15, 30), Severity.LOW, Status.NEW)
        # Monday 00:30 in Shanghai: after the week.
        o9 = await b.order(at(15, 16, 30), Severity.CRITICAL, Status.NEW)
        b.clock(o9, RESPONSE, at(15, 17), None)
        await session.commit()
    await engine.dispose()
    return {"customer": str(customer.id), "formula_customer": str(formula.id)}


@pytest.fixture(scope="module")
async def boss(client, world) -> dict[str, str]:
    """The admin, signed in at the moved clock."""
    return await auth_headers(client, "admin")


async def _kpis(client, headers, **params: str) -> dict[str, Any]:
    response = await client.get("/api/kpis", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return {k["key"]: k for k in response.json()["kpis"]} | {"_": response.json()}


def _row(kpi: dict[str, Any]) -> tuple[Any, Any, Any]:
    return kpi["numerator"], kpi["denominator"], kpi["value"]


async def test_the_week_reads_back_the_numbers_worked_out_by_hand(client, boss, world):
    k = await _kpis(client, boss, **WEEK, customer_id=world["customer"])
    body = k["_"]
    # Plain dates are days in the site's zone: Monday 00:00 to the end of Sunday, Shanghai time.
    assert (body["from"], body["to"], body["time_zone"]) == (
        "2026-03-08T16:00:00Z",
        "2026-03-15T16:00:00Z",
        "Asia/Shanghai",
    )
    assert body["customer_name"] == CUSTOMER_NAME
    # In the week: O1–O8 (not O0 on Sunday 23:00 before, nor O9 on Monday 00:30 after).
    # Response clocks: O1 O2 O4 O5 O6 O7 on time, O3 late (the cancelled O5's clock counts, as in
    # the compliance report) → 6 of 7.
    assert _row(k["first_response"]) == (6, 7, round(6 / 7, 4))
    assert _row(k["first_response_contractual"]) == (6, 7, round(6 / 7, 4))
    # On-site clocks: O1 O3 O6 met; O2 late, O4 and O7 unmet past their deadline → 3 of 6.
    assert _row(k["on_site"]) == (3, 6, 0.5)
    assert _row(k["on_site_contractual"]) == (3, 6, 0.5)
    # Restore clocks: O1 O2 O3 O6 met; O4 late (excused: backup declined), O7 unmet past 16th 03:00
    # → raw 4 of 6, contractual 5 of 6.
    assert _row(k["restored"]) == (4, 6, round(4 / 6, 4))
    assert _row(k["restored_contractual"]) == (5, 6, round(5 / 6, 4))
    # One loan installed (O3), of 7 live orders (O5 is cancelled); 2 days from install to return.
    assert _row(k["backup_devices_provided"]) == (1, 7, 1)
    assert _row(k["mean_loan_days"]) == (2, 1, 2)
    # Finished visits on O1, O2, O3, O6; first visit resolved and the only one: O1, O6 → 2 of 4.
    assert _row(k["first_time_fix_rate"]) == (2, 4, 0.5)
    # Restored: O1 4 h, O2 24 h, O3 6 h, O4 72 h, O6 4 h → 110 h over 5 → 22 h.
    assert _row(k["mean_time_to_restore"]) == (110, 5, 22)
    # Resolved (a move to resolved or remote_fix): O1 O2 O3 O6 of the 7 live → 4/7, below 95 %.
    assert _row(k["resolution_rate"]) == (4, 7, round(4 / 7, 4))
    assert k["resolution_rate"]["within_target"] is False
    # Major when reported: O1 O4 (critical, O4 since downgraded) O2 O6 O7 (high); resolved O1 O2 O6.
    assert _row(k["resolution_rate_major"]) == (3, 5, 0.6)
    assert k["resolution_rate_major"]["target"] == 0.98
    # Of the 4 resolved: O2 reopened 2 days after closing, O6's asset reported again (O7) within
    # 7 days of its fix → 2 of 4.
    assert _row(k["repeat_fault_rate"]) == (2, 4, 0.5)
    # Visits needing parts: O2's second (the power supply was in a warehouse) and O7's (a part no
    # stock holds) → 1 of 2, over the 5 % limit.
    assert _row(k["stock_out_rate"]) == (1, 2, 0.5)
    assert k["stock_out_rate"]["within_target"] is False
    # Travel and on site of the visits with a recorded start of travel (not O3's swap-back):
    # O1 1+2, O2 1+1 and 1+2, O3 1+1, O6 1+2 → 5 h of 13 h.
    assert _row(k["travel_share"]) == (5, 13, round(5 / 13, 4))
    # Engineers' time is not split by customer.
    assert k["engineer_utilisation"]["status"] == "not_applicable"
    assert k["engineer_utilisation"]["value"] is None
    # Surveys with an overall rating: O1 (5) and O3 (3); satisfied (4 or 5): O1 → 1 of 2, not above 85 %.
    assert _row(k["satisfaction"]) == (1, 2, 0.5)
    assert k["satisfaction"]["within_target"] is False
    # CSAT: O1 5+5+4+5 = 19 and O3 3+4+4+3 = 14 → 33 points of 8 ratings × 5 = 40 → 82.5 %.
    assert _row(k["csat"]) == (33, 40, 0.825)
    assert k["csat"]["within_target"] is False
    # One complaint (O2) on the 7 live orders → 1, and 100 / 7 = 14.29 per 100 orders.
    assert _row(k["complaints"]) == (1, 7, 1)
    assert _row(k["complaints_per_100_orders"]) == (1, 7, 14.29)
    assert (k["satisfaction"]["target"], k["satisfaction"]["target_kind"]) == (0.85, "above")
    assert (k["csat"]["target"], k["csat"]["target_kind"]) == (0.9, "min")


async def test_engineer_utilisation_over_the_whole_company(client, boss, world):
    k = await _kpis(client, boss, **WEEK)
    # On site, per person: O1 2 h, O2 1 h, O2's joint visit 2 h × 2, O3 1 h, O3's swap-back 2 h,
    # O6 2 h → 12 h.
    # Shifts: engineer01 Mon–Fri 9–17 → 40 h; engineer02 Mon–Thu 9–17 → 32 h, Friday night
    # 22:00–06:00 → 8 h, Sunday nights 20:00–04:00: the one before the week gives Monday 00:00–04:00
    # (4 h), the week's own only its 20:00–24:00 (4 h); Saturday standby not counted → 48 h.
    assert _row(k["engineer_utilisation"]) == (12, 88, round(12 / 88, 4))


async def test_a_repeat_fault_without_an_asset_is_the_same_serial_and_model_within_7_days(
    client, boss, world, demo_db
):
    """Orders with no asset record match by serial and model; the repeat may be reported after the
    period, as long as it is within 7 days of the resolution."""
    engine = create_async_engine(demo_db)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        customer = Customer(id=uuid.uuid4(), customer_number="KPI003", name="郑州大学第一附属医院", version=1)
        session.add(customer)
        await session.flush()
        site = Site(
            id=uuid.uuid4(),
            customer_id=customer.id,
            name="信息中心机房",
            address="郑州市建设东路 1 号",
            point=to_geography((113.65, 34.75)),
            time_zone="Asia/Shanghai",
            version=1,
        )
        session.add(site)
        await session.flush()
        b = Builder(session, customer, site)
        b.n = 100  # after the week's orders' numbers

        async def order(reported: dt.datetime, serial: str, model: str = "R750") -> WorkOrder:
            made = await b.order(reported, Severity.MEDIUM, Status.NEW)
            made.asset_serial, made.asset_model = serial, model
            return made

        def feb(day: int, hour: int) -> dt.datetime:
            return dt.datetime(2026, 2, day, hour, tzinfo=dt.UTC)

        # The week of Monday 2 February, Shanghai: 1 February 16:00 to 8 February 16:00 UTC.
        # P1 resolved 2nd 05:00; P2, the same serial and model, reported 6 days later: a repeat.
        p1 = await order(feb(2, 1), "SN-REPEAT")
        b.status(p1, feb(2, 5), "resolved")
        await order(feb(8, 3), "SN-REPEAT")
        # P3 resolved; P4 has its serial on another model: not the same device.
        p3 = await order(feb(2, 2), "SN-OTHER-MODEL")
        b.status(p3, feb(3, 2), "resolved")
        await order(feb(4, 0), "SN-OTHER-MODEL", model="R740")
        # P5 resolved; P6 reported 7 days and an hour later: too late to be a repeat.
        p5 = await order(feb(2, 3), "SN-LATE")
        b.status(p5, feb(3, 2), "resolved")
        await order(feb(10, 3), "SN-LATE")
        # P7 resolved on the week's last day; P8 reported after the week, 5 days later: a repeat.
        p7 = await order(feb(6, 0), "SN-AFTER")
        b.status(p7, feb(7, 0), "resolved")
        await order(feb(12, 0), "SN-AFTER")
        await session.commit()
    await engine.dispose()

    week = {"from": "2026-02-02", "to": "2026-02-08", "customer_id": str(customer.id)}
    k = await _kpis(client, boss, **week)
    # Resolved: P1 P3 P5 P7 of the 6 live in the week (P1–P5, P7); repeats: P1 and P7.
    assert _row(k["resolution_rate"]) == (4, 6, round(4 / 6, 4))
    assert _row(k["repeat_fault_rate"]) == (2, 4, 0.5)


async def test_region_and_instants_select_the_same_orders(client, boss, world):
    by_customer = await _kpis(client, boss, **WEEK, customer_id=world["customer"])
    by_region = await _kpis(
        client,
        boss,
        region=REGION,
        **{"from": "2026-03-09T00:00:00+08:00", "to": "2026-03-16T00:00:00+08:00"},
    )
    for key in (
        "first_response",
        "restored",
        "resolution_rate",
        "repeat_fault_rate",
        "stock_out_rate",
        "travel_share",
    ):
        assert _row(by_region[key]) == _row(by_customer[key]), key
    elsewhere = await _kpis(client, boss, **WEEK, region="CN-NOWHERE")
    assert _row(elsewhere["resolution_rate"]) == (0, 0, None)


async def test_csv_is_one_row_per_kpi_with_the_chinese_name_and_a_bom(client, boss, world):
    response = await client.get(
        "/api/kpis.csv", headers=boss, params={**WEEK, "customer_id": world["customer"]}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    # Excel opens UTF-8 only with the byte-order mark.
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    as_json = await _kpis(client, boss, **WEEK, customer_id=world["customer"])
    assert [r["kpi"] for r in rows] == [k["key"] for k in as_json["_"]["kpis"]]
    assert {r["customer"] for r in rows} == {CUSTOMER_NAME}
    resolution = next(r for r in rows if r["kpi"] == "resolution_rate")
    assert (resolution["numerator"], resolution["denominator"], resolution["value"]) == ("4", "7", "0.5714")
    assert (resolution["target"], resolution["within_target"]) == ("0.95", "false")
    assert resolution["from"] == "2026-03-09T00:00:00+08:00"
    csat = next(r for r in rows if r["kpi"] == "csat")
    assert (csat["numerator"], csat["denominator"], csat["value"], csat["status"]) == (
        "33",
        "40",
        "0.825",
        "computed",
    )


async def test_a_customer_name_is_never_a_spreadsheet_formula(client, boss, world):
    response = await client.get(
        "/api/kpis.csv", headers=boss, params={**WEEK, "customer_id": world["formula_customer"]}
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert {r["customer"] for r in rows} == {"'=1+1 医院"}


async def test_a_customer_contact_gets_their_own_organisation_only(client, world):
    contact = await auth_headers(client, "customer01")
    own = (await client.get("/api/customers", headers=contact)).json()["items"][0]["id"]
    body = (await _kpis(client, contact, **WEEK))["_"]
    assert body["customer_id"] == own
    assert (await _kpis(client, contact, **WEEK, customer_id=own))["_"]["customer_id"] == own
    theirs = await client.get("/api/kpis", headers=contact, params={**WEEK, "customer_id": world["customer"]})
    assert_problem(theirs, 404, "not-found")
    csv_theirs = await client.get(
        "/api/kpis.csv", headers=contact, params={**WEEK, "customer_id": world["customer"]}
    )
    assert_problem(csv_theirs, 404, "not-found")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-03-09T00:00:00"}, "from"),  # no UTC offset
        ({"to": "2026-02-30"}, "to"),
        ({"from": "1999-12-31"}, "from"),
        ({"from": "2026-03-10", "to": "2026-03-09"}, "to"),
        ({"from": "2025-01-01", "to": "2026-03-09"}, "from"),  # longer than 400 days
    ],
)
async def test_bad_periods_are_422_naming_the_field(client, boss, params, field):
    response = await client.get("/api/kpis", headers=boss, params=params)
    problem = assert_problem(response, 422, "invalid-input")
    assert [e["field"] for e in problem["errors"]] == [field]


async def test_an_unknown_customer_is_404(client, boss):
    response = await client.get("/api/kpis", headers=boss, params={"customer_id": str(uuid.uuid4())})
    assert_problem(response, 404, "not-found")
