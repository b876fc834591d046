"""The dispatcher's board: each engineer's days (shifts, standby, absences, the visits given to
them with the drive before each, the pick-ups of parts on the way) and the queue of visits nobody
has yet, nearest deadline first.

Days are local days in the board's time zone; visits show where they are planned, or where they
actually happened once the engineer got there. A pick-up shows at the time the applied plan gave
it; one held by hand or by emergency insertion just before the visit, a drive away from the site.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import zones
from core.geo import lonlat
from dispatch.customers.models import Customer, Site
from dispatch.engineers.absences import absences_of
from dispatch.engineers.positions import latest_positions
from dispatch.planning.models import Plan, PlanStatus
from dispatch.planning.problem import LIVE_POSITION_AGE, engineer_rows, shift_windows
from dispatch.sla.clocks import state_of
from dispatch.sla.models import ClockState, SlaClock
from dispatch.work_orders.lifecycle import OPEN
from dispatch.work_orders.models import Visit, VisitStatus, WorkOrder
from dispatch.work_orders.queries import paused_orders
from inventory.models import Location, LocationKind, Reservation, ReservationStatus
from routing.geo import Point
from routing.model import Warehouse
from routing.travel import HaversineTravelTime, TravelTimeProvider

# The order a clock's states are shown in a bar's colour: the worst running one wins.
WORST_FIRST = [
    ClockState.BREACHED,
    ClockState.AT_RISK,
    ClockState.PAUSED,
    ClockState.OK,
    ClockState.SCHEDULED,
    ClockState.AWAITING_CONFIRMATION,
    ClockState.MET,
]
# A pick-up's time at the warehouse counter (the routing model's default).
PICKUP_TIME = dt.timedelta(seconds=Warehouse("", (0.0, 0.0), frozenset()).pickup_s)
# Applied plans read for pick-up times: the newest few made around the board's days.
PLANS_LOOK_BACK = dt.timedelta(days=3)
PLANS_READ = 20
ON_THE_BOARD = [VisitStatus.ASSIGNED, VisitStatus.EN_ROUTE, VisitStatus.ON_SITE, VisitStatus.DONE]


class BoardVisit(msgspec.Struct):
    visit_id: uuid.UUID
    work_order_id: uuid.UUID
    problem_number: str
    customer: str
    site: str
    severity: str
    status: str
    start: dt.datetime
    end: dt.datetime
    # The drive into it from the previous visit (or from where the engineer is, or home).
    travel_minutes: float
    pinned: bool
    sla_state: str
    deadline: dt.datetime | None
    # For a move by hand (`PUT /api/visits/{id}/assignment` checks it).
    version: int = 0
    # A joint visit: the other engineer on it (its bar is on both rows).
    partner_engineer_id: uuid.UUID | None = None
    # The warehouse holding parts for it: the engineer stops there on the way.
    parts_held_at: str | None = None


class BoardAbsence(msgspec.Struct):
    absence_id: uuid.UUID
    kind: str
    start: dt.datetime
    end: dt.datetime
    note: str | None
    version: int


class BoardPickup(msgspec.Struct):
    """A stop at a warehouse on the way to a visit, to collect the parts held there for it."""

    visit_id: uuid.UUID
    problem_number: str
    warehouse: str
    start: dt.datetime
    end: dt.datetime


class EngineerRow(msgspec.Struct):
    engineer_id: uuid.UUID
    name: str
    username: str
    shifts: list[tuple[dt.datetime, dt.datetime]]
    on_call: list[tuple[dt.datetime, dt.datetime]]
    # [longitude, latitude] and when, while fresh (the last 30 minutes).
    position: tuple[float, float] | None
    visits: list[BoardVisit] = msgspec.field(default_factory=list)
    absences: list[BoardAbsence] = msgspec.field(default_factory=list)
    pickups: list[BoardPickup] = msgspec.field(default_factory=list)


class QueuedVisit(msgspec.Struct):
    visit_id: uuid.UUID
    work_order_id: uuid.UUID
    problem_number: str
    customer: str
    site: str
    severity: str
    duration_minutes: int
    people_needed: int
    required_skills: dict[str, int]
    sla_state: str
    deadline: dt.datetime | None
    version: int


class Board(msgspec.Struct):
    time_zone: str
    start: dt.datetime
    end: dt.datetime
    engineers: list[EngineerRow]
    unassigned: list[QueuedVisit]


@dataclass
class _Orders:
    """What the bars and cards say about their work orders."""

    orders: dict[uuid.UUID, WorkOrder]
    names: dict[uuid.UUID, tuple[str, str, Point]]  # order -> (customer, site, site point)
    states: dict[uuid.UUID, tuple[str, dt.datetime | None]]  # order -> (worst state, due)


async def board(
    session: AsyncSession,
    now: dt.datetime,
    first_day: dt.date,
    days: int,
    time_zone: str,
    travel: TravelTimeProvider | None = None,
) -> Board:
    tz = zones.zone(time_zone)
    start = dt.datetime.combine(first_day, dt.time(0), tz)
    end = dt.datetime.combine(first_day + dt.timedelta(days=days), dt.time(0), tz)
    # The same engineers a plan routes, by the names the desk knows them by.
    engineers = sorted(await engineer_rows(session, None), key=lambda row: (row[2], row[1]))
    visits = await _visits(session, start, end)
    orders = await _orders(session, now, {v.work_order_id for v in visits})
    held_points = await _held_at(session, [v.id for v in visits])
    held = {visit_id: name for visit_id, (name, _) in held_points.items()}
    live = await latest_positions(session, [e.id for e, _, _ in engineers], since=now - LIVE_POSITION_AGE)
    away = await absences_of(session, [e.id for e, _, _ in engineers], start, end)
    planned_pickups = await _planned_pickups(session, start, end)
    travel = travel or HaversineTravelTime()
    rows = []
    for engineer, username, display_name in engineers:
        horizon = (end - start).total_seconds()
        row = EngineerRow(
            engineer.id,
            display_name,
            username,
            _times(start, shift_windows(engineer, start, horizon)),
            _times(start, shift_windows(engineer, start, horizon, on_call=True)),
            live.get(engineer.id),
        )
        theirs = [v for v in visits if engineer.id in (v.engineer_id, v.partner_engineer_id)]
        origin = live.get(engineer.id) or lonlat(engineer.home_base)
        row.visits = _bars(theirs, engineer.id, orders, origin, travel)
        for bar in row.visits:
            bar.parts_held_at = held.get(bar.visit_id)
        row.absences = [
            BoardAbsence(a.id, a.kind.value, a.starts_at, a.ends_at, a.note, a.version)
            for a in away.get(engineer.id, [])
        ]
        primary = {v.id: v.engineer_id for v in theirs}
        row.pickups = _pickups(row, engineer.id, planned_pickups, held_points, orders, travel, primary)
        rows.append(row)
    queue = [_queued(v, orders) for v in visits if v.status is VisitStatus.PLANNED]
    queue.sort(key=lambda q: (q.deadline is None, q.deadline or end, q.problem_number))
    return Board(zones.usable(time_zone), start, end, rows, queue)


def _times(
    origin: dt.datetime, windows: Sequence[tuple[float, float]]
) -> list[tuple[dt.datetime, dt.datetime]]:
    return [(origin + dt.timedelta(seconds=a), origin + dt.timedelta(seconds=b)) for a, b in windows]


async def _visits(session: AsyncSession, start: dt.datetime, end: dt.datetime) -> list[Visit]:
    """Visits on the board's days (planned, or happened, then) and every visit of an open order
    that nobody has yet."""
    when = Visit.planned_start
    on_board = Visit.status.in_(ON_THE_BOARD) & or_(
        when.between(start, end), Visit.arrived_at.between(start, end)
    )
    queued = (Visit.status == VisitStatus.PLANNED) & WorkOrder.status.in_(OPEN)
    rows = await session.execute(
        select(Visit).join(WorkOrder, WorkOrder.id == Visit.work_order_id).where(on_board | queued)
    )
    return list(rows.scalars())


async def _held_at(
    session: AsyncSession, visit_ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, Point | None]]:
    """Visit -> the warehouse where parts are held for it (a pick-up on the way), and where it is."""
    rows = await session.execute(
        select(Reservation.visit_id, Location.name, Location.point)
        .join(Location, Location.id == Reservation.location_id)
        .where(
            Reservation.visit_id.in_(visit_ids),
            Reservation.status == ReservationStatus.ACTIVE,
            Location.kind == LocationKind.WAREHOUSE,
        )
        .order_by(Location.name)
    )
    return {
        visit_id: (name, lonlat(point) if point is not None else None)
        for visit_id, name, point in rows
        if visit_id is not None
    }


async def _planned_pickups(
    session: AsyncSession, start: dt.datetime, end: dt.datetime
) -> dict[tuple[str, str], dict[str, Any]]:
    """(engineer id, visit id) -> the pick-up stop of the newest applied route that has one, with
    the start the plan gave the visit after it (a visit moved since has lost that pick-up time)."""
    plans = await session.execute(
        select(Plan.result)
        .where(
            Plan.status.in_([PlanStatus.DONE, PlanStatus.APPLIED]),
            Plan.origin < end,
            Plan.origin > start - PLANS_LOOK_BACK,
            Plan.result.is_not(None),
        )
        .order_by(Plan.finished_at.desc().nulls_last())
        .limit(PLANS_READ)
    )
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for (result,) in plans:
        applied = set(result.get("applied_engineers", []))
        for route in result.get("routes", []):
            if route.get("engineer_id") not in applied:
                continue
            stops = route.get("stops", [])
            for pickup, after in itertools.pairwise(stops):
                if pickup.get("kind") == "pickup" and after.get("visit_id") == pickup.get("visit_id"):
                    key = (route["engineer_id"], pickup["visit_id"])
                    found.setdefault(key, {**pickup, "visit_start": after.get("start")})
    return found


def _pickups(
    row: EngineerRow,
    engineer_id: uuid.UUID,
    planned: dict[tuple[str, str], dict[str, Any]],
    held: dict[uuid.UUID, tuple[str, Point | None]],
    orders: _Orders,
    travel: TravelTimeProvider,
    primary: dict[uuid.UUID, uuid.UUID | None],
) -> list[BoardPickup]:
    """The engineer's stops at warehouses for the parts of their visits on the board."""
    out = []
    for bar in row.visits:
        if bar.visit_id not in held or bar.status not in {"assigned", "en_route"}:
            continue
        name, point = held[bar.visit_id]
        stop = planned.get((str(engineer_id), str(bar.visit_id)))
        if stop is not None and stop.get("visit_start") and _same(stop["visit_start"], bar.start):
            begin, finish = dt.datetime.fromisoformat(stop["start"]), dt.datetime.fromisoformat(stop["end"])
        elif point is not None and primary.get(bar.visit_id) == engineer_id:
            # Held by hand or by emergency insertion: at the counter just before the drive to the
            # site, on the row of the visit's first engineer.
            site = orders.names[bar.work_order_id][2]
            drive = dt.timedelta(seconds=float(travel.matrix([point], [site])[0, 0]))
            finish = bar.start - drive
            begin = finish - PICKUP_TIME
        else:
            continue
        out.append(BoardPickup(bar.visit_id, bar.problem_number, name, begin, finish))
    return out


