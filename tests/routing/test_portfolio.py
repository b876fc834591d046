from routing.model import Engineer, Problem, Visit
from routing.options import SolveOptions
from routing.portfolio import VARIANTS, solve_portfolio, variant_options
from tests.routing.support import PLANE


def test_variants_keep_caller_overrides() -> None:
    base = SolveOptions(search_parameters={"guided_local_search_lambda_coefficient": 0.2})
    second = variant_options(base, 1)
    assert second.first_solution == VARIANTS[1][0]
    assert second.search_parameters["guided_local_search_lambda_coefficient"] == 0.2
    assert second.progress is None


def test_portfolio_returns_a_complete_plan() -> None:
    engineers = [Engineer(f"e{k}", (0.0, 0.0), [(0.0, 36_000.0)]) for k in range(2)]
    visits = [Visit(f"v{k}", (100.0 * k, 50.0 * (k % 3)), 900) for k in range(8)]
    problem = Problem(engineers, visits, travel=PLANE, horizon_s=36_000.0)
    solution, variant = solve_portfolio(problem, SolveOptions(time_limit_s=30, solution_limit=50), workers=2)
    assert variant in (0, 1)
    assert not solution.unassigned
    assert sorted(s.visit_id for r in solution.routes for s in r.stops) == sorted(v.id for v in visits)
