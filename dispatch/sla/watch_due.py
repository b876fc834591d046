"""Which open orders the SLA watch must act on now, found with a few queries over all of them.

A pass reads the facts of every open order at once (clocks, visits, running pauses, the breaches
and late-arrival notices already raised) without locking anything, predicts arrivals in one
travel-time matrix per set of skills, and names the orders where something is due: a pause that
ran out or is running (its deadlines move), a late engineer nobody told the customer about, a
breach not yet recorded, an at-risk flag to raise or withdraw, an escalation step reached, a sort
key to correct. Only those are then locked and evaluated (dispatch.sla.watch); for the rest the
pass stores the new predictions in one statement and touches nothing else.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import DateTime, Select, bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from core.geo import lonlat
from dispatch.contracts.models import Contract, Measure
from dispatch.customers.models import Site
from dispatch.engineers.models import Engineer
from dispatch.engineers.positions import latest_positions
from dispatch.messaging.models import Notification, OutboxMessage
from dispatch.sla.clocks import INSPECTION_FINISHED
from dispatch.sla.models import NO_DEADLINE, SlaClock, SlaPause
from dispatch.work_orders.lifecycle import OPEN
from dispatch.work_orders.models import (
    VISITS_SINCE_ORDER_MARGIN,
    Visit,
    VisitStatus,
    WorkOrder,
    WorkOrderKind,
)
from routing.travel import TravelTimeProvider

LonLat = tuple[float, float]
# Sites per travel-time matrix when predicting many arrivals (a road-time service takes tables of
# bounded size).
SITES_PER_MATRIX = 200


@dataclass(frozen=True)
class WatchSettings:
    # Predicted arrival later than deadline minus this margin: at risk.
    margin: dt.timedelta = dt.timedelta(minutes=30)
    # Unacknowledged notifications older than this go up to the supervisor.
    acknowledge_within: dt.timedelta = dt.timedelta(minutes=15)
    # An engineer this late for an appointment triggers the customer's late-arrival notice.
    late_after: dt.timedelta = dt.timedelta(minutes=15)
    # Positions older than this are not a "live" position any more.
    position_fresh_for: dt.timedelta = dt.timedelta(minutes=30)


class VisitFacts(NamedTuple):
    """What the watch reads of a visit."""

    status: VisitStatus
    arrived_at: dt.datetime | None
    planned_start: dt.datetime | None
    required_skills: dict[str, int]
    duration_minutes: int


def facts_of(visit: Visit) -> VisitFacts:
    return VisitFacts(
        visit.status, visit.arrived_at, visit.planned_start, visit.required_skills, visit.duration_minutes
    )


@dataclass
class Crew:
    """The active engineers with where each is now (live position, else home base), read once
    per pass rather than once per order."""

    engineers: list[tuple[Engineer, LonLat]]
    # The origins of the engineers qualified for each set of needs met so far.
    qualified: dict[frozenset[tuple[str, int]], list[LonLat]] = field(default_factory=dict)


async def load_crew(session: AsyncSession, now: dt.datetime, settings: WatchSettings) -> Crew:
    engineers = list((await session.execute(select(Engineer).where(Engineer.active.is_(True)))).scalars())
    if not engineers:
        return Crew([])
    live = await latest_positions(session, [e.id for e in engineers], since=now - settings.position_fresh_for)
    return Crew([(e, live.get(e.id) or lonlat(e.home_base)) for e in engineers])


def _qualified(engineer: Engineer, needs: dict[str, int], today: dt.date) -> bool:
    """Holds every needed skill at its level, not expired."""
    return all(
        any(
            s.skill == skill and s.level >= level and (s.valid_until is None or s.valid_until >= today)
            for s in engineer.skills
        )
        for skill, level in needs.items()
    )


def needs_of(visits: Sequence[VisitFacts]) -> frozenset[tuple[str, int]]:
    needs: dict[str, int] = {}
    for visit in visits:
        if visit.status is not VisitStatus.CANCELLED:
            needs.update(visit.required_skills)
    return frozenset(needs.items())


def suitable_origins(key: frozenset[tuple[str, int]], now: dt.datetime, crew: Crew) -> list[LonLat]:
    """Where the engineers who could meet these needs are now."""
    if key not in crew.qualified:
        needs = dict(key)
        crew.qualified[key] = [
            origin for engineer, origin in crew.engineers if _qualified(engineer, needs, now.date())
        ]
    return crew.qualified[key]


def known_arrival(visits: Sequence[VisitFacts], now: dt.datetime) -> dt.datetime | None:
    """The arrival the visits tell without asking where the engineers are: the first arrival
    recorded, else the earliest planned start (not before now)."""
    active = [v for v in visits if v.status not in {VisitStatus.CANCELLED, VisitStatus.DONE}]
    arrived = [v.arrived_at for v in active if v.arrived_at]
    if arrived:
        return min(arrived)
    planned = [v.planned_start for v in active if v.planned_start]
    return max(now, min(planned)) if planned else None


def repair_minutes(visits: Sequence[VisitFacts]) -> int:
    durations = [v.duration_minutes for v in visits if v.status is not VisitStatus.CANCELLED]
    return max(durations, default=120)


def predicted_for(
    measure: Measure, arrival: dt.datetime | None, now: dt.datetime, visits: Sequence[VisitFacts]
) -> dt.datetime | None:
    """When the clock's target is predicted to be met (on site: the arrival; restored: the
    arrival plus the repair); None for the other measures or without an arrival."""
    if measure is Measure.ON_SITE:
        return arrival
    if measure is Measure.RESTORE and arrival is not None:
        return max(arrival, now) + dt.timedelta(minutes=repair_minutes(visits))
    return None


def at_risk(predicted: dt.datetime | None, deadline: dt.datetime, settings: WatchSettings) -> bool:
    return predicted is not None and predicted > deadline - settings.margin


def used_share(started_at: dt.datetime, deadline: dt.datetime, now: dt.datetime) -> float:
    """How much of a clock not yet met is used up (0..1+), by wall time between start and deadline."""
    if deadline <= started_at:
        return 0.0
    return max(0.0, (now - started_at).total_seconds() / (deadline - started_at).total_seconds())


def escalation_due(level: int, used: float, escalation: Sequence[dict[str, Any]]) -> bool:
    """A step of the contract's escalation is reached and not yet raised."""
    return any(used >= float(step["share"]) and level < n for n, step in enumerate(escalation, start=1))


