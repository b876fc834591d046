"""A quarterly plan over 400 assets generates exactly one inspection work order per site and
quarter for a year, with windows of ± 5 business days that count holidays and make-up working
days (调休), and nothing twice when two generators race every ten days of that year."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import ManualClock
from core.database import make_engine, make_sessionmaker
from core.geo import to_geography
from core.identity.models import User
from core.identity.roles import SYSTEM, Actor, Role
from dispatch.contracts.models import CalendarKind, Contract, HolidayCalendar
from dispatch.customers.models import Asset, Customer, Site
from dispatch.inspections.generation import generate
from dispatch.inspections.models import CycleUnit, Inspection, InspectionPlan, InspectionStatus, Scope
from dispatch.inspections.plans import set_aside
from dispatch.planning.problem import build
from dispatch.sla.clocks import update_due
from dispatch.sla.models import NO_DEADLINE
from dispatch.work_orders.models import Status, Visit, VisitKind, WorkOrder, WorkOrderKind
from dispatch.work_orders.service import transition
from dispatch.worker import generate_inspections

SHANGHAI = ZoneInfo("Asia/Shanghai")
SITES, PER_SITE = 40, 10


@pytest.fixture(scope="module")
async def makers(demo_db: str) -> AsyncIterator[list[async_sessionmaker[AsyncSession]]]:
    engines = [make_engine(demo_db, pool_size=2) for _ in range(2)]
    yield [make_sessionmaker(e) for e in engines]
    for engine in engines:
        await engine.dispose()


async def _contract_with_assets(
    maker: async_sessionmaker[AsyncSession], tag: str, sites: int, per_site: int
) -> uuid.UUID:
    async with maker() as session, session.begin():
        calendar = (await session.execute(select(HolidayCalendar).limit(1))).scalar_one()
        customer = Customer(id=uuid.uuid4(), customer_number=f"INSP-{tag}", name=f"巡检客户{tag}")
        contract = Contract(
            id=uuid.uuid4(),
            customer_id=customer.id,
            contract_number=f"SC-INSP-{tag}",
            name=f"巡检合同{tag}",
            calendar_kind=CalendarKind.ALWAYS,
            business_hours={},
            holiday_calendar_id=calendar.id,
            starts_on=dt.date(2026, 1, 1),
            ends_on=dt.date(2026, 12, 31),
        )
        session.add(customer)
        await session.flush()
        session.add(contract)
        await session.flush()
        for s in range(sites):
            site = Site(
                id=uuid.uuid4(),
                customer_id=customer.id,
                name=f"站点{tag}-{s}",
                address="郑州市",
                point=to_geography((113.6 + s / 100, 34.7)),
                time_zone="Asia/Shanghai",
            )
            session.add(site)
            await session.flush()
            for a in range(per_site):
                session.add(
                    Asset(
                        site_id=site.id,
                        contract_id=contract.id,
                        model="PowerEdge R750" if a % 2 else "OceanStor 5300",
                        serial=f"SN-{tag}-{s:03d}-{a:03d}",
                    )
                )
        return contract.id


async def _plan(maker: async_sessionmaker[AsyncSession], contract_id: uuid.UUID, **values: Any) -> uuid.UUID:
    async with maker() as session, session.begin():
        defaults: dict[str, Any] = {
            "name": "季度巡检",
            "scope": Scope.ALL,
            "scope_values": [],
            "cycle_unit": CycleUnit.MONTHS,
            "cycle_every": 3,
            "first_due": dt.date(2026, 1, 15),
            "tolerance_days": 5,
            "lead_days": 14,
            "durations": {"OceanStor 5300": 40},
            "default_duration_minutes": 30,
        }
        plan = InspectionPlan(contract_id=contract_id, **(defaults | values))
        session.add(plan)
        await session.flush()
        return plan.id


async def _race(makers: list[async_sessionmaker[AsyncSession]], clock: ManualClock) -> int:
    """Two generators on their own connections, released together."""
    barrier = asyncio.Barrier(2)

    async def one(maker: async_sessionmaker[AsyncSession]) -> int:
        async with maker() as session, session.begin():
            await session.execute(select(1))
            await barrier.wait()
            return (await generate(session, clock)).created

    return sum(await asyncio.gather(*(one(m) for m in makers)))


def _local(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), SHANGHAI)


async def test_a_quarterly_plan_over_400_assets_generates_each_site_and_quarter_once(
    makers: list[async_sessionmaker[AsyncSession]],
) -> None:
    contract_id = await _contract_with_assets(makers[0], "Y", SITES, PER_SITE)
    plan_id = await _plan(makers[0], contract_id)
    clock = ManualClock(dt.datetime(2025, 12, 1, tzinfo=dt.UTC))
    created = 0
    while clock.now() < dt.datetime(2027, 1, 1, tzinfo=dt.UTC):
        created += await _race(makers, clock)
        clock.advance(dt.timedelta(days=10))
    async with makers[0]() as session:
        rows = list(
            (await session.execute(select(Inspection).where(Inspection.plan_id == plan_id))).scalars()
        )
        orders = (
            await session.execute(
                select(func.count())
                .select_from(WorkOrder)
                .where(WorkOrder.contract_id == contract_id, WorkOrder.kind == WorkOrderKind.INSPECTION)
            )
        ).scalar_one()
        visits = list(
            (
                await session.execute(
                    select(Visit)
                    .join(WorkOrder, WorkOrder.id == Visit.work_order_id)
                    .where(WorkOrder.contract_id == contract_id)
                )
            ).scalars()
        )
        clocks = (
            await session.execute(select(WorkOrder).where(WorkOrder.contract_id == contract_id))
        ).scalars()
        assert all(order.clocks == [] for order in clocks)  # no fault clocks: the window is the clock
    assert created == len(rows) == orders == SITES * 4
    assert {r.due_on for r in rows} == {dt.date(2026, m, 15) for m in (1, 4, 7, 10)}
    assert len({(r.site_id, r.period) for r in rows}) == len(rows)
    # One visit per site and quarter: 5 × 30 + 5 × 40 minutes fit an engineer-day.
    assert len(visits) == len(rows)
    assert {v.duration_minutes for v in visits} == {350}
    assert all(v.kind is VisitKind.INSPECTION for v in visits)
    october = next(r for r in rows if r.due_on == dt.date(2026, 10, 15))
    # Five working days before Thursday 15 October: 14, 13, 12, Saturday 10 (调休), 9; after: 16, 19–22.
    assert (october.window_start, october.window_end) == (
        _local(dt.date(2026, 10, 9)),
        _local(dt.date(2026, 10, 23)),
    )
    january = next(r for r in rows if r.due_on == dt.date(2026, 1, 15))
    assert (january.window_start, january.window_end) == (
        _local(dt.date(2026, 1, 8)),
        _local(dt.date(2026, 1, 23)),
    )


async def test_the_next_inspection_follows_the_cycle_after_a_skip_and_a_long_site_is_split(
    makers: list[async_sessionmaker[AsyncSession]],
) -> None:
    contract_id = await _contract_with_assets(makers[0], "S", 1, 16)  # 8 × 40 + 8 × 30 minutes: 410 + 150
    plan_id = await _plan(makers[0], contract_id, lead_days=3)
    clock = ManualClock(dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
    report = await generate_inspections(makers[0], clock)
    assert report.created == 1
    async with makers[0]() as session, session.begin():
        first = (await session.execute(select(Inspection).where(Inspection.plan_id == plan_id))).scalar_one()
        visits = (
            await session.execute(select(Visit).where(Visit.work_order_id == first.work_order_id))
        ).scalars()
        assert sorted(v.duration_minutes for v in visits) == [150, 410]
        # Open, it sorts among the repairs by its window's end; refreshing clocks keeps that.
        pending = await session.get(WorkOrder, first.work_order_id)
        assert pending is not None
        assert pending.due_at == first.window_end
        update_due(pending)
        assert pending.due_at == first.window_end
        await set_aside(session, SYSTEM, clock, first.id, InspectionStatus.SKIPPED, "客户机房搬迁")
    async with makers[0]() as session:
        order = await session.get(WorkOrder, first.work_order_id)
        assert order is not None
        assert order.status is Status.CANCELLED
        assert order.due_at == NO_DEADLINE  # set aside: back behind every open deadline
    clock.set(dt.datetime(2026, 4, 6, tzinfo=dt.UTC))
    assert (await generate_inspections(makers[0], clock)).created == 1
    assert (await generate_inspections(makers[0], clock)).created == 0  # a re-run creates nothing
    async with makers[0]() as session:
        rows = (
            await session.execute(
                select(Inspection).where(Inspection.plan_id == plan_id).order_by(Inspection.period)
            )
        ).scalars()
        assert [(r.period, r.due_on, r.status, r.reason) for r in rows] == [
            (0, dt.date(2026, 1, 15), InspectionStatus.SKIPPED, "客户机房搬迁"),
            (1, dt.date(2026, 4, 15), InspectionStatus.OPEN, None),
        ]


async def test_a_generated_inspection_enters_plans_with_its_window_only_once_it_is_near(
    makers: list[async_sessionmaker[AsyncSession]],
) -> None:
    contract_id = await _contract_with_assets(makers[0], "P", 1, 2)
    await _plan(makers[0], contract_id, lead_days=30)
    clock = ManualClock(dt.datetime(2025, 12, 20, tzinfo=dt.UTC))
    assert (await generate_inspections(makers[0], clock)).created == 1
    async with makers[0]() as session:
        inspection = (
            await session.execute(select(Inspection).where(Inspection.contract_id == contract_id))
        ).scalar_one()
        far = await build(session, clock.now(), 48 * 3600.0)
        assert str(inspection.work_order_id) not in {order for order, _ in far.orders.values()}
        origin = inspection.window_start - dt.timedelta(hours=12)
        near = await build(session, origin, 48 * 3600.0)
    (visit,) = [v for v in near.problem.visits if near.orders[v.id][0] == str(inspection.work_order_id)]
    assert visit.earliest_start_s == 12 * 3600.0
    assert visit.due_by_s == (inspection.window_end - origin).total_seconds()
    assert visit.deadline_s is None
    assert visit.priority == 1
    assert visit.drop_cost_s is not None


async def test_a_reopened_inspection_waits_for_its_window_end_again(
    makers: list[async_sessionmaker[AsyncSession]],
) -> None:
    contract_id = await _contract_with_assets(makers[0], "R", 1, 2)
    plan_id = await _plan(makers[0], contract_id, lead_days=3)
    clock = ManualClock(dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
    assert (await generate_inspections(makers[0], clock)).created == 1
    async with makers[0]() as session, session.begin():
        user_id = await session.scalar(select(User.id).where(User.username == "dispatcher"))
        dispatcher = Actor(user_id=user_id, role=Role.DISPATCHER, username="dispatcher")
        inspection = (
            await session.execute(select(Inspection).where(Inspection.plan_id == plan_id))
        ).scalar_one()
        order = await session.get(WorkOrder, inspection.work_order_id)
        assert order is not None
        # Finished as the checklist finishes it: resolved, out of the open deadlines.
        order.status, order.due_at = Status.RESOLVED, NO_DEADLINE
        await session.flush()
        clock.set(dt.datetime(2026, 1, 30, tzinfo=dt.UTC))  # the customer disputes it after the window
        reopened = await transition(session, dispatcher, clock, order.id, order.version, Status.REOPENED)
        assert reopened.due_at == inspection.window_end  # overdue now: sorts ahead of later deadlines
        assert reopened.due_at < clock.now()
