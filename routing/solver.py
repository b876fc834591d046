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
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from routing.eligibility import Vehicle, can_serve, start_windows, vehicles_of
from routing.explain import Reach, why_late, why_unassigned
from routing.geo import Point
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

IntMatrix = NDArray[np.int64]

_STATUS = {
    0: "not_solved",
    1: "success",
    2: "no_solution",
    3: "timeout",
    4: "invalid",
    5: "infeasible",
    6: "optimal",
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
    lateness_cost_per_minute: float = 600.0
    drop_cost: float = 1_000_000.0
    overtime_cost_per_minute: float = 120.0
    # None: on when any visit has a demand or any engineer a capacity.
    capacity: bool | None = None
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
    visit_index: int  # -1 for route start/end points
    copy: int
    point: Point


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
        self.modelled: list[int] = []
        for i, visit in enumerate(problem.visits):
            engineers = {self.vehicles[k].engineer_index for k in self.allowed[i]}
            if self.windows[i] and len(engineers) >= max(1, visit.people_needed):
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
            for c in range(max(1, visit.people_needed)):
                self.copies[i].append(len(self.nodes))
                self.nodes.append(_Node(i, c, visit.point))

        # One provider call over the distinct points, also covering visits left
        # out of the model, whose explanations need travel times too.
        points = list(dict.fromkeys([n.point for n in self.nodes] + [v.point for v in problem.visits]))
        self.point_index = {p: k for k, p in enumerate(points)}
        self.seconds = np.asarray(problem.travel.matrix(points, points), dtype=np.float64)
        idx = np.array([self.point_index[n.point] for n in self.nodes], dtype=np.int64)
        self.travel_units: IntMatrix = np.ceil(self.seconds[np.ix_(idx, idx)] * self.scale).astype(np.int64)
        self.service_units = np.array(
            [
                0 if n.visit_index < 0 else self.units_up(problem.visits[n.visit_index].duration_s)
                for n in self.nodes
            ],
            dtype=np.int64,
        )
        self.horizon_units = self.units_down(problem.horizon_s)

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


# (engineer id, shift index) -> visit ids in order; a joint visit appears in
# the route of each of its engineers.
InitialRoutes = Mapping[tuple[str, int], Sequence[str]]


def solve(
    problem: Problem, options: SolveOptions | None = None, initial_routes: InitialRoutes | None = None
) -> Solution:
    """Plan the problem. `initial_routes` (e.g. the current plan when re-planning)
    is where the search starts; stops that no longer fit are left for it to place."""
    options = options or SolveOptions()
    started = time.monotonic()
    m = _Model(problem, options)
    if not m.vehicles or not m.modelled:
        return _finish(m, None, None, None, "success" if not problem.visits else "no_solution", started, 0)

    manager = pywrapcp.RoutingIndexManager(
        len(m.nodes),
        len(m.vehicles),
        [m.start_node(v) for v in m.vehicles],
        [m.end_node(v) for v in m.vehicles],
    )
    routing = pywrapcp.RoutingModel(manager)
    travel_cb = routing.RegisterTransitMatrix(m.travel_units.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(travel_cb)
    time_matrix = m.travel_units + m.service_units[:, None]
    time_cb = routing.RegisterTransitMatrix(time_matrix.tolist())
    routing.AddDimension(time_cb, m.horizon_units, m.horizon_units, False, "Time")
    time_dim = routing.GetDimensionOrDie("Time")

    overtime_coeff = max(0, round(options.overtime_cost_per_minute / 60.0))
    for k, veh in enumerate(m.vehicles):
        lo, hi = m.units_up(veh.start_s), m.units_down(veh.end_s)
        cap = m.units_down(veh.end_s + veh.overtime_cap_s)
        time_dim.CumulVar(routing.Start(k)).SetRange(lo, hi)
        time_dim.CumulVar(routing.End(k)).SetRange(lo, cap)
        if cap > hi and overtime_coeff:
            time_dim.SetCumulVarSoftUpperBound(routing.End(k), hi, overtime_coeff)

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

    late_per_unit = options.lateness_cost_per_minute / 60.0
    solver = routing.solver()
    all_vehicles = len(m.vehicles)
    for i in m.modelled:
        visit = problem.visits[i]
        weight = max(1, visit.priority)
        late_coeff = max(1, round(late_per_unit * weight))
        penalty = int(
            weight * options.drop_cost * m.scale
            # Serving late must always beat not serving at all.
            + (late_coeff * m.horizon_units if visit.deadline_s is not None or visit.appointment else 0)
        )
        if visit.already_started:
            penalty *= 100  # leaving started work is a last resort, kept only to stay feasible
        windows = [(m.units_up(a), m.units_down(b)) for a, b in m.windows[i]]
        windows = [(a, b) for a, b in windows if a <= b]
        for node in m.copies[i]:
            index = manager.NodeToIndex(node)
            if len(m.allowed[i]) < all_vehicles:
                # -1 keeps the visit droppable (SetAllowedVehiclesForIndex
                # rejects Python lists in this OR-Tools build).
                routing.VehicleVar(index).SetValues([-1, *m.allowed[i]])
            routing.AddDisjunction([index], penalty)
            cumul = time_dim.CumulVar(index)
            if windows:
                cumul.SetRange(windows[0][0], windows[-1][1])
                for (_, prev_hi), (next_lo, _) in itertools.pairwise(windows):
                    if next_lo - prev_hi > 1:
                        cumul.RemoveInterval(prev_hi + 1, next_lo - 1)
            # A cumul holds one soft upper bound: the deadline and the end of a
            # tentative appointment share it, at the same price per minute.
            soft_ends = [visit.deadline_s] if visit.deadline_s is not None else []
            if visit.appointment is not None and not visit.confirmed:
                time_dim.SetCumulVarSoftLowerBound(index, m.units_up(visit.appointment[0]), late_coeff)
                soft_ends.append(visit.appointment[1])
            if soft_ends:
                time_dim.SetCumulVarSoftUpperBound(index, m.units_down(min(soft_ends)), late_coeff)
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
    params.time_limit.FromMilliseconds(max(1, int(options.time_limit_s * 1000)))
    if options.solution_limit is not None:
        params.solution_limit = options.solution_limit
    if options.guided_local_search_lambda is not None:
        params.guided_local_search_lambda_coefficient = options.guided_local_search_lambda
    params.log_search = options.log_search
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
    assignment = None
    if initial_routes:
        routing.CloseModelWithParameters(params)
        start = routing.ReadAssignmentFromRoutes(_initial_indices(m, manager, initial_routes), True)
        if start is not None:
            assignment = routing.SolveFromAssignmentWithParameters(start, params)
    if assignment is None:
        assignment = routing.SolveWithParameters(params)
    status = _STATUS.get(routing.status(), str(routing.status()))
    return _finish(m, routing, manager, assignment, status, started, found)


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


def _initial_indices(m: _Model, manager: Any, initial: InitialRoutes) -> list[list[int]]:
    vehicle_of = {
        (m.problem.engineers[v.engineer_index].id, v.shift_index): k for k, v in enumerate(m.vehicles)
    }
    visit_of = {visit.id: i for i, visit in enumerate(m.problem.visits)}
    unused = {i: list(nodes) for i, nodes in m.copies.items()}
    routes: list[list[int]] = [[] for _ in m.vehicles]
    for key, visit_ids in initial.items():
        k = vehicle_of.get(key)
        if k is None:
            continue
        for visit_id in visit_ids:
            i = visit_of.get(visit_id, -1)
            if unused.get(i) and k in m.allowed[i]:
                routes[k].append(int(manager.NodeToIndex(unused[i].pop(0))))
    return routes


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
            vi = m.nodes[node].visit_index
            active[vi] = active.get(vi, 0) + 1
    partial = {vi for vi, n in active.items() if n < len(m.copies[vi])}
    sequences = [[n for n in seq if m.nodes[n].visit_index not in partial] for seq in sequences]

    starts = _earliest_schedule(m, sequences)
    routes: list[Route] = []
    late: list[LateVisit] = []
    late_engineers: dict[int, list[str]] = {}
    for k, seq in enumerate(sequences):
        if not seq:
            continue
        veh = m.vehicles[k]
        engineer = problem.engineers[veh.engineer_index]
        prev_point = engineer.start
        stops: list[Stop] = []
        clock = veh.start_s
        depart = veh.start_s
        for pos, node in enumerate(seq):
            visit = problem.visits[m.nodes[node].visit_index]
            leg = m.seconds[m.point_index[prev_point], m.point_index[visit.point]]
            start = starts[node] / m.scale
            if pos == 0:
                depart = max(veh.start_s, start - leg)
                clock = depart
            arrival = clock + leg
            late_s = max(0.0, start - visit.deadline_s) if visit.deadline_s is not None else 0.0
            stops.append(Stop(visit.id, float(arrival), start, start + visit.duration_s, float(leg), late_s))
            clock = start + visit.duration_s
            prev_point = visit.point
            if late_s > 0:
                late_engineers.setdefault(m.nodes[node].visit_index, []).append(engineer.id)
        back = float(m.seconds[m.point_index[prev_point], m.point_index[engineer.end_point]])
        ret = clock + back
        routes.append(
            Route(
                engineer_id=engineer.id,
                shift_index=veh.shift_index,
                shift=(veh.start_s, veh.end_s),
                on_call=veh.on_call,
                depart_s=depart,
                return_s=ret,
                stops=stops,
                travel_s=sum(s.travel_s for s in stops) + back,
                overtime_s=max(0.0, ret - veh.end_s),
                load=sum(problem.visits[m.nodes[n].visit_index].demand for n in seq),
            )
        )

    assigned = {m.nodes[n].visit_index for seq in sequences for n in seq}
    unassigned: list[Unassigned] = []
    for i, visit in enumerate(problem.visits):
        if i in assigned:
            continue
        if assignment is None and i in m.copies:
            reason = f"the solver found no plan ({status})"
        else:
            reason = why_unassigned(problem, m.vehicles, visit, m.reach(visit))
        unassigned.append(Unassigned(visit.id, reason))
    for vi, engineer_ids in late_engineers.items():
        visit = problem.visits[vi]
        assert visit.deadline_s is not None
        start = starts[m.copies[vi][0]] / m.scale
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
    )


def _earliest_schedule(m: _Model, sequences: list[list[int]]) -> dict[int, int]:
    """Earliest start (in units) of every routed node, joint copies together.

    Start times are recomputed rather than read from the solver's cumuls,
    which may sit anywhere in their feasible range. Starting every stop as
    early as its arrival, window and joint partners allow is monotone, so the
    iteration reaches the least schedule, which is no later than the solver's
    feasible one and hence feasible.
    """
    windows = {i: [(m.units_up(a), m.units_down(b)) for a, b in m.windows[i]] for i in m.modelled}
    floor: dict[int, int] = {}
    starts: dict[int, int] = {}
    for _ in range(4 * len(m.nodes) + 4):
        for k, seq in enumerate(sequences):
            veh = m.vehicles[k]
            prev = m.start_node(veh)
            clock = m.units_up(veh.start_s)
            for node in seq:
                arrival = clock + int(m.travel_units[prev, node])
                start = max(arrival, floor.get(node, 0))
                vi = m.nodes[node].visit_index
                for lo, hi in windows[vi]:
                    if hi >= start:
                        start = max(lo, start)
                        break
                starts[node] = start
                clock = start + int(m.service_units[node])
                prev = node
        changed = False
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
    return starts