def late(visits: Sequence[VisitFacts], now: dt.datetime, settings: WatchSettings) -> bool:
    """An assigned engineer is late for the appointment."""
    return any(
        v.status in {VisitStatus.ASSIGNED, VisitStatus.EN_ROUTE}
        and v.planned_start is not None
        and now > v.planned_start + settings.late_after
        for v in visits
    )


class _Order(NamedTuple):
    id: uuid.UUID
    kind: WorkOrderKind
    status: Any
    due_at: dt.datetime
    place: LonLat
    escalation: list[dict[str, Any]]  # the contract's steps by share, as the watch numbers them


class _Clock(NamedTuple):
    id: uuid.UUID
    measure: Measure
    started_at: dt.datetime
    deadline: dt.datetime | None
    met_at: dt.datetime | None
    unconfirmed_at: dt.datetime | None
    breached_at: dt.datetime | None
    at_risk_since: dt.datetime | None
    predicted_at: dt.datetime | None
    escalation_level: int


@dataclass
class Scan:
    """What one pass found: the orders to lock and evaluate (most pressing first), the new
    predictions of the clocks of the others, and how many clocks it looked at."""

    due: list[uuid.UUID] = field(default_factory=list)
    predictions: dict[uuid.UUID, dt.datetime | None] = field(default_factory=dict)
    evaluated: int = 0
    crew: Crew | None = None


@dataclass
class _Facts:
    orders: list[_Order]
    clocks: dict[uuid.UUID, list[_Clock]]
    visits: dict[uuid.UUID, list[VisitFacts]]
    # Orders with a running pause (one that ran out resumes when evaluated).
    paused: set[uuid.UUID]
    breaches: set[str]


def _open(stmt: Select[Any], order_ids: Sequence[uuid.UUID] | None) -> Select[Any]:
    """Restricted to the live open orders (imported history is a record, not live work)."""
    stmt = stmt.where(WorkOrder.status.in_(OPEN), WorkOrder.imported.is_(False))
    return stmt if order_ids is None else stmt.where(WorkOrder.id.in_(order_ids))


def _of_open(order_key: Any, columns: Sequence[Any], order_ids: Sequence[uuid.UUID] | None) -> Select[Any]:
    """`columns` of the rows that belong to open orders by `order_key`."""
    return _open(select(order_key, *columns).join(WorkOrder, WorkOrder.id == order_key), order_ids)


_CLOCK_FACTS = (
    SlaClock.id, SlaClock.measure, SlaClock.started_at, SlaClock.deadline, SlaClock.met_at,
    SlaClock.unconfirmed_at, SlaClock.breached_at, SlaClock.at_risk_since, SlaClock.predicted_at,
    SlaClock.escalation_level,
)  # fmt: skip
_VISIT_FACTS = (
    Visit.status, Visit.arrived_at, Visit.planned_start, Visit.required_skills, Visit.duration_minutes
)  # fmt: skip
_ORDER_FACTS = (
    WorkOrder.kind, WorkOrder.status, WorkOrder.due_at, Site.point, Contract.escalation, WorkOrder.created_at
)  # fmt: skip