def _same(iso: str, at: dt.datetime) -> bool:
    return abs((dt.datetime.fromisoformat(iso) - at).total_seconds()) < 60


async def _orders(session: AsyncSession, now: dt.datetime, ids: set[uuid.UUID]) -> _Orders:
    rows = await session.execute(
        select(WorkOrder, Customer.name, Site.name, Site.point)
        .join(Site, Site.id == WorkOrder.site_id)
        .join(Customer, Customer.id == WorkOrder.customer_id)
        .where(WorkOrder.id.in_(ids))
    )
    orders, names = {}, {}
    for order, customer, site, point in rows:
        orders[order.id] = order
        names[order.id] = (customer, site, lonlat(point))
    paused = await paused_orders(session, list(ids))
    clocks = (await session.execute(select(SlaClock).where(SlaClock.work_order_id.in_(ids)))).scalars()
    states: dict[uuid.UUID, tuple[str, dt.datetime | None]] = {}
    for clock in clocks:
        state = state_of(clock, now, clock.work_order_id in paused)
        due = clock.deadline if clock.met_at is None else None
        held, held_due = states.get(clock.work_order_id, (ClockState.MET.value, None))
        worse = WORST_FIRST.index(state) < WORST_FIRST.index(ClockState(held))
        soonest = min((d for d in (held_due, due) if d is not None), default=None)
        states[clock.work_order_id] = (state.value if worse else held, soonest)
    return _Orders(orders, names, states)


