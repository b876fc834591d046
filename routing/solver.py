"""OR-Tools routing model for the dispatch problem: constraints, costs and the search.

The nodes and matrices come from `routing.nodes`, the plan is read back by
`routing.readout`. One OR-Tools vehicle per engineer-shift. Hard: skills, stock, shifts, pins,
windows, confirmed appointments, joint visits at the same time. Soft, in
falling order of steepness: leaving a visit out (by priority), lateness past
the deadline (per minute × priority), overtime, travel time.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from routing.construct import complete_routes, insertion_start
from routing.eligibility import Vehicle
from routing.greedy import greedy_solve
from routing.lns import improve_assignment, vrptw_data
from routing.model import Problem, Progress, Solution, Visit
from routing.nodes import SolverModel, rest_pairs
from routing.options import SolveOptions
from routing.readout import broken_by_traffic, plan_of_sequences, read_solution, soft_start_bound
from routing.repair import aim_minutes, better_than_baseline, breaches, reinserted

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


# Lateness of a visit that the greedy baseline serves on time costs this many
# times more (large problems, started from the baseline's plan).
PROTECTED_LATENESS_FACTOR = 20

SAVINGS_MEMORY_BYTES = 512 * 1024 * 1024

# The start plan's repair rounds of a large problem stop after this share of
# the time limit, so that the search gets the rest.
START_SHARE = 0.75

# From this many visits on, a one-depot problem without pick-ups or joint visits
# starts from savings instead of parallel cheapest insertion (see
# `first_solution_strategy`).
SAVINGS_FROM_VISITS = 200
# Stops per route (shift or capacity bound) from which routes count as long:
# Solomon / Gehring-Homberger type 1 holds 10-16, type 2 36-66.
LONG_ROUTE_STOPS = 25

# Plain VRPTW problems: OR-Tools' start and guided local search get this share
# of the time limit, ruin and recreate (`routing.lns`) the rest.
LNS_START_SHARE = 0.15

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
    solution = _solve(problem, options, initial_routes, started)
    if solution.status == "no_solution" and solution.solutions_found == 0 and problem.visits:
        # Out of time before the search found any plan (a short limit on a loaded machine): a
        # plan with every visit left out would take all work off the engineers. The rule of
        # thumb's plan instead, when it serves anything.
        baseline = greedy_solve(problem)
        if baseline.assigned_visit_ids:
            return replace(baseline, seconds=time.monotonic() - started, solutions_found=0)
    return solution


def _solve(
    problem: Problem, options: SolveOptions, initial_routes: InitialRoutes | None, started: float
) -> Solution:
    deadline = started + options.time_limit_s
    m = SolverModel(problem, options)
    if not m.vehicles or not m.modelled:
        return read_solution(
            m, None, None, None, "success" if not problem.visits else "no_solution", started, 0
        )
    protected: set[str] = set()
    served: set[str] = set()
    fallback: Solution | None = None
    if initial_routes is None and _warm_start_wanted(m):
        fallback = greedy_solve(problem)
        initial_routes, protected = _greedy_start(
            m, fallback, started, started + START_SHARE * options.time_limit_s
        )
        served = {s.visit_id for r in fallback.routes for s in r.stops}
    elif initial_routes and _large(m):
        initial_routes = complete_routes(problem, initial_routes)
    if initial_routes is None and m.vias:
        return _solve_with_pickups(problem, options, started, deadline)

    model = _OrModel.build(m, initial_routes, protected, served)
    params = _search_parameters(m)
    lns_data = vrptw_data(m) if initial_routes is None and _lns_wanted(m) else None
    search_deadline = deadline if lns_data is None else started + LNS_START_SHARE * options.time_limit_s
    assignment, found = _search(model, params, started, search_deadline)
    if lns_data is not None and assignment is not None:
        limits = (deadline - _reserve(m), options.lns_iterations, options.lns_seed)
        assignment = improve_assignment(model.routing, model.manager, assignment, lns_data, params, limits)
    solution = read_solution(
        m, model.routing, model.manager, assignment, model.status(assignment), started, found
    )
    if fallback is not None and found == 0:
        # Out of time before the search restored its start (a loaded machine):
        # what came back, if anything, is OR-Tools' plan with every visit left
        # out. The start plan instead, held to the rule of thumb's.
        assert initial_routes is not None
        return _held_to_baseline(m, [], initial_routes, fallback, started, found)
    solution = _replan_for_traffic(m, solution, started, deadline)
    if fallback is not None and _worse_than_baseline(m, solution, fallback):
        assert initial_routes is not None
        return _held_to_baseline(m, [solution], initial_routes, fallback, started, found)
    return solution


def _held_to_baseline(
    m: SolverModel,
    plans: list[Solution],
    start: InitialRoutes,
    baseline: Solution,
    started: float,
    found: int,
) -> Solution:
    """The plan least past urgent work's aims (`aim_minutes`), then with least travel per
    visit, among `plans` and the start plan, each with its breaches of the baseline (and the
    visits it lacks) put back where they fit on time; the baseline's plan itself when none then
    beats it. Pick-up stops are not carried over by the repair: those plans fall back whole."""
    candidates: list[Solution] = []
    if not m.vias:
        for plan in [*plans, _timed(m, start, started)]:
            missing = breaches(plan, baseline) | (baseline.assigned_visit_ids - plan.assigned_visit_ids)
            repaired = _repaired(m, plan, missing, started) if missing else plan
            if better_than_baseline(repaired, baseline, m.problem):
                candidates.append(repaired)
    if not candidates:
        return replace(baseline, seconds=time.monotonic() - started, solutions_found=found)
    best = min(
        candidates,
        key=lambda p: (aim_minutes(m.problem, p), p.total_travel_s / max(1, len(p.assigned_visit_ids))),
    )
    return replace(best, seconds=time.monotonic() - started, solutions_found=found)


def _timed(m: SolverModel, routes: InitialRoutes, started: float) -> Solution:
    """Routes as a plan, timed as the solver times its own, less the stops that do
    not fit; its objective is its travel (seconds), as the greedy plan's."""
    caps = _end_caps(m)
    sequences = [
        seq if m.vehicles[k].breaks else _fit_route(m, k, seq, caps[k])[0]
        for k, seq in enumerate(_start_nodes(m, routes))
    ]
    plan = plan_of_sequences(m, sequences, {}, 0, "success", started, 0)
    return replace(plan, objective=round(plan.total_travel_s))


