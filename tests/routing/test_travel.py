import numpy as np
import pytest

from routing.model import Engineer, Problem, Visit
from routing.options import SolveOptions
from routing.solver import solve
from routing.travel import (
    RUSH_HOURS,
    CachedTravelTime,
    EuclideanTravelTime,
    HaversineTravelTime,
    SpeedBand,
    SpeedProfile,
    TravelTimeProvider,
    format_clock,
)


def test_haversine_provider_units() -> None:
    p = HaversineTravelTime(detour_factor=1.3, speed_kmh=36.0)
    a, b = (0.0, 0.0), (0.0, 1.0)  # one degree of latitude, about 111.2 km
    metres = p.distances([a], [b])[0, 0]
    assert metres == pytest.approx(111_195 * 1.3, rel=1e-3)
    assert p.matrix([a], [b])[0, 0] == pytest.approx(metres / 10.0)  # 36 km/h = 10 m/s
    assert isinstance(p, TravelTimeProvider)


def test_haversine_matrix_for_thousands_of_points_matches_each_pair() -> None:
    # A plan's matrix is built in one vectorised call; each entry must be the time of that pair
    # alone. (How fast it is belongs to `make bench`, not to a timed test.)
    rng = np.random.default_rng(1)
    pts = [tuple(p) for p in rng.uniform([116, 39.5], [117, 40.5], size=(2000, 2))]
    p = HaversineTravelTime()
    m = p.matrix(pts, pts)
    assert m.shape == (2000, 2000)
    assert np.all(np.diag(m) == 0.0)
    assert np.allclose(m, m.T)
    for i, j in rng.integers(0, 2000, size=(40, 2)):
        assert m[i, j] == pytest.approx(p.matrix([pts[i]], [pts[j]])[0, 0], rel=1e-9)


def test_rectangular_and_empty_matrices() -> None:
    p = HaversineTravelTime()
    assert p.matrix([(0.0, 0.0)] * 3, [(1.0, 1.0)] * 2).shape == (3, 2)
    assert p.matrix([], [(1.0, 1.0)]).shape == (0, 1)
    with pytest.raises(ValueError, match="finite"):
        p.matrix([(0.0, float("nan"))], [(0.0, 0.0)])


def test_speed_profile_and_departure_time() -> None:
    profile = SpeedProfile((SpeedBand(7, 9, 0.5), SpeedBand(22, 5, 2.0)))
    assert profile.factor_at(8 * 3600) == 0.5
    assert profile.factor_at(12 * 3600) == 1.0
    assert profile.factor_at(23 * 3600) == 2.0
    assert profile.factor_at(2 * 3600) == 2.0
    assert profile.factor_at(86_400 + 8 * 3600) == 0.5  # day 2 rush hour
    p = HaversineTravelTime(profile=profile, epoch_second_of_day=6 * 3600)
    a, b = (0.0, 0.0), (0.0, 0.1)
    free = p.matrix([a], [b])[0, 0]
    assert p.travel_seconds(a, b, depart_s=2 * 3600) == pytest.approx(free * 2)  # 08:00
    assert p.travel_seconds(a, b, depart_s=6 * 3600) == pytest.approx(free)  # 12:00


def test_cache_hits_and_is_read_only() -> None:
    calls: list[int] = []

    class Counting(EuclideanTravelTime):
        def matrix(self, origins, destinations):
            calls.append(1)
            return super().matrix(origins, destinations)

    cache = CachedTravelTime(Counting(), maxsize=2)
    pts = [(0.0, 0.0), (3.0, 4.0)]
    m1 = cache.matrix(pts, pts)
    m2 = cache.matrix(list(pts), list(pts))
    assert m1 is m2
    assert len(calls) == 1
    assert cache.hits == 1
    assert m1[0, 1] == pytest.approx(5.0)
    with pytest.raises(ValueError, match="read-only"):
        m1[0, 1] = 1.0
    cache.matrix(pts[:1], pts)
    cache.matrix(pts[1:], pts)
    cache.matrix(pts, pts)  # evicted by the two above
    assert len(calls) == 4


def test_format_clock() -> None:
    assert format_clock(0) == "00:00"
    assert format_clock(9 * 3600 + 5 * 60 + 59) == "09:05"
    assert format_clock(86_400 + 3600) == "day 2 01:00"


def _rush_problem(visits: list[Visit]) -> Problem:
    # Second 0 of the horizon is midnight; rush hour 07:00-09:30 at 0.7 × speed.
    travel = HaversineTravelTime(profile=SpeedProfile(RUSH_HOURS), epoch_second_of_day=0)
    engineer = Engineer("a", (113.0, 34.0), [(8 * 3600.0, 17 * 3600.0)])
    return Problem([engineer], visits, travel=travel)


FREE_FLOW_S = float(HaversineTravelTime().matrix([(113.0, 34.0)], [(113.1, 34.0)])[0, 0])


def test_plans_drive_at_the_speed_of_the_hour() -> None:
    # About 16 minutes free-flow; leaving at 08:00 in the rush it takes 1 / 0.7 as long.
    problem = _rush_problem([Visit("v", (113.1, 34.0), 2 * 3600)])
    sol = solve(problem, SolveOptions(time_limit_s=10, solution_limit=50))
    (stop,) = sol.routes[0].stops
    assert stop.travel_s == pytest.approx(FREE_FLOW_S / 0.7, rel=1e-3)
    assert stop.arrival_s == pytest.approx(8 * 3600 + FREE_FLOW_S / 0.7, abs=2)
    # Home after 10:00, past the rush, at free-flow speed.
    assert sol.routes[0].return_s == pytest.approx(stop.end_s + FREE_FLOW_S, abs=2)


def test_a_window_only_free_flow_could_make_is_not_planned() -> None:
    # Free-flow arrival 08:16 would fit a 08:00-08:20 window; in the rush it is 08:23.
    window = (8 * 3600.0, 8 * 3600.0 + 20 * 60)
    assert 8 * 3600 + FREE_FLOW_S < window[1] < 8 * 3600 + FREE_FLOW_S / 0.7
    problem = _rush_problem([Visit("v", (113.1, 34.0), 1800, windows=[window])])
    sol = solve(problem, SolveOptions(time_limit_s=10, solution_limit=50))
    assert [u.visit_id for u in sol.unassigned] == ["v"]
    assert not sol.routes


def test_the_reason_for_a_late_visit_counts_the_rush() -> None:
    # Deadline 08:20: free flow would make it (08:16), the rush does not (08:23).
    problem = _rush_problem([Visit("v", (113.1, 34.0), 1800, deadline_s=8 * 3600 + 20 * 60)])
    sol = solve(problem, SolveOptions(time_limit_s=10, solution_limit=50))
    (late,) = sol.late
    assert late.reason.startswith(
        "no engineer can reach it before its deadline 08:20: nearest could arrive at 08:2"
    )
