"""From the solver's assignment back to routes, stop times, reasons and changed promises."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from routing.eligibility import day_of
from routing.explain import why_late, why_unassigned
from routing.model import LateVisit, Problem, Route, Solution, Stop, Unassigned, Visit
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
                lo = soft_start_bound(m.problem.visits[m.nodes[node].visit_index], m.options)
                if lo is not None:
                    cumul = assignment.Value(time_dim.CumulVar(manager.NodeToIndex(node)))
                    soft_floor[node] = min(m.units_up(lo), int(cumul))
    starts, floors = earliest_schedule(m, sequences, soft_floor)
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


def soft_start_bound(visit: Visit, options: SolveOptions) -> float | None:
    """The soft lower bound on the start: a tentative appointment, else the current promise."""
    if visit.appointment is not None and not visit.confirmed:
        return visit.appointment[0]
    if visit.current_start_s is not None and not visit.already_started:
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
    nights = [[(m.units_down(a), m.units_up(b)) for a, b in veh.breaks] for veh in m.vehicles]
    rests = rest_pairs(m)
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
        for c, r, rest in rest_pairs(m) if rests else ():
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


def broken_by_traffic(m: SolverModel, solution: Solution) -> set[tuple[str, int]]:
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
