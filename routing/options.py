"""How a solve runs: time and solution limits, search set-up, penalty prices."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from routing.model import Progress


@dataclass
class SolveOptions:
    time_limit_s: float = 10.0
    # Stop after this many improving-or-not solutions: deterministic runs for tests.
    solution_limit: int | None = None
    # An OR-Tools FirstSolutionStrategy name; None chooses by the problem's
    # shape (`routing.solver.first_solution_strategy`).
    first_solution: str | None = None
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    # Solver time units per second. Seconds are exact enough for field work;
    # abstract benchmark coordinates need finer units (travel is rounded up,
    # so a plan feasible in units is feasible in reality).
    time_scale: int = 1
    # Costs in seconds of travel, so that they read the same at any scale.
    # Steep next to travel (1 s late at priority 1 = 100 s of travel), so that
    # local search does not buy travel with SLA breaches.
    lateness_cost_per_minute: float = 6000.0
    # Late work of one severity is served earliest deadline first: the lateness price of a visit
    # grows linearly, up to double, as its deadline runs from this long after the plan's start
    # to this long before it. One price for all would leave swapping two late jobs free (the sum
    # of lateness is the same), and newer work would keep overtaking older work at each re-plan.
    # None: one price per priority.
    deadline_order_window_s: float | None = 12 * 3600.0
    drop_cost: float = 1_000_000.0
    overtime_cost_per_minute: float = 120.0
    # Churn: a visit moved to another engineer than its current one costs this
    # (seconds of travel); a start moved by more than the tolerance costs the
    # lateness price per minute beyond it.
    churn_engineer_cost: float = 3600.0
    churn_tolerance_s: float = 1800.0
    # Served by someone other than a preferred engineer (or the one of earlier
    # visits of the same work order).
    preference_cost: float = 900.0
    # Start the search from the greedy baseline's plan (`routing.greedy`), with
    # its on-time visits protected and its plan kept when the search's is worse
    # on them: None means for every problem with deadlines and no solution
    # limit (below the large size, not with pick-ups), where the insertion
    # heuristics end up with SLA breaches that greedy avoids.
    warm_start_from_greedy: bool | None = None
    # None: on when any visit has a demand or any engineer a capacity.
    capacity: bool | None = None
    # Vehicles (engineer id, shift index) planned with the slowest traffic of their
    # shift instead of its average: set by the solver itself when rush hours
    # made a route miss a hard window or its shift end.
    slowest_travel: frozenset[tuple[str, int]] = frozenset()
    # A visit whose parts are in no qualified engineer's van may be served via a
    # pick-up at one of this many nearest warehouses that hold them.
    pickup_warehouses: int = 3
    progress: Callable[[Progress], None] | None = None
    log_search: bool = False
    guided_local_search_lambda: float | None = None
    # Ruin-and-recreate (SISR) around the local search instead of a metaheuristic.
    iterated_local_search: bool = False
    # Ruin and recreate (`routing.lns`) after OR-Tools' start, for plain VRPTW
    # problems (one depot, hard windows, capacity, nothing soft): None means on
    # when there is no solution limit or when `lns_iterations` is set. An
    # iteration count makes the run deterministic (with `lns_seed`).
    lns: bool | None = None
    lns_iterations: int | None = None
    lns_seed: int = 0
    # Raw RoutingSearchParameters fields by dotted path, for tuning, e.g.
    # {"local_search_operators.use_cross_exchange": True}.
    search_parameters: dict[str, Any] = field(default_factory=dict)
