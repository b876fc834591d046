"""SLA clocks: first response, on site, restored, permanent fix — per work order.

Rules (docs/rules.md, "The SLA clocks"): every clock starts from
`reported_at` (subject to the target's start rule), counts elapsed or business time
on the contract's calendar (plus the site's regional holidays), pauses only for
customer-side causes, and is met by the event the contract names. A deadline in a
year whose holiday calendar is not loaded is refused, not guessed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import zones
from core.errors import DomainError
from dispatch.contracts.models import CalendarKind, Contract, DeadlineRule, HolidayCalendar, Measure, Severity
from dispatch.contracts.targets import OFFICE_HOURS, TargetSpec, default_targets
from dispatch.customers.models import Site
from dispatch.sla.calendar import CalendarError, HolidaySet, WeeklyHours, WorkingCalendar
from dispatch.sla.models import NO_DEADLINE, ClockState, SlaClock, SlaPause
from dispatch.work_orders.lifecycle import OPEN
from dispatch.work_orders.models import Status, WorkOrder, WorkOrderKind


class CalendarNotLoaded(DomainError):
    slug = "calendar-not-loaded"
    status = 422
    title = "No holiday calendar for that year"


async def _holidays(session: AsyncSession, calendar_id: Any) -> HolidaySet:
    if calendar_id is None:
        return HolidaySet.unrestricted()
    calendar = await session.get(HolidayCalendar, calendar_id)
    if calendar is None or calendar.no_public_holidays:
        return HolidaySet.unrestricted()
    return HolidaySet.from_days(calendar.years, [(d.day, d.kind.value) for d in calendar.days])


async def calendar_for(session: AsyncSession, contract: Contract | None, site: Site) -> WorkingCalendar:
    """The contract's working calendar at the site: its hours in the site's time zone, national
    holidays and make-up days, and the site's regional holidays."""
    days = await _holidays(session, contract.holiday_calendar_id if contract else None)
    if site.region_calendar_id is not None:
        days = days.merge(await _holidays(session, site.region_calendar_id))
    # 7x24 contracts still have an office calendar for their business-day rules (e.g. low severity).
    hours = contract.business_hours if contract and contract.business_hours else OFFICE_HOURS
    return WorkingCalendar.business(zones.usable(site.time_zone), WeeklyHours.from_json(hours), days)


def targets_of(contract: Contract | None) -> list[TargetSpec]:
    if contract is None:
        # No contract on file: the severity table for hardware under a 7x24 contract.
        return default_targets(CalendarKind.ALWAYS)
    return [
        TargetSpec(t.severity, t.measure, t.rule, t.minutes, t.count_mode, t.start_rule, t.cutoff)
        for t in contract.targets
    ]


@dataclass(frozen=True)
class Plan:
    """When a clock starts, how much counted time it has, and its deadline without pauses."""

    started_at: dt.datetime
    amount: dt.timedelta | None
    deadline: dt.datetime | None


def plan_clock(calendar: WorkingCalendar, spec: TargetSpec, start_from: dt.datetime) -> Plan:
    try:
        counting = calendar.for_count_mode(spec.count_mode.value)
        started = counting.clock_start(start_from, spec.start_rule.value, spec.cutoff)
        if spec.rule is DeadlineRule.SCHEDULED:
            return Plan(started, None, None)
        if spec.rule is DeadlineRule.NEXT_BUSINESS_DAY:
            close = calendar.next_business_day_close(started)
            amount = counting.counted_time(started, close)
        else:
            amount = dt.timedelta(minutes=spec.minutes or 0)
        return Plan(started, amount, counting.deadline_with_pauses(started, amount))
    except CalendarError as exc:
        raise CalendarNotLoaded(
            f"The SLA deadline cannot be computed: {exc}. Publish that year's holiday calendar first."
        ) from exc