def _repaired(
    m: SolverModel,
    solution: Solution,
    visit_ids: set[str],
    started: float,
    late_ok: bool = False,
    swap_until: float | None = None,
) -> Solution:
    """`solution` with `visit_ids` taken out and put back where they fit on time
    (`late_ok`: at all; `routing.repair`), timed as the solver times its own plans."""
    current = {
        (r.engineer_id, r.shift_index): [s.visit_id for s in r.stops if s.is_visit] for r in solution.routes
    }
    sequences = reinserted(m, _start_nodes(m, current), visit_ids, _end_caps(m), late_ok, swap_until)
    return plan_of_sequences(
        m, sequences, {}, solution.objective, "success", started, solution.solutions_found
    )


def with_visits_reinserted(
    problem: Problem,
    options: SolveOptions,
    solution: Solution,
    visit_ids: set[str],
    started: float,
    swap_until: float | None = None,
) -> Solution:
    """A plan without pick-ups (e.g. districts' plans side by side) with `visit_ids`
    taken out and put back where they add least travel: on time where they can
    be, else late, else left out; everything else keeps its window and on-time status."""
    return _repaired(SolverModel(problem, options), solution, visit_ids, started, True, swap_until)


def _lns_wanted(m: SolverModel) -> bool:
    options = m.options
    if options.lns is not None:
        return options.lns
    return options.solution_limit is None or options.lns_iterations is not None


def _worse_than_baseline(m: SolverModel, solution: Solution, baseline: Solution) -> bool:
    """The plan serves fewer visits than the greedy baseline, misses or is late
    for one the baseline serves on time, or leaves urgent work further past its aims. Such a
    plan is never handed out: the search (a short one above all) trades a few long breaches
    for many short ones and travel, and a dispatcher holds the plan to what the rule of thumb
    keeps."""
    if len(solution.assigned_visit_ids) < len(baseline.assigned_visit_ids) or breaches(solution, baseline):
        return True
    return aim_minutes(m.problem, solution) > aim_minutes(m.problem, baseline)