def _share(step: dict[str, Any]) -> float:
    return float(step["share"])


def _running_clocks(order_ids: Sequence[uuid.UUID] | None) -> Select[Any]:
    """The open orders' running clocks (a met clock has nothing left to watch; a closed or
    cancelled order's are stopped): the whole partial index `ix_sla_clock_running` read once
    (MATERIALIZED) and hashed against the open orders. Joined in one plan, the planner looked each
    open order up in an index, three pages per order, where the running clocks are a few pages of
    the index and those of their rows."""
    running = select(SlaClock.work_order_id, *_CLOCK_FACTS).where(
        SlaClock.met_at.is_(None), SlaClock.stopped_at.is_(None)
    )
    if order_ids is not None:
        running = running.where(SlaClock.work_order_id.in_(order_ids))
    rows = running.cte("running_clock").prefix_with("MATERIALIZED")
    return _open(select(*rows.c).join(WorkOrder, WorkOrder.id == rows.c.work_order_id), order_ids)


async def _read(session: AsyncSession, order_ids: Sequence[uuid.UUID] | None) -> _Facts:
    """Every open order's facts, one query per kind of row."""
    order_rows = await session.execute(
        _open(
            select(WorkOrder.id, *_ORDER_FACTS)
            .join(Site, Site.id == WorkOrder.site_id)
            .outerjoin(Contract, Contract.id == WorkOrder.contract_id),
            order_ids,
        ).order_by(WorkOrder.due_at, WorkOrder.id)
    )
    orders: list[_Order] = []
    oldest: dt.datetime | None = None
    for i, kind, status, due, point, esc, created in order_rows:
        orders.append(_Order(i, kind, status, due, lonlat(point), sorted(esc or [], key=_share)))
        oldest = created if oldest is None else min(oldest, created)
    clocks: dict[uuid.UUID, list[_Clock]] = {}
    for order_id, *clock in await session.execute(_running_clocks(order_ids)):
        clocks.setdefault(order_id, []).append(_Clock(*clock))
    visits: dict[uuid.UUID, list[VisitFacts]] = {}
    if oldest is not None:
        # The open orders' visits are among those written since the oldest of them was: a range of
        # `ix_visit_created_at` as long as the open work is old, not as the history.
        since = Visit.created_at >= oldest - VISITS_SINCE_ORDER_MARGIN
        for order_id, *visit in await session.execute(
            _of_open(Visit.work_order_id, _VISIT_FACTS, order_ids).where(since)
        ):
            visits.setdefault(order_id, []).append(VisitFacts(*visit))
    pauses = _open(
        select(SlaPause.work_order_id).join(WorkOrder, WorkOrder.id == SlaPause.work_order_id), order_ids
    )
    paused = set((await session.execute(pauses.where(SlaPause.ended_at.is_(None)))).scalars())
    return _Facts(orders, clocks, visits, paused, await _breaches_since(session, clocks))


async def _breaches_since(session: AsyncSession, clocks: dict[uuid.UUID, list[_Clock]]) -> set[str]:
    """The dedupe keys of the breach notifications raised since the earliest of these clocks
    started: a breach is raised after its clock's deadline, which is after the clock started, so
    that range holds every breach of these orders (and a few of orders closed since, which no key
    of an open order matches). A range of `ix_notification_breach`, where a join to the open
    orders read every breach notification ever raised."""
    started = [c.started_at for order_clocks in clocks.values() for c in order_clocks]
    if not started:
        return set()
    keys = select(Notification.dedupe_key).where(
        Notification.kind == "breach", Notification.created_at >= min(started)
    )
    return set((await session.execute(keys)).scalars())


async def _arrivals(
    session: AsyncSession,
    facts: _Facts,
    now: dt.datetime,
    travel: TravelTimeProvider,
    settings: WatchSettings,
    scan: Scan,
) -> dict[uuid.UUID, dt.datetime | None]:
    """Every open order's predicted arrival; those predicted from where the engineers are, in
    one travel-time matrix per set of needed skills."""
    arrivals: dict[uuid.UUID, dt.datetime | None] = {}
    wanting: dict[frozenset[tuple[str, int]], list[_Order]] = {}
    for order in facts.orders:
        visits = facts.visits.get(order.id, [])
        arrivals[order.id] = known_arrival(visits, now)
        if arrivals[order.id] is None:
            wanting.setdefault(needs_of(visits), []).append(order)
    if wanting and scan.crew is None:
        scan.crew = await load_crew(session, now, settings)
    for key, orders in wanting.items():
        assert scan.crew is not None
        origins = suitable_origins(key, now, scan.crew)
        if not origins:
            continue
        for start in range(0, len(orders), SITES_PER_MATRIX):
            chunk = orders[start : start + SITES_PER_MATRIX]
            seconds = travel.matrix(origins, [o.place for o in chunk]).min(axis=0)
            for order, s in zip(chunk, seconds, strict=True):
                arrivals[order.id] = now + dt.timedelta(seconds=float(s))
    return arrivals


