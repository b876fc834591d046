"""The OSRM table client against a local server answering OSRM's format from a synthetic road grid."""

from __future__ import annotations

import math
import pickle
import socket
from collections.abc import Iterator

import numpy as np
import pytest

from routing.geo import haversine_m
from routing.model import Engineer, Problem, Visit
from routing.options import SolveOptions
from routing.osrm import OsrmError, OsrmTravelTime
from routing.solver import solve
from routing.travel import HaversineTravelTime, SpeedBand, SpeedProfile, TravelTimeProvider
from tests.routing.fake_osrm import ISLAND, SIZE, FakeOsrm, fake_osrm, node_point

H = 3600.0


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOsrm]:
    with fake_osrm(max_table_size=100) as fake:
        yield fake


def grid_points() -> list[tuple[float, float]]:
    # Slightly off the junctions, as real addresses are off the road graph.
    return [
        (lon + 0.0004 * ((c + r) % 3 - 1), lat - 0.0003 * ((c * r) % 2))
        for r in range(SIZE)
        for c in range(SIZE)
        for lon, lat in [node_point(c, r)]
    ]


def test_matrix_equals_the_servers_shortest_paths(server: FakeOsrm) -> None:
    points = grid_points()
    with OsrmTravelTime(server.url) as client:
        assert isinstance(client, TravelTimeProvider)
        seconds = client.matrix(points, points)
        metres = client.distances(points, points)
        assert client.requests_made == 1  # durations and distances come in one answer
    want_s, want_m = server.grid.expected(points, points)
    assert seconds.shape == (36, 36)
    np.testing.assert_allclose(seconds, np.array(want_s), atol=0.06)
    np.testing.assert_allclose(metres, np.array(want_m), atol=0.06)
    # The river: across it one block away takes the detour over the bridge.
    west, east = 5 * SIZE + 2, 5 * SIZE + 3
    straight = haversine_m(node_point(2, 5), node_point(3, 5))
    assert metres[west, east] > 10 * straight
    # Column 0 is one-way north: going south means a detour.
    south, north = 0, 5 * SIZE
    assert seconds[north, south] > seconds[south, north] + 100


def test_chunked_requests_give_the_same_matrix(server: FakeOsrm) -> None:
    points = grid_points()
    rng = np.random.default_rng(3)
    others = [points[int(k)] for k in rng.permutation(36)[:30]]
    with OsrmTravelTime(server.url) as whole:
        full_square = whole.matrix(points, points)
        full_rect = whole.matrix(points[:4], others)
        full_tall = whole.distances(others, points[:3])
        full_mixed = whole.matrix(points[:25], others)
    with fake_osrm(max_table_size=7) as small:  # the server refuses more than 7 coordinates
        with OsrmTravelTime(small.url, max_points_per_request=7) as chunked:
            np.testing.assert_array_equal(chunked.matrix(points, points), full_square)
            assert chunked.requests_made > 1
            np.testing.assert_array_equal(chunked.matrix(points[:4], others), full_rect)
            np.testing.assert_array_equal(chunked.distances(others, points[:3]), full_tall)
            np.testing.assert_array_equal(chunked.matrix(points[:25], others), full_mixed)
        for path in small.requests:
            assert len(path.split("?")[0].split("/")[-1].split(";")) <= 7
        # Without chunking the same server says TooBig.
        with (
            OsrmTravelTime(small.url, max_points_per_request=100) as unchunked,
            pytest.raises(OsrmError) as err,
        ):
            unchunked.matrix(points, points)
        assert err.value.code == "TooBig"
        assert err.value.status == 400


def test_unreachable_is_infinite(server: FakeOsrm) -> None:
    points = [node_point(0, 0), node_point(4, 4), (ISLAND[0] + 0.0001, ISLAND[1])]
    with OsrmTravelTime(server.url) as client:
        m = client.matrix(points, points)
        d = client.distances(points, points)
    assert np.isfinite(m[:2, :2]).all()
    assert math.isinf(m[0, 2])
    assert math.isinf(m[2, 1])
    assert math.isinf(d[1, 2])
    assert m[2, 2] == 0.0


