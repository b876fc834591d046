"""The dispatch model on small hand-made cases.

Runs are bounded by solution counts, not wall time, so results do not depend
on machine load. Costs are asserted only where the optimum is obvious.
"""

from __future__ import annotations

import pytest

from routing.checker import check_vrptw
from routing.model import Engineer, Progress, Visit
from routing.options import SolveOptions
from routing.solver import solve
from routing.vrptw import read_vrptw, to_problem
from tests.routing.support import DAY, INSTANCES, H, assert_shifts_and_windows, opts, problem, stop_of


def test_single_engineer_on_a_line_known_optimum() -> None:
    # Depot at 0, visits at 100, 200, 300 m: optimum is out and back, 600 m = 60 s.
    e = Engineer("e1", (0.0, 0.0), [DAY])
    visits = [Visit(f"v{x}", (float(x), 0.0), 600) for x in (300, 100, 200)]
    sol = solve(problem([e], visits), opts())
    assert not sol.unassigned
    assert [s.visit_id for s in sol.routes[0].stops] in (["v100", "v200", "v300"], ["v300", "v200", "v100"])
    assert sol.routes[0].travel_s == pytest.approx(60.0)
    assert sol.status in ("success", "optimal")


def test_two_clusters_go_to_the_nearest_engineers() -> None:
    west = Engineer("west", (0.0, 0.0), [DAY])
    east = Engineer("east", (10_000.0, 0.0), [DAY])
    visits = [Visit(f"w{k}", (100.0 * k, 50.0), 900) for k in range(1, 4)]
    visits += [Visit(f"e{k}", (10_000.0 - 100.0 * k, 50.0), 900) for k in range(1, 4)]
    sol = solve(problem([west, east], visits), opts())
    assert not sol.unassigned
    for r in sol.routes:
        assert all(s.visit_id[0] == r.engineer_id[0] for s in r.stops)


def test_skills_are_hard_and_missing_skill_is_explained() -> None:
    novice = Engineer("novice", (0.0, 0.0), [DAY], skills={"hvac": (1, None)})
    expert = Engineer("expert", (5_000.0, 0.0), [DAY], skills={"hvac": (3, None)})
    visits = [
        Visit("needs-expert", (10.0, 0.0), 1800, skills={"hvac": 3}),
        Visit("anyone", (20.0, 0.0), 1800),
        Visit("nobody", (30.0, 0.0), 1800, skills={"hvac": 4}),
        Visit("no-such-skill", (30.0, 0.0), 1800, skills={"x-ray": 1}),
    ]
    sol = solve(problem([novice, expert], visits), opts())
    assert stop_of(sol, "needs-expert")[0] == "expert"
    reasons = {u.visit_id: u.reason for u in sol.unassigned}
    assert set(reasons) == {"nobody", "no-such-skill"}
    assert reasons["nobody"] == "no engineer with skill hvac at level 4 on shift"
    assert reasons["no-such-skill"] == "no engineer with skill x-ray at level 1 on shift"


def test_expired_licence_excludes_the_engineer() -> None:
    lapsed = Engineer("lapsed", (0.0, 0.0), [DAY], skills={"gas": (2, 7 * H)})
    sol = solve(problem([lapsed], [Visit("boiler", (10.0, 0.0), 600, skills={"gas": 1})]), opts())
    assert not sol.routes
    assert "gas" in sol.unassigned[0].reason
    assert "lapsed" in sol.unassigned[0].reason


def test_shifts_and_windows_are_respected() -> None:
    early = Engineer("early", (0.0, 0.0), [(6 * H, 10 * H)])
    late = Engineer("late", (0.0, 0.0), [(14 * H, 22 * H)])
    visits = [
        Visit("morning", (100.0, 0.0), 1800, windows=[(6 * H, 9 * H)]),
        Visit("evening", (200.0, 0.0), 1800, windows=[(18 * H, 20 * H)]),
        # two access windows, the first too early for anyone
        Visit("split", (300.0, 0.0), 1800, windows=[(1 * H, 2 * H), (15 * H, 16 * H)]),
    ]
    p = problem([early, late], visits)
    sol = solve(p, opts())
    assert not sol.unassigned
    assert stop_of(sol, "morning")[0] == "early"
    assert stop_of(sol, "evening")[0] == "late"
    assert 15 * H <= stop_of(sol, "split")[1] <= 16 * H
    assert_shifts_and_windows(p, sol)