def _large(m: SolverModel) -> bool:
    return len(m.nodes) >= LARGE_NODES and m.options.solution_limit is None


def _warm_start_wanted(m: SolverModel) -> bool:
    """Start from the greedy baseline: as the options say, or by default for a
    problem with deadlines and no solution limit (see `warm_start_from_greedy`).

    Not only large ones: from parallel cheapest insertion, 250 visits x 25
    engineers ended with 36 breaches the baseline avoids (100 visits: 1-5),
    since lateness is priced per minute and the search trades a few long
    breaches for many short ones. Below `LARGE_NODES`, a problem with pick-ups
    keeps its two starts (`_solve_with_pickups`): the greedy plan has none."""
    options = m.options
    if options.warm_start_from_greedy is not None:
        return options.warm_start_from_greedy
    if options.solution_limit is not None or (m.vias and not _large(m)):
        return False
    return any(v.deadline_s is not None for v in m.problem.visits)


def _greedy_start(
    m: SolverModel, baseline: Solution, started: float, deadline: float
) -> tuple[InitialRoutes, set[str]]:
    """The insertion plan built on the greedy baseline (repair rounds until
    `deadline`), and the visits the baseline serves on time. What the rule of
    thumb keeps on time, the plan must not give up for travel: steeper
    lateness, and a hard deadline where the start keeps it."""
    problem = m.problem
    late_ids = {lv.visit_id for lv in baseline.late}
    protected = {s.visit_id for r in baseline.routes for s in r.stops if s.visit_id not in late_ids}
    start = insertion_start(problem, baseline, deadline)
    fewer = sum(map(len, start.values())) < sum(len(r.stops) for r in baseline.routes)
    if fewer or aim_minutes(problem, _timed(m, start, started)) > aim_minutes(problem, baseline):
        # The insertion plan serves fewer visits than the rule of thumb, or leaves urgent work
        # later past its aims (it inserts where travel grows least), and a short search does not
        # get them back: the baseline's own routes are the start then (less travel saved, no
        # visit lost, urgent work first).
        start = {(r.engineer_id, r.shift_index): [s.visit_id for s in r.stops] for r in baseline.routes}
    return start, protected


