"""Emergency insertion: the best engineer and position for one urgent visit, at once.

A scan over the current routes (everything started or pinned stays where it is):
for each engineer who may do the visit, each position after their locked stops,
compute when they would arrive, what the later stops would shift to, and whether
any promise breaks. Three travel calls in all (to the visit, from it, and
every route's legs as pairs), and positions are tried in order of added
travel, stopping at the first that cannot beat the best found: thousands of
stops take about a millisecond. A full re-optimisation may follow in the background.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from routing.eligibility import first_start, missing_parts, skill_problem, standby_periods
from routing.geo import Point
from routing.model import Engineer, Visit, Warehouse, Window
from routing.travel import FloatMatrix, TravelTimeProvider, pair_seconds


@dataclass
class PlannedStop:
    visit_id: str
    point: Point
    start_s: float
    duration_s: float
    # A promise the stop may not move past (a confirmed window's end), if any.
    latest_start_s: float | None = None
    # Started or pinned: nothing goes before it.
    locked: bool = False


@dataclass
class CurrentRoute:
    engineer: Engineer
    # Where the engineer is now (live position), for a route not yet under way.
    position: Point
    stops: list[PlannedStop] = field(default_factory=list)


@dataclass
class Insertion:
    engineer_id: str
    position: int  # index in the engineer's stops where the visit goes
    arrival_s: float
    start_s: float
    late_s: float
    added_travel_s: float
    # Later stops and their new starts.
    shifted: list[tuple[str, float]]
    cost: float
    # The engineer's van lacks the parts: fetched here on the way, from `pickup_s`.
    pickup_warehouse_id: str | None = None
    pickup_s: float | None = None


def _in_shift(engineer: Engineer, visit: Visit, start: float, end: float) -> bool:
    return _within(engineer, standby_periods(engineer, visit), start, end)


def _within(engineer: Engineer, standby: list[Window], start: float, end: float) -> bool:
    # A standby period has no overtime after it (see eligibility.vehicles_of).
    if any(lo <= start and end <= hi + engineer.overtime_cap_after(hi) for lo, hi in engineer.shifts):
        return True
    return any(lo <= start and end <= hi for lo, hi in standby)


def _next_shift_start(engineer: Engineer, visit: Visit, windows: list[Window], after: float) -> float | None:
    """The first start after `after` at the beginning of a later shift (the engineer is off or away
    until then) that the visit's windows allow, or None."""
    for lo, _ in sorted(engineer.shifts + standby_periods(engineer, visit)):
        start = first_start(windows, lo) if lo > after else None
        if start is not None and _in_shift(engineer, visit, start, start + visit.duration_s):
            return start
    return None


def best_insertion(
    routes: list[CurrentRoute],
    visit: Visit,
    travel: TravelTimeProvider,
    now_s: float = 0.0,
    lateness_weight: float = 10.0,
    warehouses: Sequence[Warehouse] = (),
) -> Insertion | None:
    """The cheapest feasible insertion (lateness × weight + added travel + delay of others), or None.

    An engineer whose van lacks the visit's parts may fetch them on the way from one
    of `warehouses` holding them all (the detour through the best one counts)."""
    stocking = [w for w in warehouses if visit.parts and visit.parts <= w.stock]
    eligible = [
        r
        for r in routes
        if visit.pin_allows(r.engineer.id)
        and skill_problem(r.engineer, visit, now_s) is None
        and (not missing_parts(r.engineer, visit) or (stocking and visit.people_needed <= 1))
    ]
    if not eligible:
        return None
    scan = _Scan.of(eligible, visit, travel, stocking, now_s, lateness_weight)
    legs = _route_legs(travel, eligible)
    bounds, route_of, offset_of = _lower_bounds(eligible, visit, scan, legs)
    best: Insertion | None = None
    best_slot = -1
    # Cheapest bound first; the scan ends at the first position that cannot beat the best found.
    for j in np.argsort(bounds, kind="stable").tolist():
        if bounds[j] == np.inf or (best is not None and bounds[j] > best.cost + 1e-9):
            break
        r, offset = int(route_of[j]), int(offset_of[j])
        found = scan.insert(eligible[r], j - offset, offset, legs[r], bool(bounds[j] == -np.inf))
        # Ties go to the earlier route and position, as a plain scan would.
        if found is not None and (best is None or (found.cost, j) < (best.cost, best_slot)):
            best, best_slot = found, j
    return best


