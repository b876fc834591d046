"""Inspection plans: create, read, change (versioned), and cancel or skip one inspection."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import Clock
from core.errors import Conflict, field_error
from core.identity.roles import Actor
from core.pagination import Page, keyset_page
from core.records import apply_changes, get_or_404, get_versioned, locked_or_404
from dispatch.contracts.models import Contract
from dispatch.inspections.models import (
    CycleUnit,
    Inspection,
    InspectionPlan,
    InspectionStatus,
    ItemKind,
    Scope,
)
from dispatch.sla.clocks import update_due
from dispatch.work_orders.lifecycle import OPEN
from dispatch.work_orders.models import Status, VisitStatus, WorkOrder
from dispatch.work_orders.service import add_event

ITEM_KINDS = {k.value for k in ItemKind}


def check_checklist(name: str, items: list[dict[str, Any]]) -> None:
    """Items have a unique key, a label and a kind; a number's limits are ordered."""
    keys: set[str] = set()
    for item in items:
        key = item.get("key")
        if not key or key in keys:
            raise field_error(name, f"every item needs its own key ({key!r} is missing or repeated)")
        keys.add(key)
        if item.get("kind") not in ITEM_KINDS:
            raise field_error(name, f"item {key!r}: kind is one of {', '.join(sorted(ITEM_KINDS))}")
        low, high = item.get("min"), item.get("max")
        if low is not None and high is not None and low > high:
            raise field_error(name, f"item {key!r}: min is above max")


def _check(plan: InspectionPlan) -> None:
    if plan.cycle_unit is CycleUnit.FIXED:
        if not plan.fixed_dates:
            raise field_error("fixed_dates", "a plan on fixed dates needs at least one date")
        if plan.fixed_dates != sorted(set(plan.fixed_dates)):
            raise field_error("fixed_dates", "give the dates in order, each once")
    if plan.scope is not Scope.ALL and not plan.scope_values:
        raise field_error("scope_values", f"scope {plan.scope.value!r} names the asset models or sites")
    if plan.scope is Scope.SITES:
        for value in plan.scope_values:
            try:
                uuid.UUID(value)
            except ValueError:
                raise field_error("scope_values", f"{value!r} is not a site id") from None
    for model, items in plan.checklists.items():
        check_checklist(f"checklists.{model}", items)
    check_checklist("default_checklist", plan.default_checklist)


async def list_plans(
    session: AsyncSession, *, contract_id: uuid.UUID | None, limit: int, cursor: str | None
) -> Page[InspectionPlan]:
    stmt = select(InspectionPlan)
    if contract_id is not None:
        stmt = stmt.where(InspectionPlan.contract_id == contract_id)
    return await keyset_page(session, stmt, [InspectionPlan.id], limit=limit, cursor=cursor)


async def get_plan(session: AsyncSession, plan_id: uuid.UUID) -> InspectionPlan:
    return await get_or_404(session, InspectionPlan, plan_id, "inspection plan")


async def create_plan(session: AsyncSession, actor: Actor, values: dict[str, Any]) -> InspectionPlan:
    await get_or_404(session, Contract, values["contract_id"], "contract")
    plan = InspectionPlan(**values)
    _check(plan)
    session.add(plan)
    await session.flush()
    return plan


async def update_plan(
    session: AsyncSession, actor: Actor, plan_id: uuid.UUID, version: int, changes: dict[str, Any]
) -> InspectionPlan:
    plan = await get_versioned(session, InspectionPlan, plan_id, version, "inspection plan")
    apply_changes(plan, changes)
    _check(plan)
    await session.flush()
    await session.refresh(plan)
    return plan


async def set_aside(
    session: AsyncSession,
    actor: Actor,
    clock: Clock,
    inspection_id: uuid.UUID,
    status: InspectionStatus,
    reason: str,
) -> Inspection:
    """Cancel or skip an open inspection, with the reason; its work order is cancelled with it.
    The next period is generated from the cycle all the same."""
    if status not in (InspectionStatus.CANCELLED, InspectionStatus.SKIPPED):
        raise field_error("status", "an inspection is set aside as cancelled or skipped")
    inspection = await locked_or_404(session, Inspection, inspection_id, "inspection")
    if inspection.status is not InspectionStatus.OPEN:
        raise Conflict(f"This inspection is {inspection.status.value} already")
    now = clock.now()
    inspection.status, inspection.reason = status, reason
    if inspection.work_order_id is not None:
        order = await session.get(WorkOrder, inspection.work_order_id, with_for_update=True)
        if order is not None and order.status in OPEN:
            previous = order.status
            order.status, order.closed_at = Status.CANCELLED, now
            update_due(order)
            for visit in order.visits:
                if visit.status not in (VisitStatus.DONE, VisitStatus.CANCELLED):
                    visit.status = VisitStatus.CANCELLED
            add_event(
                session,
                order,
                actor,
                now,
                "inspection_" + status.value,
                from_status=previous,
                to_status=Status.CANCELLED,
                note=reason,
            )
    await session.flush()
    return inspection


def window_state(inspection: Inspection, now: dt.datetime) -> str:
    """How the dispatcher sees an inspection: done, set aside, or open and upcoming, due or overdue."""
    if inspection.status is not InspectionStatus.OPEN:
        return inspection.status.value
    if now < inspection.window_start:
        return "upcoming"
    return "due" if now < inspection.window_end else "overdue"