@dataclass
class _OrModel:
    """The OR-Tools objects of one solve, and the start routes for its search."""

    m: SolverModel
    manager: Any
    routing: Any
    time_dim: Any
    starts: list[list[list[int]]]

    @classmethod
    def build(
        cls, m: SolverModel, initial_routes: InitialRoutes | None, protected: set[str], served: set[str]
    ) -> _OrModel:
        """Nodes and vehicles, then the dimensions and the visits' costs, in the
        order OR-Tools sees them (the search depends on it). `protected`: the
        visits the greedy baseline serves on time; `served`: all it serves."""
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
        model = cls(m, manager, routing, _time_dimension(m, routing), starts)
        model.shifts()
        _monthly_overtime(m, routing.solver(), routing, model.time_dim)
        _rest_after_calls(m, routing.solver(), routing, model.time_dim)
        _capacity(m, routing)
        _affinity(m, routing)
        _eligibility_dimension(m, routing)
        keep = _keep_penalty(m) if served else 0
        for i in m.modelled:
            model.visit(i, protected, on_time_in_start, keep if m.problem.visits[i].id in served else 0)
        return model

    def shifts(self) -> None:
        """Each vehicle's shift: start and latest return, overtime past the shift
        end priced, nights away as breaks."""
        m, routing, time_dim = self.m, self.routing, self.time_dim
        overtime_coeff = max(0, round(m.options.overtime_cost_per_minute / 60.0))
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
                if visit_transits is None:
                    visit_transits = self._service_transits()
                self._nights(k, veh.breaks, visit_transits)

    def _service_transits(self) -> list[int]:
        """Service time per routing index, as the break intervals need it."""
        m, routing, manager = self.m, self.routing, self.manager
        transits = [0] * (routing.Size() + len(m.vehicles))
        for index in range(routing.Size()):
            if not routing.IsStart(index):
                transits[index] = int(m.service_units[manager.IndexToNode(index)])
        return transits

    def _nights(self, k: int, breaks: Sequence[tuple[float, float]], visit_transits: list[int]) -> None:
        """Nights away: no work between the shifts. A drive may straddle the
        night (begun in the evening, finished in the morning)."""
        m, solver = self.m, self.routing.solver()
        nights = [
            solver.FixedDurationIntervalVar(
                m.units_down(a), m.units_down(a), m.units_up(b) - m.units_down(a), False, f"night-{k}-{d}"
            )
            for d, (a, b) in enumerate(breaks)
        ]
        self.time_dim.SetBreakIntervalsOfVehicle(nights, k, visit_transits)

    def visit(self, i: int, protected: set[str], on_time_in_start: set[int], keep: int) -> None:
        """One visit: dropping it costs its penalty (plus `keep`); its nodes (from the van, via
        pick-ups, joint copies) get who may serve them, when, and what lateness costs."""
        m, routing, manager = self.m, self.routing, self.manager
        visit = m.problem.visits[i]
        late_coeff = _late_coeff(m, visit, protected)
        penalty = _drop_penalty(m, visit, late_coeff) + keep
        vias = m.vias.get(i, [])
        if vias:
            # Served from the van or via one pick-up (a single-engineer visit):
            # one of these nodes, or the drop penalty.
            routing.AddDisjunction([manager.NodeToIndex(n) for n in m.service_nodes(i)], penalty, 1)
            for pickup, via in vias:
                self._pickup_pair(pickup, via)
        for node in m.service_nodes(i):
            index = manager.NodeToIndex(node)
            if not vias:
                routing.AddDisjunction([index], penalty)
            self._restrict(index, node)
            if visit.id in protected and i in on_time_in_start and visit.deadline_s is not None:
                # On time for the rule of thumb and in the start plan: keep it so.
                self.time_dim.CumulVar(index).SetMax(m.units_down(visit.deadline_s))
            self._soft_bounds(index, visit, late_coeff)
        copies = [manager.NodeToIndex(n) for n in m.copies[i]]
        if len(copies) > 1:
            _synchronise(routing.solver(), routing, self.time_dim, m, copies)

    def _pickup_pair(self, pickup: int, via: int) -> None:
        routing, solver, time_dim = self.routing, self.routing.solver(), self.time_dim
        p_index, v_index = self.manager.NodeToIndex(pickup), self.manager.NodeToIndex(via)
        routing.AddDisjunction([p_index], 0)  # optional, tied to its visit by the pair
        # Same engineer (an inactive node has vehicle -1: both or neither),
        # pick-up first. The pair declaration only guides the search.
        solver.Add(routing.VehicleVar(p_index) == routing.VehicleVar(v_index))
        solver.Add(time_dim.CumulVar(p_index) <= time_dim.CumulVar(v_index))
        routing.AddPickupAndDelivery(p_index, v_index)
        self._restrict(p_index, pickup)

    def _restrict(self, index: int, node: int) -> None:
        """Who may serve a node, and when it may start."""
        m = self.m
        allowed, windows = m.node_allowed[node], m.node_windows[node]
        if len(allowed) < len(m.vehicles):
            # -1 keeps the node droppable (SetAllowedVehiclesForIndex rejects
            # Python lists in this OR-Tools build).
            self.routing.VehicleVar(index).SetValues([-1, *allowed])
        if windows:
            cumul = self.time_dim.CumulVar(index)
            cumul.SetRange(windows[0][0], windows[-1][1])
            for (_, prev_hi), (next_lo, _) in itertools.pairwise(windows):
                if next_lo - prev_hi > 1:
                    cumul.RemoveInterval(prev_hi + 1, next_lo - 1)

    def _soft_bounds(self, index: int, visit: Visit, late_coeff: int) -> None:
        """A cumul holds one soft upper bound: the deadline, the end of a
        tentative appointment and the churn tolerance share it, at the same
        price per minute; the churn tolerance before the promised start is the
        soft lower bound."""
        m, options = self.m, self.m.options
        soft_ends = [t for t in (visit.deadline_s, visit.target_s) if t is not None]
        soft_start = soft_start_bound(visit, options)
        if visit.appointment is not None and not visit.confirmed:
            soft_ends.append(visit.appointment[1])
        if visit.current_start_s is not None and not visit.already_started:
            soft_ends.append(visit.current_start_s + options.churn_tolerance_s)
        if soft_start is not None and soft_start > 0:
            self.time_dim.SetCumulVarSoftLowerBound(index, m.units_up(soft_start), late_coeff)
        if soft_ends:
            self.time_dim.SetCumulVarSoftUpperBound(index, max(0, m.units_down(min(soft_ends))), late_coeff)
        elif visit.due_by_s is not None:
            # A cumul holds one soft upper bound: a due window's end only when nothing steeper claims it.
            due_coeff = max(1, round(visit.late_cost_per_day / 86400.0))
            self.time_dim.SetCumulVarSoftUpperBound(index, max(0, m.units_down(visit.due_by_s)), due_coeff)

    def status(self, assignment: Any) -> str:
        status = _STATUS.get(self.routing.status(), str(self.routing.status()))
        if assignment is not None and status not in ("success", "optimal"):
            return "success"  # a plan was found; the search only ran out of time
        return status


