"""The SLA watch: re-evaluates open clocks, raises at-risk, breach and escalation notifications.

A clock is at risk when the predicted arrival (or finish) passes its deadline minus a
safety margin. The prediction comes from the assigned visit's planned start when
there is one, else from now plus the travel time of the nearest suitable engineer
(latest position on shift, else home base), by the travel-time provider of `routing`.
The restore clock going at risk raises the "backup device needed" signal.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import audit, zones
from core.geo import lonlat
from core.identity.roles import SYSTEM
from dispatch.contracts.models import Contract, Measure
from dispatch.customers.models import Site
from dispatch.flows import backup as backup_flow
from dispatch.messaging.customer_messages import late_arrival_notice
from dispatch.messaging.models import Notification
from dispatch.messaging.notifications import notify
from dispatch.sla.clocks import refresh_deadlines, share_used, update_due
from dispatch.sla.confirmation import confirm_by_default
from dispatch.sla.models import SlaClock, SlaPause
from dispatch.sla.watch_due import (
    Crew,
    WatchSettings,
    at_risk,
    facts_of,
    known_arrival,
    late,
    load_crew,
    needs_of,
    predicted_for,
    scan,
    store_predictions,
    suitable_origins,
)
from dispatch.work_orders.lifecycle import OPEN
from dispatch.work_orders.models import WorkOrder
from dispatch.work_orders.service import resume
from routing.travel import HaversineTravelTime, TravelTimeProvider

MEASURE_NAMES = {
    Measure.RESPONSE: "first response",
    Measure.ON_SITE: "on site",
    Measure.RESTORE: "service restored",
    Measure.PERMANENT_FIX: "permanent fix",
}


@dataclass
class WatchReport:
    evaluated: int = 0
    notifications: list[str] = field(default_factory=list)


async def predict_arrival(
    session: AsyncSession,
    order: WorkOrder,
    site: Site,
    now: dt.datetime,
    travel: TravelTimeProvider,
    settings: WatchSettings,
    batch: _Batch | None = None,
) -> dt.datetime | None:
    visits = [facts_of(v) for v in order.visits]
    known = known_arrival(visits, now)
    if known is not None:
        return known
    batch = batch or _Batch({}, {}, set(), {})
    if batch.crew is None:
        batch.crew = await load_crew(session, now, settings)
    origins = suitable_origins(needs_of(visits), now, batch.crew)
    if not origins:
        return None
    seconds = travel.matrix(origins, [lonlat(site.point)])[:, 0]
    return now + dt.timedelta(seconds=float(seconds.min()))


@dataclass
class _Batch:
    """The sites, contracts and open pauses of the orders one sweep evaluates, read at once; the
    engineers when the first order needs a prediction from where they are."""

    sites: dict[uuid.UUID, Site]
    contracts: dict[uuid.UUID, Contract]
    # Orders with a running pause, and of those the pauses that ran until a time now past.
    paused: set[uuid.UUID]
    pause_ended: dict[uuid.UUID, dt.datetime]
    # The dedupe keys of the breach notifications already raised for these orders: a breach stays
    # a breach on every later pass, and asking the database again each time is a round trip and
    # a flush per clock.
    breaches_raised: set[str] = field(default_factory=set)
    crew: Crew | None = None


async def _load_batch(session: AsyncSession, orders: Sequence[WorkOrder], now: dt.datetime) -> _Batch:
    site_ids = {o.site_id for o in orders}
    contract_ids = {o.contract_id for o in orders if o.contract_id}
    order_ids = [o.id for o in orders]
    sites = (await session.execute(select(Site).where(Site.id.in_(site_ids)))).scalars()
    contracts = (await session.execute(select(Contract).where(Contract.id.in_(contract_ids)))).scalars()
    pauses = await session.execute(
        select(SlaPause.work_order_id, SlaPause.until)
        .where(SlaPause.work_order_id.in_(order_ids), SlaPause.ended_at.is_(None))
        .order_by(SlaPause.until)
    )
    paused: set[uuid.UUID] = set()
    pause_ended: dict[uuid.UUID, dt.datetime] = {}
    for order_id, until in pauses:
        paused.add(order_id)
        if until is not None and until <= now:
            pause_ended.setdefault(order_id, until)
    raised = await session.execute(
        select(Notification.dedupe_key).where(
            Notification.work_order_id.in_(order_ids), Notification.kind == "breach"
        )
    )
    return _Batch(
        {s.id: s for s in sites}, {c.id: c for c in contracts}, paused, pause_ended, set(raised.scalars())
    )


async def evaluate_order(
    session: AsyncSession,
    order: WorkOrder,
    now: dt.datetime,
    travel: TravelTimeProvider,
    settings: WatchSettings,
    report: WatchReport,
    batch: _Batch | None = None,
) -> None:
    """Re-evaluate one open order's clocks: resume a pause that ran out, tell the customer when
    the engineer is late, then per clock raise breach, at-risk (and backup needed) and escalation."""
    batch = batch or await _load_batch(session, [order], now)
    site = batch.sites[order.site_id]
    contract = batch.contracts.get(order.contract_id) if order.contract_id else None
    paused = order.id in batch.paused
    until = batch.pause_ended.get(order.id)
    if until is not None:
        # The pause ran until a given time: the clocks resumed by themselves then (every open
        # pause of the order ends).
        await resume(session, SYSTEM, now, order, at=until)
        paused = False
    if paused:
        await refresh_deadlines(session, order, contract, site, now)
    arrival = await predict_arrival(session, order, site, now, travel, settings, batch)
    await _late_notice(session, order, now, arrival, site, settings)
    escalation = sorted(contract.escalation if contract else [], key=lambda e: float(e["share"]))
    for clock in order.clocks:
        if clock.met_at is not None or clock.deadline is None:
            continue
        if clock.unconfirmed_at is not None and clock.unconfirmed_at <= clock.deadline:
            # Restored in time, awaiting only the customer's confirmation: nothing to warn about.
            continue
        report.evaluated += 1
        if now > clock.deadline:
            await _breach(session, order, clock, now, site.time_zone, report, batch.breaches_raised)
        elif not paused:
            await _at_risk(
                session, order, clock, clock.deadline, now, arrival, site.time_zone, travel, settings, report
            )
            await _escalate(session, order, clock, now, escalation)
    update_due(order)


async def _late_notice(
    session: AsyncSession,
    order: WorkOrder,
    now: dt.datetime,
    arrival: dt.datetime | None,
    site: Site,
    settings: WatchSettings,
) -> None:
    if late([facts_of(v) for v in order.visits], now, settings):
        # Late for the appointment: tell the customer and apologise (once per work order).
        await late_arrival_notice(session, now, order, arrival, site.time_zone)


async def _breach(
    session: AsyncSession,
    order: WorkOrder,
    clock: SlaClock,
    now: dt.datetime,
    tz: str,
    report: WatchReport,
    raised: set[str],
) -> None:
    assert clock.deadline is not None
    deadline = clock.deadline
    if clock.breached_at is None:
        clock.breached_at = deadline
    key = f"{order.id}:{clock.measure.value}:breach"
    if key in raised:
        return
    raised.add(key)
    if await notify(
        session,
        now,
        kind="breach",
        audience="dispatcher",
        order_id=order.id,
        message=f"{order.problem_number}: {MEASURE_NAMES[clock.measure]} target missed (deadline "
        f"{zones.local_minute(deadline, tz)})",
        dedupe_key=key,
        data={"measure": clock.measure.value, "deadline": deadline.isoformat(), "time_zone": tz},
    ):
        report.notifications.append(f"breach {order.problem_number} {clock.measure.value}")


async def _at_risk(
    session: AsyncSession,
    order: WorkOrder,
    clock: SlaClock,
    deadline: dt.datetime,
    now: dt.datetime,
    arrival: dt.datetime | None,
    tz: str,
    travel: TravelTimeProvider,
    settings: WatchSettings,
    report: WatchReport,
) -> None:
    """Predict when the clock's target is met; raise at-risk once, and for the restore clock
    the backup-needed signal (which proposes a backup loan)."""
    predicted = predicted_for(clock.measure, arrival, now, [facts_of(v) for v in order.visits])
    clock.predicted_at = predicted
    if not at_risk(predicted, deadline, settings):
        clock.at_risk_since = None
        return
    if clock.at_risk_since is not None:
        return
    clock.at_risk_since = now
    eta = zones.local_minute(predicted, tz) if predicted else "unknown"
    if await notify(
        session,
        now,
        kind="at_risk",
        audience="dispatcher",
        order_id=order.id,
        message=f"{order.problem_number}: {MEASURE_NAMES[clock.measure]} at risk — predicted {eta}, "
        f"deadline {zones.local_minute(deadline, tz)}",
        dedupe_key=f"{order.id}:{clock.measure.value}:at_risk",
        data={
            "measure": clock.measure.value,
            "predicted": predicted.isoformat() if predicted else None,
            "deadline": deadline.isoformat(),
            "time_zone": tz,
        },
    ):
        report.notifications.append(f"at_risk {order.problem_number} {clock.measure.value}")
    if clock.measure is Measure.RESTORE and not order.backup_needed:
        order.backup_needed = True
        await notify(
            session,
            now,
            kind="backup_needed",
            audience="warehouse",
            order_id=order.id,
            message=f"{order.problem_number}: restoration by {zones.local_minute(deadline, tz)} is "
            "unlikely — prepare a backup device",
            dedupe_key=f"{order.id}:backup",
        )
        await backup_flow.on_restore_at_risk(session, order, now, travel)


async def _escalate(
    session: AsyncSession,
    order: WorkOrder,
    clock: SlaClock,
    now: dt.datetime,
    escalation: Sequence[dict[str, Any]],
) -> None:
    """Each step of the contract's escalation whose share of the target is used, once."""
    used = share_used(clock, now)
    for level, step in enumerate(escalation, start=1):
        share = float(step["share"])
        if used >= share and clock.escalation_level < level:
            clock.escalation_level = level
            await notify(
                session,
                now,
                kind="escalation",
                audience=str(step["notify"]),
                order_id=order.id,
                message=f"{order.problem_number}: {int(share * 100)} % of the "
                f"{MEASURE_NAMES[clock.measure]} target used",
                dedupe_key=f"{order.id}:{clock.measure.value}:escalation:{level}",
                data={"share": step["share"], "inform_customer": bool(step.get("inform_customer"))},
            )


