"""OR-Tools routing model for the dispatch problem.

One OR-Tools vehicle per engineer-shift. Hard: skills, stock, shifts, pins,
windows, confirmed appointments, joint visits at the same time. Soft, in
falling order of steepness: leaving a visit out (by priority), lateness past
the deadline (per minute × priority), overtime, travel time.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from routing.construct import insertion_start
from routing.eligibility import (
    Vehicle,
    can_serve,
    day_of,
    pickup_possible,
    start_windows,
    stocking_warehouses,
    vehicles_of,
)
from routing.explain import Reach, never_s, why_late, why_unassigned
from routing.geo import Point
from routing.greedy import greedy_solve
from routing.model import (
    LateVisit,
    Problem,
    Progress,
    Route,
    Solution,
    Stop,
    Unassigned,
    Visit,
)
from routing.travel import has_speed_profile, speed_factor

IntMatrix = NDArray[np.int64]

# RoutingModel.status() in OR-Tools 9.15 (RoutingSearchStatus): 2 is a good
# plan whose local search was stopped before a local optimum (the usual end
# of a time-limited run), 4 a time-out without any plan.
_STATUS = {
    0: "not_solved",
    1: "success",
    2: "success",
    3: "no_solution",
    4: "timeout",
    5: "invalid",
    6: "infeasible",
    7: "optimal",
}


@dataclass
class SolveOptions:
    time_limit_s: float = 10.0
    # Stop after this many improving-or-not solutions: deterministic runs for tests.
    solution_limit: int | None = None
    first_solution: str = "PARALLEL_CHEAPEST_INSERTION"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    # Solver time units per second. Seconds are exact enough for field work;
    # abstract benchmark coordinates need finer units (travel is rounded up,
    # so a plan feasible in units is feasible in reality).
    time_scale: int = 1
    # Costs in seconds of travel, so that they read the same at any scale.
    # Steep next to travel (1 s late at priority 1 = 100 s of travel), so that
    # local search does not buy travel with SLA breaches.
    lateness_cost_per_minute: float = 6000.0
    drop_cost: float = 1_000_000.0
    overtime_cost_per_minute: float = 120.0
    # Churn: a visit moved to another engineer than its current one costs this
    # (seconds of travel); a start moved by more than the tolerance costs the
    # lateness price per minute beyond it.
    churn_engineer_cost: float = 3600.0
    churn_tolerance_s: float = 1800.0
    # Served by someone other than a preferred engineer (or the one of earlier
    # visits of the same work order).
    preference_cost: float = 900.0
    # Start the search from the greedy baseline's plan (`routing.greedy`):
    # None means only for large problems, where the insertion heuristics take
    # most of the time limit and end up with more late visits than greedy.
    warm_start_from_greedy: bool | None = None
    # None: on when any visit has a demand or any engineer a capacity.
    capacity: bool | None = None
    # Vehicles (engineer id, shift index) planned with the slowest traffic of their
    # shift instead of its average: set by the solver itself when rush hours
    # made a route miss a hard window or its shift end.
    slowest_travel: frozenset[tuple[str, int]] = frozenset()
    # A visit whose parts are in no qualified engineer's van may be served via a
    # pick-up at one of this many nearest warehouses that hold them.
    pickup_warehouses: int = 3
    progress: Callable[[Progress], None] | None = None
    log_search: bool = False
    guided_local_search_lambda: float | None = None
    # Ruin-and-recreate (SISR) around the local search instead of a metaheuristic.
    iterated_local_search: bool = False
    # Raw RoutingSearchParameters fields by dotted path, for tuning, e.g.
    # {"local_search_operators.use_cross_exchange": True}.
    search_parameters: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Node:
    visit_index: int  # -1 for route start/end points; a pick-up: the visit it is for
    copy: int
    point: Point
    kind: str = "visit"  # or "pickup"
    # A pick-up: its warehouse; a visit node: the warehouse of the pick-up it
    # is paired with (served "via" it), -1 for a visit served from the van.
    warehouse: int = -1


class _Model:
    """Everything the OR-Tools model is built from, kept for reading the solution."""

    def __init__(self, problem: Problem, options: SolveOptions) -> None:
        self.problem = problem
        self.options = options
        self.scale = options.time_scale
        self.vehicles: list[Vehicle] = vehicles_of(problem)
        self.windows = [start_windows(problem, v) for v in problem.visits]
        self.allowed: list[list[int]] = [
            [k for k, veh in enumerate(self.vehicles) if can_serve(problem, veh, visit)]
            for visit in problem.visits
        ]
        # Vehicles that may serve a visit only by fetching its parts first.
        self.via_allowed: dict[int, list[int]] = {}
        for i, visit in enumerate(problem.visits):
            if self.windows[i] and pickup_possible(problem, visit):
                direct = set(self.allowed[i])
                ks = [
                    k
                    for k, veh in enumerate(self.vehicles)
                    if k not in direct and can_serve(problem, veh, visit, via_pickup=True)
                ]
                if ks:
                    self.via_allowed[i] = ks
        self.modelled: list[int] = []
        direct_ok: set[int] = set()
        for i, visit in enumerate(problem.visits):
            engineers = {self.vehicles[k].engineer_index for k in self.allowed[i]}
            if self.windows[i] and len(engineers) >= max(1, visit.people_needed):
                direct_ok.add(i)
            if i in direct_ok or i in self.via_allowed:
                self.modelled.append(i)

        depot_points: list[Point] = []
        for veh in self.vehicles:
            e = problem.engineers[veh.engineer_index]
            for p in (e.start, e.end_point):
                if p not in depot_points:
                    depot_points.append(p)
        self.nodes = [_Node(-1, 0, p) for p in depot_points]
        self.depot_node = {p: k for k, p in enumerate(depot_points)}
        self.copies: dict[int, list[int]] = {}
        for i in self.modelled:
            visit = problem.visits[i]
            self.copies[i] = []
            for c in range(max(1, visit.people_needed) if i in direct_ok else 0):
                self.copies[i].append(len(self.nodes))
                self.nodes.append(_Node(i, c, visit.point))
        # (pick-up node, visit node served via it) per visit, nearest warehouses first.
        self.vias: dict[int, list[tuple[int, int]]] = {}
        for i, houses in self._pickup_sources().items():
            visit = problem.visits[i]
            for w in houses:
                self.vias.setdefault(i, []).append((len(self.nodes), len(self.nodes) + 1))
                self.nodes.append(_Node(i, 0, problem.warehouses[w].point, "pickup", w))
                self.nodes.append(_Node(i, 0, visit.point, "visit", w))
        self.modelled = [i for i in self.modelled if self.copies[i] or i in self.vias]

        # One provider call over the distinct points, also covering visits left
        # out of the model, whose explanations need travel times too.
        points = list(dict.fromkeys([n.point for n in self.nodes] + [v.point for v in problem.visits]))
        self.point_index = {p: k for k, p in enumerate(points)}
        seconds = np.asarray(problem.travel.matrix(points, points), dtype=np.float64)
        # No road at all (inf or NaN from a road network): a finite time no
        # shift can absorb, so the arc is never usable and nothing overflows.
        self.never_s = never_s(problem)
        self.seconds = np.where(np.isfinite(seconds), np.minimum(seconds, self.never_s), self.never_s)
        idx = np.array([self.point_index[n.point] for n in self.nodes], dtype=np.int64)
        self.node_point = idx
        # Free-flow travel: the arc cost, and the time of vehicles without traffic.
        self.travel_units: IntMatrix = np.ceil(self.seconds[np.ix_(idx, idx)] * self.scale).astype(np.int64)
        # Time-of-day speeds: each vehicle's time dimension runs at its shift's
        # average speed (or its slowest, see `slowest_travel`); stop times are
        # then recomputed with the speed of each departure.
        self.timed = has_speed_profile(problem.travel)
        self.vehicle_factor = [self._shift_factor(v) for v in self.vehicles]
        self._units_at: dict[float, IntMatrix] = {1.0: self.travel_units}
        self.service_units = np.array(
            [
                0
                if n.visit_index < 0
                else self.units_up(
                    problem.warehouses[n.warehouse].pickup_s
                    if n.kind == "pickup"
                    else problem.visits[n.visit_index].duration_s
                )
                for n in self.nodes
            ],
            dtype=np.int64,
        )
        self.horizon_units = self.units_down(problem.horizon_s)
        # Per node: the vehicles that may serve it and its start windows in units.
        self.node_allowed: list[list[int]] = [[] for _ in self.nodes]
        self.node_windows: list[list[tuple[int, int]]] = [[] for _ in self.nodes]
        for i in self.modelled:
            visit_windows = self.to_units(self.windows[i])
            for node in self.copies[i]:
                self.node_allowed[node] = self.allowed[i]
                self.node_windows[node] = visit_windows
            for pickup, via in self.vias.get(i, []):
                hours = problem.warehouses[self.nodes[pickup].warehouse].hours
                self.node_allowed[pickup] = self.node_allowed[via] = self.via_allowed[i]
                self.node_windows[via] = visit_windows
                self.node_windows[pickup] = self.to_units(hours or [(0.0, problem.horizon_s)])

    def _shift_factor(self, veh: Vehicle) -> float:
        if not self.timed:
            return 1.0
        samples = [
            speed_factor(self.problem.travel, t) for t in np.arange(veh.start_s, veh.end_s + 1.0, 300.0)
        ]
        engineer_id = self.problem.engineers[veh.engineer_index].id
        keys = {(engineer_id, veh.shift_index), *((engineer_id, d[0]) for d in veh.days)}
        if keys & self.options.slowest_travel:
            return round(min(samples), 2)
        # Travel time scales with 1 / factor: its mean is the harmonic mean's inverse.
        return round(len(samples) / sum(1.0 / f for f in samples), 2)

    def units_at(self, factor: float) -> IntMatrix:
        """Travel in units at `factor` × free-flow speed."""
        if factor not in self._units_at:
            nodes = np.ix_(self.node_point, self.node_point)
            self._units_at[factor] = np.ceil(self.seconds[nodes] / factor * self.scale).astype(np.int64)
        return self._units_at[factor]

    def vehicle_units(self, k: int) -> IntMatrix:
        return self.units_at(self.vehicle_factor[k])

    def leg_units(self, k: int, a: int, b: int, depart: int) -> int:
        """Travel from node a to node b in units, leaving at `depart` (units)."""
        if not self.timed:
            return int(self.travel_units[a, b])
        return self.units_up(self.leg_seconds(self.node_point[a], self.node_point[b], depart / self.scale))

    def leg_seconds(self, a: int, b: int, depart_s: float) -> float:
        """Travel between point indexes a and b, leaving at horizon second `depart_s`."""
        free = float(self.seconds[a, b])
        return free / speed_factor(self.problem.travel, depart_s) if self.timed else free

    def to_units(self, windows: Sequence[tuple[float, float]]) -> list[tuple[int, int]]:
        units = [(self.units_up(a), self.units_down(b)) for a, b in windows]
        return [(a, b) for a, b in units if a <= b]

    def _pickup_sources(self) -> dict[int, list[int]]:
        """The few nearest warehouses (by travel time to the site) holding each via-visit's parts."""
        problem = self.problem
        wanted = {i: stocking_warehouses(problem, problem.visits[i]) for i in self.via_allowed}
        if not wanted or self.options.pickup_warehouses <= 0:
            return {}
        houses = sorted({w for ws in wanted.values() for w in ws})
        ids = list(wanted)
        seconds = np.asarray(
            problem.travel.matrix(
                [problem.warehouses[w].point for w in houses], [problem.visits[i].point for i in ids]
            ),
            dtype=np.float64,
        )
        row = {w: r for r, w in enumerate(houses)}
        out: dict[int, list[int]] = {}
        for col, i in enumerate(ids):
            reachable = [w for w in wanted[i] if np.isfinite(seconds[row[w], col])]
            reachable.sort(key=lambda w: (seconds[row[w], col], w))
            if reachable:
                out[i] = reachable[: self.options.pickup_warehouses]
        return out

    def service_nodes(self, i: int) -> list[int]:
        """The nodes that stand for serving visit i: its copies and its via-pick-up variants."""
        return self.copies.get(i, []) + [via for _, via in self.vias.get(i, [])]

    def units_up(self, seconds: float) -> int:
        return math.ceil(seconds * self.scale - 1e-9)

    def units_down(self, seconds: float) -> int:
        return math.floor(seconds * self.scale + 1e-9)

    def start_node(self, veh: Vehicle) -> int:
        return self.depot_node[self.problem.engineers[veh.engineer_index].start]

    def end_node(self, veh: Vehicle) -> int:
        return self.depot_node[self.problem.engineers[veh.engineer_index].end_point]

    def reach(self, visit: Visit) -> Reach:
        out: dict[int, tuple[float, float]] = {}
        j = self.point_index[visit.point]
        for e_index, e in enumerate(self.problem.engineers):
            if e.start in self.point_index and e.end_point in self.point_index:
                out[e_index] = (
                    float(self.seconds[self.point_index[e.start], j]),
                    float(self.seconds[j, self.point_index[e.end_point]]),
                )
        return out