def _time_dimension(m: SolverModel, routing: Any) -> Any:
    """Travel (free-flow) as the arc cost; time, at each vehicle's speed plus
    service, as the "Time" dimension."""
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
    return routing.GetDimensionOrDie("Time")


def _capacity(m: SolverModel, routing: Any) -> None:
    """The optional load dimension: on when asked, or when any visit has a demand
    or any engineer a capacity."""
    problem = m.problem
    use_capacity = m.options.capacity
    if use_capacity is None:
        use_capacity = any(v.demand for v in problem.visits) or any(
            e.capacity is not None for e in problem.engineers
        )
    if not use_capacity:
        return
    demand = [0 if n.visit_index < 0 else problem.visits[n.visit_index].demand for n in m.nodes]
    demand_cb = routing.RegisterUnaryTransitVector(demand)
    caps = [
        problem.engineers[v.engineer_index].capacity
        if problem.engineers[v.engineer_index].capacity is not None
        else sum(demand)
        for v in m.vehicles
    ]
    routing.AddDimensionWithVehicleCapacity(demand_cb, 0, caps, True, "Load")


def _late_coeff(m: SolverModel, visit: Visit, protected: set[str]) -> int:
    """Price of a unit of lateness: per minute × priority, by how early the deadline
    is (see `SolveOptions.deadline_order_window_s`), steeper where the greedy baseline
    is on time."""
    price = m.options.lateness_cost_per_minute / 60.0 * max(1, visit.priority)
    coeff = max(1, round(price * _deadline_order_factor(m, visit)))
    return coeff * PROTECTED_LATENESS_FACTOR if visit.id in protected else coeff


def _deadline_order_factor(m: SolverModel, visit: Visit) -> float:
    """1 for a deadline a window or more after the plan's start, 2 for one a window
    or more before it, linear between."""
    window = m.options.deadline_order_window_s
    if window is None or window <= 0 or visit.deadline_s is None:
        return 1.0
    ahead = (visit.deadline_s - m.problem.now_s) / window
    return 1.0 + min(1.0, max(0.0, (1.0 - ahead) / 2.0))


def _keep_penalty(m: SolverModel) -> int:
    """Extra price for leaving out a visit the greedy baseline serves: more than
    the whole plan's lateness could cost. Otherwise a joint visit whose waiting
    makes its engineers' later stops late is worth dropping by the objective
    (lateness is priced per minute, a drop once), and the plan serves fewer
    visits than the rule of thumb."""
    steepest = (
        max((_late_coeff(m, m.problem.visits[i], set()) for i in m.modelled), default=1)
        * PROTECTED_LATENESS_FACTOR
    )
    return len(m.nodes) * steepest * m.horizon_units


CONFIRMED_DROP_FACTOR = 10


