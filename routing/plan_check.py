"""Independent feasibility check of a dispatch plan against its problem.

Shares no code with the solver or the greedy baseline: it reads the problem
and the plan and recomputes every leg from `problem.travel`. The field
benchmark (`routing.fieldbench`) and the tests judge plans with it.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from routing.geo import Point
from routing.model import Engineer, Problem, Route, Solution, Stop, Visit, Window
from routing.travel import format_clock

TOLERANCE_S = 1.0  # the solver rounds travel up to whole seconds

# Visit id -> (engineer id, start) of each stop that serves it.
Served = dict[str, list[tuple[str, float]]]


@dataclass
class Check:
    """What the check found in one plan; `problems` empty means feasible."""

    feasible: bool
    problems: list[str]
    assigned: int
    late: set[str]  # served after the on-site deadline
    missed: set[str]  # not served although they had a deadline
    travel_s: float  # recomputed from the problem's travel times

    @property
    def travel_per_visit_min(self) -> float | None:
        return self.travel_s / self.assigned / 60.0 if self.assigned else None


def check_plan(problem: Problem, solution: Solution) -> Check:
    """Skills (valid while the work is done), parts, shifts, windows, confirmed
    appointments, pins, travel times and each visit at most once (joint visits:
    the right number of different engineers, starting together)."""
    visits = {v.id: v for v in problem.visits}
    engineers = {e.id: e for e in problem.engineers}
    legs = _Legs(problem)
    issues: list[str] = []
    served: Served = {}
    busy: dict[str, list[Window]] = {}
    travel = 0.0
    for route in solution.routes:
        e = engineers.get(route.engineer_id)
        if e is None:
            issues.append(f"route of unknown engineer {route.engineer_id}")
            continue
        on_call_only = _period_of(route, e, issues)
        if on_call_only is None or not route.stops:
            continue
        start = e.start_of_period(route.shift[0])
        route_legs, span = _check_route(route, e, start, on_call_only, visits, legs, served, issues)
        for t in route_legs:
            travel += t  # leg by leg, as the plan is driven
        busy.setdefault(e.id, []).append(span)
    issues += _overlapping_routes(busy)
    late = _check_served(visits, served, issues)
    issues += _check_listing(visits, served, solution)
    missed = {v_id for v_id, v in visits.items() if v_id not in served and v.deadline_s is not None}
    return Check(not issues, issues, len(served), late, missed, travel)


class _Legs:
    """Travel seconds between the problem's points, from `problem.travel`."""

    def __init__(self, problem: Problem) -> None:
        points: list[Point] = list(
            dict.fromkeys(
                [v.point for v in problem.visits]
                + [p for e in problem.engineers for p in (e.start, e.end_point)]
            )
        )
        self.where = {p: k for k, p in enumerate(points)}
        self.seconds = np.asarray(problem.travel.matrix(points, points), dtype=np.float64)

    def __call__(self, a: Point, b: Point) -> float:
        return float(self.seconds[self.where[a], self.where[b]])


def _period_of(route: Route, e: Engineer, issues: list[str]) -> bool | None:
    """Whether the route's period admits only critical work (an on-call period);
    None when it is none of the engineer's shifts or on-call periods."""
    periods = list(e.shifts) + (list(e.on_call_shifts) if e.on_call else [])
    if not any(math.isclose(route.shift[0], lo) and math.isclose(route.shift[1], hi) for lo, hi in periods):
        issues.append(f"{e.id}: route shift {route.shift} is not one of the engineer's")
        return None
    return route.on_call or tuple(route.shift) not in {tuple(w) for w in e.shifts}


def _check_route(
    route: Route,
    e: Engineer,
    start: Point,
    on_call_only: bool,
    visits: dict[str, Visit],
    legs: _Legs,
    served: Served,
    issues: list[str],
) -> tuple[list[float], Window]:
    """Every stop of one route in order, then the way home. Returns the route's
    legs (seconds), from `start`, and the time span the engineer is busy with it."""
    lo, hi = route.shift
    travel: list[float] = []
    if route.depart_s < lo - TOLERANCE_S:
        issues.append(f"{e.id}: leaves at {format_clock(route.depart_s)}, before the shift starts")
    where_now, clock = start, route.depart_s
    for stop in route.stops:
        v = visits.get(stop.visit_id)
        if v is None:
            issues.append(f"{e.id}: unknown visit {stop.visit_id}")
            continue
        served.setdefault(v.id, []).append((e.id, stop.start_s))
        t = legs(where_now, v.point)
        travel.append(t)
        issues += _stop_timing(e, v, stop, clock + t)
        issues += _qualification(e, v, stop)
        issues += _promises(e, v, stop, on_call_only)
        where_now, clock = v.point, stop.end_s
    back = legs(where_now, e.end_point)
    travel.append(back)
    if route.return_s < clock + back - TOLERANCE_S:
        issues.append(f"{e.id}: back home sooner than the road allows")
    if max(route.return_s, clock + back) > hi + e.overtime_cap_after(hi) + TOLERANCE_S:
        issues.append(f"{e.id}: back at {format_clock(route.return_s)}, past the shift and overtime cap")
    return travel, (route.depart_s, max(route.return_s, clock + back))


