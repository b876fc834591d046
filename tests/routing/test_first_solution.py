"""The start heuristic chosen by the problem's shape when the options name none."""

from routing.checker import check_vrptw
from routing.model import Engineer, Problem, Visit
from routing.nodes import SolverModel
from routing.options import SolveOptions
from routing.solver import SAVINGS_FROM_VISITS, first_solution_strategy, solve
from routing.vrptw import read_vrptw, to_problem
from tests.routing.support import INSTANCES, PLANE


def _depot_problem(
    visits: int, *, own_starts: bool = False, joint: bool = False, service_s: float = 300
) -> Problem:
    engineers = [
        Engineer(f"e{k}", (float(k * 500) if own_starts else 0.0, 0.0), [(0.0, 36_000.0)]) for k in range(4)
    ]
    work = [
        Visit(f"v{k}", (50.0 * (k % 20), 40.0 * (k // 20)), service_s, people_needed=1 + (joint and k == 0))
        for k in range(visits)
    ]
    return Problem(engineers, work, travel=PLANE, horizon_s=36_000.0)


def _strategy(problem: Problem, **kw: object) -> str:
    return first_solution_strategy(SolverModel(problem, SolveOptions(**kw)))  # type: ignore[arg-type]


def test_one_depot_and_many_visits_start_from_savings() -> None:
    assert _strategy(_depot_problem(SAVINGS_FROM_VISITS)) == "SAVINGS"
    assert _strategy(_depot_problem(SAVINGS_FROM_VISITS - 1)) == "PARALLEL_CHEAPEST_INSERTION"


def test_short_routes_keep_insertion() -> None:
    # Fifty-minute visits: a ten-hour shift holds about twelve, as on Solomon's type 1.
    assert _strategy(_depot_problem(SAVINGS_FROM_VISITS, service_s=3000)) == "PARALLEL_CHEAPEST_INSERTION"


def test_field_shapes_keep_insertion() -> None:
    # Engineers starting from their own homes, or a joint visit, leave savings nothing to merge well.
    assert _strategy(_depot_problem(SAVINGS_FROM_VISITS, own_starts=True)) == "PARALLEL_CHEAPEST_INSERTION"
    assert _strategy(_depot_problem(SAVINGS_FROM_VISITS, joint=True)) == "PARALLEL_CHEAPEST_INSERTION"


def test_the_options_choice_wins() -> None:
    problem = _depot_problem(SAVINGS_FROM_VISITS)
    assert _strategy(problem, first_solution="PATH_CHEAPEST_ARC") == "PATH_CHEAPEST_ARC"


def test_a_200_customer_instance_is_solved_feasibly_and_deterministically() -> None:
    path = INSTANCES / "rc2_2_1.txt"
    problem = to_problem(read_vrptw(path))
    options = SolveOptions(time_limit_s=60, solution_limit=30, time_scale=1000, drop_cost=1e7)
    costs = []
    for _ in range(2):
        solution = solve(problem, options)
        routes = [[int(s.visit_id) for s in r.stops] for r in solution.routes]
        assert not solution.unassigned
        check = check_vrptw(path.read_text(), routes)
        assert check.feasible, check.violations[:3]
        costs.append(round(check.cost, 6))
    assert costs[0] == costs[1]