def _target_json(spec: TargetSpec, plan: Plan) -> dict[str, Any]:
    return {
        "severity": spec.severity.value,
        "rule": spec.rule.value,
        "minutes": spec.minutes,
        "count_mode": spec.count_mode.value,
        "start_rule": spec.start_rule.value,
        "cutoff": spec.cutoff.isoformat() if spec.cutoff else None,
        "amount_seconds": plan.amount.total_seconds() if plan.amount is not None else None,
    }


async def start_clocks(
    session: AsyncSession,
    order: WorkOrder,
    contract: Contract | None,
    site: Site,
    *,
    start_from: dt.datetime,
    measures: set[Measure] | None = None,
) -> list[SlaClock]:
    """Create (or, after a severity change, re-create) the clocks of an order."""
    calendar = await calendar_for(session, contract, site)
    existing = {c.measure: c for c in order.clocks}
    created = []
    for spec in targets_of(contract):
        if spec.severity is not order.severity or (measures is not None and spec.measure not in measures):
            continue
        plan = plan_clock(calendar, spec, start_from)
        clock = existing.get(spec.measure)
        if clock is None:
            clock = SlaClock(work_order_id=order.id, measure=spec.measure)
            session.add(clock)
            order.clocks.append(clock)
        elif clock.met_at is not None:
            continue
        clock.target = _target_json(spec, plan)
        clock.started_at = plan.started_at
        clock.base_deadline = plan.deadline
        clock.deadline = plan.deadline
        clock.breached_at = None
        clock.at_risk_since = None
        created.append(clock)
    await session.flush()
    await refresh_deadlines(session, order, contract, site)
    return created


async def pauses_of(session: AsyncSession, order_id: Any) -> list[SlaPause]:
    rows = await session.execute(select(SlaPause).where(SlaPause.work_order_id == order_id))
    return list(rows.scalars())


