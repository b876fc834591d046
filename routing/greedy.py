"""The in-process greedy baseline of the field-service benchmark.

What a dispatcher's rule of thumb does, under the same hard constraints as
the solver: take visits earliest deadline first and append each one to the
end of the route (engineer-shift) that grows least.

- Order: work under way first; then the on-site deadline, or the desk's sooner aim for urgent
  work (`Visit.aim_s`); without one, the end of the confirmed appointment, of the tentative
  appointment, of the access windows, in that order; ties by priority (highest first), then id.
- Candidates: every engineer-shift that `routing.eligibility.can_serve`
  allows (skills at level and still valid at the end of the shift, parts in
  the van, pins, on-call only for critical work), where the visit can start
  inside its hard windows (`start_windows`: access windows ∩ confirmed
  appointment ∩ pinned start) after the route's last stop and the engineer
  is still home by the end of the shift plus the overtime cap.
- Choice: among candidates that meet the deadline (the aim, where there is one), the one
  whose route grows least (added travel, plus waiting on a route already under way); when
  none meets it, the least late. A tentative appointment is honoured when some
  candidate can start inside it, otherwise ignored.
- Joint visits (two or more people): the cheapest combination of distinct
  engineers among the eight cheapest candidates, all starting together at
  the latest of their arrivals (and inside the windows).
- Nothing is ever moved once placed, and pins only restrict who and when:
  a pinned start is treated as a one-instant window.

Unassigned and late visits get the same explanations as the solver's.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from routing.eligibility import Vehicle, can_serve, per_shift, serving_vehicles, start_windows, vehicles_of
from routing.explain import Reach, never_s, why_late, why_unassigned
from routing.geo import Point
from routing.model import LateVisit, Problem, Route, Solution, Stop, Unassigned, Visit, Window

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

JOINT_CANDIDATES = 8


@dataclass
class _Placed:
    visit_index: int
    arrival_s: float
    start_s: float
    travel_s: float


@dataclass
class _Route:
    vehicle: Vehicle
    end_point: int
    stops: list[_Placed] = field(default_factory=list)


def _order_key(visit: Visit, windows: list[Window], horizon_s: float) -> tuple[float, int, str]:
    if visit.already_started:
        due = -math.inf  # the engineer is on site: before anything is appended to the route
    elif visit.aim_s is not None:
        due = visit.aim_s
    elif visit.appointment is not None:
        due = visit.appointment[1]
    elif windows:
        due = windows[-1][1]
    else:
        due = horizon_s
    return (due, -visit.priority, visit.id)


def _first_start(windows: list[Window], arrival: FloatArray) -> FloatArray:
    """Earliest start inside `windows` at or after each arrival; NaN where none."""
    start = np.full(arrival.shape, np.nan)
    for lo, hi in reversed(windows):
        start = np.where(arrival <= hi, np.maximum(arrival, lo), start)
    return start


def greedy_solve(problem: Problem) -> Solution:
    """Plan `problem` with the earliest-deadline-first, cheapest-append rule."""
    started = time.monotonic()
    fleet = _Fleet(problem, per_shift(vehicles_of(problem)))
    visits = problem.visits
    hard = [start_windows(problem, v) for v in visits]
    order = sorted(range(len(visits)), key=lambda i: _order_key(visits[i], hard[i], problem.horizon_s))
    placed: dict[int, list[int]] = {}  # visit index -> route indices
    serving = serving_vehicles(problem, fleet.vehicles, visits)
    for i in order:
        choice = _choose(fleet, visits[i], hard[i], serving[i]) if hard[i] else None
        if choice is not None:
            placed[i] = choice[0]
            fleet.append(i, *choice)
    return _solution(fleet, placed, started)


class _Fleet:
    """The routes (one per engineer-shift) as they grow: per route, when and
    where the engineer is free (the end of the last stop, or home at the shift
    start), whether it is under way, and the latest return."""

    def __init__(self, problem: Problem, vehicles: list[Vehicle]) -> None:
        self.problem = problem
        self.vehicles = vehicles
        engineers = problem.engineers
        points: list[Point] = list(
            dict.fromkeys(
                [p for e in engineers for p in (e.start, e.end_point)] + [v.point for v in problem.visits]
            )
        )
        self.point_index = {p: k for k, p in enumerate(points)}
        self.seconds = np.asarray(problem.travel.matrix(points, points), dtype=np.float64)
        self.routes = [
            _Route(vehicle=veh, end_point=self.point_index[engineers[veh.engineer_index].end_point])
            for veh in vehicles
        ]
        self.limit = np.array([veh.end_s + veh.overtime_cap_s for veh in vehicles], dtype=np.float64)
        self.end_point = np.array([r.end_point for r in self.routes], dtype=np.int64)
        self.engineer_of = np.array([veh.engineer_index for veh in vehicles], dtype=np.int64)
        self.free_at = np.array([veh.start_s for veh in vehicles], dtype=np.float64)
        self.last_point = np.array(
            [
                self.point_index[engineers[veh.engineer_index].start_of_period(veh.start_s)]
                for veh in vehicles
            ],
            dtype=np.int64,
        )
        self.used = np.zeros(len(self.routes), dtype=bool)

    def append(self, i: int, chosen: list[int], start_s: float) -> None:
        """Visit `i` at the end of the chosen routes, starting at `start_s`."""
        visit = self.problem.visits[i]
        p = self.point_index[visit.point]
        for k in chosen:
            leg = float(self.seconds[self.last_point[k], p])
            arrive = float(self.free_at[k]) + leg
            if not self.used[k]:
                # Nobody waits at home's door: leave so as to arrive when the visit can start.
                arrive = max(arrive, start_s)
            self.routes[k].stops.append(_Placed(i, arrive, start_s, leg))
            self.free_at[k] = start_s + visit.duration_s
            self.last_point[k] = p
            self.used[k] = True


def _choose(
    fleet: _Fleet, visit: Visit, hard: list[Window], serving: list[int]
) -> tuple[list[int], float] | None:
    """The routes (one per engineer needed) and start for the visit among the
    vehicles `serving` it: inside a tentative appointment when some candidate
    can start there, else anywhere in the hard windows; None when no candidate can take it."""
    eligible = np.array(serving, dtype=np.int64)
    if len(set(fleet.engineer_of[eligible].tolist())) < max(1, visit.people_needed):
        return None
    p = fleet.point_index[visit.point]
    to_visit = fleet.seconds[fleet.last_point[eligible], p]
    arrival = fleet.free_at[eligible] + to_visit
    back = fleet.seconds[p, fleet.end_point[eligible]]
    old_back = fleet.seconds[fleet.last_point[eligible], fleet.end_point[eligible]]
    preferred = []
    if visit.appointment is not None and not visit.confirmed:
        tentative = _intersect(hard, visit.appointment)
        if tentative:
            preferred.append(tentative)
    # Unreachable points (inf from a road network) fall out as NaN starts.
    with np.errstate(invalid="ignore"):
        detour = to_visit + back - old_back
        for windows in [*preferred, hard]:
            choice = _choose_in(fleet, visit, windows, eligible, arrival, detour, back)
            if choice is not None:
                return choice
    return None


def _choose_in(
    fleet: _Fleet,
    visit: Visit,
    windows: list[Window],
    eligible: IntArray,
    arrival: FloatArray,
    detour: FloatArray,
    back: FloatArray,
) -> tuple[list[int], float] | None:
    """The best choice starting inside `windows`, among the eligible routes
    that are still home in time."""
    start = _first_start(windows, arrival)
    ok = ~np.isnan(start) & (start + visit.duration_s + back <= fleet.limit[eligible] + 1e-9)
    if not ok.any():
        return None
    if max(1, visit.people_needed) == 1:
        # Waiting counts on a route under way; an idle engineer just leaves later.
        growth = detour + np.where(fleet.used[eligible], start - arrival, 0.0)
        return _pick_single(visit, eligible[ok], start[ok], growth[ok])
    pinned = visit.pinned_crew
    crew = (
        {e for e, engineer in enumerate(fleet.problem.engineers) if engineer.id in pinned}
        if pinned
        else set()
    )
    return _pick_joint(
        visit,
        windows,
        eligible[ok],
        arrival[ok],
        detour[ok],
        back[ok],
        fleet.limit,
        fleet.used,
        fleet.engineer_of,
        crew,
    )


def _intersect(windows: list[Window], appointment: Window) -> list[Window]:
    out = []
    for lo, hi in windows:
        a, b = max(lo, appointment[0]), min(hi, appointment[1])
        if a <= b:
            out.append((a, b))
    return out


def _lateness(visit: Visit, start: FloatArray) -> FloatArray:
    """Past the aim (`Visit.aim_s`): a start as soon as possible once it cannot be met, which
    also makes it as little late for the deadline behind it as can be."""
    aim = visit.aim_s
    if aim is None:
        return np.zeros(start.shape)
    return np.maximum(0.0, start - aim)


def _pick_single(
    visit: Visit, candidates: IntArray, start: FloatArray, growth: FloatArray
) -> tuple[list[int], float]:
    late = _lateness(visit, start)
    # On time first, then least late, then least growth.
    best = int(np.lexsort((growth, late))[0])
    return [int(candidates[best])], float(start[best])


def _pick_joint(
    visit: Visit,
    windows: list[Window],
    candidates: IntArray,
    arrival: FloatArray,
    detour: FloatArray,
    back: FloatArray,
    limit: FloatArray,
    used: NDArray[np.bool_],
    engineer_of: IntArray,
    crew: set[int],
) -> tuple[list[int], float] | None:
    """The cheapest combination of distinct engineers among the nearest candidates, the pinned
    `crew` (engineer indexes) always among them."""
    people = max(1, visit.people_needed)
    pinned = [c for c in range(len(candidates)) if int(engineer_of[candidates[c]]) in crew]
    cheapest = list(dict.fromkeys([*pinned, *np.argsort(detour, kind="stable")[:JOINT_CANDIDATES].tolist()]))
    best: tuple[tuple[float, float], list[int], float] | None = None
    for combo in itertools.combinations(cheapest, people):
        engineers = {int(engineer_of[candidates[c]]) for c in combo}
        if len(engineers) < people or not crew <= engineers:
            continue
        together = _first_start(windows, np.array([max(float(arrival[c]) for c in combo)]))[0]
        if math.isnan(together):
            continue
        if any(together + visit.duration_s + back[c] > limit[candidates[c]] + 1e-9 for c in combo):
            continue
        cost = sum(
            float(detour[c]) + (together - float(arrival[c]) if used[candidates[c]] else 0.0) for c in combo
        )
        late = float(_lateness(visit, np.array([together]))[0])
        if best is None or (late, cost) < best[0]:
            best = ((late, cost), [int(candidates[c]) for c in combo], float(together))
    return None if best is None else (best[1], best[2])


def _solution(fleet: _Fleet, placed: dict[int, list[int]], started: float) -> Solution:
    """The placed stops as routes, the rest unassigned, late visits, with the
    solver's explanations."""
    problem = fleet.problem
    out_routes: list[Route] = []
    late_by_visit: dict[int, list[str]] = {}
    for route in fleet.routes:
        if route.stops:
            out_routes.append(_route_out(fleet, route, late_by_visit))
    why = _Explain(fleet)
    unassigned = [
        Unassigned(v.id, why.not_served(v)) for i, v in enumerate(problem.visits) if i not in placed
    ]
    late: list[LateVisit] = []
    for i, engineer_ids in late_by_visit.items():
        start = next(s.start_s for s in fleet.routes[placed[i][0]].stops if s.visit_index == i)
        late.append(why.late(problem.visits[i], engineer_ids, start))
    total_travel = sum(r.travel_s for r in out_routes)
    return Solution(
        routes=out_routes,
        unassigned=unassigned,
        late=late,
        # Not comparable with the solver's objective: the plan's travel seconds.
        objective=round(total_travel),
        status="greedy",
        seconds=time.monotonic() - started,
        solutions_found=1,
    )