def _drop_penalty(m: SolverModel, visit: Visit, late_coeff: int) -> int:
    """Leaving the visit out: the drop cost × priority, plus the worst possible
    lateness, so that serving late always beats not serving at all."""
    lateness = late_coeff * m.horizon_units if visit.deadline_s is not None or visit.appointment else 0
    penalty = int(max(1, visit.priority) * m.options.drop_cost * m.scale + lateness)
    if visit.drop_cost_s is not None:
        penalty = int(visit.drop_cost_s * m.scale + lateness)
    if visit.confirmed and visit.appointment:
        # A confirmed appointment is a promise the customer planned around: when the day is
        # full, flexible work waits rather than the customer who was given a time.
        penalty *= CONFIRMED_DROP_FACTOR
    if visit.already_started:
        penalty *= 100  # leaving started work is a last resort, kept only to stay feasible
    return penalty


def _search_parameters(m: SolverModel) -> Any:
    """First solution, metaheuristic and limits from the options; raw
    `search_parameters` last, so that they win."""
    options = m.options
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(
        routing_enums_pb2.FirstSolutionStrategy, first_solution_strategy(m)
    )
    metaheuristic = options.metaheuristic
    if sum(len(c) for c in m.copies.values()) <= 3:
        # A metaheuristic never stops by itself, and with a handful of stops
        # there is nothing left for it to find after plain descent.
        metaheuristic = "GREEDY_DESCENT"
    params.local_search_metaheuristic = getattr(routing_enums_pb2.LocalSearchMetaheuristic, metaheuristic)
    # The savings heuristic reserves up to 6 GB by default: a thousand visits
    # in two processes ran out of memory. A quarter of the 2 GiB budget each.
    params.savings_max_memory_usage_bytes = SAVINGS_MEMORY_BYTES
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
        _sisr_ruin(params)
    _raw_parameters(params, options.search_parameters)
    return params


def first_solution_strategy(m: SolverModel) -> str:
    """The options' start heuristic, or one chosen by shape: savings for a
    one-depot problem of `SAVINGS_FROM_VISITS` visits or more, without pick-ups
    or joint visits, whose routes are long (`LONG_ROUTE_STOPS`); parallel
    cheapest insertion otherwise.

    Measured on one core, 60 s, Gehring-Homberger 200: from savings guided
    local search ends 6-9 points closer to the best known on the long-route
    classes (R2, RC2) and level on C2; on short routes insertion wins on
    clustered customers (C1: 0 % against 4.7 %). At 100 customers insertion
    wins (Solomon RC201: 0.49 % against 2.43 %). Savings merges routes out of
    one depot; with each engineer's own start, pick-up pairs or joint copies
    it has nothing to merge well."""
    if m.options.first_solution is not None:
        return m.options.first_solution
    depots = {(m.start_node(v), m.end_node(v)) for v in m.vehicles}
    plain = not m.vias and all(len(c) <= 1 for c in m.copies.values())
    if (
        len(depots) == 1
        and plain
        and len(m.modelled) >= SAVINGS_FROM_VISITS
        and _stops_per_route(m) >= LONG_ROUTE_STOPS
    ):
        return "SAVINGS"
    return "PARALLEL_CHEAPEST_INSERTION"


def _stops_per_route(m: SolverModel) -> float:
    """How many stops a route can hold: the longest shift over a stop's service
    plus the drive from its nearest neighbours, and the capacity over the mean
    demand when there is one."""
    visits = [m.problem.visits[i] for i in m.modelled]
    nodes = [m.copies[i][0] for i in m.modelled]
    travel = m.travel_units[np.ix_(nodes, nodes)].astype(np.float64) / m.scale
    np.fill_diagonal(travel, np.inf)
    near = np.sort(travel, axis=1)[:, : min(3, len(nodes) - 1)].mean()
    per_stop = float(np.mean([v.duration_s for v in visits])) + float(near)
    shift = max(v.end_s - v.start_s for v in m.vehicles)
    stops = shift / max(per_stop, 1e-9)
    demand = float(np.mean([v.demand for v in visits]))
    capacities = [e.capacity for e in m.problem.engineers if e.capacity is not None]
    if demand > 0 and capacities:
        stops = min(stops, max(capacities) / demand)
    return stops


def _sisr_ruin(params: Any) -> None:
    """Iterated local search with SISR ruin, at the published settings
    (Christiaens & Vanden Berghe, 2020)."""
    params.use_iterated_local_search = True
    ruin = params.iterated_local_search_parameters.ruin_recreate_parameters
    del ruin.ruin_strategies[:]
    sisr = ruin.ruin_strategies.add().sisr
    sisr.max_removed_sequence_size = 10
    sisr.avg_num_removed_visits = 10
    sisr.bypass_factor = 0.01


