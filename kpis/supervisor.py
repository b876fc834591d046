"""What the supervisor desk reads: SLA compliance per customer, region, engineer or severity with
the orders behind each figure, open escalations, and engineers' time against their caps.

Every figure comes from the services the KPIs use (`dispatch.sla.reports`, `kpis.figures`), so
the desk, its CSV files and the KPI report agree. Periods are read as the KPIs read them
(`kpis.period`): a plain date is a day in the zone of the sites in scope."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import zones
from core.identity.models import User
from core.pagination import Page
from dispatch.contracts.models import Measure
from dispatch.customers.models import Customer, Site
from dispatch.engineers.models import Engineer
from dispatch.sla import reports
from dispatch.sla.models import SlaClock
from dispatch.sla.reports import ClockOutcome, GroupBy
from dispatch.work_orders.models import WorkOrder
from kpis import figures, period
from kpis.figures import EngineerTime
from kpis.period import Period
from kpis.scope import Scope


@dataclass(frozen=True)
class Filters:
    raw_since: str | None
    raw_until: str | None
    customer_id: uuid.UUID | None
    region: str | None
    group_by: GroupBy | None


@dataclass(frozen=True)
class Group:
    key: str
    name: str
    measures: list[reports.Compliance]


@dataclass(frozen=True)
class ComplianceReport:
    period: Period
    group_by: GroupBy | None
    groups: list[Group]


@dataclass(frozen=True)
class OrderRow:
    order: WorkOrder
    customer_name: str
    site_name: str
    engineer_id: uuid.UUID | None
    engineer_name: str | None
    # The clocks behind the figure (breached, or at risk).
    clocks: list[SlaClock]


@dataclass(frozen=True)
class EngineerMonth:
    engineer_id: uuid.UUID
    name: str
    time: EngineerTime
    overtime_cap_minutes_day: int
    overtime_left_month_minutes: int | None


async def _period(session: AsyncSession, now: dt.datetime, f: Filters) -> tuple[Period, Scope]:
    scope = Scope(customer_id=f.customer_id, region=f.region)
    # A breakdown over years is a fair question of a report read by people: no 400-day cap.
    span = await period.resolve(
        session, scope, now, f.raw_since, f.raw_until, names=("since", "until"), longest=None
    )
    return span, scope


async def user_names(session: AsyncSession, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))
    return dict(rows.all())


async def _group_names(session: AsyncSession, group_by: GroupBy | None, keys: list[str]) -> dict[str, str]:
    ids = []
    for key in keys:
        try:
            ids.append(uuid.UUID(key))
        except ValueError:
            continue
    if group_by is GroupBy.ENGINEER:
        return {str(i): n for i, n in (await user_names(session, ids)).items()}
    if group_by is GroupBy.CUSTOMER and ids:
        rows = await session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(ids)))
        return {str(i): n for i, n in rows.all()}
    return {}


async def compliance(session: AsyncSession, now: dt.datetime, f: Filters) -> ComplianceReport:
    span, scope = await _period(session, now, f)
    found = await reports.grouped_compliance(
        session, now, since=span.since, until=span.until, scope=scope.condition(), group_by=f.group_by
    )
    names = await _group_names(session, f.group_by, [g.key for g in found])
    groups = [Group(g.key, names.get(g.key, g.key), g.measures) for g in found]
    if f.group_by in (GroupBy.CUSTOMER, GroupBy.ENGINEER):
        groups.sort(key=lambda g: (g.key == "", g.name))
    return ComplianceReport(span, f.group_by, groups)


async def orders(
    session: AsyncSession,
    now: dt.datetime,
    f: Filters,
    *,
    key: str | None,
    outcome: ClockOutcome,
    measure: Measure | None,
    limit: int,
    cursor: str | None,
) -> Page[OrderRow]:
    span, scope = await _period(session, now, f)
    page = await reports.orders_behind(
        session,
        now,
        since=span.since,
        until=span.until,
        scope=scope.condition(),
        group_by=f.group_by,
        key=key,
        outcome=outcome,
        measure=measure,
        limit=limit,
        cursor=cursor,
    )
    return Page(await order_rows(session, page.items, now, outcome, measure), page.next_cursor)


def _clock_is(clock: SlaClock, outcome: ClockOutcome, now: dt.datetime) -> bool:
    late = clock.breached_at is not None or (
        clock.met_at is None and clock.deadline is not None and clock.deadline < now
    )
    if outcome is ClockOutcome.BREACHED:
        return late
    return clock.met_at is None and not late and clock.at_risk_since is not None


async def order_rows(
    session: AsyncSession,
    found: list[WorkOrder],
    now: dt.datetime,
    outcome: ClockOutcome,
    measure: Measure | None,
) -> list[OrderRow]:
    """Each order with its customer's, site's and engineer's names, and the clocks behind it."""
    customer_ids = {o.customer_id for o in found}
    site_ids = {o.site_id for o in found}
    customers = dict(
        (await session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(customer_ids)))).all()
    )
    sites = dict((await session.execute(select(Site.id, Site.name).where(Site.id.in_(site_ids)))).all())
    engineers = {o.id: _engineer_of(o) for o in found}
    names = await user_names(session, engineers.values())
    return [
        OrderRow(
            order=o,
            customer_name=customers.get(o.customer_id, ""),
            site_name=sites.get(o.site_id, ""),
            engineer_id=engineers[o.id],
            engineer_name=_name(names, engineers[o.id]),
            clocks=[
                c
                for c in o.clocks
                if _clock_is(c, outcome, now) and (measure is None or c.measure is measure)
            ],
        )
        for o in found
    ]


