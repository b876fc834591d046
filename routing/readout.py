"""From the solver's assignment back to routes, stop times, reasons and changed promises."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from routing.eligibility import day_of
from routing.explain import why_late, why_unassigned
from routing.geo import Point
from routing.model import Engineer, LateVisit, Problem, Route, Solution, Stop, Unassigned, Visit
from routing.nodes import SolverModel, rest_pairs
from routing.options import SolveOptions


def read_solution(
    m: SolverModel,
    routing: Any,
    manager: Any,
    assignment: Any,
    status: str,
    started: float,
    found: int,
) -> Solution:
    """The plan in the assignment (None: no plan): routes with the earliest
    consistent stop times, unassigned visits with reasons, late visits with
    reasons, and the promises the plan changes."""
    sequences = _sequences(m, routing, manager, assignment)
    objective = int(assignment.ObjectiveValue()) if assignment is not None else None
    soft_floor = _soft_floors(m, routing, manager, assignment, _without_partial_joints(m, sequences))
    return plan_of_sequences(m, sequences, soft_floor, objective, status, started, found)


def plan_of_sequences(
    m: SolverModel,
    sequences: list[list[int]],
    soft_floor: Mapping[int, int],
    objective: int | None,
    status: str,
    started: float,
    found: int,
) -> Solution:
    """The plan of each vehicle's nodes in order (`objective` None: no plan), timed
    as early as everything allows, with its reasons and changed promises."""
    sequences = _without_partial_joints(m, sequences)
    starts, floors = earliest_schedule(m, sequences, soft_floor)
    routes: list[Route] = []
    late_engineers: dict[int, list[str]] = {}
    for k, seq in enumerate(sequences):
        if seq:
            routes += _vehicle_routes(m, k, seq, starts, floors.get(k, 0), late_engineers)
    return Solution(
        routes=routes,
        unassigned=_unassigned(m, sequences, objective is None, status),
        late=_late_visits(m, sequences, starts, late_engineers),
        objective=objective,
        status=status,
        seconds=time.monotonic() - started,
        solutions_found=found,
        changed=changed_promises(m.problem, routes, m.options.churn_tolerance_s),
    )


def _sequences(m: SolverModel, routing: Any, manager: Any, assignment: Any) -> list[list[int]]:
    """The nodes of each vehicle's route, in order (all empty without a plan)."""
    sequences: list[list[int]] = [[] for _ in m.vehicles]
    if assignment is not None:
        for k in range(len(m.vehicles)):
            index = assignment.Value(routing.NextVar(routing.Start(k)))
            while not routing.IsEnd(index):
                sequences[k].append(manager.IndexToNode(index))
                index = assignment.Value(routing.NextVar(index))
    return sequences


def _without_partial_joints(m: SolverModel, sequences: list[list[int]]) -> list[list[int]]:
    """A joint visit counts only when every copy is on a route."""
    active: dict[int, int] = {}
    for seq in sequences:
        for node in seq:
            if m.nodes[node].kind == "visit":
                vi = m.nodes[node].visit_index
                active[vi] = active.get(vi, 0) + 1
    partial = {vi for vi, n in active.items() if n < max(1, m.problem.visits[vi].people_needed)}
    return [[n for n in seq if m.nodes[n].visit_index not in partial] for seq in sequences]


def _soft_floors(
    m: SolverModel, routing: Any, manager: Any, assignment: Any, sequences: list[list[int]]
) -> dict[int, int]:
    """Soft "not before" times (a tentative appointment, the current start of a
    promise) are kept as far as the solver's own schedule kept them."""
    soft_floor: dict[int, int] = {}
    if assignment is None:
        return soft_floor
    time_dim = routing.GetDimensionOrDie("Time")
    for seq in sequences:
        for node in seq:
            if m.nodes[node].kind != "visit":
                continue
            lo = soft_start_bound(m.problem.visits[m.nodes[node].visit_index], m.options)
            if lo is not None:
                cumul = assignment.Value(time_dim.CumulVar(manager.NodeToIndex(node)))
                soft_floor[node] = min(m.units_up(lo), int(cumul))
    return soft_floor