class _Look(NamedTuple):
    """One order looked at: whether evaluating it would change more than its predictions, whether
    its engineer is late, its clocks' new predictions and how many clocks it looked at."""

    changes: bool
    late: bool
    predictions: dict[uuid.UUID, dt.datetime | None]
    evaluated: int


def _look(
    order: _Order, facts: _Facts, arrival: dt.datetime | None, now: dt.datetime, settings: WatchSettings
) -> _Look:
    """What evaluating the order (dispatch.sla.watch.evaluate_order) would do to it."""
    visits = facts.visits.get(order.id, [])
    clocks = facts.clocks.get(order.id, [])
    predictions: dict[uuid.UUID, dt.datetime | None] = {}
    # A pause that ran out resumes; a running one moves the deadlines.
    changes, evaluated = order.id in facts.paused, 0
    for clock in clocks:
        if clock.met_at is not None or clock.deadline is None:
            continue
        if clock.unconfirmed_at is not None and clock.unconfirmed_at <= clock.deadline:
            continue
        evaluated += 1
        if now > clock.deadline:
            key = f"{order.id}:{clock.measure.value}:breach"
            changes |= clock.breached_at is None or key not in facts.breaches
            continue
        predicted = predicted_for(clock.measure, arrival, now, visits)
        if predicted != clock.predicted_at:
            predictions[clock.id] = predicted
        changes |= at_risk(predicted, clock.deadline, settings) != (clock.at_risk_since is not None)
        used = used_share(clock.started_at, clock.deadline, now)
        changes |= escalation_due(clock.escalation_level, used, order.escalation)
    changes |= _due_at(order, clocks) != order.due_at
    return _Look(changes, late(visits, now, settings), predictions, evaluated)


def _due_at(order: _Order, clocks: Sequence[_Clock]) -> dt.datetime:
    """The order's sort key as dispatch.sla.clocks.update_due keeps it."""
    if order.kind is WorkOrderKind.INSPECTION:
        return NO_DEADLINE if order.status in INSPECTION_FINISHED else order.due_at
    return min(
        (
            c.deadline
            for c in clocks
            if c.met_at is None and c.unconfirmed_at is None and c.deadline is not None
        ),
        default=NO_DEADLINE,
    )


async def _told_late(session: AsyncSession, order_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Of these orders, those whose customer got the late-arrival notice (once per order)."""
    if not order_ids:
        return set()
    keys = {f"late:{o}": o for o in order_ids}
    rows = await session.execute(select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(keys)))
    return {keys[k] for k in rows.scalars()}


async def scan(
    session: AsyncSession,
    now: dt.datetime,
    travel: TravelTimeProvider,
    settings: WatchSettings,
    order_ids: Sequence[uuid.UUID] | None = None,
) -> Scan:
    """The open orders (or the given ones) with something due now; nothing is locked."""
    found = Scan()
    facts = await _read(session, order_ids)
    arrivals = await _arrivals(session, facts, now, travel, settings, found)
    looks = {o.id: _look(o, facts, arrivals[o.id], now, settings) for o in facts.orders}
    told = await _told_late(session, [o for o, look in looks.items() if look.late and not look.changes])
    for order in facts.orders:
        look = looks[order.id]
        if look.changes or (look.late and order.id not in told):
            found.due.append(order.id)  # its clocks are counted when it is evaluated
        else:
            found.predictions.update(look.predictions)
            found.evaluated += look.evaluated
    return found


_STORE_PREDICTIONS = text(
    """
    UPDATE sla_clock SET predicted_at = given.predicted
    FROM unnest(:ids, :predicted) AS given (id, predicted)
    WHERE sla_clock.id = given.id
      AND sla_clock.id IN (SELECT id FROM sla_clock WHERE id = ANY(:ids) FOR UPDATE SKIP LOCKED)
    """
).bindparams(
    bindparam("ids", type_=ARRAY(UUID(as_uuid=True))),
    bindparam("predicted", type_=ARRAY(DateTime(timezone=True))),
)


async def store_predictions(session: AsyncSession, predictions: dict[uuid.UUID, dt.datetime | None]) -> None:
    """The new predictions of clocks nothing else changed on, in one statement; a clock whose row
    someone holds keeps its old prediction until the next pass."""
    if predictions:
        await session.execute(
            _STORE_PREDICTIONS, {"ids": list(predictions), "predicted": list(predictions.values())}
        )
