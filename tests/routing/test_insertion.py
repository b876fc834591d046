"""Emergency insertion: one urgent visit into the current routes, at once."""

from __future__ import annotations

import itertools

import pytest

from routing.insertion import CurrentRoute, PlannedStop, best_insertion, insertion_at
from routing.model import Engineer, Visit, Warehouse
from tests.routing.support import PLANE, H

DAY = [(8 * H, 18 * H)]
PUMP = frozenset({"pump"})


def route(engineer: Engineer, *stops: PlannedStop) -> CurrentRoute:
    return CurrentRoute(engineer=engineer, position=engineer.start, stops=list(stops))


def line_route(engineer: Engineer, *, locked: bool = False, promise: bool = False) -> CurrentRoute:
    # Stops at 1 km (09:00) and 3 km (10:00), 10 minutes each, on the x axis.
    return route(
        engineer,
        PlannedStop("a", (1_000.0, 0.0), 9 * H, 600, locked=locked),
        PlannedStop("b", (3_000.0, 0.0), 10 * H, 600, latest_start_s=10 * H if promise else None),
    )


def test_the_visit_goes_where_the_route_grows_least() -> None:
    eng = Engineer("e", (0.0, 0.0), DAY)
    found = best_insertion([line_route(eng)], Visit("new", (2_000.0, 0.0), 600), PLANE, now_s=8 * H)
    assert found is not None
    assert (found.engineer_id, found.position) == ("e", 1)
    assert found.added_travel_s == pytest.approx(0.0)  # on the way from a to b
    assert found.start_s == pytest.approx(9 * H + 600 + 100)
    assert found.shifted == []  # b still starts at 10:00


def test_locked_work_stays_first() -> None:
    eng = Engineer("e", (0.0, 0.0), DAY)
    visit = Visit("new", (100.0, 0.0), 600)  # next to home: best first, were a not locked
    free = best_insertion([line_route(eng)], visit, PLANE, now_s=8 * H)
    locked = best_insertion([line_route(eng, locked=True)], visit, PLANE, now_s=8 * H)
    assert free is not None
    assert locked is not None
    assert free.position == 0
    assert locked.position >= 1


def test_a_confirmed_promise_is_not_pushed() -> None:
    # Two hours of work before b would push b past its promised 10:00.
    eng = Engineer("e", (0.0, 0.0), DAY)
    visit = Visit("new", (2_000.0, 0.0), 2 * H)
    found = best_insertion([line_route(eng, promise=True)], visit, PLANE, now_s=8 * H)
    assert found is not None
    assert found.position == 2
    assert found.start_s >= 10 * H + 600


def test_only_qualified_engineers_are_considered() -> None:
    near = Engineer("near", (2_000.0, 0.0), DAY)
    far = Engineer("far", (50_000.0, 0.0), DAY, skills={"hv": (2, None)})
    visit = Visit("new", (2_000.0, 0.0), 600, skills={"hv": 2})
    found = best_insertion([route(near), route(far)], visit, PLANE, now_s=8 * H)
    assert found is not None
    assert found.engineer_id == "far"


def test_a_van_without_the_part_fetches_it_on_the_way() -> None:
    # The stocked engineer is 50 km away; the near one passes a warehouse 0.5 km from home.
    near = Engineer("near", (0.0, 0.0), DAY)
    stocked = Engineer("stocked", (50_000.0, 0.0), DAY, parts=PUMP)
    house = Warehouse("w", (500.0, 0.0), PUMP, pickup_s=600)
    visit = Visit("new", (2_000.0, 0.0), 600, parts=PUMP, deadline_s=9 * H)
    found = best_insertion([route(near), route(stocked)], visit, PLANE, now_s=8 * H, warehouses=[house])
    assert found is not None
    assert found.engineer_id == "near"
    assert found.pickup_warehouse_id == "w"
    assert found.pickup_s == pytest.approx(8 * H + 50)
    assert found.arrival_s == pytest.approx(8 * H + 50 + 600 + 150)
    assert found.late_s == 0.0


def test_no_van_and_no_warehouse_with_the_part_means_no_insertion() -> None:
    eng = Engineer("e", (0.0, 0.0), DAY)
    house = Warehouse("w", (500.0, 0.0), frozenset({"fan"}))
    visit = Visit("new", (2_000.0, 0.0), 600, parts=PUMP)
    assert best_insertion([route(eng)], visit, PLANE, now_s=8 * H, warehouses=[house]) is None


def test_a_drop_goes_where_it_was_dropped_and_pushes_what_follows() -> None:
    # Dropped at 08:30, before a (09:00): an hour's work at 2 km, then a 100 s back to a.
    eng = Engineer("e", (0.0, 0.0), DAY)
    visit = Visit("new", (2_000.0, 0.0), H)
    found = insertion_at(line_route(eng), visit, PLANE, 8.5 * H)
    assert found is not None
    assert found.position == 0
    assert found.start_s == pytest.approx(8.5 * H)
    [(moved, start)] = found.shifted  # b still makes 10:00
    assert moved == "a"
    assert start == pytest.approx(9.5 * H + 100)


def test_a_drop_never_goes_before_locked_work_or_past_a_promise() -> None:
    eng = Engineer("e", (0.0, 0.0), DAY)
    visit = Visit("new", (2_000.0, 0.0), H)
    after_locked = insertion_at(line_route(eng, locked=True), visit, PLANE, 8.5 * H)
    assert after_locked is not None
    assert after_locked.position == 1
    assert after_locked.start_s >= 9 * H + 600
    # Two hours before a would push b past its promised 10:00: it cannot go there.
    assert (
        insertion_at(line_route(eng, promise=True), Visit("long", (2_000.0, 0.0), 2 * H), PLANE, 8.5 * H)
        is None
    )