def _vehicle_routes(
    m: SolverModel,
    k: int,
    seq: list[int],
    starts: Mapping[int, int],
    floor: int,
    late_engineers: dict[int, list[str]],
) -> list[Route]:
    """One route per day of the vehicle that has stops (away overnight: day 2
    starts where day 1 ended). Notes who serves each late visit in `late_engineers`."""
    veh = m.vehicles[k]
    engineer = m.problem.engineers[veh.engineer_index]
    days = veh.days or ((veh.shift_index, veh.start_s, veh.end_s),)
    by_day: list[list[int]] = [[] for _ in days]
    for node in seq:
        by_day[day_of(veh, starts[node] / m.scale)].append(node)
    prev_point = engineer.start_of_period(veh.start_s)
    last_day = max(d for d, nodes in enumerate(by_day) if nodes)
    routes: list[Route] = []
    for d, nodes in enumerate(by_day):
        if not nodes:
            continue
        shift_index, day_start, day_end = days[d]
        day = _Day(shift_index, (days[d][1], day_end), max(day_start, floor / m.scale), d == last_day)
        route, prev_point = _day_route(
            m, veh.on_call, engineer, day, nodes, prev_point, starts, late_engineers
        )
        routes.append(route)
    return routes


@dataclass(frozen=True)
class _Day:
    shift_index: int
    shift: tuple[float, float]
    start_s: float  # no departure before this (the shift start, or later after a call-out)
    last: bool  # the engineer goes home after it


def _day_route(
    m: SolverModel,
    on_call: bool,
    engineer: Engineer,
    day: _Day,
    nodes: list[int],
    prev_point: Point,
    starts: Mapping[int, int],
    late_engineers: dict[int, list[str]],
) -> tuple[Route, Point]:
    """One day of a route from `prev_point`, and where it ends. The engineer
    leaves just in time for the first stop; legs at the speed of each departure."""
    problem = m.problem
    first_point = prev_point
    stops: list[Stop] = []
    clock = depart = day.start_s
    for pos, node in enumerate(nodes):
        n = m.nodes[node]
        start = starts[node] / m.scale
        a, b = m.point_index[prev_point], m.point_index[n.point]
        if pos == 0:
            # Leave home (or the last stop of the day before) just in time.
            depart = max(day.start_s, start - m.leg_seconds(a, b, max(day.start_s, start - m.seconds[a, b])))
            clock = depart
        leg = m.leg_seconds(a, b, clock)
        stop = _stop(m, engineer, node, clock + leg, start, leg)
        stops.append(stop)
        if stop.late_s > 0:
            late_engineers.setdefault(n.visit_index, []).append(engineer.id)
        clock = stop.end_s
        prev_point = n.point
    # Away overnight, the day ends at its last stop; home comes after the last day.
    back = 0.0
    if day.last:
        back = m.leg_seconds(m.point_index[prev_point], m.point_index[engineer.end_point], clock)
    ret = clock + back
    route = Route(
        engineer_id=engineer.id,
        shift_index=day.shift_index,
        shift=day.shift,
        on_call=on_call,
        depart_s=depart,
        return_s=ret,
        stops=stops,
        travel_s=sum(s.travel_s for s in stops) + back,
        overtime_s=max(0.0, ret - day.shift[1]),
        load=sum(problem.visits[m.nodes[n].visit_index].demand for n in nodes if m.nodes[n].kind == "visit"),
        start_point=first_point,
        end_point=engineer.end_point if day.last else prev_point,
    )
    return route, prev_point


