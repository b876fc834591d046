"""A start plan for large problems: earliest deadline first, cheapest insertion anywhere.

OR-Tools' own first-solution heuristics take most of a minute at a thousand
visits and come out with far more SLA breaches than a dispatcher's rule of
thumb; its local search then moves too slowly at that size to repair them.
This builds the start in seconds instead:

- visits in the order of the greedy baseline (`routing.greedy`: on-site
  deadline, appointment end, window end; priority; id);
- each goes where it adds least travel, at any position of any engineer-shift
  that may serve it, provided every stop already placed keeps its window, its
  on-time status, the shift end plus overtime cap, and joint stops keep their
  fixed start; on time if at all possible, otherwise least late;
- joint visits (two or more engineers) are appended like the baseline does,
  starting together, and their start is fixed from then on;
- then the visits the baseline serves (on time) but this plan does not are
  put at the front of the order and the plan is built again, a few rounds,
  and the round with the fewest such visits is kept (on the benchmark
  scenario: 26, then 12, ... 1). The solver's steep lateness price does the rest.

The result is a set of routes for `solve(initial_routes=...)`; the solver
recomputes all times itself.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from routing.eligibility import Vehicle, first_start, per_shift, serving_vehicles, start_windows, vehicles_of
from routing.explain import never_s
from routing.geo import Point
from routing.greedy import _order_key
from routing.model import Problem, Solution

Routes = dict[tuple[str, int], list[str]]

REPAIR_ROUNDS = 12


@dataclass
class _Stop:
    visit: int
    start: float
    fixed: bool  # a joint stop: its start may not move


@dataclass
class _Route:
    vehicle: Vehicle
    start_point: int
    end_point: int
    limit: float
    stops: list[_Stop] = field(default_factory=list)


class _Builder:
    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.vehicles = per_shift(vehicles_of(problem))
        engineers = problem.engineers
        points: list[Point] = list(
            dict.fromkeys(
                [p for e in engineers for p in (e.start, e.end_point)] + [v.point for v in problem.visits]
            )
        )
        index = {p: k for k, p in enumerate(points)}
        seconds = np.asarray(problem.travel.matrix(points, points), dtype=np.float64)
        self.seconds = np.where(np.isfinite(seconds), seconds, never_s(problem))
        self.point = [index[v.point] for v in problem.visits]
        self.start_point = [
            index[engineers[v.engineer_index].start_of_period(v.start_s)] for v in self.vehicles
        ]
        self.end_point = [index[engineers[v.engineer_index].end_point] for v in self.vehicles]
        self.windows = [start_windows(problem, v) for v in problem.visits]
        self.eligible = serving_vehicles(problem, self.vehicles, problem.visits)
        self.duration = [v.duration_s for v in problem.visits]
        self.deadline = [math.inf if v.deadline_s is None else v.deadline_s for v in problem.visits]

    def build(self, order: list[int]) -> list[_Route]:
        routes = [
            _Route(veh, self.start_point[k], self.end_point[k], veh.end_s + veh.overtime_cap_s)
            for k, veh in enumerate(self.vehicles)
        ]
        for i in order:
            if not self.windows[i] or not self.eligible[i]:
                continue
            if self.problem.visits[i].people_needed > 1:
                self._append_joint(routes, i)
            else:
                self._insert(routes, i)
        return routes

    def _schedule(self, route: _Route, stops: list[_Stop]) -> list[float] | None:
        """Starts of `stops` on `route` (None if a hard rule breaks), keeping on-time stops on time."""
        prev = route.start_point
        clock = route.vehicle.start_s
        out: list[float] = []
        for pos, stop in enumerate(stops):
            p = self.point[stop.visit]
            arrival = clock + self.seconds[prev, p]
            if stop.fixed:
                if arrival > stop.start + 1e-9:
                    return None
                start = stop.start
            else:
                found = first_start(self.windows[stop.visit], arrival)
                if found is None:
                    return None
                start = found
            if pos != self._new and stop.start <= self.deadline[stop.visit] < start:
                return None  # would make a placed stop late
            out.append(start)
            clock = start + self.duration[stop.visit]
            prev = p
        if clock + self.seconds[prev, route.end_point] > route.limit + 1e-9:
            return None
        return out

    _new = -1

    def _insert(self, routes: list[_Route], i: int) -> None:
        """The visit where it adds least travel among the positions that keep it
        on time, else where it is least late. Positions are tried in order of
        added travel, so the first on-time one ends the search."""
        p = self.point[i]
        prev_pts: list[int] = []
        next_pts: list[int] = []
        owners: list[tuple[int, int]] = []
        for k in self.eligible[i]:
            route = routes[k]
            pts = [route.start_point, *(self.point[s.visit] for s in route.stops), route.end_point]
            prev_pts += pts[:-1]
            next_pts += pts[1:]
            owners += [(k, pos) for pos in range(len(pts) - 1)]
        if not owners:
            return
        a, b = np.asarray(prev_pts), np.asarray(next_pts)
        added_all = self.seconds[a, p] + self.seconds[p, b] - self.seconds[a, b]
        best: tuple[float, float, int, int, list[float]] | None = None
        for j in np.argsort(added_all, kind="stable").tolist():
            if best is not None and best[0] == 0.0:
                break  # on time, and every later position adds more travel
            k, pos = owners[j]
            route = routes[k]
            trial = [*route.stops[:pos], _Stop(i, 0.0, False), *route.stops[pos:]]
            self._new = pos
            starts = self._schedule(route, trial)
            self._new = -1
            if starts is None:
                continue
            late = max(0.0, starts[pos] - self.deadline[i])
            added = float(added_all[j])
            if best is None or (late, added) < (best[0], best[1]):
                best = (late, added, k, pos, starts)
        if best is None:
            return
        _, _, k, pos, starts = best
        route = routes[k]
        route.stops.insert(pos, _Stop(i, 0.0, False))
        for stop, start in zip(route.stops, starts, strict=True):
            stop.start = start

    def _append_joint(self, routes: list[_Route], i: int) -> None:
        people = self.problem.visits[i].people_needed
        p = self.point[i]
        ready: list[tuple[float, int, float]] = []  # (added travel, vehicle, arrival)
        for k in self.eligible[i]:
            route = routes[k]
            last = self.point[route.stops[-1].visit] if route.stops else route.start_point
            free = (
                route.stops[-1].start + self.duration[route.stops[-1].visit]
                if route.stops
                else route.vehicle.start_s
            )
            added = (
                self.seconds[last, p] + self.seconds[p, route.end_point] - self.seconds[last, route.end_point]
            )
            arrival = free + self.seconds[last, p]
            start = first_start(self.windows[i], arrival)
            back = self.duration[i] + self.seconds[p, route.end_point]
            if start is None or start + back > route.limit + 1e-9:
                continue  # could not do it and be back in time, whoever joins
            ready.append((added, k, arrival))
        # The pinned crew first, then engineers who can be there by the deadline, then the cheapest.
        deadline = self.deadline[i]
        crew = self.problem.visits[i].pinned_crew
        ready.sort(
            key=lambda r: (
                self.problem.engineers[self.vehicles[r[1]].engineer_index].id not in crew,
                r[2] > deadline,
                r[0],
            )
        )
        chosen: list[tuple[float, int, float]] = []
        engineers: set[int] = set()
        for added, k, arrival in ready:
            e = self.vehicles[k].engineer_index
            if e in engineers:
                continue
            chosen.append((added, k, arrival))
            engineers.add(e)
            if len(chosen) == people:
                break
        named = {self.problem.engineers[self.vehicles[k].engineer_index].id for _, k, _ in chosen}
        if len(chosen) < people or not set(crew) <= named:
            return
        start = first_start(self.windows[i], max(a for _, _, a in chosen))
        if start is None:
            return
        for _, k, _ in chosen:
            route = routes[k]
            if start + self.duration[i] + self.seconds[p, route.end_point] > route.limit + 1e-9:
                return
        for _, k, _ in chosen:
            routes[k].stops.append(_Stop(i, start, True))

    def as_routes(self, routes: list[_Route]) -> Routes:
        out: Routes = {}
        for route in routes:
            if route.stops:
                engineer = self.problem.engineers[route.vehicle.engineer_index]
                out[(engineer.id, route.vehicle.shift_index)] = [
                    self.problem.visits[s.visit].id for s in route.stops
                ]
        return out

    def breaches(self, routes: list[_Route]) -> tuple[set[int], set[int]]:
        """(served on time or without a deadline, served at all)."""
        on_time: set[int] = set()
        served: set[int] = set()
        for route in routes:
            for s in route.stops:
                served.add(s.visit)
                if s.start <= self.deadline[s.visit] + 1.0:
                    on_time.add(s.visit)
        return on_time, served


def insertion_start(
    problem: Problem, baseline: Solution | None = None, deadline: float | None = None
) -> Routes:
    """Start routes for the solver; `baseline` (the greedy plan) steers the repair
    rounds, which stop before `deadline` (`time.monotonic()`) with the best so far."""
    builder = _Builder(problem)
    visits = problem.visits
    order = sorted(
        range(len(visits)), key=lambda i: _order_key(visits[i], builder.windows[i], problem.horizon_s)
    )
    round_started = time.monotonic()
    routes = builder.build(order)
    round_s = time.monotonic() - round_started
    if baseline is None:
        return builder.as_routes(routes)
    ids = {v.id: i for i, v in enumerate(visits)}
    kept_by_baseline: set[int] = set()
    served_by_baseline: set[int] = set()
    for r in baseline.routes:
        for s in r.stops:
            i = ids[s.visit_id]
            served_by_baseline.add(i)
            if s.start_s <= builder.deadline[i] + 1.0:
                kept_by_baseline.add(i)
    first: list[int] = []
    best: tuple[tuple[int, int, int], list[_Route]] | None = None
    for _ in range(REPAIR_ROUNDS + 1):
        on_time, served = builder.breaches(routes)
        lost = [i for i in order if i in served_by_baseline and i not in served]
        missing = [i for i in order if i in kept_by_baseline and i not in on_time and i not in lost]
        missing = lost + missing
        rank = (len(lost), len(missing), -len(served))
        if best is None or rank < best[0]:
            best = (rank, routes)
        # A round starts only if it can end by the deadline (rounds take about as long as the last).
        if not missing or (deadline is not None and time.monotonic() + round_s > deadline):
            break
        first += [i for i in missing if i not in first]
        head = set(first)
        round_started = time.monotonic()
        routes = builder.build(first + [i for i in order if i not in head])
        round_s = time.monotonic() - round_started
    assert best is not None
    return builder.as_routes(best[1])


def complete_routes(problem: Problem, current: Mapping[tuple[str, int], Sequence[str]]) -> Routes:
    """`current` (a plan being re-planned) with the visits it lacks put in by
    the same cheapest insertion, in the baseline's order; stops stay in their
    order and every stop placed keeps its window and on-time status.

    At a thousand visits, local search from a plan with a few visits missing
    reaches the moves that insert them only after seconds of other moves."""
    builder = _Builder(problem)
    ids = {v.id: i for i, v in enumerate(problem.visits)}
    routes = [
        _Route(veh, builder.start_point[k], builder.end_point[k], veh.end_s + veh.overtime_cap_s)
        for k, veh in enumerate(builder.vehicles)
    ]
    by_key: dict[tuple[str, int], int] = {}
    for k, veh in enumerate(builder.vehicles):
        by_key.setdefault((problem.engineers[veh.engineer_index].id, veh.shift_index), k)
    placed: set[int] = set()
    for key, visit_ids in current.items():
        found = by_key.get(key)
        if found is None:
            continue
        kept = [ids[v] for v in visit_ids if v in ids and found in builder.eligible[ids[v]]]
        stops = [_Stop(i, math.inf, False) for i in kept]
        # Starts at infinity: a stop late in the current plan may stay late.
        starts = builder._schedule(routes[found], stops)
        if starts is None:
            # The current plan no longer holds: the search repairs it.
            return {key: list(visit_ids) for key, visit_ids in current.items()}
        for stop, start in zip(stops, starts, strict=True):
            stop.start = start
        routes[found].stops = stops
        placed.update(s.visit for s in stops)
    visits = problem.visits
    order = sorted(
        (i for i in range(len(visits)) if i not in placed and builder.windows[i] and builder.eligible[i]),
        key=lambda i: _order_key(visits[i], builder.windows[i], problem.horizon_s),
    )
    for i in order:
        if visits[i].people_needed > 1:
            builder._append_joint(routes, i)
        else:
            builder._insert(routes, i)
    return builder.as_routes(routes)