# Lateness of a visit that the greedy baseline serves on time costs this many
# times more (large problems, started from the baseline's plan).
PROTECTED_LATENESS_FACTOR = 20

SAVINGS_MEMORY_BYTES = 512 * 1024 * 1024

# From this many nodes on, a problem counts as large (see `warm_start_from_greedy`).
LARGE_NODES = 400

# (engineer id, shift index) -> visit ids in order; a joint visit appears in
# the route of each of its engineers.
InitialRoutes = Mapping[tuple[str, int], Sequence[str]]


def solve(
    problem: Problem, options: SolveOptions | None = None, initial_routes: InitialRoutes | None = None
) -> Solution:
    """Plan the problem. `initial_routes` (e.g. the current plan when re-planning)
    is where the search starts; stops that no longer fit are left for it to place.

    `options.time_limit_s` bounds the whole call: building the model (and the
    greedy start of a large problem) counts against it."""
    options = options or SolveOptions()
    started = time.monotonic()
    deadline = started + options.time_limit_s
    m = _Model(problem, options)
    if not m.vehicles or not m.modelled:
        return _finish(m, None, None, None, "success" if not problem.visits else "no_solution", started, 0)
    large = len(m.nodes) >= LARGE_NODES
    warm = options.warm_start_from_greedy
    if warm is None:
        warm = (
            large and options.solution_limit is None and any(v.deadline_s is not None for v in problem.visits)
        )
    protected: set[str] = set()
    if initial_routes is None and warm:
        baseline = greedy_solve(problem)
        initial_routes = insertion_start(problem, baseline)
        # What the rule of thumb keeps on time, the plan must not give up for
        # travel: steeper lateness, and a hard deadline where the start keeps it.
        late_ids = {lv.visit_id for lv in baseline.late}
        protected = {s.visit_id for r in baseline.routes for s in r.stops if s.visit_id not in late_ids}

    if initial_routes is None and m.vias:
        return _solve_with_pickups(problem, options, started, deadline)

    manager = pywrapcp.RoutingIndexManager(
        len(m.nodes),
        len(m.vehicles),
        [m.start_node(v) for v in m.vehicles],
        [m.end_node(v) for v in m.vehicles],
    )
    routing = pywrapcp.RoutingModel(manager)
    starts: list[list[list[int]]] = []
    on_time_in_start: set[int] = set()
    if initial_routes:
        starts, on_time_in_start = _initial_indices(m, manager, initial_routes)
    travel_cb = routing.RegisterTransitMatrix(m.travel_units.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(travel_cb)
    time_cbs: dict[float, int] = {}
    for factor in dict.fromkeys(m.vehicle_factor):
        time_matrix = m.units_at(factor) + m.service_units[:, None]
        time_cbs[factor] = routing.RegisterTransitMatrix(time_matrix.tolist())
        del time_matrix
    if len(time_cbs) == 1:
        routing.AddDimension(next(iter(time_cbs.values())), m.horizon_units, m.horizon_units, False, "Time")
    else:
        routing.AddDimensionWithVehicleTransits(
            [time_cbs[f] for f in m.vehicle_factor], m.horizon_units, m.horizon_units, False, "Time"
        )
    time_dim = routing.GetDimensionOrDie("Time")
    solver = routing.solver()

    overtime_coeff = max(0, round(options.overtime_cost_per_minute / 60.0))
    end_caps = _end_caps(m)
    visit_transits: list[int] | None = None
    for k, veh in enumerate(m.vehicles):
        lo, hi = m.units_up(veh.start_s), m.units_down(veh.end_s)
        cap = end_caps[k]
        time_dim.CumulVar(routing.Start(k)).SetRange(lo, hi)
        time_dim.CumulVar(routing.End(k)).SetRange(lo, cap)
        if cap > hi and overtime_coeff:
            time_dim.SetCumulVarSoftUpperBound(routing.End(k), hi, overtime_coeff)
        if veh.breaks:
            # Nights away: no work between the shifts. A drive may straddle
            # the night (begun in the evening, finished in the morning).
            if visit_transits is None:
                visit_transits = [0] * (routing.Size() + len(m.vehicles))
                for index in range(routing.Size()):
                    if not routing.IsStart(index):
                        visit_transits[index] = int(m.service_units[manager.IndexToNode(index)])
            nights = [
                solver.FixedDurationIntervalVar(
                    m.units_down(a), m.units_down(a), m.units_up(b) - m.units_down(a), False, f"night-{k}-{d}"
                )
                for d, (a, b) in enumerate(veh.breaks)
            ]
            time_dim.SetBreakIntervalsOfVehicle(nights, k, visit_transits)
    _monthly_overtime(m, solver, routing, time_dim)
    _rest_after_calls(m, solver, routing, time_dim)

    use_capacity = options.capacity
    if use_capacity is None:
        use_capacity = any(v.demand for v in problem.visits) or any(
            e.capacity is not None for e in problem.engineers
        )
    if use_capacity:
        demand = [0 if n.visit_index < 0 else problem.visits[n.visit_index].demand for n in m.nodes]
        demand_cb = routing.RegisterUnaryTransitVector(demand)
        caps = [
            problem.engineers[v.engineer_index].capacity
            if problem.engineers[v.engineer_index].capacity is not None
            else sum(demand)
            for v in m.vehicles
        ]
        routing.AddDimensionWithVehicleCapacity(demand_cb, 0, caps, True, "Load")
    _affinity(m, routing)
    _eligibility_dimension(m, routing)

    late_per_unit = options.lateness_cost_per_minute / 60.0
    all_vehicles = len(m.vehicles)
    tolerance = options.churn_tolerance_s
    for i in m.modelled:
        visit = problem.visits[i]
        weight = max(1, visit.priority)
        late_coeff = max(1, round(late_per_unit * weight))
        if visit.id in protected:
            late_coeff *= PROTECTED_LATENESS_FACTOR
        penalty = int(
            weight * options.drop_cost * m.scale
            # Serving late must always beat not serving at all.
            + (late_coeff * m.horizon_units if visit.deadline_s is not None or visit.appointment else 0)
        )
        if visit.already_started:
            penalty *= 100  # leaving started work is a last resort, kept only to stay feasible
        vias = m.vias.get(i, [])
        if vias:
            # Served from the van or via one pick-up (a single-engineer visit):
            # one of these nodes, or the drop penalty.
            routing.AddDisjunction([manager.NodeToIndex(n) for n in m.service_nodes(i)], penalty, 1)
            for pickup, via in vias:
                p_index, v_index = manager.NodeToIndex(pickup), manager.NodeToIndex(via)
                routing.AddDisjunction([p_index], 0)  # optional, tied to its visit by the pair
                # Same engineer (an inactive node has vehicle -1: both or neither),
                # pick-up first. The pair declaration only guides the search.
                solver.Add(routing.VehicleVar(p_index) == routing.VehicleVar(v_index))
                solver.Add(time_dim.CumulVar(p_index) <= time_dim.CumulVar(v_index))
                routing.AddPickupAndDelivery(p_index, v_index)
                _restrict(
                    routing, time_dim, p_index, m.node_allowed[pickup], m.node_windows[pickup], all_vehicles
                )
        for node in m.service_nodes(i):
            index = manager.NodeToIndex(node)
            if not vias:
                routing.AddDisjunction([index], penalty)
            _restrict(routing, time_dim, index, m.node_allowed[node], m.node_windows[node], all_vehicles)
            if visit.id in protected and i in on_time_in_start and visit.deadline_s is not None:
                # On time for the rule of thumb and in the start plan: keep it so.
                time_dim.CumulVar(index).SetMax(m.units_down(visit.deadline_s))
            # A cumul holds one soft upper bound: the deadline, the end of a
            # tentative appointment and the churn tolerance share it, at the
            # same price per minute.
            soft_ends = [visit.deadline_s] if visit.deadline_s is not None else []
            soft_start = _soft_start(visit, options)
            if visit.appointment is not None and not visit.confirmed:
                soft_ends.append(visit.appointment[1])
            if visit.current_start_s is not None and not visit.already_started:
                soft_ends.append(visit.current_start_s + tolerance)
            if soft_start is not None and soft_start > 0:
                time_dim.SetCumulVarSoftLowerBound(index, m.units_up(soft_start), late_coeff)
            if soft_ends:
                time_dim.SetCumulVarSoftUpperBound(index, max(0, m.units_down(min(soft_ends))), late_coeff)
        copies = [manager.NodeToIndex(n) for n in m.copies[i]]
        if len(copies) > 1:
            _synchronise(solver, routing, time_dim, m, copies)

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, options.first_solution)
    metaheuristic = options.metaheuristic
    if sum(len(c) for c in m.copies.values()) <= 3:
        # A metaheuristic never stops by itself, and with a handful of stops
        # there is nothing left for it to find after plain descent.
        metaheuristic = "GREEDY_DESCENT"
    params.local_search_metaheuristic = getattr(routing_enums_pb2.LocalSearchMetaheuristic, metaheuristic)
    # The savings heuristic reserves up to 6 GB by default: a thousand visits
    # in two processes ran out of memory. A quarter of the 2 GiB budget each.
    params.savings_parameters.max_memory_usage_bytes = SAVINGS_MEMORY_BYTES
    if options.solution_limit is not None:
        params.solution_limit = options.solution_limit
    if options.guided_local_search_lambda is not None:
        params.guided_local_search_lambda_coefficient = options.guided_local_search_lambda
    params.log_search = options.log_search
    if m.vias:
        # Trades a visit served from the van for a pick-up pair and back, which
        # plain make-active / make-inactive moves cannot do in one step.
        params.local_search_operators.use_node_pair_swap_active = 3  # BOOL_TRUE
    if options.iterated_local_search:
        params.use_iterated_local_search = True
        ruin = params.iterated_local_search_parameters.ruin_recreate_parameters
        del ruin.ruin_strategies[:]
        sisr = ruin.ruin_strategies.add().sisr
        # The published SISR settings (Christiaens & Vanden Berghe, 2020).
        sisr.max_removed_sequence_size = 10
        sisr.avg_num_removed_visits = 10
        sisr.bypass_factor = 0.01
    for path, value in options.search_parameters.items():
        *parents, leaf = path.split(".")
        target = params
        for name in parents:
            target = getattr(target, name)
        if leaf.startswith("use_") and isinstance(value, bool) and "operators" in path:
            value = 3 if value else 2  # OptionalBoolean BOOL_TRUE / BOOL_FALSE
        setattr(target, leaf, value)

    found = 0
    best: int | None = None

    def on_solution() -> None:
        nonlocal found, best
        found += 1
        value = int(routing.CostVar().Max())
        if best is None or value < best:
            best = value
            if options.progress is not None:
                options.progress(Progress(value, time.monotonic() - started, found))

    routing.AddAtSolutionCallback(on_solution)

    def set_time_limit() -> None:
        # What is left of the caller's limit, less a reserve for reading the plan.
        reserve = min(2.0, 0.02 * options.time_limit_s + 0.002 * len(m.nodes))
        left = deadline - time.monotonic() - reserve
        params.time_limit.FromMilliseconds(max(100, int(left * 1000)))

    assignment = None
    if initial_routes:
        set_time_limit()
        routing.CloseModelWithParameters(params)
        for routes in starts:
            # Only the successors are set here; the search restores the rest
            # (ReadAssignmentFromRoutes would do that in a search of its own,
            # seconds at a thousand visits).
            start = routing.solver().Assignment()
            if not routing.RoutesToAssignment(routes, True, True, start):
                continue
            set_time_limit()
            assignment = routing.SolveFromAssignmentWithParameters(start, params)
            if assignment is not None:
                break
    if assignment is None:
        set_time_limit()
        assignment = routing.SolveWithParameters(params)
    status = _STATUS.get(routing.status(), str(routing.status()))
    if assignment is not None and status not in ("success", "optimal"):
        status = "success"  # a plan was found; the search only ran out of time
    solution = _finish(m, routing, manager, assignment, status, started, found)
    broken = _broken_by_traffic(m, solution) - options.slowest_travel if m.timed else set()
    if broken and deadline - time.monotonic() > 0.5:
        # Rush hours made these routes miss a hard window or their shift end:
        # plan them again at the slowest speed of their shift, from this plan.
        retry = solve(
            problem,
            replace(
                options,
                slowest_travel=options.slowest_travel | broken,
                time_limit_s=deadline - time.monotonic(),
            ),
            {
                (r.engineer_id, r.shift_index): [s.visit_id for s in r.stops if s.is_visit]
                for r in solution.routes
            },
        )
        return replace(
            retry, seconds=time.monotonic() - started, solutions_found=found + retry.solutions_found
        )
    return solution


