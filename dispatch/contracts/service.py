"""Contracts, their per-severity targets, and the holiday calendars they count on."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from core.errors import field_error
from core.identity.roles import Actor
from core.pagination import Page, keyset_page
from core.records import apply_changes, get_or_404, get_versioned
from dispatch.contracts.models import CalendarKind, Contract, ContractTarget, HolidayCalendar, HolidayDay
from dispatch.contracts.targets import WEEKDAY_KEYS, TargetSpec, default_targets
from dispatch.customers.access import customer_scope, ensure_customer_visible
from dispatch.customers.models import Customer

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_END = re.compile(r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")


def validate_business_hours(kind: CalendarKind, hours: dict[str, list[list[str]]]) -> None:
    """Each weekday: ordered, non-overlapping HH:MM intervals; a business-hours contract needs some."""
    for day, intervals in hours.items():
        if day not in WEEKDAY_KEYS:
            raise field_error("business_hours", f"unknown weekday {day!r} (use {', '.join(WEEKDAY_KEYS)})")
        previous_end = "00:00"
        for interval in intervals:
            # An interval may end at 24:00, so a round-the-clock day has no minute missing.
            if len(interval) != 2 or not (_HHMM.match(interval[0]) and _END.match(interval[1])):
                raise field_error(
                    "business_hours", f'{day}: intervals are ["HH:MM", "HH:MM"] (end up to 24:00)'
                )
            start, end = interval
            if not previous_end <= start < end:
                raise field_error("business_hours", f"{day}: intervals must be ordered and not overlap")
            previous_end = end
    if kind is CalendarKind.BUSINESS_HOURS and not any(hours.values()):
        raise field_error("business_hours", "a business-hours contract needs at least one working interval")


def _targets(specs: list[TargetSpec]) -> list[ContractTarget]:
    seen: set[tuple[str, str]] = set()
    rows = []
    for spec in specs:
        key = (spec.severity.value, spec.measure.value)
        if key in seen:
            raise field_error("targets", f"{spec.severity} / {spec.measure} is given twice")
        seen.add(key)
        rows.append(
            ContractTarget(
                severity=spec.severity,
                measure=spec.measure,
                rule=spec.rule,
                minutes=spec.minutes,
                count_mode=spec.count_mode,
                start_rule=spec.start_rule,
                cutoff=spec.cutoff,
            )
        )
    return rows


async def list_contracts(
    session: AsyncSession, actor: Actor, *, customer_id: uuid.UUID | None, limit: int, cursor: str | None
) -> Page[Contract]:
    stmt = select(Contract)
    if (scope := customer_scope(actor)) is not None:
        stmt = stmt.where(Contract.customer_id == scope)
    if customer_id is not None:
        stmt = stmt.where(Contract.customer_id == customer_id)
    return await keyset_page(
        session, stmt, [Contract.contract_number, Contract.id], limit=limit, cursor=cursor
    )


async def get_contract(session: AsyncSession, actor: Actor, contract_id: uuid.UUID) -> Contract:
    contract = await get_or_404(session, Contract, contract_id, "contract")
    ensure_customer_visible(actor, contract.customer_id, "contract", contract_id)
    return contract


async def _check_refs(session: AsyncSession, values: dict[str, Any]) -> None:
    if "customer_id" in values:
        await get_or_404(session, Customer, values["customer_id"], "customer")
    if values.get("holiday_calendar_id") is not None:
        await get_or_404(session, HolidayCalendar, values["holiday_calendar_id"], "holiday calendar")


def _check_calendar(contract: Contract) -> None:
    """Counting business hours without a holiday calendar would count every public holiday as a
    working day; an admin who means that names a calendar made with `no_public_holidays`."""
    if contract.calendar_kind is CalendarKind.BUSINESS_HOURS and contract.holiday_calendar_id is None:
        raise field_error(
            "holiday_calendar_id",
            "a business-hours contract must name a holiday calendar "
            "(or a calendar created with no_public_holidays when there are none on purpose)",
        )


def _check_dates(starts_on: dt.date, ends_on: dt.date) -> None:
    if ends_on < starts_on:
        raise field_error("ends_on", "the contract ends before it starts")


async def create_contract(
    session: AsyncSession, actor: Actor, values: dict[str, Any], targets: list[TargetSpec] | None
) -> Contract:
    await _check_refs(session, values)
    kind = CalendarKind(values["calendar_kind"])
    validate_business_hours(kind, values.get("business_hours", {}))
    _check_dates(values["starts_on"], values["ends_on"])
    contract = Contract(**values)
    _check_calendar(contract)
    contract.targets = _targets(targets if targets is not None else default_targets(kind))
    session.add(contract)
    await session.flush()
    return contract


async def update_contract(
    session: AsyncSession,
    actor: Actor,
    contract_id: uuid.UUID,
    version: int,
    changes: dict[str, Any],
    targets: list[TargetSpec] | None,
) -> Contract:
    contract = await get_versioned(session, Contract, contract_id, version, "contract")
    await _check_refs(session, changes)
    apply_changes(contract, changes)
    validate_business_hours(contract.calendar_kind, contract.business_hours)
    _check_calendar(contract)
    _check_dates(contract.starts_on, contract.ends_on)
    if targets is not None:
        contract.targets = _targets(targets)
        flag_modified(contract, "name")  # a change of targets alone still bumps the version
    await session.flush()
    await session.refresh(contract)
    return contract


# Holiday calendars ----------------------------------------------------------------------------------


async def list_calendars(session: AsyncSession, *, limit: int, cursor: str | None) -> Page[HolidayCalendar]:
    return await keyset_page(
        session,
        select(HolidayCalendar),
        [HolidayCalendar.name, HolidayCalendar.id],
        limit=limit,
        cursor=cursor,
    )


async def get_calendar(session: AsyncSession, calendar_id: uuid.UUID) -> HolidayCalendar:
    return await get_or_404(session, HolidayCalendar, calendar_id, "holiday calendar")


async def create_calendar(
    session: AsyncSession, actor: Actor, name: str, region: str, *, no_public_holidays: bool = False
) -> HolidayCalendar:
    calendar = HolidayCalendar(
        name=name, region=region, years=[], days=[], no_public_holidays=no_public_holidays
    )
    session.add(calendar)
    await session.flush()
    return calendar


async def publish_year(
    session: AsyncSession, actor: Actor, calendar_id: uuid.UUID, year: int, days: list[HolidayDay]
) -> HolidayCalendar:
    """Load (or replace) one year's holidays and make-up working days (调休)."""
    calendar = await get_or_404(session, HolidayCalendar, calendar_id, "holiday calendar")
    if calendar.no_public_holidays:
        raise field_error("days", "this calendar was created to have no public holidays; create another one")
    for day in days:
        if day.day.year != year:
            raise field_error("days", f"{day.day} is not in {year}")
    if len({d.day for d in days}) != len(days):
        raise field_error("days", "a date is listed twice")
    calendar.days = [d for d in calendar.days if d.day.year != year] + days
    calendar.years = sorted({*calendar.years, year})
    await session.flush()
    return calendar