def _raw_parameters(params: Any, values: Mapping[str, Any]) -> None:
    """RoutingSearchParameters fields by dotted path; booleans for operators
    become OptionalBoolean."""
    for path, value in values.items():
        *parents, leaf = path.split(".")
        target = params
        for name in parents:
            target = getattr(target, name)
        if leaf.startswith("use_") and isinstance(value, bool) and "operators" in path:
            value = 3 if value else 2  # OptionalBoolean BOOL_TRUE / BOOL_FALSE
        setattr(target, leaf, value)


def _search(model: _OrModel, params: Any, started: float, deadline: float) -> tuple[Any, int]:
    """Run the search, from the start routes when there are any (the first that
    OR-Tools accepts), within what is left of the time limit. Returns the
    assignment (None: no plan) and how many solutions were found."""
    m, routing = model.m, model.routing
    options = m.options
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
        left = deadline - time.monotonic() - _reserve(m)
        params.time_limit.FromMilliseconds(max(100, int(left * 1000)))

    assignment = None
    if model.starts:
        set_time_limit()
        routing.CloseModelWithParameters(params)
        for routes in model.starts:
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
    if assignment is None and (not model.starts or deadline - time.monotonic() > 0.2 * options.time_limit_s):
        # From scratch only with time to do it: OR-Tools' first-solution heuristics
        # check the limit rarely (2,000 visits: over a minute past a 100 ms limit).
        set_time_limit()
        assignment = routing.SolveWithParameters(params)
    return assignment, found


def _reserve(m: SolverModel) -> float:
    """What a search leaves of the caller's limit for reading the plan."""
    return min(2.0, 0.02 * m.options.time_limit_s + 0.002 * len(m.nodes))


def _replan_for_traffic(m: SolverModel, solution: Solution, started: float, deadline: float) -> Solution:
    """Rush hours made some routes miss a hard window or their shift end: plan
    them again at the slowest speed of their shift, from this plan (while time is left)."""
    options = m.options
    broken = broken_by_traffic(m, solution) - options.slowest_travel if m.timed else set()
    if not broken or deadline - time.monotonic() <= 0.5:
        return solution
    retry = solve(
        m.problem,
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
        retry,
        seconds=time.monotonic() - started,
        solutions_found=solution.solutions_found + retry.solutions_found,
    )


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


def _end_caps(m: SolverModel) -> list[int]:
    """Latest return (units) per vehicle: shift end plus overtime cap, or later when
    critical work already on site runs past it (the shift end is soft for it), and never
    sooner than the engineer can drive home from the start: an engineer out at a site near the
    end of a standby period (no overtime) or of a shift with the month's overtime spent still
    gets home, and the plan for everyone else stands."""
    caps = [m.units_down(v.end_s + v.overtime_cap_s) for v in m.vehicles]
    for k, veh in enumerate(m.vehicles):
        home = m.units_up(veh.start_s) + int(m.vehicle_units(k)[m.start_node(veh), m.end_node(veh)])
        caps[k] = max(caps[k], min(m.horizon_units, home))
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


def _monthly_overtime(m: SolverModel, solver: Any, routing: Any, time_dim: Any) -> None:
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


def _rest_after_calls(m: SolverModel, solver: Any, routing: Any, time_dim: Any) -> None:
    """After a call-out, the next shift starts no sooner than `rest_after_call_s` after
    the engineer is back from it."""
    for c, r, rest in rest_pairs(m):
        solver.Add(
            time_dim.CumulVar(routing.Start(r))
            >= time_dim.CumulVar(routing.End(c)) + rest * routing.ActiveVehicleVar(c)
        )


def _eligibility_dimension(m: SolverModel, routing: Any) -> None:
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