def _route_out(fleet: _Fleet, route: _Route, late_by_visit: dict[int, list[str]]) -> Route:
    """One engineer-shift's placed stops as a route; notes who serves each late visit."""
    visits = fleet.problem.visits
    veh = route.vehicle
    engineer = fleet.problem.engineers[veh.engineer_index]
    stops: list[Stop] = []
    for s in route.stops:
        v = visits[s.visit_index]
        late_s = max(0.0, s.start_s - v.deadline_s) if v.deadline_s is not None else 0.0
        stops.append(Stop(v.id, s.arrival_s, s.start_s, s.start_s + v.duration_s, s.travel_s, late_s))
        if late_s > 0:
            late_by_visit.setdefault(s.visit_index, []).append(engineer.id)
    last = fleet.point_index[visits[route.stops[-1].visit_index].point]
    back = float(fleet.seconds[last, route.end_point])
    ret = stops[-1].end_s + back
    return Route(
        engineer_id=engineer.id,
        shift_index=veh.shift_index,
        shift=(veh.start_s, veh.end_s),
        on_call=veh.on_call,
        depart_s=stops[0].arrival_s - stops[0].travel_s,
        return_s=ret,
        stops=stops,
        travel_s=sum(s.travel_s for s in stops) + back,
        overtime_s=max(0.0, ret - veh.end_s),
        load=sum(visits[s.visit_index].demand for s in route.stops),
    )


