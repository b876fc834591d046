"""The independent checker, on a tiny hand-made instance and deliberately broken solutions."""

import pytest

from routing.checker import check_vrptw
from routing.vrptw import InstanceFormatError, parse_vrptw, read_vrptw
from tests.routing.support import INSTANCES, TINY_VRPTW


def test_parse_tiny() -> None:
    inst = parse_vrptw(TINY_VRPTW)
    assert inst.name == "TINY"
    assert (inst.vehicles, inst.capacity) == (2, 15)
    assert inst.depot.due == 100
    assert [c.number for c in inst.customers] == [1, 2, 3]
    assert inst.customers[2].demand == 10
    assert inst.customers[0].service == 5


def test_parse_solomon_file() -> None:
    inst = read_vrptw(INSTANCES / "C101.txt")
    assert inst.name == "C101"
    assert inst.vehicles == 25
    assert inst.capacity == 200
    assert len(inst.customers) == 100
    assert inst.depot.due == 1236


def test_parse_rejects_garbage() -> None:
    with pytest.raises(InstanceFormatError):
        parse_vrptw("")
    with pytest.raises(InstanceFormatError):
        parse_vrptw(
            TINY_VRPTW.replace("    0       0          0          0          0        100          0\n", "")
        )


def test_feasible_solution_and_exact_cost() -> None:
    # 0-1-2-0: leg 10, wait to 10, serve to 15, leg 10 -> 25, serve to 30, leg ~14.14 back
    # 0-3-0: 10 + 10
    result = check_vrptw(TINY_VRPTW, [[1, 2], [3]])
    assert result.feasible, result.violations
    assert result.vehicles == 2
    assert result.cost == pytest.approx(10 + 10 + 200**0.5 + 20, abs=1e-12)


def test_empty_routes_are_not_vehicles() -> None:
    assert check_vrptw(TINY_VRPTW, [[1, 2], [], [3]]).vehicles == 2


def test_missing_customer() -> None:
    r = check_vrptw(TINY_VRPTW, [[1, 2]])
    assert not r.feasible
    assert any("never visited" in v for v in r.violations)


def test_duplicate_customer() -> None:
    r = check_vrptw(TINY_VRPTW, [[1, 2], [3, 1]])
    assert not r.feasible
    assert any("customer 1 visited 2 times" in v for v in r.violations)


def test_unknown_customer_and_depot_in_route() -> None:
    r = check_vrptw(TINY_VRPTW, [[1, 2, 7], [3, 0]])
    assert not r.feasible
    assert any("unknown customer 7" in v for v in r.violations)
    assert any("unknown customer 0" in v for v in r.violations)


def test_capacity_violation() -> None:
    r = check_vrptw(TINY_VRPTW, [[1, 2, 3]])
    assert not r.feasible
    assert any("exceeds capacity" in v for v in r.violations)


def test_time_window_violation() -> None:
    # 0-2-1: reach 2 at ~14.1, leave 19.1, reach 1 at 29.1 > due 20
    r = check_vrptw(TINY_VRPTW, [[2, 1], [3]])
    assert not r.feasible
    assert any("customer 1 starts" in v for v in r.violations)


def test_waiting_is_allowed() -> None:
    # customer 1 opens at 10 and is reached at exactly 10; customer 2 from 3 waits nothing
    r = check_vrptw(TINY_VRPTW, [[1], [3, 2]])
    assert r.feasible, r.violations


def test_depot_return_after_due_date() -> None:
    late_depot = TINY_VRPTW.replace("0        100          0\n", "0         40          0\n", 1)
    r = check_vrptw(late_depot, [[1, 2], [3]])
    assert not r.feasible
    assert any("back at depot" in v for v in r.violations)


def test_too_many_routes() -> None:
    r = check_vrptw(TINY_VRPTW, [[1], [2], [3]])
    assert not r.feasible
    assert any("only 2 vehicles" in v for v in r.violations)
