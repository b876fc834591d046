"""SLA compliance, raw and contractual side by side (docs/rules.md, "Refused backup devices"),
overall or per customer, region, engineer or severity; the orders behind each figure; open
escalations.

A work order's engineer is the one of its latest assigned visit; its region the region code of
its site's regional holiday calendar (the one regional attribute a site records, as in the
KPIs). Orders without one fall in the group with the empty key."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, String, case, cast, exists, func, literal, select, true
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core.pagination import Page, keyset_page
from dispatch.contracts.models import HolidayCalendar, Measure
from dispatch.customers.models import Site
from dispatch.sla.models import SlaClock
from dispatch.work_orders.lifecycle import OPEN
from dispatch.work_orders.models import Visit, WorkOrder


class GroupBy(enum.StrEnum):
    CUSTOMER = "customer"
    REGION = "region"
    ENGINEER = "engineer"
    SEVERITY = "severity"


class ClockOutcome(enum.StrEnum):
    BREACHED = "breached"
    AT_RISK = "at_risk"


def _latest_engineers() -> Any:
    """Each work order's engineer: that of its latest assigned visit (one scan of the visits,
    joined by hash; a subquery per clock took seconds over a year)."""
    return (
        select(Visit.work_order_id, Visit.engineer_id)
        .where(Visit.engineer_id.is_not(None))
        .ext(distinct_on(Visit.work_order_id))
        .order_by(Visit.work_order_id, Visit.created_at.desc())
        .subquery("latest_engineer")
    )


def with_group(stmt: Select[Any], group_by: GroupBy | None) -> tuple[Select[Any], ColumnElement[str]]:
    """`stmt` (on WorkOrder) with what a breakdown needs joined, and a work order's key in it as
    text ('' when it has none)."""
    if group_by is None:
        return stmt, literal("")
    if group_by is GroupBy.CUSTOMER:
        return stmt, cast(WorkOrder.customer_id, String)
    if group_by is GroupBy.SEVERITY:
        return stmt, cast(WorkOrder.severity, String)
    if group_by is GroupBy.ENGINEER:
        latest = _latest_engineers()
        stmt = stmt.outerjoin(latest, latest.c.work_order_id == WorkOrder.id)
        return stmt, func.coalesce(cast(latest.c.engineer_id, String), "")
    stmt = stmt.outerjoin(Site, Site.id == WorkOrder.site_id).outerjoin(
        HolidayCalendar, HolidayCalendar.id == Site.region_calendar_id
    )
    return stmt, func.coalesce(HolidayCalendar.region, "")


def _late(now: dt.datetime, clock: Any = SlaClock) -> ColumnElement[bool]:
    # A restore awaiting only the customer's confirmation is neither met nor late yet: it counts as
    # running until confirmed (then met at its restore time) or confirmed by default.
    unmet = clock.met_at.is_(None) & clock.unconfirmed_at.is_(None)
    late: ColumnElement[bool] = (clock.breached_at.is_not(None)) | (unmet & (clock.deadline < now))
    return late


def outcome_condition(outcome: ClockOutcome, now: dt.datetime) -> ColumnElement[bool]:
    """On SlaClock: late (breached, or past its deadline unmet), or running and flagged at risk."""
    late = _late(now)
    if outcome is ClockOutcome.BREACHED:
        return late
    return SlaClock.met_at.is_(None) & ~late & SlaClock.at_risk_since.is_not(None)


@dataclass(frozen=True)
class Compliance:
    measure: Measure
    clocks: int
    met: int
    breached: int
    excused: int
    running: int

    @property
    def raw(self) -> float | None:
        decided = self.met + self.breached
        return self.met / decided if decided else None

    @property
    def contractual(self) -> float | None:
        """Breaches the customer caused (a declined backup device) do not count against us."""
        decided = self.met + self.breached
        return (self.met + self.excused) / decided if decided else None


@dataclass(frozen=True)
class GroupCompliance:
    key: str
    measures: list[Compliance]


async def compliance(
    session: AsyncSession,
    now: dt.datetime,
    *,
    since: dt.datetime,
    until: dt.datetime,
    customer_id: uuid.UUID | None,
    scope: ColumnElement[bool] | None = None,
) -> list[Compliance]:
    """Clocks of the work orders reported in [since, until); `scope` narrows them further
    (a condition on WorkOrder, e.g. the sites of one region)."""
    # Each period order's clocks read by the order's id: a join the planner may plan as a hash over
    # every clock ever stored, so the same period would cost more with every year of history
    # (OFFSET 0 keeps the subquery from being flattened into such a join).
    clock = aliased(
        SlaClock,
        select(SlaClock).where(SlaClock.work_order_id == WorkOrder.id).offset(0).lateral("period_clock"),
    )
    late = _late(now, clock)
    stmt = (
        select(
            clock.measure,
            func.count(),
            func.count().filter(clock.met_at.is_not(None) & clock.breached_at.is_(None)),
            func.count().filter(late),
            func.count().filter(late & clock.customer_excused),
            func.count().filter(clock.met_at.is_(None) & ~late & clock.deadline.is_not(None)),
        )
        .select_from(WorkOrder)
        .join(clock, true())
        .where(WorkOrder.reported_at >= since, WorkOrder.reported_at < until)
        .group_by(clock.measure)
        .order_by(case({m: i for i, m in enumerate(Measure)}, value=clock.measure))
    )
    if customer_id is not None:
        stmt = stmt.where(WorkOrder.customer_id == customer_id)
    if scope is not None:
        stmt = stmt.where(scope)
    return [
        Compliance(m, total, met, breached, excused, running)
        for m, total, met, breached, excused, running in (await session.execute(stmt)).all()
    ]


async def grouped_compliance(
    session: AsyncSession,
    now: dt.datetime,
    *,
    since: dt.datetime,
    until: dt.datetime,
    scope: ColumnElement[bool],
    group_by: GroupBy | None,
) -> list[GroupCompliance]:
    """`compliance` per group key (one group, key '', without `group_by`), groups by key."""
    late = _late(now)
    base = select().select_from(SlaClock).join(WorkOrder, WorkOrder.id == SlaClock.work_order_id)
    base, grouping = with_group(base, group_by)
    key = grouping.label("key")
    stmt = (
        base.add_columns(
            key,
            SlaClock.measure,
            func.count(),
            func.count().filter(SlaClock.met_at.is_not(None) & SlaClock.breached_at.is_(None)),
            func.count().filter(late),
            func.count().filter(late & SlaClock.customer_excused),
            func.count().filter(SlaClock.met_at.is_(None) & ~late & SlaClock.deadline.is_not(None)),
        )
        .where(WorkOrder.reported_at >= since, WorkOrder.reported_at < until, scope)
        .group_by(key, SlaClock.measure)
        .order_by(key, case({m: i for i, m in enumerate(Measure)}, value=SlaClock.measure))
    )
    groups: dict[str, list[Compliance]] = {}
    for k, m, total, met, breached, excused, running in (await session.execute(stmt)).all():
        groups.setdefault(k, []).append(Compliance(m, total, met, breached, excused, running))
    return [GroupCompliance(k, measures) for k, measures in groups.items()]


async def orders_behind(
    session: AsyncSession,
    now: dt.datetime,
    *,
    since: dt.datetime,
    until: dt.datetime,
    scope: ColumnElement[bool],
    group_by: GroupBy | None,
    key: str | None,
    outcome: ClockOutcome,
    measure: Measure | None,
    limit: int,
    cursor: str | None,
) -> Page[WorkOrder]:
    """The work orders behind a figure of `grouped_compliance`: reported in the period, in the
    group `key`, with a clock (of `measure`, or any) that is breached or at risk; oldest first."""
    clock = outcome_condition(outcome, now)
    if measure is not None:
        clock = clock & (SlaClock.measure == measure)
    stmt, grouping = with_group(select(WorkOrder), group_by)
    stmt = stmt.where(
        WorkOrder.reported_at >= since,
        WorkOrder.reported_at < until,
        scope,
        exists().where(SlaClock.work_order_id == WorkOrder.id, clock),
        grouping == key if group_by is not None and key is not None else true(),
    )
    return await keyset_page(session, stmt, [WorkOrder.reported_at, WorkOrder.id], limit=limit, cursor=cursor)


async def open_escalations(
    session: AsyncSession,
    *,
    scope: ColumnElement[bool],
    limit: int,
    cursor: str | None,
) -> Page[SlaClock]:
    """Clocks of open work orders that escalated (a step of the contract's escalation fired) and
    are not met yet: soonest deadline first."""
    stmt = (
        select(SlaClock)
        .join(WorkOrder, WorkOrder.id == SlaClock.work_order_id)
        .where(
            SlaClock.escalation_level > 0,
            SlaClock.met_at.is_(None),
            SlaClock.deadline.is_not(None),
            WorkOrder.status.in_(OPEN),
            scope,
        )
    )
    return await keyset_page(session, stmt, [SlaClock.deadline, SlaClock.id], limit=limit, cursor=cursor)
