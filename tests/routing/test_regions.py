"""Region decomposition: districts solved one by one, the boundary repaired."""

from __future__ import annotations

from dataclasses import replace

from routing.options import SolveOptions
from routing.plan_check import check_plan
from routing.regions import districts, solve_by_regions
from routing.scenario import field_scenario


def test_districts_split_every_visit_and_engineer_once_and_follow_whitelists() -> None:
    problem = field_scenario(300, 30, seed=0)
    only = problem.engineers[7].id
    problem.visits[0] = replace(problem.visits[0], allowed_engineers=frozenset({only}))
    parts = districts(problem, 3)
    assert len(parts) == 3
    assert sorted(i for d in parts for i in d.visits) == list(range(300))
    assert sorted(e for d in parts for e in d.engineers) == list(range(30))
    assert all(d.engineers and d.visits for d in parts)
    home = next(d for d in parts if 7 in d.engineers)
    assert 0 in home.visits
    # Balanced by work: no district gets less than half or more than twice its share of engineers.
    for d in parts:
        share = len(d.visits) / 300 * 30
        assert share / 2 <= len(d.engineers) <= share * 2


def test_a_plan_by_districts_is_valid_and_places_or_reports_every_visit() -> None:
    problem = field_scenario(300, 30, seed=1)
    plan = solve_by_regions(problem, SolveOptions(time_limit_s=9.0), count=3)
    check = check_plan(problem, plan)
    assert check.feasible, check.problems
    served = [s.visit_id for r in plan.routes for s in r.stops if s.is_visit]
    reported = [u.visit_id for u in plan.unassigned]
    joint = {v.id for v in problem.visits if v.people_needed > 1}
    assert len([v for v in served if v not in joint]) == len({v for v in served if v not in joint})
    assert set(served) | set(reported) == {v.id for v in problem.visits}
    assert not set(served) & set(reported)
    late = {lv.visit_id for lv in plan.late}
    assert late == check.late