def test_multi_day_shifts_make_separate_routes() -> None:
    e = Engineer("e", (0.0, 0.0), [(8 * H, 12 * H), (32 * H, 36 * H)])
    visits = [
        Visit("day1", (100.0, 0.0), 3600, windows=[(8 * H, 12 * H)]),
        Visit("day2", (100.0, 0.0), 3600, windows=[(30 * H, 40 * H)]),
    ]
    sol = solve(problem([e], visits), opts())
    assert not sol.unassigned
    assert sorted((r.shift_index, [s.visit_id for s in r.stops]) for r in sol.routes) == [
        (0, ["day1"]),
        (1, ["day2"]),
    ]


def test_capacity_of_the_day_exhausted() -> None:
    e = Engineer("solo", (0.0, 0.0), [(8 * H, 12 * H)])
    visits = [Visit(f"v{k}", (10.0 * k, 0.0), 1.5 * H, priority=k) for k in range(1, 4)]
    sol = solve(problem([e], visits), opts())
    assert len(sol.routes[0].stops) == 2
    (left,) = sol.unassigned
    assert left.visit_id == "v1"  # the lowest priority goes
    assert left.reason.startswith("capacity of the day exhausted")


def test_deadline_out_of_reach_is_late_with_the_right_reason() -> None:
    # 36 km at 10 m/s is one hour: from 08:00 the engineer arrives 09:00.
    e = Engineer("far", (0.0, 0.0), [DAY])
    v = Visit("urgent", (36_000.0, 0.0), 600, deadline_s=8.5 * H, priority=5)
    sol = solve(problem([e], [v]), opts())
    assert not sol.unassigned
    (late,) = sol.late
    assert late.visit_id == "urgent"
    assert late.engineer_ids == ["far"]
    assert late.start_s == pytest.approx(9 * H)
    assert late.late_s == pytest.approx(0.5 * H)
    assert late.reason == "no engineer can reach it before its deadline 08:30: nearest could arrive at 09:00"


def test_deadline_puts_urgent_visit_first() -> None:
    e = Engineer("e", (0.0, 0.0), [DAY])
    visits = [
        Visit("routine", (100.0, 0.0), 2 * H),
        Visit("urgent", (200.0, 0.0), 1 * H, deadline_s=9 * H, priority=10),
    ]
    sol = solve(problem([e], visits), opts())
    assert [s.visit_id for s in sol.routes[0].stops] == ["urgent", "routine"]
    assert not sol.late


def test_unreachable_window_is_explained_with_arrival_time() -> None:
    e = Engineer("e", (0.0, 0.0), [DAY])
    v = Visit("early-only", (72_000.0, 0.0), 600, windows=[(8 * H, 9 * H)])
    sol = solve(problem([e], [v]), opts())
    assert sol.unassigned[0].reason == (
        "no qualified engineer can reach it in its window: nearest could arrive at 10:00, window closes 09:00"
    )


def test_parts_must_be_in_the_van() -> None:
    a = Engineer("a", (0.0, 0.0), [DAY], parts=frozenset({"pump"}))
    b = Engineer("b", (0.0, 0.0), [DAY], parts=frozenset({"fan"}))
    visits = [
        Visit("pump-job", (100.0, 0.0), 600, parts=frozenset({"pump"})),
        Visit("fan-job", (100.0, 0.0), 600, parts=frozenset({"fan"})),
        Visit("valve-job", (100.0, 0.0), 600, parts=frozenset({"valve"})),
    ]
    sol = solve(problem([a, b], visits), opts())
    assert stop_of(sol, "pump-job")[0] == "a"
    assert stop_of(sol, "fan-job")[0] == "b"
    assert sol.unassigned[0].reason == "part valve not in stock with any qualified engineer"