def _affinity(m: SolverModel, routing: Any) -> None:
    """Soft engineer choice: churn (another engineer than the current one),
    preferred / follow-up engineers, and later shifts (see
    `Visit.later_shift_cost_per_hour`), as a per-vehicle dimension priced by its span."""
    opts = m.options
    later = any(v.later_shift_cost_per_hour for v in m.problem.visits)

    def key_of(veh: Vehicle) -> tuple[int, float]:
        return veh.engineer_index, max(0.0, veh.start_s) / 3600.0 if later else 0.0

    vectors: dict[tuple[int, float], list[int]] = {}
    seen: set[tuple[int, float]] = set()
    for veh in m.vehicles:
        key = key_of(veh)
        if key in seen:
            continue
        seen.add(key)
        hours_later = key[1]
        engineer = m.problem.engineers[veh.engineer_index]
        vector = [0] * len(m.nodes)
        for node, n in enumerate(m.nodes):
            if n.visit_index < 0 or n.kind == "pickup":
                continue
            visit = m.problem.visits[n.visit_index]
            cost = visit.later_shift_cost_per_hour * hours_later
            if visit.current_engineer is not None and visit.current_engineer != engineer.id:
                cost += opts.churn_engineer_cost
            if visit.preferred_engineers and engineer.id not in visit.preferred_engineers:
                cost += opts.preference_cost
            vector[node] = round(cost * m.scale)
        if any(vector):
            vectors[key] = vector
    if not vectors:
        return
    zero = routing.RegisterUnaryTransitVector([0] * len(m.nodes))
    callbacks = {key: routing.RegisterUnaryTransitVector(v) for key, v in vectors.items()}
    evaluators = [callbacks.get(key_of(v), zero) for v in m.vehicles]
    total = sum(sum(v) for v in vectors.values()) + 1
    routing.AddDimensionWithVehicleTransits(evaluators, 0, total, True, "Affinity")
    routing.GetDimensionOrDie("Affinity").SetSpanCostCoefficientForAllVehicles(1)


def _synchronise(solver: Any, routing: Any, time_dim: Any, m: SolverModel, copies: list[int]) -> None:
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
    m: SolverModel, manager: Any, initial: InitialRoutes
) -> tuple[list[list[list[int]]], set[int]]:
    """Start routes for the search, most complete first: the given routes less
    the stops that do not fit in solver units (times are rounded there), then
    the same without joint visits, whose synchronisation may still fail.

    Also the visits that start on time in these routes, counted only before a
    route's first joint stop (waiting for a partner may delay what follows)."""
    caps = _end_caps(m)
    fitted: list[list[int]] = []
    on_time: set[int] = set()
    for k, seq in enumerate(_start_nodes(m, initial)):
        kept, kept_on_time = (seq, set()) if m.vehicles[k].breaks else _fit_route(m, k, seq, caps[k])
        fitted.append(kept)
        on_time |= kept_on_time
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


def _start_nodes(m: SolverModel, initial: InitialRoutes) -> list[list[int]]:
    """The given routes as nodes per vehicle: each visit's next unused copy, where
    the vehicle may serve it (unknown engineers, shifts and visits left out)."""
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
            # The first copy this vehicle may take (a pinned joint visit's copies are each one
            # engineer's).
            node = next((n for n in unused.get(i, []) if vehicle in m.node_allowed[n]), None)
            if node is not None:
                unused[i].remove(node)
                routes[vehicle].append(node)
    return routes


def _fit_route(m: SolverModel, k: int, seq: list[int], cap: int) -> tuple[list[int], set[int]]:
    """The stops of vehicle k's start route that fit its windows and latest return
    in solver units, and the visits among them on time before the first joint stop."""
    veh = m.vehicles[k]
    kept: list[int] = []
    on_time: set[int] = set()
    joint_seen = False
    prev, clock = m.start_node(veh), m.units_up(veh.start_s)
    for node in seq:
        arrival = clock + int(m.vehicle_units(k)[prev, node])
        start = next((max(lo, arrival) for lo, hi in m.node_windows[node] if hi >= arrival), None)
        if start is None:
            continue
        done = start + int(m.service_units[node])
        if done + int(m.vehicle_units(k)[node, m.end_node(veh)]) > cap:
            continue
        kept.append(node)
        prev, clock = node, done
        vi = m.nodes[node].visit_index
        if len(m.copies[vi]) > 1:
            joint_seen = True
        deadline = m.problem.visits[vi].deadline_s
        if not joint_seen and deadline is not None and start <= m.units_down(deadline):
            on_time.add(vi)
    return kept, on_time
