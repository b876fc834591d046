"""The greedy baseline keeps the hard rules; the field benchmark runs; its check catches broken plans."""

from __future__ import annotations

import copy
import json
import warnings
from collections.abc import Sequence

import numpy as np
import pytest
from numpy.typing import NDArray

from routing.fieldbench import main
from routing.geo import Point
from routing.greedy import greedy_solve
from routing.model import Engineer, Problem, Visit
from routing.plan_check import check_plan
from routing.scenario import field_scenario
from tests.routing.support import DAY, PLANE, H, assert_hard_rules, planned


def test_greedy_respects_skills_shifts_parts_and_windows_on_a_scenario() -> None:
    p = field_scenario(60, 8, seed=11)
    sol = greedy_solve(p)
    assert len(sol.assigned_visit_ids) >= 30
    assert_hard_rules(p, sol)
    check = check_plan(p, sol)
    assert check.feasible, check.problems
    # Late visits are reported with a reason, and only those.
    late = {lv.visit_id for lv in sol.late}
    assert late == check.late
    assert all(lv.reason for lv in sol.late)
    assert all(u.reason for u in sol.unassigned)


def test_hand_made_rules() -> None:
    near = Engineer("near", (0.0, 0.0), [DAY], skills={"hvac": (1, None)}, parts=frozenset())
    far = Engineer(
        "far",
        (20_000.0, 0.0),
        [DAY],
        skills={"hvac": (3, None), "gas": (2, 12 * H)},
        parts=frozenset({"valve"}),
    )
    visits = [
        Visit("easy", (1_000.0, 0.0), 1800, skills={"hvac": 1}),
        Visit("expert", (1_000.0, 500.0), 1800, skills={"hvac": 3}),  # only `far` has the level
        Visit("part", (500.0, 0.0), 1800, parts=frozenset({"valve"})),  # only `far`'s van
        Visit("gas_late", (0.0, 0.0), 1800, skills={"gas": 1}, windows=[(14 * H, 16 * H)]),  # licence lapses
        Visit("promise", (2_000.0, 0.0), 1800, appointment=(15 * H, 15.5 * H), confirmed=True),
        Visit("nobody", (0.0, 0.0), 600, skills={"crane": 1}),
    ]
    p = Problem([near, far], visits, travel=PLANE, horizon_s=24 * H)
    sol = greedy_solve(p)
    assert_hard_rules(p, sol)
    where = {v: stops[0] for v, stops in planned(sol).items()}
    assert where["easy"][0] == "near"  # the cheaper append
    assert where["expert"][0] == "far"
    assert where["part"][0] == "far"
    assert 15 * H <= where["promise"][1] <= 15.5 * H
    reasons = {u.visit_id: u.reason for u in sol.unassigned}
    assert set(reasons) == {"gas_late", "nobody"}
    assert "gas" in reasons["gas_late"]
    assert "crane" in reasons["nobody"]


def test_earliest_deadline_goes_first_and_late_work_is_reported() -> None:
    e = Engineer("e", (0.0, 0.0), [DAY])
    # Two one-hour visits 10 km apart, both due at 09:30: only one can make it.
    visits = [
        Visit("later", (10_000.0, 0.0), 3600, deadline_s=9.5 * H, priority=1),
        Visit("sooner", (-10_000.0, 0.0), 3600, deadline_s=9.25 * H, priority=1),
    ]
    p = Problem([e], visits, travel=PLANE, horizon_s=24 * H)
    sol = greedy_solve(p)
    (route,) = sol.routes
    assert [s.visit_id for s in route.stops] == ["sooner", "later"]
    assert route.stops[0].late_s == 0
    assert [lv.visit_id for lv in sol.late] == ["later"]
    assert sol.late[0].late_s == pytest.approx(route.stops[1].start_s - 9.5 * H)


def _urgent_and_routine(target_s: float | None) -> list[str]:
    """Three routine hours due by 14:00 next to the engineer, an urgent visit due by 16:00
    (with the desk's aim of 09:00 or none) 5 km away: the order the rule of thumb serves them in."""
    e = Engineer("e", (0.0, 0.0), [DAY])
    routine = [Visit(f"r{k}", (10.0 * k, 0.0), 3600, deadline_s=14 * H) for k in range(1, 4)]
    urgent = Visit("urgent", (5_000.0, 0.0), 1800, deadline_s=16 * H, priority=4, target_s=target_s)
    (route,) = greedy_solve(Problem([e], [*routine, urgent], travel=PLANE, horizon_s=24 * H)).routes
    return [s.visit_id for s in route.stops]


def test_urgent_work_goes_first_to_its_aim_rather_than_its_deadline() -> None:
    assert _urgent_and_routine(None)[-1] == "urgent"
    assert _urgent_and_routine(9 * H)[0] == "urgent"