def test_error_code_and_transport_failure_raise_osrm_error(server: FakeOsrm) -> None:
    server.fail_with = (400, "NoSegment")
    try:
        with OsrmTravelTime(server.url) as client, pytest.raises(OsrmError) as err:
            client.matrix([node_point(0, 0)], [node_point(1, 1)])
    finally:
        server.fail_with = None
    assert err.value.code == "NoSegment"
    assert "NoSegment" in str(err.value)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with OsrmTravelTime(f"http://127.0.0.1:{port}", timeout=2.0) as client, pytest.raises(OsrmError) as err:
        client.matrix([node_point(0, 0)], [node_point(1, 1)])
    assert err.value.code == "TransportError"


def test_empty_inputs_and_bad_points(server: FakeOsrm) -> None:
    with OsrmTravelTime(server.url) as client:
        assert client.matrix([], [node_point(0, 0)]).shape == (0, 1)
        assert client.requests_made == 0
        with pytest.raises(ValueError, match="lon, lat"):
            client.matrix([(float("nan"), 0.0)], [node_point(0, 0)])


def test_speed_profile_applies_to_road_times(server: FakeOsrm) -> None:
    rush = SpeedProfile((SpeedBand(7.0, 9.0, 0.5),))
    a, b = node_point(0, 0), node_point(5, 5)
    with OsrmTravelTime(server.url, speed_profile=rush, epoch_second_of_day=6 * 3600) as client:
        free = client.matrix([a], [b])[0, 0]
        assert client.travel_seconds(a, b, depart_s=1.5 * H) == pytest.approx(2 * free)  # 07:30
        assert client.travel_seconds(a, b, depart_s=4 * H) == pytest.approx(free)  # 10:00


def test_provider_survives_pickling_for_worker_processes(server: FakeOsrm) -> None:
    client = OsrmTravelTime(server.url)
    first = client.matrix([node_point(0, 0)], [node_point(2, 3)])
    copy = pickle.loads(pickle.dumps(client))  # noqa: S301 - our own bytes
    np.testing.assert_array_equal(copy.matrix([node_point(0, 0)], [node_point(2, 3)]), first)
    client.close()
    copy.close()


def test_solver_plans_with_road_times(server: FakeOsrm) -> None:
    # The visit is one block east of `west`, but across the river; `east` is
    # further as the crow flies but on the same bank.
    west = Engineer("west", node_point(2, 5), [(8 * H, 17 * H)])
    east = Engineer("east", node_point(5, 2), [(8 * H, 17 * H)])
    visit = Visit("v", node_point(3, 5), 1800)
    options = SolveOptions(time_limit_s=10, solution_limit=50)

    crow = solve(Problem([west, east], [visit], travel=HaversineTravelTime()), options)
    assert crow.routes[0].engineer_id == "west"

    with OsrmTravelTime(server.url) as roads:
        sol = solve(Problem([west, east], [visit], travel=roads), options)
    assert not sol.unassigned
    (route,) = sol.routes
    assert route.engineer_id == "east"
    want_s, _ = server.grid.expected([east.start, visit.point], [visit.point, east.start])
    assert route.stops[0].travel_s == pytest.approx(want_s[0][0], abs=0.1)
    assert route.travel_s == pytest.approx(want_s[0][0] + want_s[1][1], abs=0.1)

    # Alone, `west` takes the long way over the bridge: eleven blocks, not one.
    with OsrmTravelTime(server.url) as roads:
        alone = solve(Problem([west], [visit], travel=roads), options)
    leg = alone.routes[0].stops[0].travel_s
    detour, _ = server.grid.expected([west.start], [visit.point])
    assert leg == pytest.approx(detour[0][0], abs=0.1)
    assert leg > 10 * haversine_m(west.start, visit.point) / 10.0