def _broken_by_traffic(m: _Model, solution: Solution) -> set[tuple[str, int]]:
    """Routes whose stop times at the speed of each departure break a hard window
    or run past the shift end plus overtime (the solver saw the shift's average speed)."""
    visits = {v.id: i for i, v in enumerate(m.problem.visits)}
    engineers = {e.id: e for e in m.problem.engineers}
    broken: set[tuple[str, int]] = set()
    for route in solution.routes:
        key = (route.engineer_id, route.shift_index)
        if route.return_s > route.shift[1] + engineers[route.engineer_id].overtime_cap_s + 1.0:
            broken.add(key)
        for stop in route.stops:
            windows = m.windows[visits[stop.visit_id]] if stop.is_visit else []
            if windows and not any(lo - 1.0 <= stop.start_s <= hi + 1.0 for lo, hi in windows):
                broken.add(key)
    return broken


def _solve_with_pickups(problem: Problem, options: SolveOptions, started: float, deadline: float) -> Solution:
    """Two starts, the better plan kept.

    Insertion heuristics place pick-up pairs before single visits, so they send
    an engineer to a warehouse for a part another van holds, and no single
    move of the local search undoes that. Started from the plan without
    pick-ups instead, the search adds the pick-ups that rescue visits nobody
    could do, but rarely trades a stocked van that is late for a pick-up on
    time. Each start gets about half of the time."""
    best: list[int] = []
    user_progress = options.progress

    def progress(p: Progress) -> None:
        if user_progress is not None and (not best or p.objective < best[0]):
            best[:] = [p.objective]
            user_progress(Progress(p.objective, time.monotonic() - started, p.solutions))

    def budget(share: float) -> float:
        return max(0.1, share * (deadline - time.monotonic()))

    pairs_first = solve(problem, replace(options, time_limit_s=budget(0.5), progress=progress), {})
    direct = solve(replace(problem, warehouses=[]), replace(options, time_limit_s=budget(0.3), progress=None))
    start = {(r.engineer_id, r.shift_index): [s.visit_id for s in r.stops] for r in direct.routes}
    direct_first = solve(problem, replace(options, time_limit_s=budget(1.0), progress=progress), start)
    chosen = min(
        (pairs_first, direct_first),
        key=lambda sol: (len(sol.unassigned), sol.objective if sol.objective is not None else 2**62),
    )
    return replace(
        chosen,
        seconds=time.monotonic() - started,
        solutions_found=pairs_first.solutions_found + direct_first.solutions_found,
    )


