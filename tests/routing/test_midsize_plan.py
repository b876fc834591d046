"""A mid-size field plan (below the large-problem size) against the greedy rule of thumb.

From parallel cheapest insertion the search traded deadlines the rule of thumb
keeps for travel and shorter lateness elsewhere (100 visits: 1-5 such breaches,
250 visits: 36); a dispatcher must never get a plan that is worse on them."""

from __future__ import annotations

from routing.greedy import greedy_solve
from routing.options import SolveOptions
from routing.plan_check import check_plan
from routing.scenario import field_scenario
from routing.solver import solve


def test_a_mid_size_plan_keeps_every_deadline_and_visit_the_greedy_plan_keeps() -> None:
    problem = field_scenario(100, 10, seed=1)
    greedy = check_plan(problem, greedy_solve(problem))
    plan = check_plan(problem, solve(problem, SolveOptions(time_limit_s=8.0)))
    assert plan.feasible, plan.problems
    assert plan.assigned >= greedy.assigned
    assert (plan.late | plan.missed) - (greedy.late | greedy.missed) == set()
