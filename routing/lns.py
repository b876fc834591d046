"""Ruin and recreate for plain VRPTW problems (one depot, hard windows, capacity).

OR-Tools' guided local search gets through too few moves on one shared core
once a benchmark instance has a few hundred customers; the best solvers
instead repeat a cheap "ruin part of the plan, put it back" step many
thousand times (Christiaens & Vanden Berghe's SISR):

- ruin: strings of consecutive stops cut from a few routes near a random
  customer (SISR), now and then a string with a kept middle ("split string"),
  or customers related to a random one by distance and window (Shaw);
- recreate: each removed customer where it adds least travel, in one of a few
  orders (random, demand, distance from the depot, window), positions looked
  at only next to its nearest customers (granular) and skipped at random
  ("blinks"); time windows checked in O(1) per position from each route's
  earliest and latest start times;
- acceptance: simulated annealing, the temperature cooled from a share of the
  start's cost per customer to a hundredth of that over the time (or
  iteration) limit.

Everything is in the solver's integer units (travel rounded up), so a plan
feasible here is feasible for OR-Tools and in reality. Deterministic for a
seed and an iteration limit.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from ortools.constraint_solver import routing_enums_pb2

from routing.model import Visit
from routing.nodes import SolverModel

# Granular neighbourhood: insertion positions next to this many nearest customers.
NEIGHBOURS = 40
# SISR: average customers removed, longest string, share of split strings.
AVG_REMOVED = 10
MAX_STRING = 10
SPLIT_SHARE = 0.5
# Probability that an insertion position is skipped (SISR's blinks).
BLINK = 0.01
# Share of iterations that ruin by relatedness (Shaw) instead of strings.
SHAW_SHARE = 0.1
# Share of recreates that open a new route for their first customer.
NEW_ROUTE = 0.05
# Start and end temperature, per unit of the start's cost per customer.
T_START = 1.0
T_END = 0.01


@dataclass
class VrptwData:
    """A plain VRPTW problem in solver units; index 0 is the depot."""

    dist: list[list[int]]
    dist_to: list[list[int]]  # transposed: dist_to[b][a] = dist[a][b]
    service: list[int]
    ready: list[int]
    due: list[int]
    demand: list[int]
    capacity: int
    fleet: int
    start: int  # depot opening
    end: int  # latest return
    nodes: list[int]  # solver node of each index
    near: list[list[int]]  # customers by distance, nearest first (all of them)


def vrptw_data(m: SolverModel) -> VrptwData | None:
    """The problem as plain VRPTW data, or None when it is anything more: one
    depot for every vehicle, one shift each, same capacity, every visit served
    by anyone, one hard window, no soft costs, no traffic."""
    problem = m.problem
    if m.vias or m.timed or not m.vehicles or len(m.modelled) != len(problem.visits):
        return None
    depots = {(m.start_node(v), m.end_node(v)) for v in m.vehicles}
    shifts = {(v.start_s, v.end_s, v.overtime_cap_s, len(v.days)) for v in m.vehicles}
    capacities = {problem.engineers[v.engineer_index].capacity for v in m.vehicles}
    if len(depots) != 1 or len(shifts) != 1 or len(capacities) != 1:
        return None
    depot, end_depot = next(iter(depots))
    if depot != end_depot or next(iter(shifts))[2] > 0 or next(iter(shifts))[3] > 1:
        return None
    nodes = [depot]
    for i in m.modelled:
        visit = problem.visits[i]
        if _soft_terms(visit) or len(m.copies[i]) != 1:
            return None
        node = m.copies[i][0]
        if len(m.node_windows[node]) != 1 or len(m.node_allowed[node]) != len(m.vehicles):
            return None
        nodes.append(node)
    return _data(m, nodes, next(iter(capacities)))


def _soft_terms(visit: Visit) -> bool:
    """Anything the objective prices besides travel, or a pin."""
    soft = (visit.deadline_s, visit.appointment, visit.current_engineer, visit.current_start_s)
    return (
        any(x is not None for x in soft)
        or visit.due_by_s is not None
        or bool(visit.preferred_engineers)
        or visit.already_started
        or visit.pinned_engineer is not None
        or visit.pinned_start_s is not None
    )


def _data(m: SolverModel, nodes: list[int], capacity: int | None) -> VrptwData:
    idx = np.asarray(nodes)
    dist = m.travel_units[np.ix_(idx, idx)]
    veh = m.vehicles[0]
    demand = [0] + [m.problem.visits[m.nodes[n].visit_index].demand for n in nodes[1:]]
    order = np.argsort(dist[:, 1:], axis=1, kind="stable") + 1
    return VrptwData(
        dist=dist.tolist(),
        dist_to=dist.T.tolist(),
        service=[int(m.service_units[n]) for n in nodes],
        ready=[0] + [m.node_windows[n][0][0] for n in nodes[1:]],
        due=[0] + [m.node_windows[n][0][1] for n in nodes[1:]],
        demand=demand,
        capacity=capacity if capacity is not None else sum(demand),
        fleet=len(m.vehicles),
        start=m.units_up(veh.start_s),
        end=m.units_down(veh.end_s),
        nodes=nodes,
        near=[[int(c) for c in row if c != k] for k, row in enumerate(order.tolist())],
    )


class _Route:
    """Stops of one route with their earliest and latest feasible starts."""

    __slots__ = ("cost", "early", "late", "load", "ok", "stops")

    def __init__(self, data: VrptwData, stops: list[int]) -> None:
        self.stops = stops
        d, s, ready, due = data.dist, data.service, data.ready, data.due
        early: list[int] = []
        t, prev, load, cost, ok = data.start, 0, 0, 0, True
        for c in stops:
            t = max(ready[c], t + s[prev] + d[prev][c])
            ok = ok and t <= due[c]
            early.append(t)
            cost += d[prev][c]
            load += data.demand[c]
            prev = c
        cost += d[prev][0]
        ok = ok and t + s[prev] + d[prev][0] <= data.end and load <= data.capacity
        late = [0] * len(stops)
        t, nxt = data.end, 0
        for k in range(len(stops) - 1, -1, -1):
            c = stops[k]
            t = min(due[c], t - s[c] - d[c][nxt])
            late[k] = t
            nxt = c
        self.early, self.late, self.load, self.cost, self.ok = early, late, load, cost, ok


class _Plan:
    """Routes plus where each customer is (copy-on-write between iterations)."""

    def __init__(self, routes: list[_Route], route_of: list[_Route | None], pos: list[int]) -> None:
        self.routes = routes
        self.route_of = route_of
        self.pos = pos  # index of each customer in its route

    @classmethod
    def of(cls, data: VrptwData, stops: list[list[int]]) -> _Plan:
        plan = cls([], [None] * len(data.dist), [0] * len(data.dist))
        for route in stops:
            if route:
                plan.add(data, route)
        return plan

    def copy(self) -> _Plan:
        return _Plan(list(self.routes), list(self.route_of), list(self.pos))

    def add(self, data: VrptwData, stops: list[int]) -> _Route:
        new = _Route(data, stops)
        self.routes.append(new)
        route_of, pos = self.route_of, self.pos
        for k, c in enumerate(stops):
            route_of[c] = new
            pos[c] = k
        return new

    def cost(self) -> int:
        return sum(r.cost for r in self.routes)

    def replace(self, data: VrptwData, old: _Route, stops: list[int]) -> _Route | None:
        self.routes.remove(old)
        return self.add(data, stops) if stops else None

    def unassigned(self) -> int:
        return sum(1 for r in self.route_of[1:] if r is None)


class Lns:
    """SISR ruin and recreate with simulated annealing over a plain VRPTW problem."""

    def __init__(self, data: VrptwData, seed: int = 0) -> None:
        self.data = data
        self.rng = random.Random(seed)  # noqa: S311 - search moves, not secrets
        self.iterations = 0

    def improve(
        self, routes: list[list[int]], deadline: float | None = None, iterations: int | None = None
    ) -> list[list[int]]:
        """Customer indexes (1..n) per route in, the best plan found out: never
        worse than the start (and as feasible), bounded by a monotonic-clock
        deadline and/or an iteration count."""
        data = self.data
        current = _Plan.of(data, routes)
        if not all(r.ok for r in current.routes):
            return routes
        missing = [c for c in range(1, len(data.dist)) if current.route_of[c] is None]
        if missing:
            self._recreate(current, missing)
        best, best_key = current, (current.unassigned(), current.cost())
        cur_key = best_key
        per_customer = max(1.0, cur_key[1] / max(1, len(data.dist) - 1))
        t0, t1 = T_START * per_customer, T_END * per_customer
        started = time.monotonic()
        span = None if deadline is None else max(1e-3, deadline - started)
        k = 0
        while (iterations is None or k < iterations) and (deadline is None or time.monotonic() < deadline):
            done = k / iterations if iterations else (time.monotonic() - started) / (span or 1.0)
            temperature = t0 * (t1 / t0) ** min(1.0, done)
            trial = current.copy()
            removed = self._ruin(trial)
            if cur_key[0]:
                # Customers nothing could take so far get another chance every time.
                removed += [c for c in range(1, len(data.dist)) if current.route_of[c] is None]
            self._recreate(trial, removed)
            key = (trial.unassigned(), trial.cost())
            threshold = cur_key[1] - temperature * math.log(1.0 - self.rng.random())
            if key[0] < cur_key[0] or (key[0] == cur_key[0] and key[1] < threshold):
                current, cur_key = trial, key
                if key < best_key:
                    best, best_key = trial, key
            k += 1
        self.iterations = k
        return [list(r.stops) for r in best.routes]

    # Ruin ---------------------------------------------------------------

    def _ruin(self, plan: _Plan) -> list[int]:
        if self.rng.random() < SHAW_SHARE:
            return self._shaw(plan)
        return self._strings(plan)

    def _strings(self, plan: _Plan) -> list[int]:
        """SISR: strings cut from routes near a random seed customer."""
        data, rng = self.data, self.rng
        n = len(data.dist) - 1
        mean_len = n / max(1, len(plan.routes))
        ls_max = min(float(MAX_STRING), mean_len)
        ks_max = 4.0 * AVG_REMOVED / (1.0 + ls_max) - 1.0
        ks = int(rng.uniform(1.0, ks_max + 1.0))
        seed = rng.randint(1, n)
        removed: list[int] = []
        ruined: set[_Route] = set()
        for c in [seed, *data.near[seed]]:
            if len(ruined) >= ks:
                break
            route = plan.route_of[c]
            if route is None or route in ruined:
                continue
            size = int(rng.uniform(1.0, min(len(route.stops), ls_max) + 1.0))
            gone, rest = self._cut(plan, route, c, size)
            removed += gone
            ruined.add(route)
            if rest is not None:
                ruined.add(rest)
        return removed

    def _cut(self, plan: _Plan, route: _Route, c: int, size: int) -> tuple[list[int], _Route | None]:
        """A string of `size` stops containing c, or a longer one whose middle is kept."""
        rng, stops = self.rng, route.stops
        keep = 0
        if size > 1 and rng.random() < SPLIT_SHARE and size < len(stops):
            keep = 1
            while size + keep < len(stops) and rng.random() > 0.01:
                keep += 1
        length = size + keep
        pos = plan.pos[c]
        first = max(0, min(pos - rng.randrange(length), len(stops) - length))
        segment = stops[first : first + length]
        if keep:
            at = rng.randint(1, size - 1) if size > 1 else 0
            kept, gone = segment[at : at + keep], segment[:at] + segment[at + keep :]
        else:
            kept, gone = [], segment
        for x in gone:
            plan.route_of[x] = None
        return gone, plan.replace(self.data, route, stops[:first] + kept + stops[first + length :])

    def _shaw(self, plan: _Plan) -> list[int]:
        """Customers related to a random one by distance and window start."""
        data, rng = self.data, self.rng
        n = len(data.dist) - 1
        seed = rng.randint(1, n)
        pool = [seed, *data.near[seed][: 3 * AVG_REMOVED]]
        spread = max(1, data.end - data.start)
        scale = max(1, data.dist[seed][pool[-1]])
        pool.sort(
            key=lambda c: data.dist[seed][c] / scale + abs(data.ready[c] - data.ready[seed]) / spread * 4
        )
        size = rng.randint(AVG_REMOVED // 2, AVG_REMOVED * 3 // 2)
        chosen = pool[:size]
        touched: dict[_Route, set[int]] = {}
        for c in chosen:
            route = plan.route_of[c]
            if route is not None:
                touched.setdefault(route, set()).add(c)
                plan.route_of[c] = None
        for route, gone in touched.items():
            plan.replace(data, route, [x for x in route.stops if x not in gone])
        return [c for gone in touched.values() for c in gone]

    # Recreate -----------------------------------------------------------

    def _recreate(self, plan: _Plan, removed: list[int]) -> None:
        data, rng = self.data, self.rng
        order = rng.choices(("random", "demand", "far", "close", "ready"), weights=(4, 4, 2, 1, 2))[0]
        if order == "random":
            rng.shuffle(removed)
        elif order == "demand":
            removed.sort(key=lambda c: -data.demand[c])
        elif order == "far":
            removed.sort(key=lambda c: -data.dist[0][c])
        elif order == "close":
            removed.sort(key=lambda c: data.dist[0][c])
        else:
            removed.sort(key=lambda c: data.ready[c])
        if removed and len(plan.routes) < data.fleet and rng.random() < NEW_ROUTE:
            # Now and then a new route around the first customer: distance alone
            # never pays for opening one, the stops that join it later may.
            c = removed[0]
            alone = max(data.ready[c], data.start + data.dist[0][c])
            if alone <= data.due[c] and alone + data.service[c] + data.dist[c][0] <= data.end:
                plan.add(data, [c])
                removed = removed[1:]
        for c in removed:
            self._insert(plan, c)

    def _insert(self, plan: _Plan, c: int) -> None:
        """Cheapest feasible position next to c's nearest routed customers, else
        anywhere, else a new route; left out when nothing fits."""
        data = self.data
        best = self._best_position(plan, c, data.near[c][:NEIGHBOURS])
        if best is None:
            best = self._best_position(plan, c, None)
        if len(plan.routes) < data.fleet:
            alone = data.dist[0][c] + data.dist[c][0]
            fits = data.start + data.dist[0][c] <= data.due[c] and data.demand[c] <= data.capacity
            back = max(data.ready[c], data.start + data.dist[0][c]) + data.service[c] + data.dist[c][0]
            if fits and back <= data.end and (best is None or alone < best[0]):
                best = (alone, None, 0)
        if best is None:
            return
        _, route, pos = best
        if route is None:
            plan.add(data, [c])
            return
        plan.replace(data, route, [*route.stops[:pos], c, *route.stops[pos:]])

    def _best_position(
        self, plan: _Plan, c: int, around: list[int] | None
    ) -> tuple[int, _Route | None, int] | None:
        """Cheapest feasible position next to the customers `around` (None: anywhere)."""
        data, rng = self.data, self.rng
        d, s, to_c, from_c = data.dist, data.service, data.dist_to[c], data.dist[c]
        ready_c, due_c, s_c, room = data.ready[c], data.due[c], s[c], data.capacity - data.demand[c]
        best_added, best_route, best_pos = math.inf, None, 0
        if around is None:
            candidates = [(r, p) for r in plan.routes for p in range(len(r.stops) + 1)]
        else:
            candidates = []
            route_of, pos = plan.route_of, plan.pos
            for v in around:
                route = route_of[v]
                if route is not None and route.load <= room:
                    candidates.append((route, pos[v]))
                    candidates.append((route, pos[v] + 1))
        for route, p in candidates:
            stops = route.stops
            a = stops[p - 1] if p else 0
            b = stops[p] if p < len(stops) else 0
            added = to_c[a] + from_c[b] - d[a][b]
            if added >= best_added or route.load > room:
                continue
            start = (route.early[p - 1] + s[a] if p else data.start) + to_c[a]
            if start < ready_c:
                start = ready_c
            elif start > due_c:
                continue
            if start + s_c + from_c[b] > (route.late[p] if b else data.end) or rng.random() < BLINK:
                continue
            best_added, best_route, best_pos = added, route, p
        return None if best_route is None else (int(best_added), best_route, best_pos)


def routes_of(routing: Any, manager: Any, assignment: Any, data: VrptwData) -> list[list[int]]:
    """The assignment's routes as customer indexes of `data`."""
    index_of = {node: k for k, node in enumerate(data.nodes)}
    routes: list[list[int]] = []
    for v in range(routing.vehicles()):
        index = assignment.Value(routing.NextVar(routing.Start(v)))
        route: list[int] = []
        while not routing.IsEnd(index):
            route.append(index_of[int(manager.IndexToNode(index))])
            index = assignment.Value(routing.NextVar(index))
        if route:
            routes.append(route)
    return routes