def _restrict(
    routing: Any, time_dim: Any, index: int, allowed: list[int], windows: list[tuple[int, int]], vehicles: int
) -> None:
    """Who may serve a node, and when it may start."""
    if len(allowed) < vehicles:
        # -1 keeps the node droppable (SetAllowedVehiclesForIndex rejects
        # Python lists in this OR-Tools build).
        routing.VehicleVar(index).SetValues([-1, *allowed])
    if windows:
        cumul = time_dim.CumulVar(index)
        cumul.SetRange(windows[0][0], windows[-1][1])
        for (_, prev_hi), (next_lo, _) in itertools.pairwise(windows):
            if next_lo - prev_hi > 1:
                cumul.RemoveInterval(prev_hi + 1, next_lo - 1)


def _end_caps(m: _Model) -> list[int]:
    """Latest return (units) per vehicle: shift end plus overtime cap, or later when
    critical work already on site runs past it (the shift end is soft for it)."""
    caps = [m.units_down(v.end_s + v.overtime_cap_s) for v in m.vehicles]
    for i in m.modelled:
        visit = m.problem.visits[i]
        if not (visit.critical and visit.already_started and visit.pinned_start_s is not None):
            continue
        for k in m.allowed[i]:
            veh = m.vehicles[k]
            node = m.copies[i][0]
            done = m.units_up(visit.pinned_start_s) + int(m.service_units[node])
            back = int(m.vehicle_units(k)[node, m.end_node(veh)])
            caps[k] = min(m.horizon_units, max(caps[k], done + back))
    return caps


