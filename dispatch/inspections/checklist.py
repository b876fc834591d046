"""The checklist filled on an inspection visit (online or through sync): one answer per asset
and item, judged against the plan's template; a failed item may raise a repair work order at
once, linked to the inspection, with the asset and the finding."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import Clock
from core.errors import Conflict, NotFound, field_error
from core.identity.roles import Actor
from dispatch.contracts.models import Severity
from dispatch.customers.models import Site
from dispatch.inspections.models import (
    ChecklistResult,
    Inspection,
    InspectionPlan,
    InspectionStatus,
    ItemKind,
)
from dispatch.inspections.queries import numbers_of
from dispatch.sla.models import NO_DEADLINE
from dispatch.work_orders import service as orders
from dispatch.work_orders.models import Channel, VisitKind, WorkOrder
from dispatch.work_orders.visits import owned_visit


@dataclass(frozen=True)
class Answer:
    asset_id: uuid.UUID
    item_key: str
    passed: bool | None = None
    number: float | None = None
    text: str | None = None
    photo_sha256: str | None = None
    finding: str | None = None
    # A failed item raises a repair work order of this severity (None: no repair now).
    repair_severity: Severity | None = None


def template(plan: InspectionPlan, model: str) -> dict[str, dict[str, Any]]:
    """The checklist items for an asset model, by key."""
    items = plan.checklists.get(model, plan.default_checklist)
    return {str(item["key"]): item for item in items}


def judge(item: dict[str, Any], answer: Answer) -> tuple[dict[str, Any], bool | None]:
    """The stored value of an answer and whether it passed (None: nothing to pass or fail)."""
    kind, key = ItemKind(item["kind"]), answer.item_key
    if kind is ItemKind.PASS_FAIL:
        if answer.passed is None:
            raise field_error("results", f"item {key!r} is answered with passed: true or false")
        return {"passed": answer.passed}, answer.passed
    if kind is ItemKind.NUMBER:
        if answer.number is None:
            raise field_error("results", f"item {key!r} is answered with a number")
        low, high = item.get("min"), item.get("max")
        inside = (low is None or answer.number >= low) and (high is None or answer.number <= high)
        return {"number": answer.number}, inside
    if kind is ItemKind.TEXT:
        if not answer.text:
            raise field_error("results", f"item {key!r} is answered with text")
        return {"text": answer.text}, None
    if not answer.photo_sha256:
        raise field_error("results", f"item {key!r} needs a photo (its SHA-256)")
    return {"photo_sha256": answer.photo_sha256}, None


async def inspection_of(session: AsyncSession, work_order_id: uuid.UUID, *, lock: bool = False) -> Inspection:
    row = await session.execute(
        select(Inspection).where(Inspection.work_order_id == work_order_id).with_for_update(of=Inspection)
        if lock
        else select(Inspection).where(Inspection.work_order_id == work_order_id)
    )
    inspection = row.scalar_one_or_none()
    if inspection is None:
        raise NotFound(f"Work order {work_order_id} is not an inspection")
    return inspection


async def record(
    session: AsyncSession,
    actor: Actor,
    clock: Clock,
    visit_id: uuid.UUID,
    answers: list[Answer],
    *,
    at: dt.datetime,
    complete: bool = False,
) -> tuple[Inspection, list[ChecklistResult]]:
    """Store the answers (a later answer to the same asset and item replaces the earlier one);
    with `complete`, the inspection is done at `at` (every item of every asset answered)."""
    visit, order = await owned_visit(session, actor, visit_id)
    if visit.kind is not VisitKind.INSPECTION:
        raise field_error("visit_id", "this visit is not an inspection")
    inspection = await inspection_of(session, order.id, lock=True)
    if inspection.status is not InspectionStatus.OPEN:
        raise Conflict(f"This inspection is {inspection.status.value}: its checklist is closed")
    plan = await session.get(InspectionPlan, inspection.plan_id)
    assert plan is not None
    models = {a["asset_id"]: a["model"] for a in inspection.assets}
    stored = []
    for answer in answers:
        model = models.get(str(answer.asset_id))
        if model is None:
            raise field_error("results", f"asset {answer.asset_id} is not part of this inspection")
        item = template(plan, model).get(answer.item_key)
        if item is None:
            raise field_error("results", f"no item {answer.item_key!r} on the checklist of {model}")
        stored.append(await _store(session, actor, clock, inspection, order, item, answer, at))
    if complete:
        await _complete(session, plan, inspection, at)
        order.due_at = NO_DEADLINE  # done: it no longer waits among the open deadlines
    await session.flush()
    return inspection, stored


async def _store(
    session: AsyncSession,
    actor: Actor,
    clock: Clock,
    inspection: Inspection,
    order: WorkOrder,
    item: dict[str, Any],
    answer: Answer,
    at: dt.datetime,
) -> ChecklistResult:
    value, passed = judge(item, answer)
    result = (
        await session.execute(
            select(ChecklistResult).where(
                ChecklistResult.inspection_id == inspection.id,
                ChecklistResult.asset_id == answer.asset_id,
                ChecklistResult.item_key == answer.item_key,
            )
        )
    ).scalar_one_or_none()
    if result is None:
        result = ChecklistResult(
            id=uuid.uuid4(), inspection_id=inspection.id, asset_id=answer.asset_id, item_key=answer.item_key
        )
        session.add(result)
    result.kind, result.value, result.passed, result.finding = (
        ItemKind(item["kind"]),
        value,
        passed,
        answer.finding,
    )
    result.recorded_at, result.recorded_by = at, actor.user_id
    if passed is False and answer.repair_severity is not None and result.repair_work_order_id is None:
        result.repair_work_order_id = await _raise_repair(session, actor, clock, order, item, answer)
    return result


async def _raise_repair(
    session: AsyncSession,
    actor: Actor,
    clock: Clock,
    inspection_order: WorkOrder,
    item: dict[str, Any],
    answer: Answer,
) -> uuid.UUID:
    """A repair work order for the asset, reported now, its finding as the fault."""
    assert answer.repair_severity is not None
    site = await session.get(Site, inspection_order.site_id)
    assert site is not None
    finding = answer.finding or "failed"
    label = item.get("label", answer.item_key)
    repair = await orders.create(
        session,
        actor,
        clock,
        orders.Intake(
            site_id=site.id,
            contact_name=inspection_order.contact_name,
            contact_phone=inspection_order.contact_phone,
            fault_description=f"巡检发现 ({inspection_order.problem_number}) {label}: {finding}"[:4000],
            severity=answer.repair_severity,
            channel=Channel.INTEGRATION,
            asset_id=answer.asset_id,
        ),
    )
    link = {"inspection_work_order_id": str(inspection_order.id), "item_key": answer.item_key}
    orders.add_event(session, repair, actor, clock.now(), "raised_by_inspection", note=finding, data=link)
    orders.add_event(
        session,
        inspection_order,
        actor,
        clock.now(),
        "repair_raised",
        note=finding,
        data={
            "repair_work_order_id": str(repair.id),
            "asset_id": str(answer.asset_id),
            "item_key": answer.item_key,
        },
    )
    return repair.id


async def _complete(
    session: AsyncSession, plan: InspectionPlan, inspection: Inspection, at: dt.datetime
) -> None:
    rows = await session.execute(
        select(ChecklistResult.asset_id, ChecklistResult.item_key).where(
            ChecklistResult.inspection_id == inspection.id
        )
    )
    answered = {(row.asset_id, row.item_key) for row in rows}
    missing = [
        f"{a['serial']}: {key}"
        for a in inspection.assets
        for key in template(plan, a["model"])
        if (uuid.UUID(a["asset_id"]), key) not in answered
    ]
    if missing:
        raise field_error("complete", "items not answered yet: " + ", ".join(missing[:10]))
    inspection.status, inspection.done_at = InspectionStatus.DONE, at


async def results_of(session: AsyncSession, inspection_id: uuid.UUID) -> list[ChecklistResult]:
    rows = await session.execute(
        select(ChecklistResult)
        .where(ChecklistResult.inspection_id == inspection_id)
        .order_by(ChecklistResult.asset_id, ChecklistResult.item_key)
    )
    return list(rows.scalars())


async def report_rows(session: AsyncSession, work_order_id: uuid.UUID) -> list[dict[str, Any]] | None:
    """The checklist as the inspection report (巡检报告单) lists it; None for a work order that is
    not an inspection."""
    inspection = (
        await session.execute(select(Inspection).where(Inspection.work_order_id == work_order_id))
    ).scalar_one_or_none()
    if inspection is None:
        return None
    plan = await session.get(InspectionPlan, inspection.plan_id)
    assert plan is not None
    results = {(str(r.asset_id), r.item_key): r for r in await results_of(session, inspection.id)}
    repairs = {r.repair_work_order_id for r in results.values() if r.repair_work_order_id}
    numbers = await numbers_of(session, list(repairs))
    rows = []
    for asset in inspection.assets:
        for key, item in template(plan, asset["model"]).items():
            result = results.get((asset["asset_id"], key))
            rows.append(
                {
                    "asset_model": asset["model"],
                    "asset_serial": asset["serial"],
                    "item_key": key,
                    "label": item.get("label", key),
                    "kind": item["kind"],
                    "value": result.value if result else None,
                    "passed": result.passed if result else None,
                    "finding": result.finding if result else None,
                    "repair_problem_number": numbers.get(result.repair_work_order_id)
                    if result and result.repair_work_order_id
                    else None,
                }
            )
    return rows


async def sync_documents(
    session: AsyncSession, order_ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    """What the engineer's phone needs to fill an inspection offline, by work order: the window,
    each asset with its checklist items, and the answers the server holds."""
    if not order_ids:
        return {}
    inspections = list(
        (await session.execute(select(Inspection).where(Inspection.work_order_id.in_(order_ids)))).scalars()
    )
    plans = {
        p.id: p
        for p in (
            await session.execute(
                select(InspectionPlan).where(InspectionPlan.id.in_({i.plan_id for i in inspections}))
            )
        ).scalars()
    }
    answers: dict[uuid.UUID, dict[tuple[str, str], ChecklistResult]] = {}
    for result in (
        await session.execute(
            select(ChecklistResult).where(ChecklistResult.inspection_id.in_([i.id for i in inspections]))
        )
    ).scalars():
        answers.setdefault(result.inspection_id, {})[(str(result.asset_id), result.item_key)] = result
    documents: dict[uuid.UUID, dict[str, Any]] = {}
    for inspection in inspections:
        held = answers.get(inspection.id, {})
        plan = plans[inspection.plan_id]
        assets = [
            {
                **asset,
                "items": list(template(plan, asset["model"]).values()),
                "answers": {
                    key: {"value": r.value, "passed": r.passed, "finding": r.finding}
                    for (asset_id, key), r in held.items()
                    if asset_id == asset["asset_id"]
                },
            }
            for asset in inspection.assets
        ]
        assert inspection.work_order_id is not None
        documents[inspection.work_order_id] = {
            "id": str(inspection.id),
            "status": inspection.status.value,
            "due_on": inspection.due_on.isoformat(),
            "window_start": inspection.window_start.isoformat(),
            "window_end": inspection.window_end.isoformat(),
            "assets": assets,
        }
    return documents