def improve_assignment(
    routing: Any,
    manager: Any,
    assignment: Any,
    data: VrptwData,
    params: Any,
    limits: tuple[float, int | None, int],
) -> Any:
    """Ruin and recreate from OR-Tools' plan until the deadline (or for the
    iterations), then OR-Tools' plain local search from the result down to
    its local optimum. `limits`: (monotonic deadline, iterations, seed).
    Returns the better of the two assignments (the given one if the result
    cannot be restored)."""
    deadline, iterations, seed = limits
    start = routes_of(routing, manager, assignment, data)
    # OR-Tools' descent at 400 customers on a loaded core ran up to 8 s past a
    # 1.5 s limit (the finaliser is not interrupted): it gets half of a
    # tenth of the time, the other half is its margin.
    reserve = 0.1 if iterations is not None else min(6.0, 0.1 * max(0.0, deadline - time.monotonic()))
    lns = Lns(data, seed)
    routes = lns.improve(start, None if iterations is not None else deadline - reserve, iterations)
    indices = [[int(manager.NodeToIndex(data.nodes[c])) for c in r] for r in routes]
    indices += [[] for _ in range(routing.vehicles() - len(indices))]
    restored = routing.solver().Assignment()
    if not routing.RoutesToAssignment(indices, True, True, restored):
        return assignment
    polish = type(params)()
    polish.CopyFrom(params)
    polish.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
    polish.solution_limit = 2**63 - 1
    left = max(0.1, 0.5 * (deadline - time.monotonic())) if iterations is None else 60.0
    polish.time_limit.FromMilliseconds(int(left * 1000))
    polished = routing.SolveFromAssignmentWithParameters(restored, polish)
    if polished is None or polished.ObjectiveValue() > assignment.ObjectiveValue():
        return assignment
    return polished
