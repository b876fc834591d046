"""Scenario tests of the dispatcher rules: promises, nights away, site access,
licences, overtime, on-call rest, churn.

Small hand-made problems, runs bounded by solution counts; they assert the
constraints, not costs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from routing.geo import Point
from routing.greedy import greedy_solve
from routing.model import Engineer, Problem, Solution, Visit
from routing.plan_check import check_plan
from routing.solver import _STATUS, solve
from routing.travel import FloatMatrix, format_clock
from tests.routing.support import DAY, H, opts, problem, stop_of

DAY2 = (32 * H, 41 * H)


def test_status_table_matches_or_tools_9_15() -> None:
    from ortools.constraint_solver import routing_enums_pb2

    values = dict(routing_enums_pb2.RoutingSearchStatus.Value.items())
    assert _STATUS[values["ROUTING_SUCCESS"]] == "success"
    assert _STATUS[values["ROUTING_PARTIAL_SUCCESS_LOCAL_OPTIMUM_NOT_REACHED"]] == "success"
    assert _STATUS[values["ROUTING_FAIL"]] == "no_solution"
    assert _STATUS[values["ROUTING_FAIL_TIMEOUT"]] == "timeout"
    assert _STATUS[values["ROUTING_INFEASIBLE"]] == "infeasible"
    assert _STATUS[values["ROUTING_OPTIMAL"]] == "optimal"


def test_a_plan_stopped_early_is_a_success() -> None:
    e = Engineer("e", (0.0, 0.0), [DAY])
    visits = [Visit(f"v{k}", (float((k * 37) % 11) * 100, float((k * 17) % 7) * 100), 300) for k in range(15)]
    sol = solve(problem([e], visits), opts(solution_limit=3))
    assert not sol.unassigned
    assert sol.status == "success"


class _Table:
    """A road network given as a matrix between known points (inf: no road)."""

    def __init__(self, points: list[Point], seconds: list[list[float]]) -> None:
        self.index = {p: k for k, p in enumerate(points)}
        self.seconds = np.asarray(seconds, dtype=np.float64)

    def matrix(self, origins: Sequence[Point], destinations: Sequence[Point]) -> FloatMatrix:
        o = [self.index[p] for p in origins]
        d = [self.index[p] for p in destinations]
        return self.seconds[np.ix_(o, d)]

    def distances(self, origins: Sequence[Point], destinations: Sequence[Point]) -> FloatMatrix:
        return self.matrix(origins, destinations) * 10.0


def test_unreachable_site_is_unassigned_with_the_road_reason() -> None:
    home, town, island = (0.0, 0.0), (1.0, 0.0), (2.0, 0.0)
    inf = float("inf")
    table = _Table([home, town, island], [[0, 600, inf], [600, 0, inf], [inf, inf, 0]])
    e = Engineer("e", home, [DAY])
    visits = [
        Visit("town", town, 1800),
        Visit("island", island, 1800, deadline_s=10 * H),
    ]
    sol = solve(Problem([e], visits, travel=table), opts())
    assert stop_of(sol, "town")[0] == "e"
    (left,) = sol.unassigned
    assert left.visit_id == "island"
    assert left.reason.startswith("no engineer can reach it by road")
    assert format_clock(inf) == "never"


def test_replan_never_moves_a_confirmed_appointment_and_reports_churn() -> None:
    a = Engineer("a", (0.0, 0.0), [DAY])
    b = Engineer("b", (20_000.0, 0.0), [DAY])
    confirmed = Visit(
        "confirmed",
        (19_000.0, 0.0),
        3600,
        appointment=(10 * H, 11 * H),
        confirmed=True,
        current_engineer="a",
        current_start_s=10 * H,
    )
    # Currently with a, though b is next door: moving it is a change, and reported.
    movable = Visit("movable", (19_500.0, 100.0), 1800, current_engineer="a", current_start_s=14 * H)
    kept = Visit("kept", (500.0, 0.0), 1800, current_engineer="a", current_start_s=9 * H)
    urgent = Visit("urgent", (19_000.0, 50.0), 3600, deadline_s=10.5 * H, priority=10)
    sol = solve(problem([a, b], [confirmed, movable, kept, urgent]), opts(churn_engineer_cost=60.0))
    assert not sol.unassigned
    _, start = stop_of(sol, "confirmed")
    assert 10 * H <= start <= 11 * H
    engineer, start = stop_of(sol, "kept")
    assert engineer == "a"
    assert abs(start - 9 * H) <= 1800
    expected = [v for v in ("confirmed", "movable") if stop_of(sol, v)[0] != "a"]
    assert sorted(sol.changed) == sorted(expected)
    assert sol.promises_changed == len(expected)


def test_churn_penalty_keeps_visits_with_their_engineer() -> None:
    # Two equally good engineers: the current assignment wins.
    a = Engineer("a", (0.0, 0.0), [DAY])
    b = Engineer("b", (0.0, 0.0), [DAY])
    visits = [Visit(f"v{k}", (100.0 * k, 0.0), 1800, current_engineer="b") for k in range(1, 4)]
    sol = solve(problem([a, b], visits), opts())
    assert {stop_of(sol, v.id)[0] for v in visits} == {"b"}
    assert sol.changed == []


def test_engineer_away_overnight_starts_day_two_where_day_one_ended() -> None:
    # Home at 0; the work is 180 km away (5 h at 10 m/s): no going home in between.
    e = Engineer("e", (0.0, 0.0), [DAY, DAY2], stays_away=True, overtime_cap_s=H)
    far = (180_000.0, 0.0)
    visits = [
        Visit("day1", far, 2 * H, windows=[DAY]),
        Visit("day2", (181_000.0, 0.0), 2 * H, windows=[DAY2]),
    ]
    sol = solve(problem([e], visits), opts())
    assert not sol.unassigned
    first, second = sorted(sol.routes, key=lambda r: r.shift[0])
    assert [s.visit_id for s in first.stops] == ["day1"]
    assert [s.visit_id for s in second.stops] == ["day2"]
    assert first.end_point == far  # stays there overnight
    assert second.start_point == far
    assert second.stops[0].travel_s == pytest.approx(100.0)  # 1 km, not 181 km from home
    assert second.depart_s >= DAY2[0] - 1e-6
    assert first.stops[0].end_s <= DAY[1] + 1e-6
    assert second.return_s <= DAY2[1] + H + 1e-6


def test_registration_lead_time_and_access_windows() -> None:
    e = Engineer("e", (0.0, 0.0), [DAY, DAY2])
    visits = [
        # Registration 26 h ahead from now (06:00): not before 08:00 on day 2.
        Visit("registered", (100.0, 0.0), 1800, registration_lead_s=26 * H),
        # Access 09:00-10:00 and 15:00-16:00; the morning is taken by a pin.
        Visit("access", (200.0, 0.0), 3600, windows=[(9 * H, 10 * H), (15 * H, 16 * H)]),
        Visit("pinned", (300.0, 0.0), 3 * H, pinned_engineer="e", pinned_start_s=8.5 * H),
        # A part arrives by courier at 13:00.
        Visit("courier", (400.0, 0.0), 1800, earliest_start_s=13 * H),
    ]
    sol = solve(problem([e], visits, now_s=6 * H), opts())
    assert not sol.unassigned
    assert stop_of(sol, "registered")[1] >= 32 * H
    access = stop_of(sol, "access")[1]
    assert 15 * H <= access <= 16 * H or 39 * H <= access <= 40 * H or 33 * H <= access <= 34 * H
    assert stop_of(sol, "courier")[1] >= 13 * H


def test_registration_beyond_the_horizon_is_explained() -> None:
    e = Engineer("e", (0.0, 0.0), [DAY])
    v = Visit("later", (100.0, 0.0), 1800, registration_lead_s=72 * H)
    sol = solve(problem([e], [v]), opts())
    assert sol.unassigned[0].reason.startswith("no start time satisfies")


def test_licence_expiring_overnight_excludes_the_engineer_on_day_two() -> None:
    lapsing = Engineer("lapsing", (0.0, 0.0), [DAY, DAY2], skills={"gas": (2, 20 * H)})
    valid = Engineer("valid", (5_000.0, 0.0), [DAY, DAY2], skills={"gas": (1, None)})
    v = Visit("boiler", (10.0, 0.0), 1800, skills={"gas": 1}, windows=[DAY2])
    sol = solve(problem([lapsing, valid], [v]), opts())
    assert stop_of(sol, "boiler")[0] == "valid"
    sol = solve(problem([lapsing], [v]), opts())
    assert "expir" in sol.unassigned[0].reason


def test_monthly_overtime_cap_holds_across_shifts() -> None:
    # 9.5 h of work a day in 9 h shifts, 1 h overtime per shift allowed but only 45 min left this month.
    e = Engineer("e", (0.0, 0.0), [DAY, DAY2], overtime_cap_s=H, overtime_left_month_s=0.75 * H)
    visits = [Visit(f"d1-{k}", (10.0, 0.0), 1.9 * H, windows=[DAY]) for k in range(5)]
    visits += [Visit(f"d2-{k}", (10.0, 0.0), 1.9 * H, windows=[DAY2]) for k in range(5)]
    sol = solve(problem([e], visits), opts())
    total = sum(r.overtime_s for r in sol.routes)
    assert total <= 0.75 * H + 1e-6
    assert all(r.return_s <= r.shift[1] + H + 1e-6 for r in sol.routes)
    assert len(sol.unassigned) == 1  # one day gets its fifth job in overtime, the other cannot


def test_barred_and_whitelisted_engineers_are_hard_preferred_is_soft() -> None:
    near = Engineer("near", (0.0, 0.0), [DAY])
    far = Engineer("far", (20_000.0, 0.0), [DAY])
    visits = [
        Visit("barred", (10.0, 0.0), 1800, barred_engineers=frozenset({"near"})),
        Visit("whitelist", (20.0, 0.0), 1800, allowed_engineers=frozenset({"far"})),
        Visit("preferred", (30.0, 0.0), 1800, preferred_engineers=frozenset({"far"})),
        Visit("nobody", (40.0, 0.0), 1800, allowed_engineers=frozenset({"ghost"})),
        Visit("all-barred", (50.0, 0.0), 1800, barred_engineers=frozenset({"near", "far"})),
    ]
    sol = solve(problem([near, far], visits), opts(preference_cost=10_000.0))
    assert stop_of(sol, "barred")[0] == "far"
    assert stop_of(sol, "whitelist")[0] == "far"
    assert stop_of(sol, "preferred")[0] == "far"
    reasons = {u.visit_id: u.reason for u in sol.unassigned}
    assert reasons["nobody"].startswith("the site admits only")
    assert reasons["all-barred"] == "every engineer on shift is barred from the site"
    # A small preference does not send the far engineer 20 km for it.
    cheap = solve(problem([near, far], visits[2:3]), opts(preference_cost=60.0))
    assert stop_of(cheap, "preferred")[0] == "near"


def test_rest_after_a_night_call_out() -> None:
    night = (22 * H, 30 * H)  # 04:00-06:00 next day is inside it
    e = Engineer(
        "duty", (0.0, 0.0), [DAY, DAY2], on_call=True, on_call_shifts=[night], rest_after_call_s=11 * H
    )
    other = Engineer("other", (5_000.0, 0.0), [DAY, DAY2])
    visits = [
        Visit("outage", (100.0, 0.0), 2 * H, windows=[(27 * H, 28 * H)], critical=True, priority=10),
        Visit("morning", (200.0, 0.0), H, windows=[(32 * H, 33 * H)]),
    ]
    sol = solve(problem([e, other], visits), opts())
    assert stop_of(sol, "outage")[0] == "duty"
    # Back by about 30:00 after the call-out: duty may not start day 2 before 41:00.
    assert stop_of(sol, "morning")[0] == "other"
    for r in sol.routes:
        if r.engineer_id == "duty" and not r.on_call:
            assert r.depart_s >= 30 * H + 11 * H - 1


def test_critical_work_on_site_may_run_past_the_shift_end() -> None:
    e = Engineer("e", (0.0, 0.0), [(8 * H, 12 * H)])
    v = Visit(
        "outage",
        (1_000.0, 0.0),
        3 * H,
        pinned_engineer="e",
        pinned_start_s=11 * H,
        already_started=True,
        critical=True,
    )
    sol = solve(problem([e], [v]), opts())
    assert stop_of(sol, "outage") == ("e", 11 * H)
    assert sol.routes[0].overtime_s > 0


def test_insertion_start_is_a_feasible_warm_start() -> None:
    from routing.construct import insertion_start
    from routing.greedy import greedy_solve
    from routing.plan_check import check_plan
    from routing.scenario import field_scenario

    p = field_scenario(120, 12, seed=3)
    baseline = greedy_solve(p)
    start = insertion_start(p, baseline)
    ids = [v for stops in start.values() for v in stops]
    joint = {v.id for v in p.visits if v.people_needed > 1}
    assert len([v for v in ids if v not in joint]) == len({v for v in ids if v not in joint})
    sol = solve(p, opts(solution_limit=20, warm_start_from_greedy=True))
    check = check_plan(p, sol)
    assert check.feasible, check.problems
    assert check.assigned >= len(baseline.assigned_visit_ids) - 2


def test_a_replan_start_keeps_the_current_routes_and_places_new_visits() -> None:
    from dataclasses import replace

    from routing.construct import complete_routes, insertion_start
    from routing.greedy import greedy_solve
    from routing.plan_check import check_plan
    from routing.scenario import field_scenario, urgent_visits

    p = field_scenario(120, 12, seed=3)
    current = insertion_start(p, greedy_solve(p))
    urgent = urgent_visits(3, seed=3, now_s=3 * H)
    changed = replace(p, visits=[*p.visits, *urgent])
    completed = complete_routes(changed, current)
    for key, stops in current.items():
        assert [v for v in completed[key] if v in set(stops)] == list(stops)
    placed = {v for stops in completed.values() for v in stops}
    assert {u.id for u in urgent} <= placed
    sol = solve(changed, opts(solution_limit=20), completed)
    check = check_plan(changed, sol)
    assert check.feasible, check.problems
    assert {u.id for u in urgent} <= sol.assigned_visit_ids


def test_a_large_plan_out_of_time_still_serves_what_the_rule_of_thumb_serves() -> None:
    from routing.greedy import greedy_solve
    from routing.options import SolveOptions
    from routing.plan_check import check_plan
    from routing.scenario import field_scenario

    p = field_scenario(400, 40, seed=2)
    baseline = greedy_solve(p)
    # Far too little time for the start plan and the search: the plan must
    # not come back with every visit left out.
    sol = solve(p, SolveOptions(time_limit_s=0.2))
    check = check_plan(p, sol)
    assert check.feasible, check.problems
    assert len(sol.assigned_visit_ids) >= len(baseline.assigned_visit_ids) - 5


def _urgent_on_the_way_home(target_s: float | None, current_start_s: float | None = None) -> float:
    """Three routine hours at the engineer's start, an urgent visit where the day ends: the
    shortest day does the routine work first and the urgent visit last."""
    e = Engineer("e", (0.0, 0.0), [DAY], end=(5_000.0, 0.0))
    routine = [Visit(f"r{k}", (10.0 * k, 0.0), 3600, deadline_s=16 * H) for k in range(1, 4)]
    urgent = Visit(
        "urgent", (4_900.0, 0.0), 1800, deadline_s=16 * H, priority=5, target_s=target_s,
        current_engineer="e" if current_start_s is not None else None, current_start_s=current_start_s,
    )  # fmt: skip
    sol = solve(problem([e], [*routine, urgent]), opts())
    assert not sol.unassigned
    assert not sol.late
    return stop_of(sol, "urgent")[1]


def test_urgent_work_with_a_target_starts_as_soon_as_the_engineer_can_be_there() -> None:
    # Without a target nothing is gained by going early: the urgent visit waits for the routine.
    assert _urgent_on_the_way_home(None) >= 11 * H
    assert _urgent_on_the_way_home(9 * H) <= 8 * H + 600


def test_a_target_lets_a_replan_bring_urgent_work_forward_from_its_promised_start() -> None:
    # The promise in force (14:00) holds ordinary work within the churn tolerance of it...
    assert _urgent_on_the_way_home(None, current_start_s=14 * H) >= 14 * H - 1800
    # ...but urgent work with a target is moved forward to when the engineer can be there.
    assert _urgent_on_the_way_home(9 * H, current_start_s=14 * H) <= 8 * H + 600


def _served_by(later_shift_cost_per_hour: float) -> tuple[str, float]:
    """Engineer a works today 10 km away; b, next door to the visit, only tomorrow."""
    a = Engineer("a", (0.0, 0.0), [DAY])
    b = Engineer("b", (10_000.0, 0.0), [DAY2])
    visit = Visit("v", (10_000.0, 100.0), 1800, later_shift_cost_per_hour=later_shift_cost_per_hour)
    sol = solve(problem([a, b], [visit]), opts())
    assert not sol.unassigned
    return stop_of(sol, "v")


def test_work_is_not_put_off_to_a_later_shift_to_save_a_little_travel() -> None:
    # Free of any price on waiting, the plan saves the drive by leaving it for tomorrow...
    assert _served_by(0.0)[0] == "b"
    # ...priced per hour put off, today's engineer drives there today.
    engineer, start = _served_by(120.0)
    assert engineer == "a"
    assert start < DAY[1]


def test_a_full_day_leaves_out_flexible_work_before_a_confirmed_appointment() -> None:
    # One engineer, a 9-hour day, room for two 3.5-hour visits of three: the customer who was
    # given 12:00 keeps it, though the two flexible visits next door would save the drive.
    e = Engineer("e", (0.0, 0.0), [DAY])
    flexible = [Visit(f"flex{k}", (10.0 * k, 0.0), int(3.5 * H), deadline_s=40 * H) for k in (1, 2)]
    promised = Visit(
        "promised",
        (25_000.0, 0.0),
        int(3.5 * H),
        deadline_s=40 * H,
        appointment=(12 * H, 12.25 * H),
        confirmed=True,
    )
    sol = solve(problem([e], [*flexible, promised]), opts(solution_limit=50))
    assert len(sol.unassigned) == 1
    assert {u.visit_id for u in sol.unassigned} <= {"flex1", "flex2"}
    _, start = stop_of(sol, "promised")
    assert 12 * H <= start <= 12.25 * H


def test_a_later_shift_starts_from_home_not_from_where_the_engineer_is_now() -> None:
    # Out at a site 30 km from home with half an hour of today's shift left: tomorrow's shift
    # starts at home, 10 m from the visit, not 30 km away where the engineer stands now.
    e = Engineer("e", (30_000.0, 0.0), [(0.0, 0.5 * H), DAY2], end=(0.0, 0.0))
    p = problem([e], [Visit("tomorrow", (100.0, 0.0), H)], now_s=0.0)
    sol = solve(p, opts())
    assert sol.solutions_found > 0
    assert stop_of(sol, "tomorrow") == ("e", DAY2[0] + 10.0)
    assert check_plan(p, sol).problems == []


def test_an_engineer_who_cannot_get_home_by_the_end_of_standby_does_not_sink_the_plan() -> None:
    # A standby period ends in 10 minutes, with no overtime, 50 minutes' drive from home: the
    # engineer's empty route cannot end in time. Everyone else's plan must still be searched.
    stranded = Engineer(
        "stranded", (30_000.0, 0.0), [], end=(0.0, 0.0), on_call=True, on_call_shifts=[(0.0, 600.0)]
    )
    other = Engineer("other", (0.0, 0.0), [(0.0, 8 * H)])
    sol = solve(problem([stranded, other], [Visit("v", (1_000.0, 0.0), H, deadline_s=H, priority=4)]), opts())
    assert sol.solutions_found > 0
    assert stop_of(sol, "v") == ("other", 100.0)


def _crews(sol: Solution, visit_id: str) -> set[str]:
    return {r.engineer_id for r in sol.routes for s in r.stops if s.visit_id == visit_id}


@pytest.mark.parametrize("how", ["search", "greedy"])
def test_a_joint_job_under_way_holds_both_its_engineers_first(how: str) -> None:
    # Two engineers on site together, an hour left; a third engineer stands beside the site. The
    # job keeps both of them from now (neither leaves for the nearby stop), not the nearest pair.
    site = (5_000.0, 0.0)
    main = Engineer("main", site, [DAY], end=(0.0, 0.0))
    partner = Engineer("partner", site, [DAY], end=(0.0, 0.0))
    near = Engineer("near", (5_010.0, 0.0), [DAY], end=(0.0, 0.0))
    job = Visit(
        "job",
        site,
        H,
        people_needed=2,
        pinned_engineer="main",
        pinned_partner="partner",
        pinned_start_s=DAY[0],
        already_started=True,
        critical=True,
    )
    p = problem([main, partner, near], [job, Visit("next door", (5_020.0, 0.0), 600)], now_s=DAY[0])
    sol = solve(p, opts()) if how == "search" else greedy_solve(p)
    assert _crews(sol, "job") == {"main", "partner"}
    for r in sol.routes:
        if r.engineer_id in {"main", "partner"}:
            assert (r.stops[0].visit_id, r.stops[0].start_s) == ("job", DAY[0])
    assert check_plan(p, sol).problems == []


@pytest.mark.parametrize("how", ["search", "greedy"])
def test_a_crew_of_three_keeps_the_two_on_record_and_takes_a_third(how: str) -> None:
    # The record names two of three people: those two stay, the third is whoever is nearest.
    engineers = [
        Engineer(name, (x, 0.0), [DAY])
        for name, x in (("a", 0.0), ("b", 9_000.0), ("c", 100.0), ("d", 200.0))
    ]
    lift = Visit("lift", (150.0, 0.0), H, people_needed=3, pinned_engineer="a", pinned_partner="b")
    p = problem(engineers, [lift])
    sol = solve(p, opts()) if how == "search" else greedy_solve(p)
    crew = _crews(sol, "lift")
    assert len(crew) == 3
    assert {"a", "b"} <= crew
    assert check_plan(p, sol).problems == []


def test_the_check_finds_a_pinned_partner_left_off_the_job() -> None:
    a, b, c = (Engineer(name, (0.0, 0.0), [DAY]) for name in "abc")
    # A plan made without the pins (b was not in it) puts the job on a and c.
    sol = solve(problem([a, c], [Visit("lift", (100.0, 0.0), H, people_needed=2)]), opts())
    assert _crews(sol, "lift") == {"a", "c"}
    pinned = Visit("lift", (100.0, 0.0), H, people_needed=2, pinned_engineer="a", pinned_partner="b")
    problems = check_plan(problem([a, b, c], [pinned]), sol).problems
    assert "lift is pinned to a, b, planned for c" in problems
    assert "lift: pinned b not on it" in problems


@pytest.mark.parametrize("how", ["search", "greedy"])
def test_an_engineer_out_past_the_shift_works_what_is_left_of_the_overtime(how: str) -> None:
    # The shift is over (a period (0, 0)) with an hour of overtime left: the urgent job the
    # engineer is driving to fits in it (and the drive home), a 2-hour job does not and waits for
    # tomorrow's shift.
    e = Engineer("e", (0.0, 0.0), [(0.0, 0.0), DAY2], overtime_cap_s=3 * H, overtime_now_s=H)
    on_the_way = Visit(
        "on the way", (6_000.0, 0.0), 0.25 * H, pinned_engineer="e", critical=True, deadline_s=H, priority=4
    )
    p = problem([e], [on_the_way, Visit("long", (6_100.0, 0.0), 2 * H)], now_s=0.0)
    sol = solve(p, opts()) if how == "search" else greedy_solve(p)
    route = next(r for r in sol.routes if any(s.visit_id == "on the way" for s in r.stops))
    assert route.shift == (0.0, 0.0)
    assert stop_of(sol, "on the way") == ("e", 600.0)
    assert DAY2[0] <= stop_of(sol, "long")[1] < DAY2[1]
    assert check_plan(p, sol).problems == []
