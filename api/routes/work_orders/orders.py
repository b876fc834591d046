"""Work orders: intake, lifecycle, SLA clocks, contacts, pauses."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import DESK, provide_actor, provide_now, provide_session
from api.params import AppClock, BBoxParam, CurrentActor, Cursor, Limit, Now, Search, Session
from api.routes.work_orders import list_pages
from api.routes.work_orders.shapes import render
from api.schemas.work_orders import (
    BackupOfferIn,
    ContactIn,
    DegradedIn,
    HistoricalOrderIn,
    ImportedOut,
    ImportIn,
    ImportOut,
    NextStatusesOut,
    PauseIn,
    RestoreConfirmationIn,
    ResumeIn,
    TransitionIn,
    WorkOrderIn,
    WorkOrderOut,
    WorkOrderPage,
)
from core.errors import field_error
from core.geo import BBox
from core.identity.roles import Role
from dispatch.contracts.models import Severity
from dispatch.work_orders import details, imports, queries
from dispatch.work_orders import service as work_orders
from dispatch.work_orders.models import Status, WorkOrder

ORDER_READERS = DESK | {Role.ENGINEER, Role.CUSTOMER_CONTACT}
INTAKE = DESK | {Role.CUSTOMER_CONTACT}


async def _one(session: AsyncSession, order: WorkOrder, now: dt.datetime) -> WorkOrderOut:
    return render(await details.after_change(session, order), now)


@post(
    "/api/work-orders",
    roles=INTAKE,
    tags=["work orders"],
    summary="Report a fault (hotline desk, customer contact or integration)",
    problems={422: ("calendar-not-loaded",)},
)
async def create_work_order(
    clock: AppClock, session: Session, actor: CurrentActor, data: JSONBody[WorkOrderIn]
) -> WorkOrderOut:
    intake = msgspec.convert(data, work_orders.Intake, from_attributes=True)
    order = await work_orders.create(session, actor, clock, intake)
    return await _one(session, order, clock.now())


def _csv_rows(text: str) -> list[HistoricalOrderIn]:
    """The CSV's rows as historical orders: a header row names the fields, empty cells are absent."""
    rows = []
    try:
        for line, record in enumerate(csv.DictReader(io.StringIO(text)), start=2):
            values = {k.strip(): v.strip() for k, v in record.items() if k and v and v.strip()}
            try:
                rows.append(msgspec.convert(values, HistoricalOrderIn, strict=False))
            except (msgspec.ValidationError, ValueError) as exc:
                raise field_error("csv", f"line {line}: {exc}") from None
    except csv.Error as exc:
        raise field_error("csv", f"not readable as CSV: {exc}") from None
    return rows


@post(
    "/api/work-orders/imports",
    roles=DESK,
    tags=["work orders"],
    summary="Import historical work orders (reported before live intake's 30 days), as items or CSV; "
    "marked imported, never watched or announced live",
    problems={422: ("calendar-not-loaded",)},
)
async def import_work_orders(
    clock: AppClock, session: Session, actor: CurrentActor, data: JSONBody[ImportIn]
) -> ImportOut:
    if (data.items is None) == (data.csv is None):
        raise field_error("items", "give either items or csv")
    given = data.items if data.items is not None else _csv_rows(data.csv or "")
    rows = [
        imports.HistoricalOrder(
            intake=msgspec.convert(row, work_orders.Intake, from_attributes=True),
            responded_at=row.responded_at,
            arrived_at=row.arrived_at,
            restored_at=row.restored_at,
            closed_at=row.closed_at,
        )
        for row in given
    ]
    orders = await imports.import_orders(session, actor, clock, rows)
    return ImportOut(
        imported=len(orders),
        items=[ImportedOut(id=o.id, problem_number=o.problem_number, status=o.status) for o in orders],
    )


