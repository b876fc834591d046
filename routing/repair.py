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

import time

from routing.model import Problem, Solution
from routing.nodes import SolverModel, rest_pairs
from routing.readout import earliest_schedule, schedule_route, vehicle_nights


def breaches(solution: Solution, baseline: Solution) -> set[str]:
    """The visits the baseline serves on time that `solution` serves late or not at all."""
    served = solution.assigned_visit_ids
    late = {lv.visit_id for lv in solution.late}
    kept = baseline.assigned_visit_ids - {lv.visit_id for lv in baseline.late}
    return {v for v in kept if v not in served or v in late}


def better_than_baseline(solution: Solution, baseline: Solution, problem: Problem) -> bool:
    """At least the baseline's visits, none of its on-time ones given up, and urgent work no
    later past its aims (`aim_minutes`); then less past the aims, or less travel per visit
    served."""
    served, baseline_served = len(solution.assigned_visit_ids), len(baseline.assigned_visit_ids)
    if served < baseline_served or breaches(solution, baseline):
        return False
    late, baseline_late = aim_minutes(problem, solution), aim_minutes(problem, baseline)
    if late != baseline_late:
        return late < baseline_late
    return solution.total_travel_s * baseline_served < baseline.total_travel_s * served


def aim_minutes(problem: Problem, solution: Solution) -> int:
    """Minutes past their aims (`Visit.target_s`) of the urgent visits not yet started, times
    their priority; one left out counts as late to the end of the horizon. The plan's price of
    lateness makes these minutes dearer than any travel: a plan that saves driving by leaving
    urgent work for later is not better."""
    aims = {v.id: v for v in problem.visits if v.target_s is not None and not v.already_started}
    starts = {s.visit_id: s.start_s for r in solution.routes for s in r.stops if s.is_visit}
    late = 0.0
    for visit_id, visit in aims.items():
        start = starts.get(visit_id, problem.horizon_s)
        late += visit.priority * max(0.0, start - max(problem.now_s, visit.aim_s or 0.0))
    return round(late / 60.0)


# Positions tried per visit, cheapest added travel first: enough for the
# nearby routes, bounded for a visit that fits nowhere (thousands of positions).
POSITIONS_TRIED = 300
# ... and past the time for swaps.
LATE_TRIES = 60
# A visit that fits nowhere on time may take the place of a stop at one of its
# cheapest SWAP_POSITIONS positions, if that stop goes elsewhere among its
# cheapest SWAP_TRIES positions (on time if it has a deadline).
SWAP_POSITIONS = 8
SWAP_TRIES = 40


def reinserted(
    m: SolverModel,
    sequences: list[list[int]],
    visit_ids: set[str],
    caps: list[int],
    late_ok: bool = False,
    swap_until: float | None = None,
) -> list[list[int]]:
    """`sequences` (nodes per vehicle) with the visits `visit_ids` taken out and each put
    back, earliest deadline first, where it adds least travel and starts by its
    deadline; else in place of a stop that then goes elsewhere (on time if it
    has a deadline); `late_ok`: else where it adds least travel at all. One that fits
    nowhere stays out. `caps`: each vehicle's latest return (units). Swaps (a
    search each) stop at `swap_until` (`time.monotonic()`), and fewer positions
    are tried from then on."""
    index = {v.id: i for i, v in enumerate(m.problem.visits)}
    taken = {index[v] for v in visit_ids if v in index}
    routes = [[n for n in seq if m.nodes[n].visit_index not in taken] for seq in sequences]
    state = _Routes(m, routes, caps)
    order = sorted(
        taken, key=lambda i: (m.problem.visits[i].deadline_s or float("inf"), m.problem.visits[i].id)
    )
    for i in order:
        nodes = m.copies.get(i, [])
        if len(nodes) != 1 or i in m.vias:
            continue  # joint visits and pick-ups are the search's to place
        best = state.best_position(nodes[0], False, state.tries)
        if best is not None:
            state.insert(nodes[0], *best)
            continue
        in_time = swap_until is None or time.monotonic() < swap_until
        if not in_time:
            state.tries = LATE_TRIES
        swapped = in_time and state.in_place_of_other(nodes[0])
        if not swapped and late_ok:
            state.place_anywhere(nodes[0])
    return state.routes