def pause_spans(pauses: list[SlaPause], now: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """Customer-side pauses as spans; a running one counts until now (or its planned end)."""
    spans = []
    for pause in pauses:
        end = pause.ended_at or (min(pause.until, now) if pause.until else now)
        if end > pause.started_at:
            spans.append((pause.started_at, end))
    return spans


async def refresh_deadlines(
    session: AsyncSession,
    order: WorkOrder,
    contract: Contract | None,
    site: Site,
    now: dt.datetime | None = None,
) -> None:
    """Deadlines = start + counted target, not counting customer-side pauses."""
    pauses = await pauses_of(session, order.id)
    if not pauses:
        for clock in order.clocks:
            clock.deadline = clock.base_deadline
        update_due(order)
        return
    calendar = await calendar_for(session, contract, site)
    upto = now or max((p.ended_at or p.until or p.started_at) for p in pauses)
    spans = pause_spans(pauses, upto)
    for clock in order.clocks:
        amount = clock.target.get("amount_seconds")
        if amount is None:
            continue
        met_at = clock.met_at or clock.unconfirmed_at
        # A pause entered after the fact may lie before a clock was met: only the paused time
        # before the meeting counts, and whether it was a breach is decided anew.
        own = spans if met_at is None else [(s, min(e, met_at)) for s, e in spans if s < met_at]
        counting = calendar.for_count_mode(clock.target["count_mode"])
        try:
            clock.deadline = counting.deadline_with_pauses(
                clock.started_at, dt.timedelta(seconds=amount), own
            )
        except CalendarError as exc:
            raise CalendarNotLoaded(f"The SLA deadline cannot be computed: {exc}") from exc
        if met_at is not None and clock.deadline is not None:
            clock.breached_at = clock.deadline if met_at > clock.deadline else None
    update_due(order)


# An inspection order in these states no longer presses (done on site, signed, or set aside).
INSPECTION_FINISHED = frozenset({Status.RESOLVED, Status.SIGNED, Status.CLOSED, Status.CANCELLED})


def update_due(order: WorkOrder) -> None:
    """Keep the order's sort key: its nearest deadline still to meet (a restore awaiting only the
    customer's confirmation is not pressing)."""
    if order.kind is WorkOrderKind.INSPECTION:
        # No clocks: the window end set at generation is the deadline while the order is open.
        if order.status in INSPECTION_FINISHED:
            order.due_at = NO_DEADLINE
        return
    open_deadlines = [
        c.deadline
        for c in order.clocks
        if c.met_at is None and c.unconfirmed_at is None and c.deadline is not None
    ]
    order.due_at = min(open_deadlines, default=NO_DEADLINE)


def _clock(order: WorkOrder, measure: Measure) -> SlaClock | None:
    return next((c for c in order.clocks if c.measure is measure), None)


def record_restored(order: WorkOrder, at: dt.datetime) -> SlaClock | None:
    """Service was restored at `at` (the engineer's `restored_at`, a remote fix, a workaround). The
    restore target counts as met at `at` only once the customer confirms (REQUIREMENTS.md:
    restored = `restored_at` and the customer's confirmation); a restore after the deadline is a
    breach whatever the confirmation."""
    clock = _clock(order, Measure.RESTORE)
    if clock is None or clock.met_at is not None or clock.unconfirmed_at is not None:
        return None
    clock.unconfirmed_at = at
    clock.at_risk_since = None
    if clock.deadline is not None and at > clock.deadline:
        clock.breached_at = clock.breached_at or clock.deadline
    update_due(order)
    return clock


def confirm_restored(order: WorkOrder, confirmation: dict[str, Any]) -> SlaClock | None:
    """The customer confirmed the restore: the clock is met at the recorded restore time."""
    clock = _clock(order, Measure.RESTORE)
    if clock is None or clock.met_at is not None or clock.unconfirmed_at is None:
        return None
    clock.confirmation = confirmation
    return meet(order, Measure.RESTORE, clock.unconfirmed_at)


def stop_or_restart(order: WorkOrder, at: dt.datetime) -> None:
    """After a change of status: the clocks not met stop when the order is closed or cancelled,
    and run again when it is reopened (the partial index of running clocks follows)."""
    finished = order.status not in OPEN
    for clock in order.clocks:
        if clock.met_at is None and (clock.stopped_at is not None) != finished:
            clock.stopped_at = at if finished else None


def meet(order: WorkOrder, measure: Measure, at: dt.datetime) -> SlaClock | None:
    """Record that the target was met at `at` (the first time only). A late meeting is a breach too."""
    clock = _clock(order, measure)
    if clock is None or clock.met_at is not None:
        return None
    clock.met_at = at
    if clock.deadline is not None and at > clock.deadline:
        clock.breached_at = clock.breached_at or clock.deadline
    else:
        # An on-time arrival that reached us late withdraws a breach recorded meanwhile.
        clock.breached_at = None
    clock.at_risk_since = None
    update_due(order)
    return clock


def state_of(clock: SlaClock, now: dt.datetime, paused: bool) -> ClockState:
    if clock.met_at is not None:
        # Met after the deadline is still a breach.
        return ClockState.BREACHED if clock.breached_at is not None else ClockState.MET
    if clock.unconfirmed_at is not None:
        late = clock.deadline is not None and clock.unconfirmed_at > clock.deadline
        return ClockState.BREACHED if late else ClockState.AWAITING_CONFIRMATION
    if clock.deadline is None:
        return ClockState.SCHEDULED
    if clock.breached_at is not None or now > clock.deadline:
        return ClockState.BREACHED
    if paused:
        return ClockState.PAUSED
    if clock.at_risk_since is not None:
        return ClockState.AT_RISK
    return ClockState.OK


def share_used(clock: SlaClock, now: dt.datetime) -> float:
    """How much of the target is used up (0..1+), by wall time between start and deadline."""
    if clock.deadline is None or clock.deadline <= clock.started_at:
        return 0.0
    total = (clock.deadline - clock.started_at).total_seconds()
    return max(0.0, (min(now, clock.met_at or now) - clock.started_at).total_seconds() / total)


SEVERITY_WEIGHT = {Severity.CRITICAL: 8, Severity.HIGH: 4, Severity.MEDIUM: 2, Severity.LOW: 1}
