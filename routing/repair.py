"""A searched plan held to what the rule of thumb keeps, visit by visit.

The search of a large problem trades a few long breaches for many short ones
and travel: its plan may be late for, or leave out, a visit the greedy
baseline serves on time. Instead of handing out the baseline's plan whole
(and losing every saving of the search for one or two visits), those visits
are taken out of the searched routes and put back one by one where they add
least travel and start on time, timed exactly as the solver times its plans:
every other stop keeps its window, its on-time status, its joint partners'
start and its shift's latest return. The solver then judges the result
against the baseline again and hands out the baseline only if it still loses.
"""

from __future__ import annotations

from routing.model import Solution
from routing.nodes import SolverModel, rest_pairs
from routing.readout import _schedule_route, earliest_schedule


def breaches(solution: Solution, baseline: Solution) -> set[str]:
    """The visits the baseline serves on time that `solution` serves late or not at all."""
    served = solution.assigned_visit_ids
    late = {lv.visit_id for lv in solution.late}
    kept = baseline.assigned_visit_ids - {lv.visit_id for lv in baseline.late}
    return {v for v in kept if v not in served or v in late}


def better_than_baseline(solution: Solution, baseline: Solution) -> bool:
    """At least the baseline's visits, none of its on-time ones given up, and less
    travel per visit served."""
    served, baseline_served = len(solution.assigned_visit_ids), len(baseline.assigned_visit_ids)
    return (
        served >= baseline_served
        and not breaches(solution, baseline)
        and solution.total_travel_s * baseline_served < baseline.total_travel_s * served
    )


# Positions tried per visit, cheapest added travel first: enough for the
# nearby routes, bounded for a visit that fits nowhere (thousands of positions).
POSITIONS_TRIED = 300


def reinserted(
    m: SolverModel,
    sequences: list[list[int]],
    visit_ids: set[str],
    caps: list[int],
    late_ok: bool = False,
) -> list[list[int]]:
    """`sequences` (nodes per vehicle) with the visits `visit_ids` taken out and each put
    back, earliest deadline first, where it adds least travel and starts by its
    deadline; `late_ok`: else where it adds least travel at all. One that fits
    nowhere stays out. `caps`: each vehicle's latest return (units)."""
    index = {v.id: i for i, v in enumerate(m.problem.visits)}
    taken = {index[v] for v in visit_ids if v in index}
    routes = [[n for n in seq if m.nodes[n].visit_index not in taken] for seq in sequences]
    # Vehicles whose time is tied to another's (rest after a call-out) or whose
    # overtime is capped per month are left as they are.
    tied = {k for pair in rest_pairs(m) for k in pair[:2]}
    tied |= {
        k
        for k, v in enumerate(m.vehicles)
        if m.problem.engineers[v.engineer_index].overtime_left_month_s is not None
    }
    order = sorted(
        taken, key=lambda i: (m.problem.visits[i].deadline_s or float("inf"), m.problem.visits[i].id)
    )
    starts, floors = earliest_schedule(m, routes)
    for i in order:
        nodes = m.copies.get(i, [])
        if len(nodes) != 1 or i in m.vias:
            continue  # joint visits and pick-ups are the search's to place
        best = _best_position(m, routes, nodes[0], starts, floors, caps, tied, False)
        if best is None and late_ok:
            best = _best_position(m, routes, nodes[0], starts, floors, caps, tied, True)
        if best is not None:
            k, pos = best
            routes[k].insert(pos, nodes[0])
            _schedule_route(
                m, k, routes[k], _nights(m, k), _joint_starts(m, routes[k], starts), floors.get(k, 0), starts
            )
    return routes


def _nights(m: SolverModel, k: int) -> list[tuple[int, int]]:
    return [(m.units_down(a), m.units_up(b)) for a, b in m.vehicles[k].breaks]


def _joint_starts(m: SolverModel, route: list[int], starts: dict[int, int]) -> dict[int, int]:
    """The starts of the route's joint stops (held: their partners do not move)."""
    return {n: starts[n] for n in route if n in starts and len(m.copies.get(m.nodes[n].visit_index, [])) > 1}


def _best_position(
    m: SolverModel,
    routes: list[list[int]],
    node: int,
    starts: dict[int, int],
    floors: dict[int, int],
    caps: list[int],
    tied: set[int],
    late_ok: bool,
) -> tuple[int, int] | None:
    """The (vehicle, position) adding least travel where the node starts by its
    deadline (`late_ok`: at all) and nothing else on the route gets worse;
    positions tried in order of added travel, the first that holds wins."""
    travel = m.travel_units
    candidates: list[tuple[int, int, int]] = []
    for k in m.node_allowed[node]:
        if k in tied:
            continue
        veh = m.vehicles[k]
        points = [m.start_node(veh), *routes[k], m.end_node(veh)]
        for pos in range(len(points) - 1):
            a, b = points[pos], points[pos + 1]
            candidates.append((int(travel[a, node] + travel[node, b] - travel[a, b]), k, pos))
    candidates.sort()
    for _, k, pos in candidates[:POSITIONS_TRIED]:
        if _holds(m, k, routes[k], pos, node, starts, floors.get(k, 0), caps[k], late_ok):
            return k, pos
    return None


def _holds(
    m: SolverModel,
    k: int,
    route: list[int],
    pos: int,
    node: int,
    starts: dict[int, int],
    vehicle_floor: int,
    cap: int,
    late_ok: bool,
) -> bool:
    """Vehicle k's route with `node` at `pos`: every stop in a window, the new one
    by its deadline (unless `late_ok`), none late that was on time, joint stops
    at their start, back by `cap`."""
    trial = [*route[:pos], node, *route[pos:]]
    joint = _joint_starts(m, route, starts)
    new: dict[int, int] = {}
    if _schedule_route(m, k, trial, _nights(m, k), joint, vehicle_floor, new) > cap:
        return False
    for n in trial:
        start = new[n]
        windows = m.node_windows[n]
        if windows and not any(lo <= start <= hi for lo, hi in windows):
            return False
        if n in joint and start != joint[n]:
            return False
        deadline = m.problem.visits[m.nodes[n].visit_index].deadline_s
        if deadline is None:
            continue
        limit = m.units_down(deadline)
        if start > limit and ((n == node and not late_ok) or (n != node and starts[n] <= limit)):
            return False
    return True