async def escalate_unacknowledged(session: AsyncSession, now: dt.datetime, settings: WatchSettings) -> int:
    rows = await session.execute(
        select(Notification).where(
            Notification.acknowledged_at.is_(None),
            Notification.escalated_at.is_(None),
            Notification.audience == "dispatcher",
            Notification.created_at <= now - settings.acknowledge_within,
        )
    )
    count = 0
    for notification in rows.scalars():
        notification.escalated_at = now
        count += await notify(
            session,
            now,
            kind="unacknowledged",
            audience="supervisor",
            order_id=notification.work_order_id,
            message=f"Not acknowledged for {settings.acknowledge_within}: {notification.message}",
            dedupe_key=f"{notification.id}:unacknowledged",
        )
    return count


# Orders locked and evaluated per transaction when a pass runs in short transactions.
BATCH = 50

# Runs one step of a pass in a transaction: the caller's, or a short one of its own.
Step = Callable[[Callable[[AsyncSession], Awaitable[None]]], Awaitable[None]]


async def _evaluate_due(
    session: AsyncSession,
    order_ids: Sequence[uuid.UUID],
    now: dt.datetime,
    travel: TravelTimeProvider,
    settings: WatchSettings,
    report: WatchReport,
    crew: Crew | None,
) -> None:
    """Lock the orders nobody else holds (SKIP LOCKED), read them afresh and evaluate them, most
    pressing first."""
    rows = await session.execute(
        select(WorkOrder)
        .where(WorkOrder.id.in_(order_ids), WorkOrder.status.in_(OPEN), WorkOrder.imported.is_(False))
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    locked = {order.id: order for order in rows.scalars()}
    orders = [locked[i] for i in order_ids if i in locked]
    batch = await _load_batch(session, orders, now)
    batch.crew = crew
    for order in orders:
        await evaluate_order(session, order, now, travel, settings, report, batch)
    await session.flush()


async def _pass(
    session: AsyncSession,
    step: Step,
    now: dt.datetime,
    travel: TravelTimeProvider,
    settings: WatchSettings,
    order_ids: Sequence[uuid.UUID] | None,
) -> WatchReport:
    """One pass: `session` holds the pass's lock and reads; every write goes through `step`."""
    report = WatchReport()
    got_lock = (
        await session.execute(text("SELECT pg_try_advisory_xact_lock(hashtext('sla-watch'))"))
    ).scalar()
    if not got_lock:
        return report

    async def confirm(s: AsyncSession) -> None:
        await confirm_by_default(s, now)

    await step(confirm)
    found = await scan(session, now, travel, settings, order_ids)
    report.evaluated = found.evaluated
    for start in range(0, len(found.due), BATCH):
        chunk = found.due[start : start + BATCH]

        async def evaluate(s: AsyncSession, chunk: Sequence[uuid.UUID] = chunk) -> None:
            await _evaluate_due(s, chunk, now, travel, settings, report, found.crew)

        await step(evaluate)

    async def finish(s: AsyncSession) -> None:
        await store_predictions(s, found.predictions)
        await escalate_unacknowledged(s, now, settings)
        await s.flush()

    await step(finish)
    return report


async def sweep(
    session: AsyncSession,
    now: dt.datetime,
    travel: TravelTimeProvider | None = None,
    settings: WatchSettings | None = None,
    order_ids: Sequence[uuid.UUID] | None = None,
) -> WatchReport:
    """One pass over the open work orders (or the given ones) in the caller's transaction. One
    process at a time does it. Only the orders with something due are locked and evaluated."""

    async def here(work: Callable[[AsyncSession], Awaitable[None]]) -> None:
        await work(session)

    return await _pass(
        session, here, now, travel or HaversineTravelTime(), settings or WatchSettings(), order_ids
    )


async def sweep_in_transactions(
    sessionmaker: async_sessionmaker[AsyncSession],
    now: dt.datetime,
    travel: TravelTimeProvider | None = None,
    settings: WatchSettings | None = None,
) -> WatchReport:
    """The same pass with every write in a short transaction of its own (orders locked a batch at
    a time), so that a dispatcher's edit never waits for the whole pass; each transaction leaves
    its audit row."""

    async def own_transaction(work: Callable[[AsyncSession], Awaitable[None]]) -> None:
        async with sessionmaker() as session, session.begin():
            await work(session)
            audit.write_trail(
                session.sync_session, action="worker.sla_watch", actor=SYSTEM, request_id=None, always=False
            )

    async with sessionmaker() as session, session.begin():
        return await _pass(
            session, own_transaction, now, travel or HaversineTravelTime(), settings or WatchSettings(), None
        )