@get(
    "/api/work-orders",
    roles=ORDER_READERS,
    tags=["work orders"],
    summary="Work orders by nearest deadline; filters: status, severity, customer, engineer, risk, map, text",
    # Reads only; a kept page's audit row is written by its one statement (`list_pages`).
    autocommit_reads=True,
    # A sign-in asking again for a page it was answered is answered before the framework's
    # parsing and the session (`list_pages.answer_kept`).
    answer_first=list_pages.answer_kept,
    responses={
        # No generated examples: they would be random values written into the shared components.
        200: ResponseSpec(WorkOrderPage, description="The page, with a weak ETag", generate_examples=False),
        304: ResponseSpec(
            None,
            description="Not modified: the page named by If-None-Match is current",
            generate_examples=False,
        ),
    },
)
async def list_work_orders(
    request: Request[Any, Any, Any],
    status: Annotated[list[Status] | None, QueryParameter()] = None,
    severity: Annotated[list[Severity] | None, QueryParameter()] = None,
    customer_id: FromQuery[uuid.UUID | None] = None,
    engineer_id: FromQuery[uuid.UUID | None] = None,
    at_risk: FromQuery[bool | None] = None,
    breached: FromQuery[bool | None] = None,
    open_only: FromQuery[bool] = False,
    bbox: BBoxParam = None,
    q: Search = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    if_none_match: Annotated[str | None, HeaderParameter(name="If-None-Match", max_length=2000)] = None,
) -> Response[bytes]:
    f = queries.OrderFilter(
        statuses=tuple(status or ()),
        severities=tuple(severity or ()),
        customer_id=customer_id,
        engineer_id=engineer_id,
        at_risk=at_risk,
        breached=breached,
        open_only=open_only,
        bbox=BBox.parse(bbox) if bbox else None,
        q=q,
    )
    # Taken from the request rather than injected: injecting several values runs a task group
    # per request, a tenth of a kept page's answer.
    session, actor = await provide_session(request), await provide_actor(request)
    return await list_pages.answer(
        request,
        session,
        actor,
        f,
        await provide_now(request),
        limit=limit,
        cursor=cursor,
        if_none_match=if_none_match,
    )


@get(
    "/api/work-orders/{order_id:uuid}",
    roles=ORDER_READERS,
    tags=["work orders"],
    summary="One work order with its visits, SLA clocks and timeline",
)
async def get_work_order(
    now: Now, session: Session, actor: CurrentActor, order_id: FromPath[uuid.UUID]
) -> WorkOrderOut:
    return render(await details.read(session, actor, order_id), now)


@post(
    "/api/work-orders/{order_id:uuid}/transitions",
    roles=INTAKE,
    tags=["work orders"],
    status_code=200,
    summary="Change status, with the version you saw (409 when stale or not allowed)",
    problems={409: ("illegal-transition",)},
)
async def transition(
    clock: AppClock,
    session: Session,
    actor: CurrentActor,
    order_id: FromPath[uuid.UUID],
    data: JSONBody[TransitionIn],
) -> WorkOrderOut:
    order = await work_orders.transition(
        session,
        actor,
        clock,
        order_id,
        data.version,
        data.to,
        note=data.note,
        confirmed_by=data.confirmed_by,
        confirmation_channel=data.confirmation_channel,
    )
    return await _one(session, order, clock.now())


@post(
    "/api/work-orders/{order_id:uuid}/contacts",
    roles=DESK,
    tags=["work orders"],
    summary="A named person contacted the reporter (meets the response target)",
)
async def add_contact(
    clock: AppClock,
    session: Session,
    actor: CurrentActor,
    order_id: FromPath[uuid.UUID],
    data: JSONBody[ContactIn],
) -> WorkOrderOut:
    await work_orders.record_contact(
        session,
        actor,
        clock,
        order_id,
        person_name=data.person_name,
        channel=data.channel,
        note=data.note,
        at=data.at,
    )
    return await _one(session, await work_orders.visible(session, actor, order_id), clock.now())


@post(
    "/api/work-orders/{order_id:uuid}/pauses",
    roles=DESK,
    tags=["work orders"],
    summary="Pause the SLA clocks for a customer-side cause (optionally until a given time, "
    "or entered afterwards with started_at and resumed_at)",
    problems={409: ("pause-overlaps", "illegal-transition"), 422: ("calendar-not-loaded",)},
)
async def pause(
    clock: AppClock,
    session: Session,
    actor: CurrentActor,
    order_id: FromPath[uuid.UUID],
    data: JSONBody[PauseIn],
) -> WorkOrderOut:
    evidence = work_orders.PauseEvidence(data.reason, data.customer_name, data.channel, data.call_reference)
    await work_orders.pause(
        session,
        actor,
        clock,
        order_id,
        data.version,
        evidence,
        until=data.until,
        started_at=data.started_at,
        resumed_at=data.resumed_at,
    )
    return await _one(session, await work_orders.visible(session, actor, order_id), clock.now())


