"""The dispatch problem as OR-Tools sees it: nodes, vehicles, matrices in solver units.

A visit becomes one node per engineer it needs (joint visits), plus, when a van
may lack its parts, one pick-up node and one visit node per nearby warehouse.
Everything the model is built from is kept here for reading the solution back.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from routing.eligibility import (
    Vehicle,
    can_serve,
    pickup_possible,
    serving_vehicles,
    start_windows,
    stocking_warehouses,
    vehicles_of,
)
from routing.explain import Reach, never_s
from routing.geo import Point
from routing.model import Problem, Visit
from routing.options import SolveOptions
from routing.travel import has_speed_profile, speed_factor

IntMatrix = NDArray[np.int64]


@dataclass
class Node:
    visit_index: int  # -1 for route start/end points; a pick-up: the visit it is for
    copy: int
    point: Point
    kind: str = "visit"  # or "pickup"
    # A pick-up: its warehouse; a visit node: the warehouse of the pick-up it
    # is paired with (served "via" it), -1 for a visit served from the van.
    warehouse: int = -1


class SolverModel:
    """Everything the OR-Tools model is built from, kept for reading the solution."""

    def __init__(self, problem: Problem, options: SolveOptions) -> None:
        self.problem = problem
        self.options = options
        self.scale = options.time_scale
        self.vehicles: list[Vehicle] = vehicles_of(problem)
        self.windows = [start_windows(problem, v) for v in problem.visits]
        self.allowed: list[list[int]] = serving_vehicles(problem, self.vehicles, problem.visits)
        self.via_allowed = self._via_allowed()
        direct_ok = self._direct_ok()
        self.modelled: list[int] = [
            i for i in range(len(problem.visits)) if i in direct_ok or i in self.via_allowed
        ]
        self.nodes, self.depot_node = self._depot_nodes()
        self.copies = self._visit_nodes(direct_ok)
        self.vias = self._pickup_nodes()
        self.modelled = [i for i in self.modelled if self.copies[i] or i in self.vias]
        self._travel_matrices()
        # Time-of-day speeds: each vehicle's time dimension runs at its shift's
        # average speed (or its slowest, see `slowest_travel`); stop times are
        # then recomputed with the speed of each departure.
        self.timed = has_speed_profile(problem.travel)
        self.vehicle_factor = [self._shift_factor(v) for v in self.vehicles]
        self._units_at: dict[float, IntMatrix] = {1.0: self.travel_units}
        self.service_units = self._service_units()
        self.horizon_units = self.units_down(problem.horizon_s)
        self.node_allowed, self.node_windows = self._node_rules()

    def _via_allowed(self) -> dict[int, list[int]]:
        """Vehicles that may serve a visit only by fetching its parts first."""
        problem = self.problem
        via_allowed: dict[int, list[int]] = {}
        for i, visit in enumerate(problem.visits):
            if self.windows[i] and pickup_possible(problem, visit):
                direct = set(self.allowed[i])
                ks = [
                    k
                    for k, veh in enumerate(self.vehicles)
                    if k not in direct and can_serve(problem, veh, visit, via_pickup=True)
                ]
                if ks:
                    via_allowed[i] = ks
        return via_allowed

    def _direct_ok(self) -> set[int]:
        """Visits that enough engineers may serve from their vans, at some start time."""
        direct_ok: set[int] = set()
        for i, visit in enumerate(self.problem.visits):
            engineers = {self.vehicles[k].engineer_index for k in self.allowed[i]}
            if self.windows[i] and len(engineers) >= max(1, visit.people_needed):
                direct_ok.add(i)
        return direct_ok

    def _depot_nodes(self) -> tuple[list[Node], dict[Point, int]]:
        """The first nodes: each distinct start and end point of the engineers."""
        depot_points: list[Point] = []
        for veh in self.vehicles:
            e = self.problem.engineers[veh.engineer_index]
            for p in (e.start, e.end_point):
                if p not in depot_points:
                    depot_points.append(p)
        return [Node(-1, 0, p) for p in depot_points], {p: k for k, p in enumerate(depot_points)}

    def _visit_nodes(self, direct_ok: set[int]) -> dict[int, list[int]]:
        """One node per engineer a visit served from the van needs (joint visits: copies)."""
        copies: dict[int, list[int]] = {}
        for i in self.modelled:
            visit = self.problem.visits[i]
            copies[i] = []
            for c in range(max(1, visit.people_needed) if i in direct_ok else 0):
                copies[i].append(len(self.nodes))
                self.nodes.append(Node(i, c, visit.point))
        return copies

    def _pickup_nodes(self) -> dict[int, list[tuple[int, int]]]:
        """(pick-up node, visit node served via it) per visit, nearest warehouses first."""
        problem = self.problem
        vias: dict[int, list[tuple[int, int]]] = {}
        for i, houses in self._pickup_sources().items():
            visit = problem.visits[i]
            for w in houses:
                vias.setdefault(i, []).append((len(self.nodes), len(self.nodes) + 1))
                self.nodes.append(Node(i, 0, problem.warehouses[w].point, "pickup", w))
                self.nodes.append(Node(i, 0, visit.point, "visit", w))
        return vias

    def _travel_matrices(self) -> None:
        """Travel seconds between the distinct points, and free-flow units between nodes.

        One provider call over the distinct points, also covering visits left
        out of the model, whose explanations need travel times too."""
        problem = self.problem
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

    def _service_units(self) -> NDArray[np.int64]:
        """Time at each node: the visit's duration, or the warehouse counter's."""
        problem = self.problem
        return np.array(
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

    def _node_rules(self) -> tuple[list[list[int]], list[list[tuple[int, int]]]]:
        """Per node: the vehicles that may serve it and its start windows in units."""
        problem = self.problem
        node_allowed: list[list[int]] = [[] for _ in self.nodes]
        node_windows: list[list[tuple[int, int]]] = [[] for _ in self.nodes]
        for i in self.modelled:
            visit_windows = self.to_units(self.windows[i])
            crew = problem.visits[i].pinned_crew
            for c, node in enumerate(self.copies[i]):
                node_allowed[node] = self.allowed[i]
                if c < len(crew):
                    # A pinned joint visit: each engineer on record takes a copy of their own.
                    node_allowed[node] = [
                        k
                        for k in self.allowed[i]
                        if problem.engineers[self.vehicles[k].engineer_index].id == crew[c]
                    ]
                node_windows[node] = visit_windows
            for pickup, via in self.vias.get(i, []):
                hours = problem.warehouses[self.nodes[pickup].warehouse].hours
                node_allowed[pickup] = node_allowed[via] = self.via_allowed[i]
                node_windows[via] = visit_windows
                node_windows[pickup] = self.to_units(hours or [(0.0, problem.horizon_s)])
        return node_allowed, node_windows

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
        engineer = self.problem.engineers[veh.engineer_index]
        return self.depot_node[engineer.start_of_period(veh.start_s)]

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


def rest_pairs(m: SolverModel) -> list[tuple[int, int, int]]:
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