class _Explain:
    """The solver's explanations, over the baseline's travel times."""

    def __init__(self, fleet: _Fleet) -> None:
        self.fleet = fleet
        # A road network may have no route at all (inf): far beyond any shift for the explanations.
        self.never = never_s(fleet.problem)

    def reach(self, visit: Visit) -> Reach:
        point_index, seconds, never = self.fleet.point_index, self.fleet.seconds, self.never
        j = point_index[visit.point]
        return {
            e: (
                min(never, float(seconds[point_index[eng.start], j])),
                min(never, float(seconds[j, point_index[eng.end_point]])),
            )
            for e, eng in enumerate(self.fleet.problem.engineers)
        }

    def not_served(self, visit: Visit) -> str:
        problem, vehicles = self.fleet.problem, self.fleet.vehicles
        r = self.reach(visit)
        qualified = {veh.engineer_index for veh in vehicles if can_serve(problem, veh, visit)}
        if qualified and all(max(r[e]) >= self.never for e in qualified):
            return "no qualified engineer can reach it by road (the road network has no route there)"
        return why_unassigned(problem, vehicles, visit, r)

    def late(self, v: Visit, engineer_ids: list[str], start: float) -> LateVisit:
        assert v.deadline_s is not None
        return LateVisit(
            v.id,
            engineer_ids,
            start,
            v.deadline_s,
            start - v.deadline_s,
            why_late(self.fleet.problem, self.fleet.vehicles, v, self.reach(v), start),
        )