def _monthly_overtime(m: _Model, solver: Any, routing: Any, time_dim: Any) -> None:
    """The overtime left this month bounds the sum over the engineer's shifts."""
    for e_index, engineer in enumerate(m.problem.engineers):
        if engineer.overtime_left_month_s is None:
            continue
        terms = [
            solver.Max(time_dim.CumulVar(routing.End(k)) - m.units_down(v.end_s), 0)
            for k, v in enumerate(m.vehicles)
            if v.engineer_index == e_index and v.overtime_cap_s > 0
        ]
        if len(terms) > 1:
            solver.Add(solver.Sum(terms) <= m.units_down(max(0.0, engineer.overtime_left_month_s)))


def _rest_pairs(m: _Model) -> list[tuple[int, int, int]]:
    """(on-call vehicle, regular vehicle after it, rest in units) of engineers with rest rules."""
    out = []
    for c, call in enumerate(m.vehicles):
        engineer = m.problem.engineers[call.engineer_index]
        if not call.on_call or engineer.rest_after_call_s <= 0:
            continue
        rest = m.units_up(engineer.rest_after_call_s)
        latest_back = m.units_down(call.end_s + call.overtime_cap_s)
        for r, shift in enumerate(m.vehicles):
            if shift.engineer_index != call.engineer_index or shift.on_call or shift.start_s < call.start_s:
                continue
            if m.units_up(shift.start_s) < latest_back + rest:
                out.append((c, r, rest))
    return out


