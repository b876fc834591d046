"""A searched plan that gives up a deadline the greedy plan keeps is repaired visit by
visit instead of being replaced by the greedy plan whole."""

from __future__ import annotations

from dataclasses import replace

from routing.greedy import greedy_solve
from routing.model import Engineer, Problem, Solution, Visit
from routing.nodes import SolverModel
from routing.options import SolveOptions
from routing.plan_check import check_plan
from routing.readout import plan_of_sequences
from routing.repair import aim_minutes, better_than_baseline, breaches, reinserted
from routing.scenario import field_scenario
from routing.solver import _end_caps, _start_nodes
from tests.routing.support import DAY, PLANE, H


def _as_routes(plan: object) -> dict[tuple[str, int], list[str]]:
    return {(r.engineer_id, r.shift_index): [s.visit_id for s in r.stops] for r in plan.routes}  # type: ignore[attr-defined]


def test_a_deadline_given_up_is_put_back_on_time_and_nothing_else_gets_late() -> None:
    problem = field_scenario(120, 12, seed=2)
    m = SolverModel(problem, SolveOptions())
    # The greedy routes as the solver times them.
    baseline = plan_of_sequences(
        m, _start_nodes(m, _as_routes(greedy_solve(problem))), {}, 0, "success", 0.0, 1
    )
    late = {lv.visit_id for lv in baseline.late}
    deadline = {v.id: v.deadline_s for v in problem.visits}
    urgent = min(
        (
            s.visit_id
            for r in baseline.routes
            for s in r.stops
            if s.visit_id not in late and deadline[s.visit_id]
        ),
        key=lambda v: deadline[v] or 0.0,
    )
    # The "searched" plan: that visit moved to the end of another engineer's
    # longest second-day route, where it starts long past its deadline.
    routes = _as_routes(baseline)
    owner = next(k for k, ids in routes.items() if urgent in ids)
    routes[owner].remove(urgent)
    other = max((k for k in routes if k[0] != owner[0] and k[1] == 1), key=lambda k: len(routes[k]))
    routes[other].append(urgent)
    searched = plan_of_sequences(m, _start_nodes(m, routes), {}, 0, "success", 0.0, 1)
    assert urgent in breaches(searched, baseline)

    fixed = plan_of_sequences(
        m, reinserted(m, _start_nodes(m, routes), {urgent}, _end_caps(m)), {}, 0, "success", 0.0, 1
    )
    check = check_plan(problem, fixed)
    assert check.feasible, check.problems
    assert urgent in fixed.assigned_visit_ids
    assert urgent not in check.late
    assert breaches(fixed, baseline) == set()
    assert check.late <= check_plan(problem, searched).late


def test_a_plan_is_better_than_the_baseline_only_with_no_breach_and_less_travel() -> None:
    problem = field_scenario(60, 6, seed=0)
    baseline = greedy_solve(problem)
    assert not better_than_baseline(baseline, baseline, problem)  # same travel: not better
    dropped = replace(baseline, routes=baseline.routes[1:])
    assert not better_than_baseline(dropped, baseline, problem)  # fewer visits, however short


def test_less_travel_is_not_better_when_urgent_work_waits_longer_past_its_aim() -> None:
    e = Engineer("e", (0.0, 0.0), [DAY])
    routine = [Visit(f"r{k}", (10.0 * k, 0.0), 3600) for k in range(1, 4)]
    urgent = Visit("urgent", (100.0, 0.0), 1800, deadline_s=16 * H, priority=4, target_s=9 * H)
    problem = Problem([e], [*routine, urgent], travel=PLANE, horizon_s=24 * H)
    m = SolverModel(problem, SolveOptions())

    def plan(order: list[str]) -> Solution:
        return plan_of_sequences(m, _start_nodes(m, {("e", 0): order}), {}, 0, "success", 0.0, 1)

    first, last = plan(["urgent", "r1", "r2", "r3"]), plan(["r1", "r2", "r3", "urgent"])
    assert last.total_travel_s < first.total_travel_s
    assert aim_minutes(problem, first) == 0
    assert aim_minutes(problem, last) == round(4 * (2 * 3600 + 10) / 60)  # 11:00:10, priority 4
    without_aim = replace(problem, visits=[*routine, replace(urgent, target_s=None)])
    assert better_than_baseline(last, first, without_aim)  # without an aim: travel alone
    assert not better_than_baseline(last, first, problem)
    assert better_than_baseline(first, last, problem)