def _stop(m: SolverModel, engineer: Engineer, node: int, arrival: float, start: float, leg: float) -> Stop:
    """A visit (late past its deadline), or a pick-up of what the van lacks for it."""
    n = m.nodes[node]
    visit = m.problem.visits[n.visit_index]
    if n.kind == "pickup":
        house = m.problem.warehouses[n.warehouse]
        parts = tuple(sorted(visit.parts - engineer.parts))
        return Stop(
            visit.id, arrival, start, start + house.pickup_s, leg, 0.0, "pickup", house.id, parts, n.point
        )
    late_s = max(0.0, start - visit.deadline_s) if visit.deadline_s is not None else 0.0
    return Stop(visit.id, arrival, start, start + visit.duration_s, leg, late_s, point=n.point)


def _unassigned(m: SolverModel, sequences: list[list[int]], no_plan: bool, status: str) -> list[Unassigned]:
    """The visits not on any route, each with its reason."""
    assigned = {m.nodes[n].visit_index for seq in sequences for n in seq if m.nodes[n].kind == "visit"}
    unassigned: list[Unassigned] = []
    for i, visit in enumerate(m.problem.visits):
        if i in assigned:
            continue
        if no_plan and i in m.copies:
            reason = f"the solver found no plan ({status})"
        else:
            reason = why_unassigned(m.problem, m.vehicles, visit, m.reach(visit))
        unassigned.append(Unassigned(visit.id, reason))
    return unassigned


def _late_visits(
    m: SolverModel,
    sequences: list[list[int]],
    starts: Mapping[int, int],
    late_engineers: dict[int, list[str]],
) -> list[LateVisit]:
    """The visits that start past their deadline, with who serves them and why."""
    start_of = {
        m.nodes[n].visit_index: starts[n] for seq in sequences for n in seq if m.nodes[n].kind == "visit"
    }
    late: list[LateVisit] = []
    for vi, engineer_ids in late_engineers.items():
        visit = m.problem.visits[vi]
        assert visit.deadline_s is not None
        start = start_of[vi] / m.scale
        late.append(
            LateVisit(
                visit.id,
                engineer_ids,
                start,
                visit.deadline_s,
                start - visit.deadline_s,
                why_late(m.problem, m.vehicles, visit, m.reach(visit), start),
            )
        )
    return late


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


def soft_start_bound(visit: Visit, options: SolveOptions) -> float | None:
    """The soft lower bound on the start: a tentative appointment, else the current promise."""
    if visit.appointment is not None and not visit.confirmed:
        return visit.appointment[0]
    if visit.current_start_s is not None and not visit.already_started and visit.target_s is None:
        return visit.current_start_s - options.churn_tolerance_s
    return None


def earliest_schedule(
    m: SolverModel, sequences: list[list[int]], soft_floor: Mapping[int, int] | None = None
) -> tuple[dict[int, int], dict[int, int]]:
    """Earliest start (in units) of every routed node, joint copies together, and
    the earliest route start of vehicles held back by rest after a call-out.

    Start times are recomputed rather than read from the solver's cumuls,
    which may sit anywhere in their feasible range. Starting every stop as
    early as its arrival, window, joint partners, nights away and rest allow
    is monotone, so the iteration reaches the least schedule, which is no
    later than the solver's feasible one and hence feasible.
    """
    nights = [vehicle_nights(m, k) for k in range(len(m.vehicles))]
    rests = rest_pairs(m)
    floor: dict[int, int] = dict(soft_floor or {})
    vehicle_floor: dict[int, int] = {}
    starts: dict[int, int] = {}
    returns: dict[int, int] = {}
    for _ in range(4 * len(m.nodes) + 4):
        for k, seq in enumerate(sequences):
            returns[k] = schedule_route(m, k, seq, nights[k], floor, vehicle_floor.get(k, 0), starts)
        rested = _rest_floors(rests, sequences, returns, vehicle_floor)
        joined = _joint_floors(m, starts, floor)
        if not (rested or joined):
            break
    return starts, vehicle_floor