def _rest_after_calls(m: _Model, solver: Any, routing: Any, time_dim: Any) -> None:
    """After a call-out, the next shift starts no sooner than `rest_after_call_s` after
    the engineer is back from it."""
    for c, r, rest in _rest_pairs(m):
        solver.Add(
            time_dim.CumulVar(routing.Start(r))
            >= time_dim.CumulVar(routing.End(c)) + rest * routing.ActiveVehicleVar(c)
        )


def _eligibility_dimension(m: _Model, routing: Any) -> None:
    """Who may serve what, where the local-search filters see it.

    Restricted vehicle variables alone are checked only by the constraint
    solver, after the filters, so that most moves of a large problem failed
    there (skills and stock rule out most engineers for most visits). A
    dimension that must stay at 0, with 1 for every stop a vehicle may not
    serve, is rejected by the filters at once.
    """
    restricted = [
        node
        for node, n in enumerate(m.nodes)
        if n.visit_index >= 0 and len(m.node_allowed[node]) < len(m.vehicles)
    ]
    if not restricted:
        return
    allowed = [set(a) for a in m.node_allowed]
    callbacks: dict[bytes, int] = {}
    evaluators = []
    for k in range(len(m.vehicles)):
        vector = np.zeros(len(m.nodes), dtype=np.int64)
        for node in restricted:
            if k not in allowed[node]:
                vector[node] = 1
        key = vector.tobytes()
        if key not in callbacks:
            callbacks[key] = routing.RegisterUnaryTransitVector(vector.tolist())
        evaluators.append(callbacks[key])
    routing.AddDimensionWithVehicleTransits(evaluators, 0, 0, True, "Eligible")


def _affinity(m: _Model, routing: Any) -> None:
    """Soft engineer choice: churn (another engineer than the current one) and
    preferred / follow-up engineers, as a per-vehicle dimension priced by its span."""
    opts = m.options
    costs: dict[int, list[int]] = {}
    for e_index, engineer in enumerate(m.problem.engineers):
        vector = [0] * len(m.nodes)
        for node, n in enumerate(m.nodes):
            if n.visit_index < 0 or n.kind == "pickup":
                continue
            visit = m.problem.visits[n.visit_index]
            cost = 0.0
            if visit.current_engineer is not None and visit.current_engineer != engineer.id:
                cost += opts.churn_engineer_cost
            if visit.preferred_engineers and engineer.id not in visit.preferred_engineers:
                cost += opts.preference_cost
            vector[node] = round(cost * m.scale)
        if any(vector):
            costs[e_index] = vector
    if not costs:
        return
    zero = routing.RegisterUnaryTransitVector([0] * len(m.nodes))
    callbacks = {e: routing.RegisterUnaryTransitVector(v) for e, v in costs.items()}
    evaluators = [callbacks.get(v.engineer_index, zero) for v in m.vehicles]
    total = sum(sum(v) for v in costs.values()) + 1
    routing.AddDimensionWithVehicleTransits(evaluators, 0, total, True, "Affinity")
    routing.GetDimensionOrDie("Affinity").SetSpanCostCoefficientForAllVehicles(1)


def _synchronise(solver: Any, routing: Any, time_dim: Any, m: _Model, copies: list[int]) -> None:
    """Copies of one joint visit start together, each with a different engineer.

    Activity is not tied together here: local search inserts one node at a
    time, so a hard "all or none" would block every insertion. A copy left
    alone is taken out when the solution is read.
    """
    engineer_of = [v.engineer_index for v in m.vehicles]
    engineer_vars = []
    for c, index in enumerate(copies):
        solver.Add(time_dim.CumulVar(copies[0]) == time_dim.CumulVar(index))
        # An inactive copy has vehicle -1: give each copy its own negative
        # sentinel so that inactive copies never clash.
        table = [-(c + 1), *engineer_of]
        engineer_vars.append(solver.Element(table, routing.VehicleVar(index) + 1))
    solver.Add(solver.AllDifferent(engineer_vars))