class _Routes:
    """Routes being repaired, with their stops' starts (units)."""

    def __init__(self, m: SolverModel, routes: list[list[int]], caps: list[int]) -> None:
        self.m, self.routes, self.caps = m, routes, caps
        self.tries = POSITIONS_TRIED
        self.starts, self.floors = earliest_schedule(m, routes)
        # Vehicles whose time is tied to another's (rest after a call-out) or whose
        # overtime is capped per month are left as they are.
        self.tied = {k for pair in rest_pairs(m) for k in pair[:2]} | {
            k
            for k, v in enumerate(m.vehicles)
            if m.problem.engineers[v.engineer_index].overtime_left_month_s is not None
        }

    def insert(self, node: int, k: int, pos: int) -> None:
        self.routes[k].insert(pos, node)
        self._retime(k)

    def _retime(self, k: int) -> None:
        m, route = self.m, self.routes[k]
        joint = _joint_starts(m, route, self.starts)
        schedule_route(m, k, route, vehicle_nights(m, k), joint, self.floors.get(k, 0), self.starts)

    def place_anywhere(self, node: int) -> None:
        best = self.best_position(node, False, self.tries) or self.best_position(node, True, self.tries)
        if best is not None:
            self.insert(node, *best)

    def candidates(self, node: int) -> list[tuple[int, int, int]]:
        """(added travel, vehicle, position) of every position, cheapest first."""
        m, travel = self.m, self.m.travel_units
        out: list[tuple[int, int, int]] = []
        for k in m.node_allowed[node]:
            if k in self.tied:
                continue
            veh = m.vehicles[k]
            points = [m.start_node(veh), *self.routes[k], m.end_node(veh)]
            for pos in range(len(points) - 1):
                a, b = points[pos], points[pos + 1]
                out.append((int(travel[a, node] + travel[node, b] - travel[a, b]), k, pos))
        out.sort()
        return out

    def best_position(self, node: int, late_ok: bool, tries: int = POSITIONS_TRIED) -> tuple[int, int] | None:
        """The (vehicle, position) adding least travel where the node starts by its
        deadline (`late_ok`: at all) and nothing else on the route gets worse."""
        for _, k, pos in self.candidates(node)[:tries]:
            trial = [*self.routes[k][:pos], node, *self.routes[k][pos:]]
            if self.holds(k, trial, node, late_ok):
                return k, pos
        return None

    def in_place_of_other(self, node: int) -> bool:
        """The node put in on time where another stop makes room, which goes
        elsewhere at once (on time if it has a deadline; a late one stays).
        Nearby positions only: each try costs a search. Whether the node went in."""
        m = self.m
        for _, k, pos in self.candidates(node)[:SWAP_POSITIONS]:
            route = self.routes[k]
            for other in route:
                visit = m.problem.visits[m.nodes[other].visit_index]
                if len(m.copies.get(m.nodes[other].visit_index, [])) != 1:
                    continue
                if visit.already_started or visit.pinned_start_s is not None:
                    continue
                if visit.deadline_s is not None and self.starts[other] > m.units_down(visit.deadline_s):
                    continue
                trial = [*route[:pos], node, *route[pos:]]
                trial.remove(other)
                if not self.holds(k, trial, node, False):
                    continue
                self.routes[k] = trial
                self._retime(k)
                elsewhere = self.best_position(other, visit.deadline_s is None, SWAP_TRIES)
                if elsewhere is not None:
                    self.insert(other, *elsewhere)
                    return True
                self.routes[k] = route
                self._retime(k)
        return False

    def holds(self, k: int, trial: list[int], node: int, late_ok: bool) -> bool:
        """Vehicle k's route as `trial`: every stop in a window, `node` by its deadline
        (unless `late_ok`), none late that was on time, joint stops at their start, back in time."""
        m = self.m
        joint = _joint_starts(m, trial, self.starts)
        new: dict[int, int] = {}
        if (
            schedule_route(m, k, trial, vehicle_nights(m, k), joint, self.floors.get(k, 0), new)
            > self.caps[k]
        ):
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
            if start > limit and ((n == node and not late_ok) or (n != node and self.starts[n] <= limit)):
                return False
        return True


def _joint_starts(m: SolverModel, route: list[int], starts: dict[int, int]) -> dict[int, int]:
    """The starts of the route's joint stops (held: their partners do not move)."""
    return {n: starts[n] for n in route if n in starts and len(m.copies.get(m.nodes[n].visit_index, [])) > 1}