def test_joint_visit_starts_together_with_two_engineers() -> None:
    a = Engineer("a", (0.0, 0.0), [DAY])
    b = Engineer("b", (5_000.0, 0.0), [DAY])
    visits = [
        Visit("lift", (1_000.0, 0.0), 3600, people_needed=2),
        Visit("a-near", (100.0, 0.0), 1800),
        Visit("b-near", (4_900.0, 0.0), 1800),
    ]
    p = problem([a, b], visits)
    sol = solve(p, opts())
    assert not sol.unassigned
    lift = [(r.engineer_id, s.start_s) for r in sol.routes for s in r.stops if s.visit_id == "lift"]
    assert sorted(e for e, _ in lift) == ["a", "b"]
    assert lift[0][1] == pytest.approx(lift[1][1])
    assert_shifts_and_windows(p, sol)


def test_joint_visit_needs_enough_qualified_engineers() -> None:
    a = Engineer("a", (0.0, 0.0), [DAY], skills={"crane": (1, None)})
    b = Engineer("b", (0.0, 0.0), [DAY])
    v = Visit("lift", (100.0, 0.0), 3600, people_needed=2, skills={"crane": 1})
    sol = solve(problem([a, b], [v]), opts())
    assert not sol.routes
    assert sol.unassigned[0].reason == "needs 2 engineers at once, only 1 qualified on shift"


def test_pins_fix_engineer_and_start() -> None:
    a = Engineer("a", (0.0, 0.0), [DAY])
    b = Engineer("b", (10_000.0, 0.0), [DAY])
    visits = [
        Visit("pinned", (10_000.0, 10.0), 600, pinned_engineer="a", pinned_start_s=13 * H),
        Visit("free", (10.0, 0.0), 600),
    ]
    sol = solve(problem([a, b], visits), opts())
    assert stop_of(sol, "pinned") == ("a", 13 * H)


def test_already_started_stays_first_with_its_engineer() -> None:
    a = Engineer("a", (500.0, 0.0), [(10 * H, 17 * H)])  # on site now
    b = Engineer("b", (400.0, 0.0), [(10 * H, 17 * H)])
    visits = [
        Visit(
            "on-site", (500.0, 0.0), 1800, pinned_engineer="a", already_started=True, pinned_start_s=10 * H
        ),
        Visit("next", (510.0, 0.0), 600),
    ]
    sol = solve(problem([a, b], visits), opts())
    route_a = next(r for r in sol.routes if r.engineer_id == "a")
    assert route_a.stops[0].visit_id == "on-site"
    assert route_a.stops[0].start_s == 10 * H


def test_confirmed_appointment_is_hard_unconfirmed_is_soft() -> None:
    e = Engineer("e", (0.0, 0.0), [DAY])
    visits = [
        # both promised 09:00-10:00 but the engineer cannot reach them before 10:00
        Visit("confirmed", (72_000.0, 0.0), 600, appointment=(8 * H, 9 * H), confirmed=True),
        Visit("tentative", (72_000.0, 10.0), 600, appointment=(8 * H, 9 * H)),
    ]
    sol = solve(problem([e], visits), opts())
    assert [u.visit_id for u in sol.unassigned] == ["confirmed"]
    assert stop_of(sol, "tentative")[1] >= 10 * H


def test_on_call_engineer_only_takes_critical_night_work() -> None:
    night = (22 * H, 30 * H)
    e = Engineer("duty", (0.0, 0.0), [DAY], on_call=True, on_call_shifts=[night])
    visits = [
        Visit("outage", (100.0, 0.0), 1800, windows=[night], critical=True),
        Visit("routine-at-night", (100.0, 0.0), 1800, windows=[night]),
    ]
    sol = solve(problem([e], visits), opts())
    assert stop_of(sol, "outage")[0] == "duty"
    assert [u.visit_id for u in sol.unassigned] == ["routine-at-night"]
    assert next(r for r in sol.routes if r.stops[0].visit_id == "outage").on_call


def test_overtime_cap_holds() -> None:
    e = Engineer("e", (0.0, 0.0), [(8 * H, 12 * H)], overtime_cap_s=3600)
    visits = [Visit(f"v{k}", (10.0, 0.0), 1.5 * H) for k in range(3)]  # 4.5 h of work
    p = problem([e], visits)
    sol = solve(p, opts())
    (route,) = sol.routes
    assert len(route.stops) == 3
    assert 1800 <= route.overtime_s <= 3600
    assert_shifts_and_windows(p, sol)