def _initial_indices(
    m: _Model, manager: Any, initial: InitialRoutes
) -> tuple[list[list[list[int]]], set[int]]:
    """Start routes for the search, most complete first: the given routes less
    the stops that do not fit in solver units (times are rounded there), then
    the same without joint visits, whose synchronisation may still fail.

    Also the visits that start on time in these routes, counted only before a
    route's first joint stop (waiting for a partner may delay what follows)."""
    vehicle_of: dict[tuple[str, int], int] = {}
    for k, v in enumerate(m.vehicles):
        engineer_id = m.problem.engineers[v.engineer_index].id
        for shift_index in [v.shift_index, *(d[0] for d in v.days)]:
            vehicle_of[(engineer_id, shift_index)] = k
    visit_of = {visit.id: i for i, visit in enumerate(m.problem.visits)}
    unused = {i: list(nodes) for i, nodes in m.copies.items()}
    routes: list[list[int]] = [[] for _ in m.vehicles]
    for key, visit_ids in initial.items():
        vehicle = vehicle_of.get(key)
        if vehicle is None:
            continue
        for visit_id in visit_ids:
            i = visit_of.get(visit_id, -1)
            if unused.get(i) and vehicle in m.allowed[i]:
                routes[vehicle].append(unused[i].pop(0))
    caps = _end_caps(m)
    fitted: list[list[int]] = []
    on_time: set[int] = set()
    for k, seq in enumerate(routes):
        veh = m.vehicles[k]
        if veh.breaks:
            fitted.append(seq)
            continue
        kept: list[int] = []
        joint_seen = False
        prev, clock = m.start_node(veh), m.units_up(veh.start_s)
        for node in seq:
            arrival = clock + int(m.vehicle_units(k)[prev, node])
            start = next((max(lo, arrival) for lo, hi in m.node_windows[node] if hi >= arrival), None)
            if start is None:
                continue
            done = start + int(m.service_units[node])
            if done + int(m.vehicle_units(k)[node, m.end_node(veh)]) > caps[k]:
                continue
            kept.append(node)
            prev, clock = node, done
            vi = m.nodes[node].visit_index
            if len(m.copies[vi]) > 1:
                joint_seen = True
            deadline = m.problem.visits[vi].deadline_s
            if not joint_seen and deadline is not None and start <= m.units_down(deadline):
                on_time.add(vi)
        fitted.append(kept)
    count: dict[int, int] = {}
    for seq in fitted:
        for node in seq:
            count[m.nodes[node].visit_index] = count.get(m.nodes[node].visit_index, 0) + 1
    whole = [
        [n for n in seq if count[m.nodes[n].visit_index] == len(m.copies[m.nodes[n].visit_index])]
        for seq in fitted
    ]
    solo = [[n for n in seq if len(m.copies[m.nodes[n].visit_index]) == 1] for seq in whole]

    def indices(seqs: list[list[int]]) -> list[list[int]]:
        return [[int(manager.NodeToIndex(n)) for n in seq] for seq in seqs]

    return [indices(whole), indices(solo)], on_time


def _finish(
    m: _Model,
    routing: Any,
    manager: Any,
    assignment: Any,
    status: str,
    started: float,
    found: int,
) -> Solution:
    problem = m.problem
    sequences: list[list[int]] = [[] for _ in m.vehicles]
    if assignment is not None:
        for k in range(len(m.vehicles)):
            index = assignment.Value(routing.NextVar(routing.Start(k)))
            while not routing.IsEnd(index):
                sequences[k].append(manager.IndexToNode(index))
                index = assignment.Value(routing.NextVar(index))

    # A joint visit counts only when every copy is on a route.
    active: dict[int, int] = {}
    for seq in sequences:
        for node in seq:
            if m.nodes[node].kind == "visit":
                vi = m.nodes[node].visit_index
                active[vi] = active.get(vi, 0) + 1
    partial = {vi for vi, n in active.items() if n < max(1, problem.visits[vi].people_needed)}
    sequences = [[n for n in seq if m.nodes[n].visit_index not in partial] for seq in sequences]

    # Soft "not before" times (a tentative appointment, the current start of a
    # promise) are kept as far as the solver's own schedule kept them.
    soft_floor: dict[int, int] = {}
    if assignment is not None:
        time_dim = routing.GetDimensionOrDie("Time")
        for seq in sequences:
            for node in seq:
                if m.nodes[node].kind != "visit":
                    continue
                lo = _soft_start(m.problem.visits[m.nodes[node].visit_index], m.options)
                if lo is not None:
                    cumul = assignment.Value(time_dim.CumulVar(manager.NodeToIndex(node)))
                    soft_floor[node] = min(m.units_up(lo), int(cumul))
    starts, floors = _earliest_schedule(m, sequences, soft_floor)
    routes: list[Route] = []
    late_engineers: dict[int, list[str]] = {}
    for k, seq in enumerate(sequences):
        if not seq:
            continue
        veh = m.vehicles[k]
        engineer = problem.engineers[veh.engineer_index]
        days = veh.days or ((veh.shift_index, veh.start_s, veh.end_s),)
        by_day: list[list[int]] = [[] for _ in days]
        for node in seq:
            by_day[day_of(veh, starts[node] / m.scale)].append(node)
        prev_point = engineer.start
        last_day = max(d for d, nodes in enumerate(by_day) if nodes)
        for d, nodes in enumerate(by_day):
            if not nodes:
                continue
            shift_index, day_start, day_end = days[d]
            day_start = max(day_start, floors.get(k, 0) / m.scale)
            first_point = prev_point
            stops: list[Stop] = []
            clock = depart = day_start
            for pos, node in enumerate(nodes):
                n = m.nodes[node]
                visit = problem.visits[n.visit_index]
                start = starts[node] / m.scale
                a, b = m.point_index[prev_point], m.point_index[n.point]
                if pos == 0:
                    # Leave home (or the last stop of the day before) just in time.
                    depart = max(
                        day_start, start - m.leg_seconds(a, b, max(day_start, start - m.seconds[a, b]))
                    )
                    clock = depart
                leg = m.leg_seconds(a, b, clock)
                arrival = clock + leg
                if n.kind == "pickup":
                    house = problem.warehouses[n.warehouse]
                    parts = tuple(sorted(visit.parts - engineer.parts))
                    end = start + house.pickup_s
                    stops.append(
                        Stop(visit.id, arrival, start, end, leg, 0.0, "pickup", house.id, parts, n.point)
                    )
                else:
                    late_s = max(0.0, start - visit.deadline_s) if visit.deadline_s is not None else 0.0
                    end = start + visit.duration_s
                    stops.append(Stop(visit.id, arrival, start, end, leg, late_s, point=n.point))
                    if late_s > 0:
                        late_engineers.setdefault(n.visit_index, []).append(engineer.id)
                clock = end
                prev_point = n.point
            # Away overnight, the day ends at its last stop; home comes after the last day.
            back = 0.0
            if d == last_day:
                back = m.leg_seconds(m.point_index[prev_point], m.point_index[engineer.end_point], clock)
            ret = clock + back
            routes.append(
                Route(
                    engineer_id=engineer.id,
                    shift_index=shift_index,
                    shift=(days[d][1], day_end),
                    on_call=veh.on_call,
                    depart_s=depart,
                    return_s=ret,
                    stops=stops,
                    travel_s=sum(s.travel_s for s in stops) + back,
                    overtime_s=max(0.0, ret - day_end),
                    load=sum(
                        problem.visits[m.nodes[n].visit_index].demand
                        for n in nodes
                        if m.nodes[n].kind == "visit"
                    ),
                    start_point=first_point,
                    end_point=engineer.end_point if d == last_day else prev_point,
                )
            )

    assigned = {m.nodes[n].visit_index for seq in sequences for n in seq if m.nodes[n].kind == "visit"}
    start_of = {
        m.nodes[n].visit_index: starts[n] for seq in sequences for n in seq if m.nodes[n].kind == "visit"
    }
    unassigned: list[Unassigned] = []
    for i, visit in enumerate(problem.visits):
        if i in assigned:
            continue
        if assignment is None and i in m.copies:
            reason = f"the solver found no plan ({status})"
        else:
            reason = why_unassigned(problem, m.vehicles, visit, m.reach(visit))
        unassigned.append(Unassigned(visit.id, reason))
    late: list[LateVisit] = []
    for vi, engineer_ids in late_engineers.items():
        visit = problem.visits[vi]
        assert visit.deadline_s is not None
        start = start_of[vi] / m.scale
        late.append(
            LateVisit(
                visit.id,
                engineer_ids,
                start,
                visit.deadline_s,
                start - visit.deadline_s,
                why_late(problem, m.vehicles, visit, m.reach(visit), start),
            )
        )
    return Solution(
        routes=routes,
        unassigned=unassigned,
        late=late,
        objective=int(assignment.ObjectiveValue()) if assignment is not None else None,
        status=status,
        seconds=time.monotonic() - started,
        solutions_found=found,
        changed=changed_promises(problem, routes, m.options.churn_tolerance_s),
    )