def vehicle_nights(m: SolverModel, k: int) -> list[tuple[int, int]]:
    """Vehicle k's nights away (its shift's breaks) in solver units, widened to whole units."""
    return [(m.units_down(a), m.units_up(b)) for a, b in m.vehicles[k].breaks]


def schedule_route(
    m: SolverModel,
    k: int,
    seq: list[int],
    nights: list[tuple[int, int]],
    floor: Mapping[int, int],
    vehicle_floor: int,
    starts: dict[int, int],
) -> int:
    """One pass over vehicle k's route `seq` (node indexes, in order): each stop starts as early as
    its arrival, its `floor` (joint partners, soft bounds), its windows and the vehicle's `nights`
    (`vehicle_nights`) allow, and the route no earlier than `vehicle_floor` (rest after a
    call-out). The starts, in solver units, go into `starts`; returns when the engineer is back
    at the end of the route. The one timing rule of plans read from the solver
    (`earliest_schedule`) and of routes edited after the search (`routing.repair`)."""
    veh = m.vehicles[k]
    prev = m.start_node(veh)
    clock = max(m.units_up(veh.start_s), vehicle_floor)
    for node in seq:
        leg = m.leg_units(k, prev, node, clock)
        start = max(clock + leg, floor.get(node, 0))
        service = int(m.service_units[node])
        for a, b in nights:
            if clock <= a < clock + leg:
                start = max(start, clock + leg + b - a)  # the drive straddles the night
        start = _window_after_nights(m.node_windows[node], nights, start, service)
        starts[node] = start
        clock = start + service
        prev = node
    return clock + m.leg_units(k, prev, m.end_node(veh), clock)


def _window_after_nights(
    windows: list[tuple[int, int]], nights: list[tuple[int, int]], start: int, service: int
) -> int:
    """The earliest start from `start` inside the windows (unchanged past the
    last one) whose service does not run into a night."""
    for _ in range(len(nights) + 1):
        for lo, hi in windows:
            if hi >= start:
                start = max(lo, start)
                break
        # No work through a night: wait for the morning.
        pushed = next((b for a, b in nights if start < b and a < start + service), None)
        if pushed is None or pushed <= start:
            break
        start = pushed
    return start


def _rest_floors(
    rests: list[tuple[int, int, int]],
    sequences: list[list[int]],
    returns: Mapping[int, int],
    vehicle_floor: dict[int, int],
) -> bool:
    """A regular shift after a used call-out starts no sooner than the rest after
    the engineer is back. Whether any floor rose."""
    changed = False
    for c, r, rest in rests:
        if sequences[c] and sequences[r] and returns[c] + rest > vehicle_floor.get(r, 0):
            vehicle_floor[r] = returns[c] + rest
            changed = True
    return changed


def _joint_floors(m: SolverModel, starts: Mapping[int, int], floor: dict[int, int]) -> bool:
    """Routed copies of a joint visit wait for the latest of them. Whether any floor rose."""
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
    return changed


def broken_by_traffic(m: SolverModel, solution: Solution) -> set[tuple[str, int]]:
    """Routes whose stop times at the speed of each departure break a hard window
    or run past the shift end plus overtime (the solver saw the shift's average speed)."""
    visits = {v.id: i for i, v in enumerate(m.problem.visits)}
    engineers = {e.id: e for e in m.problem.engineers}
    broken: set[tuple[str, int]] = set()
    for route in solution.routes:
        key = (route.engineer_id, route.shift_index)
        engineer = engineers[route.engineer_id]
        if route.return_s > route.shift[1] + engineer.overtime_cap_after(route.shift[1]) + 1.0:
            broken.add(key)
        for stop in route.stops:
            windows = m.windows[visits[stop.visit_id]] if stop.is_visit else []
            if windows and not any(lo - 1.0 <= stop.start_s <= hi + 1.0 for lo, hi in windows):
                broken.add(key)
    return broken
