"""Contracts with their SLA targets, and holiday calendars."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from litestar import get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter

from api.auth import ADMIN, DESK, STAFF_ROLES
from api.params import CurrentActor, Cursor, Limit, Session
from api.schemas.common import fields_of, given, out
from api.schemas.contracts import (
    CalendarIn,
    CalendarOut,
    CalendarPage,
    CalendarYearIn,
    ContractIn,
    ContractOut,
    ContractPage,
    ContractPatch,
    HolidayDayIO,
    TargetIO,
    TargetOut,
)
from core.identity.roles import Role
from dispatch.contracts import service
from dispatch.contracts.models import Contract, HolidayCalendar, HolidayDay
from dispatch.contracts.targets import TargetSpec
from dispatch.customers import names

CONTRACT_READERS = DESK | {Role.CUSTOMER_CONTACT}


def _specs(targets: list[TargetIO]) -> list[TargetSpec]:
    return [
        TargetSpec(t.severity, t.measure, t.rule, t.minutes, t.count_mode, t.start_rule, t.cutoff)
        for t in targets
    ]


async def contracts_out(session: Session, contracts: list[Contract]) -> list[ContractOut]:
    customers = await names.customer_names(session, (c.customer_id for c in contracts))
    return [
        out(
            ContractOut,
            c,
            targets=[out(TargetOut, t) for t in c.targets],
            customer_name=customers.get(c.customer_id, ""),
        )
        for c in contracts
    ]


async def contract_out(session: Session, contract: Contract) -> ContractOut:
    return (await contracts_out(session, [contract]))[0]


def calendar_out(calendar: HolidayCalendar) -> CalendarOut:
    return out(
        CalendarOut, calendar, days=[HolidayDayIO(day=d.day, kind=d.kind, name=d.name) for d in calendar.days]
    )


@get("/api/contracts", roles=CONTRACT_READERS, tags=["contracts"], summary="List contracts")
async def list_contracts(
    session: Session,
    actor: CurrentActor,
    customer_id: FromQuery[uuid.UUID | None] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> ContractPage:
    page = await service.list_contracts(session, actor, customer_id=customer_id, limit=limit, cursor=cursor)
    return ContractPage(items=await contracts_out(session, page.items), next_cursor=page.next_cursor)


@get("/api/contracts/{contract_id:uuid}", roles=CONTRACT_READERS, tags=["contracts"], summary="One contract")
async def get_contract(
    session: Session, actor: CurrentActor, contract_id: FromPath[uuid.UUID]
) -> ContractOut:
    return await contract_out(session, await service.get_contract(session, actor, contract_id))


@post(
    "/api/contracts",
    roles=ADMIN,
    tags=["contracts"],
    summary="Create a contract (targets default to the severity table for its calendar)",
)
async def create_contract(session: Session, actor: CurrentActor, data: JSONBody[ContractIn]) -> ContractOut:
    values = fields_of(data, skip=("targets", "escalation"))
    values["escalation"] = [msgspec.to_builtins(e) for e in data.escalation]
    contract = await service.create_contract(
        session, actor, values, _specs(data.targets) if data.targets is not None else None
    )
    return await contract_out(session, contract)


@patch(
    "/api/contracts/{contract_id:uuid}",
    roles=ADMIN,
    tags=["contracts"],
    summary="Change a contract, its calendar or its targets",
)
async def update_contract(
    session: Session, actor: CurrentActor, contract_id: FromPath[uuid.UUID], data: JSONBody[ContractPatch]
) -> ContractOut:
    changes = given(data, skip=("version", "targets", "escalation"))
    if isinstance(data.escalation, list):
        changes["escalation"] = [msgspec.to_builtins(e) for e in data.escalation]
    targets = _specs(data.targets) if isinstance(data.targets, list) else None
    return await contract_out(
        session, await service.update_contract(session, actor, contract_id, data.version, changes, targets)
    )


@get("/api/holiday-calendars", roles=STAFF_ROLES, tags=["contracts"], summary="Holiday calendars, by name")
async def list_calendars(session: Session, limit: Limit = 50, cursor: Cursor = None) -> CalendarPage:
    page = await service.list_calendars(session, limit=limit, cursor=cursor)
    return CalendarPage([calendar_out(c) for c in page.items], page.next_cursor)


@get(
    "/api/holiday-calendars/{calendar_id:uuid}",
    roles=STAFF_ROLES,
    tags=["contracts"],
    summary="One holiday calendar with its days",
)
async def get_calendar(session: Session, calendar_id: FromPath[uuid.UUID]) -> CalendarOut:
    return calendar_out(await service.get_calendar(session, calendar_id))


@post("/api/holiday-calendars", roles=ADMIN, tags=["contracts"], summary="Create a holiday calendar")
async def create_calendar(session: Session, actor: CurrentActor, data: JSONBody[CalendarIn]) -> CalendarOut:
    return calendar_out(
        await service.create_calendar(
            session, actor, data.name, data.region, no_public_holidays=data.no_public_holidays
        )
    )


@put(
    "/api/holiday-calendars/{calendar_id:uuid}/years/{year:int}",
    roles=ADMIN,
    tags=["contracts"],
    summary="Publish a year: its holidays and make-up working days (调休)",
)
async def publish_year(
    session: Session,
    actor: CurrentActor,
    calendar_id: FromPath[uuid.UUID],
    year: Annotated[int, PathParameter(ge=2000, le=2100)],
    data: JSONBody[CalendarYearIn],
) -> CalendarOut:
    days = [HolidayDay(day=d.day, kind=d.kind, name=d.name) for d in data.days]
    return calendar_out(await service.publish_year(session, actor, calendar_id, year, days))


ROUTES = [
    list_contracts,
    get_contract,
    create_contract,
    update_contract,
    list_calendars,
    get_calendar,
    create_calendar,
    publish_year,
]