def test_capacity_dimension() -> None:
    a = Engineer("a", (0.0, 0.0), [DAY], capacity=10)
    b = Engineer("b", (0.0, 0.0), [DAY], capacity=10)
    visits = [Visit(f"v{k}", (10.0 * k, 0.0), 60, demand=4) for k in range(1, 6)]
    sol = solve(problem([a, b], visits), opts())
    assert all(r.load <= 10 for r in sol.routes)
    assert len(sol.unassigned) == 1  # 5 x 4 units into 2 x 10 leaves one out


def test_progress_reports_improving_objective() -> None:
    seen: list[Progress] = []
    e = Engineer("e", (0.0, 0.0), [DAY])
    visits = [Visit(f"v{k}", (float((k * 37) % 11) * 100, float((k * 17) % 7) * 100), 300) for k in range(12)]
    sol = solve(problem([e], visits), opts(progress=seen.append, solution_limit=50))
    assert seen
    assert [p.objective for p in seen] == sorted((p.objective for p in seen), reverse=True)
    assert seen[-1].objective == sol.objective


def test_empty_problem() -> None:
    sol = solve(problem([Engineer("e", (0.0, 0.0), [DAY])], []), opts())
    assert sol.routes == []
    assert sol.unassigned == []


def test_solomon_instance_through_the_product_model_is_feasible() -> None:
    path = INSTANCES / "R101.txt"
    sol = solve(
        to_problem(read_vrptw(path)),
        SolveOptions(time_limit_s=60, solution_limit=30, time_scale=1000, drop_cost=1e7),
    )
    assert not sol.unassigned
    check = check_vrptw(path.read_text(), [[int(s.visit_id) for s in r.stops] for r in sol.routes])
    assert check.feasible, check.violations


def test_warm_start_from_current_plan_keeps_it_when_nothing_changed() -> None:
    engineers = [Engineer("a", (0.0, 0.0), [DAY]), Engineer("b", (3_000.0, 0.0), [DAY])]
    visits = [Visit(f"v{k}", (300.0 * k, 100.0 * (k % 2)), 1200) for k in range(10)]
    p = problem(engineers, visits)
    first = solve(p, opts())
    current = {(r.engineer_id, r.shift_index): [s.visit_id for s in r.stops] for r in first.routes}
    again = solve(p, opts(solution_limit=1), initial_routes=current)
    assert not again.unassigned
    assert again.objective is not None
    assert first.objective is not None
    assert again.objective <= first.objective
    assert {(r.engineer_id, r.shift_index): [s.visit_id for s in r.stops] for r in again.routes} == current


def test_warm_start_ignores_stops_that_no_longer_fit() -> None:
    engineers = [
        Engineer("a", (0.0, 0.0), [DAY], skills={"gas": (1, None)}),
        Engineer("b", (0.0, 0.0), [DAY]),
    ]
    visits = [Visit("gas-job", (100.0, 0.0), 600, skills={"gas": 1}), Visit("plain", (200.0, 0.0), 600)]
    stale = {("b", 0): ["gas-job", "plain", "no-longer-exists"], ("sick", 0): ["plain"]}
    sol = solve(problem(engineers, visits), opts(), initial_routes=stale)
    assert not sol.unassigned
    assert stop_of(sol, "gas-job")[0] == "a"


def test_joint_visit_with_no_common_time_is_not_half_planned() -> None:
    a = Engineer("a", (0.0, 0.0), [(8 * H, 12 * H)])
    b = Engineer("b", (0.0, 0.0), [(13 * H, 17 * H)])
    visits = [Visit("lift", (100.0, 0.0), 3600, people_needed=2), Visit("solo", (50.0, 0.0), 600)]
    sol = solve(problem([a, b], visits), opts())
    assert "lift" not in sol.assigned_visit_ids
    (left,) = sol.unassigned
    assert left.visit_id == "lift"
    assert left.reason.startswith("needs 2 engineers at the same time")