@post(
    "/api/work-orders/{order_id:uuid}/resume",
    roles=DESK,
    tags=["work orders"],
    status_code=200,
    summary="End the customer-side pause (now, or at resumed_at when entered afterwards)",
    problems={409: ("illegal-transition",), 422: ("calendar-not-loaded",)},
)
async def resume(
    clock: AppClock,
    session: Session,
    actor: CurrentActor,
    order_id: FromPath[uuid.UUID],
    data: JSONBody[ResumeIn],
) -> WorkOrderOut:
    order = await work_orders.resume_by_request(
        session, actor, clock, order_id, data.version, resumed_at=data.resumed_at
    )
    return await _one(session, order, clock.now())


@post(
    "/api/work-orders/{order_id:uuid}/backup-offers",
    roles=DESK,
    tags=["work orders"],
    summary="Record a backup-device offer (a declined one excuses a later restore breach)",
)
async def backup_offer(
    clock: AppClock,
    session: Session,
    actor: CurrentActor,
    order_id: FromPath[uuid.UUID],
    data: JSONBody[BackupOfferIn],
) -> WorkOrderOut:
    await work_orders.record_backup_offer(
        session,
        actor,
        clock,
        order_id,
        unit_description=data.unit_description,
        declined=data.declined,
        declined_by=data.declined_by,
        evidence=data.evidence,
    )
    return await _one(session, await work_orders.visible(session, actor, order_id), clock.now())


@post(
    "/api/work-orders/{order_id:uuid}/restored-degraded",
    roles=DESK,
    tags=["work orders"],
    status_code=200,
    summary="Service restored with a workaround: severity lowered; the restore is met once the "
    "customer confirms (with it, or later)",
    problems={422: ("calendar-not-loaded",)},
)
async def restored_degraded(
    clock: AppClock,
    session: Session,
    actor: CurrentActor,
    order_id: FromPath[uuid.UUID],
    data: JSONBody[DegradedIn],
) -> WorkOrderOut:
    given = (data.confirmed_by, data.confirmation_channel, data.call_reference)
    if any(given) and not all(given):
        raise field_error("confirmed_by", "a confirmation names who, the channel and the call record")
    confirmation = (
        work_orders.Confirmation("remote", data.confirmed_by, data.confirmation_channel, data.call_reference)
        if all(given)
        else None
    )
    order = await work_orders.restore_degraded(
        session,
        actor,
        clock,
        order_id,
        data.version,
        new_severity=data.severity,
        note=data.note,
        confirmation=confirmation,
    )
    return await _one(session, order, clock.now())


@post(
    "/api/work-orders/{order_id:uuid}/restore-confirmations",
    roles=INTAKE,
    tags=["work orders"],
    summary="The customer confirmed the restore remotely (name, channel, call record): the restore "
    "clock is met at the recorded restore time",
)
async def confirm_restore(
    clock: AppClock,
    session: Session,
    actor: CurrentActor,
    order_id: FromPath[uuid.UUID],
    data: JSONBody[RestoreConfirmationIn],
) -> WorkOrderOut:
    confirmation = work_orders.Confirmation("remote", data.confirmed_by, data.channel, data.call_reference)
    order = await work_orders.confirm_restore_by_request(session, actor, clock, order_id, confirmation)
    return await _one(session, order, clock.now())


@get(
    "/api/work-orders/{order_id:uuid}/next-statuses",
    roles=DESK,
    tags=["work orders"],
    summary="The statuses this order may move to now (waiting_customer: use the pauses endpoint)",
)
async def next_statuses(
    session: Session, actor: CurrentActor, order_id: FromPath[uuid.UUID]
) -> NextStatusesOut:
    order, targets = await work_orders.next_statuses(session, actor, order_id)
    return NextStatusesOut(status=order.status, version=order.version, targets=sorted(targets))


ROUTES = [
    create_work_order,
    import_work_orders,
    list_work_orders,
    get_work_order,
    transition,
    add_contact,
    pause,
    resume,
    backup_offer,
    restored_degraded,
    confirm_restore,
    next_statuses,
]