def _lower_bounds(
    eligible: list[CurrentRoute], visit: Visit, scan: _Scan, legs: list[list[float]]
) -> tuple[FloatMatrix, np.ndarray, np.ndarray]:
    """Per position (one per route point: the route's position, then its stops;
    the visit goes after that point) a lower bound of the insertion's cost:
    added travel, lateness at the arrival, and the delay of the next stop, from
    arriving straight as soon as the previous stop is done (windows, shifts
    and other delays only add). +inf where the position is locked; -inf where
    the van lacks the parts (through a warehouse: always tried). Also the
    route of each position and the index of its route's first point."""
    ready: list[float] = []
    next_start: list[float] = []
    leg_next: list[float] = []
    route_of: list[int] = []
    offset_of: list[int] = []
    free: list[bool] = []
    fetch: list[bool] = []
    offset = 0
    for r, route in enumerate(eligible):
        n = len(route.stops)
        first_free = max((i + 1 for i, s in enumerate(route.stops) if s.locked), default=0)
        ready.append(scan.now_s)
        ready += [s.start_s + s.duration_s for s in route.stops]
        next_start += [s.start_s for s in route.stops]
        next_start.append(np.inf)
        leg_next += legs[r]
        leg_next.append(0.0)
        route_of += [r] * (n + 1)
        offset_of += [offset] * (n + 1)
        free += [p >= first_free for p in range(n + 1)]
        fetch += [bool(missing_parts(route.engineer, visit))] * (n + 1)
        offset += n + 1
    arrival = np.maximum(np.asarray(ready), scan.now_s) + scan.to_visit
    starts = np.asarray(next_start)
    last = ~np.isfinite(starts)
    from_next = np.append(scan.from_visit[1:], 0.0)
    out = np.where(last, 0.0, from_next - np.asarray(leg_next))
    delay = np.where(last, 0.0, np.maximum(0.0, arrival + visit.duration_s + from_next - starts))
    late = np.maximum(0.0, arrival - visit.deadline_s) if visit.deadline_s is not None else 0.0
    bounds = scan.to_visit + out + scan.lateness_weight * late + 0.5 * delay
    bounds = np.where(np.asarray(fetch), -np.inf, bounds)
    bounds = np.where(np.asarray(free), bounds, np.inf)
    return bounds, np.asarray(route_of), np.asarray(offset_of)


def insertion_at(
    route: CurrentRoute,
    visit: Visit,
    travel: TravelTimeProvider,
    start_s: float,
    warehouses: Sequence[Warehouse] = (),
) -> Insertion | None:
    """The visit put into one route where a dispatcher dropped it: before the first stop that
    starts at or after `start_s` (never before a locked one), starting then or as soon after as
    the engineer can get there; later stops pushed. None when it cannot go there (skills and
    parts are the caller's to judge: `visit` should carry only what the van must hold)."""
    stocking = [w for w in warehouses if visit.parts and visit.parts <= w.stock]
    fetch = bool(missing_parts(route.engineer, visit))
    if fetch and not stocking:
        return None
    windows = [(max(lo, start_s), hi) for lo, hi in (visit.windows or [(0.0, float("inf"))]) if hi >= start_s]
    if not windows:
        return None
    visit = replace(visit, windows=windows, appointment=None, confirmed=False)
    first_free = max((i + 1 for i, s in enumerate(route.stops) if s.locked), default=0)
    position = next(
        (i for i in range(first_free, len(route.stops)) if route.stops[i].start_s >= start_s),
        len(route.stops),
    )
    scan = _Scan.of([route], visit, travel, stocking, 0.0, 10.0)
    return scan.insert(route, position, 0, _legs(travel, route), fetch)