def _name(names: dict[uuid.UUID, str], user_id: uuid.UUID | None) -> str | None:
    return names.get(user_id) if user_id is not None else None


def _engineer_of(order: WorkOrder) -> uuid.UUID | None:
    """As `reports.with_group` reads it: the engineer of the latest assigned visit."""
    assigned = [v for v in order.visits if v.engineer_id is not None]
    return max(assigned, key=lambda v: v.created_at).engineer_id if assigned else None


async def engineers_month(
    session: AsyncSession, now: dt.datetime, month: dt.date | None
) -> tuple[Period, list[EngineerMonth]]:
    """Each active engineer's utilisation and overtime in a calendar month (default this one) of
    the company's zone, up to now."""
    zone = zones.zone(zones.DEFAULT_TIME_ZONE)
    first = (month or now.astimezone(zone).date()).replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    since = dt.datetime.combine(first, dt.time(), tzinfo=zone).astimezone(dt.UTC)
    until = min(now, dt.datetime.combine(following, dt.time(), tzinfo=zone).astimezone(dt.UTC))
    span = Period(since, max(until, since), zones.DEFAULT_TIME_ZONE)
    times = await figures.engineer_time(session, span)
    rows = await session.execute(
        select(
            Engineer.id,
            User.display_name,
            Engineer.overtime_cap_minutes_day,
            Engineer.overtime_left_month_minutes,
        )
        .join(User, User.id == Engineer.id)
        .where(Engineer.id.in_([t.engineer_id for t in times]))
    )
    about = {r[0]: r for r in rows.all()}
    result = []
    for t in times:
        if t.engineer_id in about:
            _, name, cap_day, left_month = about[t.engineer_id]
            result.append(EngineerMonth(t.engineer_id, name, t, cap_day, left_month))
    result.sort(key=lambda e: e.name)
    return span, result


@dataclass(frozen=True)
class EscalationRow:
    clock: SlaClock
    order: OrderRow


async def escalations(
    session: AsyncSession,
    now: dt.datetime,
    *,
    customer_id: uuid.UUID | None,
    region: str | None,
    limit: int,
    cursor: str | None,
) -> Page[EscalationRow]:
    """Escalated clocks of open orders, soonest deadline first, each with its order's names."""
    scope = Scope(customer_id=customer_id, region=region)
    page = await reports.open_escalations(session, scope=scope.condition(), limit=limit, cursor=cursor)
    found = await session.execute(
        select(WorkOrder).where(WorkOrder.id.in_({c.work_order_id for c in page.items}))
    )
    by_id = {o.id: o for o in found.scalars()}
    rows = {
        r.order.id: r
        for r in await order_rows(session, list(by_id.values()), now, ClockOutcome.BREACHED, None)
    }
    return Page([EscalationRow(c, rows[c.work_order_id]) for c in page.items], page.next_cursor)


def is_late(clock: SlaClock, now: dt.datetime) -> bool:
    return _clock_is(clock, ClockOutcome.BREACHED, now)
