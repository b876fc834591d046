"""The same problem solved with several search set-ups side by side, best kept.

Guided local search is sensitive to where it starts: on VRPTW benchmarks no
single first-solution strategy wins everywhere, and two different starts on
two cores beat one start with twice the time.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from typing import Any

from routing.model import Problem, Solution
from routing.options import SolveOptions
from routing.solver import solve

# (first-solution strategy, raw search-parameter overrides), in order of use.
# Insertion starts win on short, tightly windowed routes (Solomon R1/RC1);
# savings starts win clearly on long routes (R2/RC2, 200 customers: 2 % gap
# instead of 7-8 % at 60 s), so the first two complement each other.
VARIANTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("PARALLEL_CHEAPEST_INSERTION", {}),
    ("SAVINGS", {}),
    ("LOCAL_CHEAPEST_INSERTION", {"guided_local_search_reset_penalties_on_new_best_solution": True}),
    ("PATH_CHEAPEST_ARC", {}),
)


def variant_options(options: SolveOptions, k: int) -> SolveOptions:
    strategy, overrides = VARIANTS[k % len(VARIANTS)]
    return replace(
        options,
        first_solution=strategy,
        search_parameters={**overrides, **options.search_parameters},
        progress=None,  # callbacks do not cross process boundaries
    )


def _rank(solution: Solution) -> tuple[int, int, float]:
    objective = solution.objective if solution.objective is not None else 2**62
    return (len(solution.unassigned), objective, solution.seconds)


def solve_portfolio(
    problem: Problem, options: SolveOptions, workers: int = 2, variants: Sequence[int] | None = None
) -> tuple[Solution, int]:
    """Solve with one variant per worker process; return the best and its index into VARIANTS."""
    chosen = list(variants) if variants else list(range(max(1, workers)))
    if len(chosen) == 1:
        return solve(problem, variant_options(options, chosen[0])), chosen[0]
    with ProcessPoolExecutor(max_workers=len(chosen)) as pool:
        futures = [pool.submit(solve, problem, variant_options(options, k)) for k in chosen]
        solutions = [f.result() for f in futures]
    best = min(range(len(chosen)), key=lambda k: _rank(solutions[k]))
    return solutions[best], chosen[best]