def test_an_engineer_away_this_morning_takes_the_visit_when_back_with_no_overtime_into_it() -> None:
    # Shifts 08:00–18:00 with 08:00–12:00 away (what the planning side cuts out): 12:00–18:00 left.
    eng = Engineer("e", (0.0, 0.0), [(12 * H, 18 * H)], overtime_cap_s=3 * H, absences=[(8 * H, 12 * H)])
    found = best_insertion([route(eng)], Visit("new", (1_000.0, 0.0), 3600), PLANE, now_s=8 * H)
    assert found is not None
    assert found.start_s == pytest.approx(12 * H)
    # Before an absence the shift ends where it begins: no overtime runs into it.
    morning = Engineer("m", (0.0, 0.0), [(8 * H, 12 * H)], overtime_cap_s=3 * H, absences=[(12 * H, 18 * H)])
    assert morning.overtime_cap_after(12 * H) == 0.0
    assert morning.overtime_cap_after(11 * H) == pytest.approx(H)
    assert eng.overtime_cap_after(18 * H) == 3 * H
    long_job = Visit("long", (1_000.0, 0.0), 4.5 * H)
    assert best_insertion([route(morning)], long_job, PLANE, now_s=8 * H) is None


def test_an_insertion_never_pushes_a_later_stop_out_of_the_shift_or_standby_period() -> None:
    # A stop at 17:00 (50 minutes) on a shift ending at 18:00 with no overtime: an urgent hour
    # before it would push it past 18:00, when that engineer is off; the visit goes to another,
    # farther one whose shift runs to 20:00.
    busy = Engineer("busy", (0.0, 0.0), DAY)
    far = Engineer("far", (20_000.0, 0.0), [(8 * H, 20 * H)])
    late = route(busy, PlannedStop("a", (1_000.0, 0.0), 17 * H, 50 * 60))
    found = best_insertion([late, route(far)], Visit("new", (1_000.0, 0.0), H), PLANE, now_s=16.5 * H)
    assert found is not None
    assert (found.engineer_id, found.shifted) == ("far", [])
    # A night call-out on standby (18:00–08:00, no overtime after it) is not pushed past 08:00.
    night = Engineer("n", (0.0, 0.0), [], on_call=True, on_call_shifts=[(18 * H, 32 * H)])
    called = route(night, PlannedStop("c", (1_000.0, 0.0), 31 * H, 50 * 60))
    # Critical: standby takes only work that cannot wait.
    assert insertion_at(called, Visit("new", (1_000.0, 0.0), H, critical=True), PLANE, 30.5 * H) is None
    short = Visit("short", (1_000.0, 0.0), 0.25 * H, critical=True)
    assert insertion_at(called, short, PLANE, 30.5 * H) is not None


def test_the_pruned_scan_finds_what_trying_every_position_finds() -> None:
    """Positions are tried cheapest bound first and the scan stops early: on a
    field plan it must still pick what a scan of every position picks."""
    from routing.eligibility import missing_parts, skill_problem
    from routing.fieldbench import EMERGENCY_AT_S, current_routes
    from routing.greedy import greedy_solve
    from routing.insertion import _legs, _Scan
    from routing.scenario import field_scenario, urgent_visits

    problem = field_scenario(300, 30, 3)
    routes = current_routes(problem, greedy_solve(problem), EMERGENCY_AT_S)
    for visit in urgent_visits(15, 3, EMERGENCY_AT_S):
        found = best_insertion(routes, visit, problem.travel, now_s=EMERGENCY_AT_S)
        eligible = [
            r
            for r in routes
            if skill_problem(r.engineer, visit, EMERGENCY_AT_S) is None
            and not missing_parts(r.engineer, visit)
        ]
        scan = _Scan.of(eligible, visit, problem.travel, [], EMERGENCY_AT_S, 10.0)
        costs, offset = [], 0
        for r in eligible:
            first_free = max((i + 1 for i, s in enumerate(r.stops) if s.locked), default=0)
            for position in range(first_free, len(r.stops) + 1):
                each = scan.insert(r, position, offset, _legs(problem.travel, r), False)
                if each is not None:
                    costs.append(each.cost)
            offset += len(r.stops) + 1
        assert found is not None
        assert costs
        assert found.cost == pytest.approx(min(costs))


def test_legs_in_one_call_match_the_matrix_diagonal() -> None:
    from routing.scenario import field_scenario
    from routing.travel import EuclideanTravelTime, pair_seconds

    class MatrixOnly:
        def matrix(self, origins: object, destinations: object) -> object:
            return EuclideanTravelTime().matrix(origins, destinations)  # type: ignore[arg-type]

        def distances(self, origins: object, destinations: object) -> object:
            return EuclideanTravelTime().distances(origins, destinations)  # type: ignore[arg-type]

    problem = field_scenario(150, 10, 0)
    points = [v.point for v in problem.visits]
    diagonal = [problem.travel.matrix([a], [b])[0, 0] for a, b in itertools.pairwise(points)]
    assert pair_seconds(problem.travel, points[:-1], points[1:]) == pytest.approx(diagonal)
    plane = [(float(i), float(i * i % 7)) for i in range(150)]
    expected = [EuclideanTravelTime().matrix([a], [b])[0, 0] for a, b in itertools.pairwise(plane)]
    assert pair_seconds(MatrixOnly(), plane[:-1], plane[1:]) == pytest.approx(expected)  # type: ignore[arg-type]