def _stop_timing(e: Engineer, v: Visit, stop: Stop, earliest_arrival: float) -> list[str]:
    """Arrival no sooner than the road allows, start after arrival, the full service time."""
    issues = []
    if stop.arrival_s < earliest_arrival - TOLERANCE_S:
        issues.append(f"{e.id}: arrives at {v.id} sooner than the road allows")
    if stop.start_s < stop.arrival_s - TOLERANCE_S:
        issues.append(f"{e.id}: starts {v.id} before arriving")
    if abs(stop.end_s - stop.start_s - v.duration_s) > TOLERANCE_S:
        issues.append(f"{e.id}: {v.id} does not last its service time")
    return issues


def _qualification(e: Engineer, v: Visit, stop: Stop) -> list[str]:
    """Skills at the level needed, licences valid until the work is done, parts in the van."""
    issues = []
    for name, need in v.skills.items():
        held = e.skills.get(name)
        if held is None or held[0] < need:
            issues.append(f"{e.id}: lacks {name}>={need} for {v.id}")
        elif held[1] is not None and held[1] < stop.end_s:
            issues.append(f"{e.id}: licence {name} expired during {v.id}")
    if not v.parts <= e.parts:
        issues.append(f"{e.id}: van lacks {sorted(v.parts - e.parts)} for {v.id}")
    return issues


def _promises(e: Engineer, v: Visit, stop: Stop, on_call_only: bool) -> list[str]:
    """Access windows, confirmed appointments, pins, and only critical work on call."""
    issues = []
    if v.windows and not any(a - TOLERANCE_S <= stop.start_s <= b + TOLERANCE_S for a, b in v.windows):
        issues.append(f"{e.id}: {v.id} starts outside its access windows")
    if v.confirmed and v.appointment is not None:
        a, b = v.appointment
        if not a - TOLERANCE_S <= stop.start_s <= b + TOLERANCE_S:
            issues.append(f"{e.id}: {v.id} breaks its confirmed appointment")
    if not v.pin_allows(e.id):
        issues.append(f"{v.id} is pinned to {', '.join(v.pinned_crew)}, planned for {e.id}")
    if v.pinned_start_s is not None and abs(stop.start_s - v.pinned_start_s) > TOLERANCE_S:
        issues.append(f"{v.id} moved from its pinned start")
    if on_call_only and not v.critical:
        issues.append(f"{e.id}: non-critical {v.id} on an on-call period")
    return issues


def _overlapping_routes(busy: dict[str, list[Window]]) -> list[str]:
    """No engineer on two routes at once."""
    issues = []
    for e_id, spans in busy.items():
        spans.sort()
        if any(b[0] < a[1] - TOLERANCE_S for a, b in itertools.pairwise(spans)):
            issues.append(f"{e_id}: two routes at the same time")
    return issues


def _check_served(visits: dict[str, Visit], served: Served, issues: list[str]) -> set[str]:
    """Each visit served once by as many different engineers as it needs, all
    starting together. Returns the visits served after their deadline."""
    late: set[str] = set()
    for v_id, stops in served.items():
        v = visits[v_id]
        people = max(1, v.people_needed)
        if len(stops) != people:
            issues.append(f"{v_id}: served {len(stops)} times, needs {people} engineer(s) once")
        if len({e_id for e_id, _ in stops}) != len(stops):
            issues.append(f"{v_id}: the same engineer twice")
        if missing := set(v.pinned_crew) - {e_id for e_id, _ in stops}:
            issues.append(f"{v_id}: pinned {', '.join(sorted(missing))} not on it")
        starts = [s for _, s in stops]
        if max(starts) - min(starts) > TOLERANCE_S:
            issues.append(f"{v_id}: joint visit not started together")
        if v.deadline_s is not None and max(starts) > v.deadline_s + TOLERANCE_S:
            late.add(v_id)
    return late


def _check_listing(visits: dict[str, Visit], served: Served, solution: Solution) -> list[str]:
    """Every visit either planned or listed unassigned, never both."""
    issues = []
    listed = {u.visit_id for u in solution.unassigned}
    if listed & set(served):
        issues.append(f"{len(listed & set(served))} visits both planned and listed unassigned")
    forgotten = set(visits) - set(served) - listed
    if forgotten:
        issues.append(f"{len(forgotten)} visits neither planned nor listed unassigned")
    return issues
