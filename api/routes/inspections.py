"""Preventive inspections: plans (admins and supervisors), the inspections they generate (the
desk), and the checklist the engineer fills on the visit."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

import msgspec
from litestar import get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from api.auth import DESK, ENGINEERS, MANAGERS
from api.params import AppClock, CurrentActor, Cursor, Limit, Session
from api.schemas.common import fields_of, given, out
from api.schemas.inspections import (
    GenerationOut,
    InspectionOut,
    InspectionPage,
    InspectionPlanIn,
    InspectionPlanOut,
    InspectionPlanPage,
    InspectionPlanPatch,
    ResultOut,
    ResultsIn,
    ResultsOut,
    SetAsideIn,
)
from core.clock import Clock
from dispatch.inspections import checklist, plans, queries
from dispatch.inspections.generation import generate
from dispatch.inspections.models import Inspection, InspectionPlan, InspectionStatus

InspectionState = Literal["upcoming", "due", "overdue", "done", "cancelled", "skipped"]
_JSON_FIELDS = ("fixed_dates", "checklists", "default_checklist")


def _plan_values(
    data: InspectionPlanIn | InspectionPlanPatch, values: dict[str, object]
) -> dict[str, object]:
    """Dates and checklist items as the JSON columns hold them."""
    for name in _JSON_FIELDS:
        if name in values:
            values[name] = msgspec.to_builtins(values[name])
    return values


def plan_out(plan: InspectionPlan) -> InspectionPlanOut:
    return out(InspectionPlanOut, plan)


def inspection_out(inspection: Inspection, clock: Clock, context: queries.Context) -> InspectionOut:
    key = inspection.work_order_id
    planned = [
        {
            "visit_id": str(v.id),
            "engineer_id": str(v.engineer_id) if v.engineer_id else None,
            "engineer_name": context.engineers.get(v.engineer_id) if v.engineer_id else None,
            "planned_start": v.planned_start.isoformat() if v.planned_start else None,
            "status": v.status.value,
        }
        for v in (context.visits.get(key, []) if key else [])
        if v.engineer_id is not None
    ]
    place = context.places.get(inspection.site_id)
    return out(
        InspectionOut,
        inspection,
        state=plans.window_state(inspection, clock.now()),
        planned=planned,
        problem_number=context.numbers.get(key) if key else None,
        site_name=place.site_name if place else None,
        customer_name=place.customer_name if place else None,
        time_zone=place.time_zone if place else None,
    )


@get("/api/inspection-plans", roles=DESK, tags=["inspections"], summary="List inspection plans")
async def list_plans(
    session: Session,
    contract_id: FromQuery[uuid.UUID | None] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> InspectionPlanPage:
    page = await plans.list_plans(session, contract_id=contract_id, limit=limit, cursor=cursor)
    return InspectionPlanPage(items=[plan_out(p) for p in page.items], next_cursor=page.next_cursor)


@get("/api/inspection-plans/{plan_id:uuid}", roles=DESK, tags=["inspections"], summary="One inspection plan")
async def get_plan(session: Session, plan_id: FromPath[uuid.UUID]) -> InspectionPlanOut:
    return plan_out(await plans.get_plan(session, plan_id))


@post(
    "/api/inspection-plans",
    roles=MANAGERS,
    tags=["inspections"],
    summary="Create an inspection plan for a contract: scope, cycle, window, durations, checklists",
)
async def create_plan(
    session: Session, actor: CurrentActor, data: JSONBody[InspectionPlanIn]
) -> InspectionPlanOut:
    return plan_out(await plans.create_plan(session, actor, _plan_values(data, fields_of(data))))


@patch(
    "/api/inspection-plans/{plan_id:uuid}",
    roles=MANAGERS,
    tags=["inspections"],
    summary="Change an inspection plan (carries its version); active: false stops generating",
)
async def update_plan(
    session: Session, actor: CurrentActor, plan_id: FromPath[uuid.UUID], data: JSONBody[InspectionPlanPatch]
) -> InspectionPlanOut:
    changes = _plan_values(data, given(data))
    return plan_out(await plans.update_plan(session, actor, plan_id, data.version, changes))


@post(
    "/api/inspection-plans/{plan_id:uuid}/generate",
    roles=MANAGERS,
    tags=["inspections"],
    status_code=200,
    summary="Generate the plan's inspections due within its lead time now (the worker does it too)",
)
async def generate_now(session: Session, clock: AppClock, plan_id: FromPath[uuid.UUID]) -> GenerationOut:
    await plans.get_plan(session, plan_id)
    report = await generate(session, clock, [plan_id])
    return GenerationOut(created=report.created, blocked=report.blocked)


@get(
    "/api/inspections",
    roles=DESK,
    tags=["inspections"],
    summary="Inspections by window: state upcoming, due, overdue, done, cancelled or skipped; planned or not",
)
async def list_inspections(
    session: Session,
    clock: AppClock,
    window_state: Annotated[InspectionState | None, QueryParameter(name="state")] = None,
    planned: FromQuery[bool | None] = None,
    contract_id: FromQuery[uuid.UUID | None] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> InspectionPage:
    page = await queries.list_inspections(
        session,
        clock.now(),
        state=window_state,
        planned=planned,
        contract_id=contract_id,
        limit=limit,
        cursor=cursor,
    )
    context = await queries.context_of(session, page.items)
    items = [inspection_out(i, clock, context) for i in page.items]
    return InspectionPage(items=items, next_cursor=page.next_cursor)


@post(
    "/api/inspections/{inspection_id:uuid}/set-aside",
    roles=DESK,
    tags=["inspections"],
    status_code=200,
    summary="Cancel or skip an open inspection, with the reason (the next one follows the cycle)",
)
async def set_aside(
    session: Session,
    clock: AppClock,
    actor: CurrentActor,
    inspection_id: FromPath[uuid.UUID],
    data: JSONBody[SetAsideIn],
) -> InspectionOut:
    inspection = await plans.set_aside(
        session, actor, clock, inspection_id, InspectionStatus(data.status), data.reason
    )
    return inspection_out(inspection, clock, await queries.context_of(session, [inspection]))


@post(
    "/api/visits/{visit_id:uuid}/inspection-results",
    roles=ENGINEERS | DESK,
    tags=["inspections"],
    status_code=200,
    summary="Record checklist answers on an inspection visit; a failed item may raise a repair order",
)
async def record_results(
    session: Session,
    clock: AppClock,
    actor: CurrentActor,
    visit_id: FromPath[uuid.UUID],
    data: JSONBody[ResultsIn],
) -> ResultsOut:
    answers = [checklist.Answer(**msgspec.structs.asdict(a)) for a in data.results]
    inspection, _ = await checklist.record(
        session, actor, clock, visit_id, answers, at=data.at or clock.now(), complete=data.complete
    )
    results = await checklist.results_of(session, inspection.id)
    return ResultsOut(
        inspection_id=inspection.id, status=inspection.status, results=[out(ResultOut, r) for r in results]
    )


ROUTES = [
    list_plans,
    get_plan,
    create_plan,
    update_plan,
    generate_now,
    list_inspections,
    set_aside,
    record_results,
]