def test_joint_visit_starts_together_with_two_engineers() -> None:
    a = Engineer("a", (0.0, 0.0), [DAY])
    b = Engineer("b", (6_000.0, 0.0), [DAY])
    c = Engineer("c", (0.0, 9_000.0), [DAY])
    visits = [Visit("lift", (3_000.0, 3_000.0), 3600, people_needed=2), Visit("solo", (0.0, 100.0), 600)]
    p = Problem([a, b, c], visits, travel=PLANE, horizon_s=24 * H)
    sol = greedy_solve(p)
    assert_hard_rules(p, sol)
    stops = planned(sol)["lift"]
    assert len({e for e, _ in stops}) == 2
    assert stops[0][1] == stops[1][1]


def test_greedy_plans_the_benchmark_size_scenario() -> None:
    # Its speed is measured by `make bench` (routing.fieldbench), not here.
    p = field_scenario()
    sol = greedy_solve(p)
    assert_hard_rules(p, sol)
    assert len(sol.assigned_visit_ids) > 800


def test_check_catches_broken_plans() -> None:
    p = field_scenario(60, 8, seed=11)
    good = greedy_solve(p)
    assert check_plan(p, good).feasible
    visits = {v.id: v for v in p.visits}
    engineers = {e.id: e for e in p.engineers}

    def broken(change: str) -> list[str]:
        sol, prob = copy.deepcopy(good), p
        route = next(r for r in sol.routes if len(r.stops) >= 2)
        if change == "twice":
            other = next(r for r in sol.routes if r is not route)
            other.stops.append(copy.deepcopy(route.stops[0]))
        elif change == "overtime":
            route.return_s = route.shift[1] + engineers[route.engineer_id].overtime_cap_s + 600
        elif change == "teleport":
            route.stops[1].arrival_s = route.stops[0].end_s
            route.stops[1].start_s = route.stops[0].end_s
            route.stops[1].end_s = route.stops[0].end_s + visits[route.stops[1].visit_id].duration_s
        elif change == "skill":
            prob = copy.deepcopy(p)
            for e in prob.engineers:
                if e.id == route.engineer_id:
                    e.skills.clear()
        elif change == "forgotten":
            sol.unassigned.clear()
        result = check_plan(prob, sol)
        assert not result.feasible
        return result.problems

    assert any("needs" in msg for msg in broken("twice"))
    assert any("overtime cap" in msg for msg in broken("overtime"))
    assert any("sooner than the road" in msg for msg in broken("teleport"))
    assert any("lacks" in msg for msg in broken("skill"))
    assert good.unassigned
    assert any("neither planned nor listed" in msg for msg in broken("forgotten"))

    confirmed = [
        (r, s)
        for r in good.routes
        for s in r.stops
        if visits[s.visit_id].confirmed and visits[s.visit_id].appointment
    ]
    if confirmed:
        sol = copy.deepcopy(good)
        r_index = good.routes.index(confirmed[0][0])
        s_index = good.routes[r_index].stops.index(confirmed[0][1])
        stop = sol.routes[r_index].stops[s_index]
        appointment = visits[stop.visit_id].appointment
        assert appointment is not None
        stop.start_s = stop.arrival_s = appointment[1] + 3600
        assert any("confirmed appointment" in msg for msg in check_plan(p, sol).problems)


def test_fieldbench_runs_end_to_end(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--visits", "40", "--engineers", "5", "--time-limit", "2", "--urgent", "5"]) == 0
    out = capsys.readouterr().out
    for label in (
        "solve time (s)",
        "visits assigned",
        "SLA breaches (late visits)",
        "travel per assigned visit (min)",
        "peak RSS (MiB)",
        "feasible",
        "emergency insertion",
    ):
        assert label in out
    assert "infeasible" not in out

    assert main(["--visits", "30", "--engineers", "4", "--time-limit", "1", "--urgent", "3", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    greedy, solver = result["rows"]
    assert greedy["feasible"]
    assert solver["feasible"]
    assert solver["assigned"] > 0
    assert result["insertion"]["visits"] == 3


class IslandTravel:
    """Plane travel, except that nothing connects to points with x < 0."""

    def matrix(self, origins: Sequence[Point], destinations: Sequence[Point]) -> NDArray[np.float64]:
        m = PLANE.matrix(origins, destinations)
        for i, o in enumerate(origins):
            for j, d in enumerate(destinations):
                if (o[0] < 0) != (d[0] < 0):
                    m[i, j] = np.inf
        return m

    def distances(self, origins: Sequence[Point], destinations: Sequence[Point]) -> NDArray[np.float64]:
        return self.matrix(origins, destinations) * 10.0


def test_unreachable_visits_stay_unassigned_without_numeric_noise() -> None:
    e = Engineer("e", (0.0, 0.0), [DAY])
    visits = [Visit("island", (-1_000.0, 0.0), 600), Visit("mainland", (1_000.0, 0.0), 600)]
    p = Problem([e], visits, travel=IslandTravel(), horizon_s=24 * H)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sol = greedy_solve(p)
    assert sol.assigned_visit_ids == {"mainland"}
    assert [u.visit_id for u in sol.unassigned] == ["island"]
    assert "road" in sol.unassigned[0].reason
