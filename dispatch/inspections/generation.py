"""The inspections a plan owes, generated a lead time ahead as work orders (kind `inspection`).

One inspection per plan, site and period: the assets of a site due together are one work order,
so that the site gets one visit per engineer-day where the durations allow (longer work is split
into day-sized visits). The key (plan, site, period) is unique and inserted with ON CONFLICT DO
NOTHING, so a re-run, or a second process generating at the same time, creates nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core import zones
from core.clock import Clock
from core.identity.roles import SYSTEM
from dispatch.contracts.models import Contract, Severity
from dispatch.customers.models import Asset, Customer, Site
from dispatch.inspections.cycle import due_date, step, window
from dispatch.inspections.models import Inspection, InspectionPlan, InspectionStatus, Scope
from dispatch.sla.calendar import CalendarError
from dispatch.sla.clocks import calendar_for
from dispatch.work_orders.models import (
    Channel,
    Status,
    Visit,
    VisitKind,
    VisitStatus,
    WorkOrder,
    WorkOrderKind,
)
from dispatch.work_orders.service import WORK_ORDER_NUMBER, add_event

log = logging.getLogger("fieldservice.inspections")

# One engineer-day of work at a site: more than this is split into several visits.
DAY_OF_WORK_MINUTES = 7 * 60
CLOSED = (InspectionStatus.DONE, InspectionStatus.CANCELLED, InspectionStatus.SKIPPED)


@dataclass
class GenerationReport:
    created: int = 0
    # "plan name / site: why" for periods that could not be generated (a calendar year not loaded).
    blocked: list[str] = field(default_factory=list)


def _in_scope(plan: InspectionPlan, asset: Asset) -> bool:
    if plan.scope is Scope.MODELS:
        return asset.model in plan.scope_values
    if plan.scope is Scope.SITES:
        return str(asset.site_id) in plan.scope_values
    return True


async def _assets_by_site(session: AsyncSession, plan: InspectionPlan) -> dict[uuid.UUID, list[Asset]]:
    rows = await session.execute(
        select(Asset).where(Asset.contract_id == plan.contract_id).order_by(Asset.model, Asset.serial)
    )
    by_site: dict[uuid.UUID, list[Asset]] = defaultdict(list)
    for asset in rows.scalars():
        if _in_scope(plan, asset):
            by_site[asset.site_id].append(asset)
    return by_site


def minutes_for(plan: InspectionPlan, model: str) -> int:
    return int(plan.durations.get(model, plan.default_duration_minutes))


def visit_lengths(plan: InspectionPlan, assets: list[Asset]) -> list[int]:
    """The site's work cut into engineer-days: assets whole, in order, at most a day each
    (a single asset longer than a day is one long visit)."""
    lengths: list[int] = []
    current = 0
    for asset in assets:
        minutes = minutes_for(plan, asset.model)
        if current and current + minutes > DAY_OF_WORK_MINUTES:
            lengths.append(current)
            current = 0
        current += minutes
    if current:
        lengths.append(current)
    return lengths


async def _previous(session: AsyncSession, plan_id: uuid.UUID) -> dict[uuid.UUID, Inspection]:
    """Each site's latest inspection under the plan."""
    latest = (
        select(Inspection.site_id, func.max(Inspection.period).label("period"))
        .where(Inspection.plan_id == plan_id)
        .group_by(Inspection.site_id)
        .subquery()
    )
    rows = await session.execute(
        select(Inspection).join(
            latest,
            (Inspection.plan_id == plan_id)
            & (Inspection.site_id == latest.c.site_id)
            & (Inspection.period == latest.c.period),
        )
    )
    return {i.site_id: i for i in rows.scalars()}


def _next_due(plan: InspectionPlan, last: Inspection | None, site_zone: str) -> tuple[int, dt.date] | None:
    """The next period of a site and its due date; None when a plan counting from the last visit
    waits for that visit to be done."""
    period = 0 if last is None else last.period + 1
    if plan.from_last_visit and last is not None and plan.cycle_unit.value != "fixed":
        if last.status is InspectionStatus.OPEN:
            return None
        base = last.due_on
        if last.status is InspectionStatus.DONE and last.done_at is not None:
            base = last.done_at.astimezone(zones.zone(site_zone)).date()
        return period, step(base, plan.cycle_unit.value, plan.cycle_every)
    due = due_date(plan.cycle_unit.value, plan.cycle_every, plan.first_due, plan.fixed_dates, period)
    return None if due is None else (period, due)


async def generate(
    session: AsyncSession, clock: Clock, plan_ids: list[uuid.UUID] | None = None
) -> GenerationReport:
    """Create every inspection whose window opens within its plan's lead time from now."""
    now = clock.now()
    stmt = (
        select(InspectionPlan, Contract)
        .join(Contract, Contract.id == InspectionPlan.contract_id)
        .where(InspectionPlan.active.is_(True))
        .order_by(InspectionPlan.id)
    )
    if plan_ids is not None:
        stmt = stmt.where(InspectionPlan.id.in_(plan_ids))
    report = GenerationReport()
    for plan, contract in (await session.execute(stmt)).all():
        await _generate_plan(session, now, plan, contract, report)
    return report