def _bars(
    visits: list[Visit], engineer_id: uuid.UUID, orders: _Orders, origin: Point, travel: TravelTimeProvider
) -> list[BoardVisit]:
    """The engineer's visits in time order, each with the drive into it."""
    timed = sorted(
        ((v.arrived_at or v.planned_start, v) for v in visits if (v.arrived_at or v.planned_start)),
        key=lambda pair: pair[0] or dt.datetime.max.replace(tzinfo=dt.UTC),
    )
    points = [origin, *(orders.names[v.work_order_id][2] for _, v in timed)]
    legs = travel.matrix(points, points) if len(points) > 1 else None
    bars = []
    for k, (begin, visit) in enumerate(timed):
        assert begin is not None
        order = orders.orders[visit.work_order_id]
        customer, site, _ = orders.names[visit.work_order_id]
        state, due = orders.states.get(visit.work_order_id, (ClockState.MET.value, None))
        finish = visit.finished_at or begin + dt.timedelta(minutes=visit.duration_minutes)
        partner = visit.partner_engineer_id if visit.engineer_id == engineer_id else visit.engineer_id
        bars.append(
            BoardVisit(
                visit.id,
                order.id,
                order.problem_number,
                customer,
                site,
                order.severity.value,
                visit.status.value,
                begin,
                finish,
                round(float(legs[k, k + 1]) / 60, 1) if legs is not None else 0.0,
                visit.pinned,
                state,
                due,
                visit.version,
                partner,
            )
        )
    return bars


def _queued(visit: Visit, orders: _Orders) -> QueuedVisit:
    order = orders.orders[visit.work_order_id]
    customer, site, _ = orders.names[visit.work_order_id]
    state, due = orders.states.get(visit.work_order_id, (ClockState.MET.value, None))
    return QueuedVisit(
        visit.id,
        order.id,
        order.problem_number,
        customer,
        site,
        order.severity.value,
        visit.duration_minutes,
        visit.people_needed,
        dict(visit.required_skills),
        state,
        due,
        visit.version,
    )