def changed_promises(problem: Problem, routes: Sequence[Route], tolerance_s: float) -> list[str]:
    """Visits with a current promise (engineer and/or start) that the routes break:
    dropped, given to another engineer, or moved by more than `tolerance_s`."""
    served: dict[str, list[tuple[str, float]]] = {}
    for route in routes:
        for stop in route.stops:
            served.setdefault(stop.visit_id, []).append((route.engineer_id, stop.start_s))
    out = []
    for visit in problem.visits:
        if visit.current_engineer is None and visit.current_start_s is None:
            continue
        stops = served.get(visit.id, [])
        kept = bool(stops)
        if kept and visit.current_engineer is not None:
            kept = visit.current_engineer in {e for e, _ in stops}
        if kept and visit.current_start_s is not None:
            kept = abs(stops[0][1] - visit.current_start_s) <= tolerance_s
        if not kept:
            out.append(visit.id)
    return out


def _soft_start(visit: Visit, options: SolveOptions) -> float | None:
    """The soft lower bound on the start: a tentative appointment, else the current promise."""
    if visit.appointment is not None and not visit.confirmed:
        return visit.appointment[0]
    if visit.current_start_s is not None and not visit.already_started:
        return visit.current_start_s - options.churn_tolerance_s
    return None


def _earliest_schedule(
    m: _Model, sequences: list[list[int]], soft_floor: Mapping[int, int] | None = None
) -> tuple[dict[int, int], dict[int, int]]:
    """Earliest start (in units) of every routed node, joint copies together, and
    the earliest route start of vehicles held back by rest after a call-out.

    Start times are recomputed rather than read from the solver's cumuls,
    which may sit anywhere in their feasible range. Starting every stop as
    early as its arrival, window, joint partners, nights away and rest allow
    is monotone, so the iteration reaches the least schedule, which is no
    later than the solver's feasible one and hence feasible.
    """
    nights = [[(m.units_down(a), m.units_up(b)) for a, b in veh.breaks] for veh in m.vehicles]
    rests = _rest_pairs(m)
    floor: dict[int, int] = dict(soft_floor or {})
    vehicle_floor: dict[int, int] = {}
    starts: dict[int, int] = {}
    returns: dict[int, int] = {}
    for _ in range(4 * len(m.nodes) + 4):
        for k, seq in enumerate(sequences):
            veh = m.vehicles[k]
            prev = m.start_node(veh)
            clock = max(m.units_up(veh.start_s), vehicle_floor.get(k, 0))
            for node in seq:
                leg = m.leg_units(k, prev, node, clock)
                start = max(clock + leg, floor.get(node, 0))
                service = int(m.service_units[node])
                for a, b in nights[k]:
                    if clock <= a < clock + leg:
                        start = max(start, clock + leg + b - a)  # the drive straddles the night
                for _ in range(len(nights[k]) + 1):
                    for lo, hi in m.node_windows[node]:
                        if hi >= start:
                            start = max(lo, start)
                            break
                    # No work through a night: wait for the morning.
                    pushed = next((b for a, b in nights[k] if start < b and a < start + service), None)
                    if pushed is None or pushed <= start:
                        break
                    start = pushed
                starts[node] = start
                clock = start + service
                prev = node
            returns[k] = clock + m.leg_units(k, prev, m.end_node(veh), clock)
        changed = False
        for c, r, rest in _rest_pairs(m) if rests else ():
            if sequences[c] and sequences[r] and returns[c] + rest > vehicle_floor.get(r, 0):
                vehicle_floor[r] = returns[c] + rest
                changed = True
        for copies in m.copies.values():
            routed = [c for c in copies if c in starts]
            if len(routed) < 2:
                continue
            latest = max(starts[c] for c in routed)
            for c in routed:
                if starts[c] < latest:
                    floor[c] = latest
                    changed = True
        if not changed:
            break
    return starts, vehicle_floor
