"""Benchmarks: `python -m routing.bench vrptw FILE... [--time-limit S] [--json]`.

Each instance is solved through the same `routing.solve` entry point that
plans use, verified by the independent checker, and compared with the
reference (the lower of the best-known distance and the PyVRP run shipped
with the instances) and with the textbook OR-Tools model run in the same
process.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from routing.checker import check_vrptw
from routing.lns import vrptw_data
from routing.nodes import SolverModel
from routing.options import SolveOptions
from routing.portfolio import VARIANTS, solve_portfolio
from routing.solver import first_solution_strategy, solve
from routing.vrptw import VrptwInstance, read_vrptw, to_problem


@dataclass
class Result:
    instance: str
    cost: float | None
    vehicles: int
    feasible: bool
    seconds: float
    reference: float | None = None
    gap: float | None = None
    baseline_cost: float | None = None
    baseline_feasible: bool | None = None
    baseline_gap: float | None = None
    strategy: str = ""


def reference_cost(path: Path, name: str) -> float | None:
    """min(best-known distance, PyVRP reference), from the JSON files next to the instances."""
    candidates: list[float] = []
    for folder in (path.parent, path.parent.parent):
        bks_file, pyvrp_file = folder / "BKS.json", folder / "reference-pyvrp.json"
        if bks_file.exists():
            bks = {k.lower(): v for k, v in json.loads(bks_file.read_text()).items()}
            entry = bks.get(f"{name.lower()}_distance") or bks.get(name.lower())
            if isinstance(entry, dict) and "best_known_cost" in entry:
                candidates.append(float(entry["best_known_cost"]))
        if pyvrp_file.exists():
            ref = {k.lower(): v for k, v in json.loads(pyvrp_file.read_text()).items()}
            entry = ref.get(name.lower())
            if isinstance(entry, dict) and "cost" in entry:
                candidates.append(float(entry["cost"]))
        if candidates:
            break
    return min(candidates) if candidates else None


def solve_product(
    path: Path, time_limit_s: float, workers: int, variants: list[int] | None = None
) -> tuple[list[list[int]], float, str]:
    instance = read_vrptw(path)
    started = time.monotonic()
    options = SolveOptions(
        time_limit_s=time_limit_s,
        # Abstract coordinates: milli-units keep the rounding error far below
        # the differences between good solutions.
        time_scale=1000,
        drop_cost=1e7,
    )
    problem = to_problem(instance)
    if workers <= 1 and not variants:
        # The product's own choice, as plans are solved: one process, one core.
        model = SolverModel(problem, options)
        # "+lns": the start is improved by ruin and recreate (`routing.lns`).
        strategy = first_solution_strategy(model) + ("+lns" if vrptw_data(model) is not None else "")
        started = time.monotonic()
        solution = solve(problem, options)
    else:
        solution, variant = solve_portfolio(problem, options, workers, variants)
        strategy = str(VARIANTS[variant][0])
    routes = [[int(s.visit_id) for s in r.stops] for r in solution.routes]
    if solution.unassigned:
        routes.append([-1])  # makes the checker report the instance infeasible
    return routes, time.monotonic() - started, strategy


def solve_textbook(instance: VrptwInstance, time_limit_s: float) -> list[list[int]]:
    """The textbook OR-Tools VRPTW model, as in the OR-Tools guides.

    Distances x100 rounded up, Python callbacks, optional visits with a large
    drop penalty, parallel cheapest insertion, then guided local search.
    """
    points = [(instance.depot.x, instance.depot.y)] + [(c.x, c.y) for c in instance.customers]
    rows = [instance.depot, *instance.customers]
    n = len(points)
    dist = [[math.ceil(100 * math.hypot(a[0] - b[0], a[1] - b[1])) for b in points] for a in points]
    service = [math.ceil(100 * r.service) for r in rows]
    manager = pywrapcp.RoutingIndexManager(n, instance.vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)

    def distance_cb(i: int, j: int) -> int:
        return dist[int(manager.IndexToNode(i))][int(manager.IndexToNode(j))]

    def time_cb(i: int, j: int) -> int:
        a, b = int(manager.IndexToNode(i)), int(manager.IndexToNode(j))
        return service[a] + dist[a][b]

    def demand_cb(i: int) -> int:
        return rows[int(manager.IndexToNode(i))].demand

    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitCallback(distance_cb))
    horizon = int(100 * instance.depot.due)
    routing.AddDimension(routing.RegisterTransitCallback(time_cb), horizon, horizon, False, "Time")
    time_dim = routing.GetDimensionOrDie("Time")
    for node in range(1, n):
        index = manager.NodeToIndex(node)
        time_dim.CumulVar(index).SetRange(math.ceil(100 * rows[node].ready), int(100 * rows[node].due))
        routing.AddDisjunction([index], 10**9)
    for k in range(instance.vehicles):
        time_dim.CumulVar(routing.Start(k)).SetRange(int(100 * instance.depot.ready), horizon)
        time_dim.CumulVar(routing.End(k)).SetRange(int(100 * instance.depot.ready), horizon)
    routing.AddDimensionWithVehicleCapacity(
        routing.RegisterUnaryTransitCallback(demand_cb),
        0,
        [instance.capacity] * instance.vehicles,
        True,
        "Load",
    )
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(int(time_limit_s * 1000))
    assignment = routing.SolveWithParameters(params)
    routes: list[list[int]] = []
    if assignment is None:
        return [[-1]]
    for k in range(instance.vehicles):
        route = []
        index = assignment.Value(routing.NextVar(routing.Start(k)))
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = assignment.Value(routing.NextVar(index))
        routes.append(route)
    return routes


def run_instance(
    path: Path, time_limit_s: float, workers: int, baseline: bool, variants: list[int] | None = None
) -> Result:
    text = path.read_text()
    instance = read_vrptw(path)
    routes, seconds, strategy = solve_product(path, time_limit_s, workers, variants)
    check = check_vrptw(text, routes)
    ref = reference_cost(path, instance.name)
    result = Result(
        instance=instance.name,
        cost=round(check.cost, 2) if check.feasible else None,
        vehicles=check.vehicles,
        feasible=check.feasible,
        seconds=round(seconds, 2),
        reference=ref,
        strategy=strategy,
    )
    if ref and result.cost is not None:
        result.gap = round((check.cost - ref) / ref, 5)
    if baseline:
        base = check_vrptw(text, solve_textbook(instance, time_limit_s))
        result.baseline_feasible = base.feasible
        result.baseline_cost = round(base.cost, 2) if base.feasible else None
        if ref and base.feasible:
            result.baseline_gap = round((base.cost - ref) / ref, 5)
    return result


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.2f}%".replace("-0.00%", "0.00%")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m routing.bench")
    sub = parser.add_subparsers(dest="kind", required=True)
    vrptw = sub.add_parser("vrptw", help="Solomon / Gehring-Homberger instances")
    vrptw.add_argument("files", nargs="+", type=Path)
    vrptw.add_argument("--time-limit", type=float, default=30.0, help="seconds per instance")
    vrptw.add_argument("--json", action="store_true", help="one JSON object per line")
    vrptw.add_argument("--no-baseline", action="store_true", help="skip the textbook OR-Tools model")
    vrptw.add_argument(
        "--workers",
        type=int,
        default=1,
        help="search variants run side by side in this many processes (one core each)",
    )
    vrptw.add_argument(
        "--variants",
        type=lambda text: [int(x) for x in text.split(",")],
        default=None,
        help="indexes into routing.portfolio.VARIANTS, one process each (overrides --workers)",
    )
    args = parser.parse_args(argv)

    results: list[Result] = []
    if not args.json:
        print(
            f"{'instance':<10} {'cost':>9} {'veh':>4} {'feas':>5} {'secs':>6} {'ref':>9} {'gap':>7}"
            f" {'baseline':>9} {'b.gap':>7} {'ratio':>6}"
        )
    for path in args.files:
        r = run_instance(path, args.time_limit, args.workers, not args.no_baseline, args.variants)
        results.append(r)
        if args.json:
            print(json.dumps(asdict(r)), flush=True)
        else:
            ratio = r.cost / r.baseline_cost if r.cost and r.baseline_cost else None
            print(
                f"{r.instance:<10} {r.cost if r.cost is not None else '-':>9} {r.vehicles:>4}"
                f" {r.feasible!s:>5} {r.seconds:>6.1f} {r.reference or '-':>9} {_pct(r.gap):>7}"
                f" {r.baseline_cost if r.baseline_cost is not None else '-':>9} {_pct(r.baseline_gap):>7}"
                f" {'-' if ratio is None else f'{ratio:.4f}':>6}",
                flush=True,
            )
    gaps = [r.gap for r in results if r.gap is not None]
    base_gaps = [r.baseline_gap for r in results if r.baseline_gap is not None]
    if not args.json and gaps:
        mean_base = _pct(sum(base_gaps) / len(base_gaps)) if base_gaps else "-"
        print(f"mean gap {_pct(sum(gaps) / len(gaps))} (baseline {mean_base}) over {len(gaps)} instances")
    return 0 if all(r.feasible for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