async def _generate_plan(
    session: AsyncSession,
    now: dt.datetime,
    plan: InspectionPlan,
    contract: Contract,
    report: GenerationReport,
) -> None:
    by_site = await _assets_by_site(session, plan)
    if not by_site:
        return
    sites = {
        s.id: s for s in (await session.execute(select(Site).where(Site.id.in_(list(by_site))))).scalars()
    }
    customer = await session.get(Customer, contract.customer_id)
    assert customer is not None
    previous = await _previous(session, plan.id)
    horizon = now + dt.timedelta(days=plan.lead_days)
    for site_id, assets in by_site.items():
        site = sites[site_id]
        try:
            calendar = await calendar_for(session, contract, site)
            last = previous.get(site_id)
            while (upcoming := _next_due(plan, last, site.time_zone)) is not None:
                period, due = upcoming
                if due > contract.ends_on:
                    break
                start, end = window(calendar, due, plan.tolerance_days)
                if start > horizon:
                    break
                last = await _create(
                    session, now, plan, contract, customer, site, assets, period, due, (start, end)
                )
                if last is None:  # another generator got there first: it carries on from here
                    break
                report.created += 1
        except CalendarError as exc:
            report.blocked.append(f"{plan.name} / {site.name}: {exc}")


async def _create(
    session: AsyncSession,
    now: dt.datetime,
    plan: InspectionPlan,
    contract: Contract,
    customer: Customer,
    site: Site,
    assets: list[Asset],
    period: int,
    due: dt.date,
    span: tuple[dt.datetime, dt.datetime],
) -> Inspection | None:
    inspection_id = uuid.uuid4()
    inserted = await session.execute(
        insert(Inspection)
        .values(
            id=inspection_id,
            plan_id=plan.id,
            site_id=site.id,
            period=period,
            contract_id=contract.id,
            due_on=due,
            window_start=span[0],
            window_end=span[1],
            assets=[{"asset_id": str(a.id), "model": a.model, "serial": a.serial} for a in assets],
            status=InspectionStatus.OPEN,
        )
        .on_conflict_do_nothing(index_elements=["plan_id", "site_id", "period"])
        .returning(Inspection.id)
    )
    if inserted.scalar_one_or_none() is None:
        return None
    order = await _work_order(session, now, plan, contract, customer, site, due)
    order.due_at = span[1]  # sorted by its window's end among the repairs' deadlines
    for minutes in visit_lengths(plan, assets):
        session.add(
            Visit(
                id=uuid.uuid4(),
                work_order_id=order.id,
                kind=VisitKind.INSPECTION,
                status=VisitStatus.PLANNED,
                duration_minutes=minutes,
                required_skills=dict(plan.required_skills),
                required_parts=[],
                people_needed=1,
                window_start=span[0],
                window_end=span[1],
                version=1,
            )
        )
    inspection = await session.get(Inspection, inspection_id)
    assert inspection is not None
    inspection.work_order_id = order.id
    await session.flush()
    return inspection


async def _work_order(
    session: AsyncSession,
    now: dt.datetime,
    plan: InspectionPlan,
    contract: Contract,
    customer: Customer,
    site: Site,
    due: dt.date,
) -> WorkOrder:
    number = int((await session.execute(select(WORK_ORDER_NUMBER.next_value()))).scalar_one())
    local_day = now.astimezone(zones.zone(site.time_zone)).date()
    order = WorkOrder(
        id=uuid.uuid4(),
        problem_number=f"WO-{local_day.year}-{number:06d}",
        archive_id=f"{customer.customer_number}-{number:06d}-{local_day:%Y%m%d}",
        kind=WorkOrderKind.INSPECTION,
        customer_id=customer.id,
        site_id=site.id,
        contract_id=contract.id,
        billable=False,
        contact_name=site.contact_name or customer.name[:100],
        contact_phone=site.contact_phone or customer.hotline_phone or "-",
        fault_description=f"巡检 {plan.name}: due {due.isoformat()}",
        severity=Severity.LOW,
        channel=Channel.INTEGRATION,
        status=Status.NEW,
        reported_at=now,
        version=1,
        clocks=[],
        visits=[],
    )
    session.add(order)
    await session.flush()
    add_event(session, order, SYSTEM, now, "created", to_status=Status.NEW, data=_created_data(plan, due))
    return order


def _created_data(plan: InspectionPlan, due: dt.date) -> dict[str, Any]:
    return {
        "channel": Channel.INTEGRATION.value,
        "inspection_plan_id": str(plan.id),
        "due_on": due.isoformat(),
    }