@dataclass
class _Scan:
    """One urgent visit against the eligible routes: travel from every route point
    (each route's position, then its stops) to the visit and back, and through
    the warehouses that stock its parts."""

    visit: Visit
    stocking: list[Warehouse]
    now_s: float
    lateness_weight: float
    windows: list[Window]  # hard: the confirmed appointment, else the access windows
    to_visit: FloatMatrix
    from_visit: FloatMatrix
    to_house: FloatMatrix | None  # with stocking warehouses only
    house_to_visit: FloatMatrix | None

    @classmethod
    def of(
        cls,
        eligible: list[CurrentRoute],
        visit: Visit,
        travel: TravelTimeProvider,
        stocking: list[Warehouse],
        now_s: float,
        lateness_weight: float,
    ) -> _Scan:
        points: list[Point] = []
        for route in eligible:
            points.append(route.position)
            points.extend(stop.point for stop in route.stops)
        to_visit = travel.matrix(points, [visit.point])[:, 0]
        from_visit = travel.matrix([visit.point], points)[0]
        to_house = house_to_visit = None
        if stocking:
            to_house = travel.matrix(points, [w.point for w in stocking])
            house_to_visit = travel.matrix([w.point for w in stocking], [visit.point])[:, 0]
        if visit.appointment is not None and visit.confirmed:
            windows = [visit.appointment]
        else:
            windows = visit.windows or [(0.0, float("inf"))]
        return cls(
            visit, stocking, now_s, lateness_weight, windows, to_visit, from_visit, to_house, house_to_visit
        )

    def insert(
        self, route: CurrentRoute, position: int, offset: int, legs: list[float], fetch: bool
    ) -> Insertion | None:
        """The visit at `position` of the route (whose first point is at `offset`;
        `fetch`: the van lacks the parts), or None where it cannot start in time
        or pushes a later stop past its promise."""
        visit, n = self.visit, len(route.stops)
        prev = offset + position  # index of the previous point: the position or stop position-1
        if position == 0:
            ready = self.now_s
        else:
            before = route.stops[position - 1]
            ready = max(self.now_s, before.start_s + before.duration_s)
        reached = self._arrival(prev, ready, fetch)
        if reached is None:
            return None
        arrival, leg_in, house, pickup_at = reached
        start = first_start(self.windows, arrival)
        if start is not None and not _in_shift(route.engineer, visit, start, start + visit.duration_s):
            start = _next_shift_start(route.engineer, visit, self.windows, start)
        if start is None:
            return None
        end = start + visit.duration_s
        late = max(0.0, start - visit.deadline_s) if visit.deadline_s is not None else 0.0
        leg_from_new = float(self.from_visit[offset + position + 1]) if position < n else 0.0
        added = leg_in + leg_from_new
        if position < n:
            added -= legs[position]
        pushed = _push_later(route, position, end, leg_from_new, legs)
        if pushed is None:
            return None
        shifted, delay_total = pushed
        cost = self.lateness_weight * late + added + 0.5 * delay_total
        return Insertion(
            route.engineer.id,
            position,
            arrival,
            start,
            late,
            added,
            shifted,
            cost,
            house.id if house else None,
            pickup_at,
        )

    def _arrival(
        self, prev: int, ready: float, fetch: bool
    ) -> tuple[float, float, Warehouse | None, float | None] | None:
        """Arrival at the site from point `prev` when free at `ready`, straight or
        through a warehouse when the van lacks the parts: (arrival, travel in,
        warehouse, pick-up start), or None when no warehouse is open in time."""
        leg_in = float(self.to_visit[prev])
        if not fetch:
            return ready + leg_in, leg_in, None, None
        assert self.to_house is not None
        assert self.house_to_visit is not None
        via = _via_warehouse(self.stocking, ready, self.to_house[prev], self.house_to_visit)
        if via is None:
            return None
        arrival, k, pickup_at = via
        leg_in = float(self.to_house[prev, k]) + float(self.house_to_visit[k])
        return arrival, leg_in, self.stocking[k], pickup_at


def _push_later(
    route: CurrentRoute, position: int, end: float, leg_from_new: float, legs: list[float]
) -> tuple[list[tuple[str, float]], float] | None:
    """The later stops pushed: each starts when the previous one is done and the
    engineer got there. Their new starts and the total delay, or None when one
    would move past its promise, or out of the engineer's shift (with its overtime)
    or standby period: the engineer could not do it then."""
    shifted: list[tuple[str, float]] = []
    delay_total = 0.0
    t = end
    standby = route.engineer.on_call_shifts if route.engineer.on_call else []
    for k in range(position, len(route.stops)):
        stop = route.stops[k]
        leg = leg_from_new if k == position else legs[k]
        new_start = max(stop.start_s, t + leg)
        if stop.latest_start_s is not None and new_start > stop.latest_start_s:
            return None
        # A stop already on the route got its standby period by the rule; pushed, it stays inside it.
        new_end = new_start + stop.duration_s
        if new_start > stop.start_s and not _within(route.engineer, standby, new_start, new_end):
            return None
        if new_start > stop.start_s:
            shifted.append((stop.visit_id, new_start))
            delay_total += new_start - stop.start_s
        t = new_start + stop.duration_s
    return shifted, delay_total


def _via_warehouse(
    stocking: Sequence[Warehouse], ready: float, to_house: FloatMatrix, house_to_visit: FloatMatrix
) -> tuple[float, int, float] | None:
    """Through the warehouse that gets the engineer to the site soonest (open when they
    get there): (arrival at the site, warehouse index, pick-up start), or None."""
    best: tuple[float, int, float] | None = None
    for k, house in enumerate(stocking):
        at = first_start(house.hours or [(0.0, float("inf"))], ready + float(to_house[k]))
        if at is None:
            continue
        there = at + house.pickup_s + float(house_to_visit[k])
        if best is None or there < best[0]:
            best = (there, k, at)
    return best


def _legs(travel: TravelTimeProvider, route: CurrentRoute) -> list[float]:
    """Travel into each stop of a route from the point before it."""
    return _route_legs(travel, [route])[0]


def _route_legs(travel: TravelTimeProvider, routes: Sequence[CurrentRoute]) -> list[list[float]]:
    """Travel into each stop of each route from the point before it, in one call."""
    origins: list[Point] = []
    destinations: list[Point] = []
    for route in routes:
        origins += [route.position, *(s.point for s in route.stops[:-1])] if route.stops else []
        destinations += [s.point for s in route.stops]
    seconds = pair_seconds(travel, origins, destinations).tolist() if origins else []
    out: list[list[float]] = []
    at = 0
    for route in routes:
        out.append(seconds[at : at + len(route.stops)])
        at += len(route.stops)
    return out
