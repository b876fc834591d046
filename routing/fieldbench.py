"""Field-service benchmark: `python -m routing.fieldbench [--visits N] [--engineers M] [--time-limit S]
[--seed S] [--workers W] [--json] [--scale 250,500,1000,2000]`.

Builds the seeded scenario of `routing.scenario` (1,000 visits, 100
engineers, 48 h by default), plans it with the greedy baseline of
`routing.greedy` and with the product solver in the same process, checks
both plans with the independent check of `routing.plan_check`, and prints solve time, visits
assigned, SLA breaches, travel per assigned visit and peak memory, with the
ratios against the baseline. Then it measures emergency insertion at that
size: the solver's plan becomes the current routes, and urgent visits are
inserted one at a time with `routing.insertion.best_insertion`. Last, a
warm-start re-plan: five visits cancelled and five urgent ones added, solved
from the solver's plan with a 10 s limit. `--scale` prints one row per size
instead (one engineer per ten visits), solver beside greedy, and from 1,000
visits on a second row planned by districts (`routing.regions`).

The product solver is `routing.solver.solve`, the entry point plans use
(`--workers 1`, the default); `--workers 2` runs `routing.portfolio.solve_portfolio`,
two search set-ups on two cores with the better plan kept.

Peak memory is `getrusage`'s maximum resident set size: of this process
after each step (so the solver's figure includes everything before it), and
of the portfolio's worker processes when there are any.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

from routing.greedy import greedy_solve
from routing.insertion import CurrentRoute, PlannedStop, best_insertion
from routing.model import Problem, Solution
from routing.options import SolveOptions
from routing.plan_check import TOLERANCE_S, Check, check_plan
from routing.portfolio import solve_portfolio
from routing.regions import REGIONS_FROM_VISITS, district_count, solve_by_regions
from routing.scenario import EPOCH_SECOND_OF_DAY, field_scenario, urgent_visits
from routing.solver import solve
from routing.travel import format_clock

# Emergencies arrive at 09:00 on day 1, an hour into the first shift.
EMERGENCY_AT_S = 9 * 3600 - EPOCH_SECOND_OF_DAY


# -- emergency insertion ---------------------------------------------------------


@dataclass
class InsertionBench:
    visits: int
    placed: int
    median_ms: float
    max_ms: float
    now: str


def current_routes(problem: Problem, solution: Solution, now_s: float) -> list[CurrentRoute]:
    """The plan as current routes at `now_s`: one per engineer, both shifts, past stops locked."""
    visits = {v.id: v for v in problem.visits}
    stops: dict[str, list[PlannedStop]] = {e.id: [] for e in problem.engineers}
    for route in solution.routes:
        for s in route.stops:
            v = visits[s.visit_id]
            latest: float | None = None
            if v.windows:
                latest = max((b for a, b in v.windows if a <= s.start_s <= b + TOLERANCE_S), default=None)
            if v.confirmed and v.appointment is not None:
                latest = v.appointment[1] if latest is None else min(latest, v.appointment[1])
            stops[route.engineer_id].append(
                PlannedStop(v.id, v.point, s.start_s, v.duration_s, latest, locked=s.start_s < now_s)
            )
    return [CurrentRoute(e, e.start, sorted(stops[e.id], key=lambda p: p.start_s)) for e in problem.engineers]


def insertion_latency(problem: Problem, solution: Solution, count: int, seed: int) -> InsertionBench:
    """Insert `count` urgent visits one after another; time each `best_insertion` call."""
    routes = current_routes(problem, solution, EMERGENCY_AT_S)
    by_engineer = {r.engineer.id: r for r in routes}
    latencies: list[float] = []
    placed = 0
    for visit in urgent_visits(count, seed, EMERGENCY_AT_S):
        started = time.perf_counter()
        found = best_insertion(routes, visit, problem.travel, now_s=EMERGENCY_AT_S)
        latencies.append(1000 * (time.perf_counter() - started))
        if found is None:
            continue
        placed += 1
        route = by_engineer[found.engineer_id]
        new_starts = dict(found.shifted)
        for stop in route.stops:
            stop.start_s = new_starts.get(stop.visit_id, stop.start_s)
        route.stops.insert(
            found.position, PlannedStop(visit.id, visit.point, found.start_s, visit.duration_s, None)
        )
    return InsertionBench(
        count,
        placed,
        round(statistics.median(latencies), 2) if latencies else 0.0,
        round(max(latencies), 2) if latencies else 0.0,
        f"{format_clock(EMERGENCY_AT_S + EPOCH_SECOND_OF_DAY)} local",
    )


# -- warm-start re-plan ------------------------------------------------------------

# A handful of changes between two plans: this many visits cancelled and as
# many urgent ones added.
REPLAN_CHANGES = 5
REPLAN_LIMIT_S = 10.0


def replan_changes(problem: Problem, seed: int) -> Problem:
    """The problem after a handful of changes: the first `REPLAN_CHANGES` visits
    (by id) cancelled, as many urgent ones (on site within 4 h of 09:00) added."""
    cancelled = set(sorted(v.id for v in problem.visits)[:REPLAN_CHANGES])
    kept = [v for v in problem.visits if v.id not in cancelled]
    added = [replace(v, id=f"R{v.id}") for v in urgent_visits(REPLAN_CHANGES, seed + 1, EMERGENCY_AT_S)]
    return replace(problem, visits=kept + added)


def replan(
    problem: Problem, solution: Solution, seed: int, time_limit_s: float
) -> tuple[Row, dict[str, int]]:
    """Re-plan after `replan_changes`, started from `solution` (what is planned
    now, less the cancelled visits); returns the plan's row and how many visits
    it moved to another engineer."""
    changed = replan_changes(problem, seed)
    ids = {v.id for v in changed.visits}
    current = {
        (r.engineer_id, r.shift_index): [s.visit_id for s in r.stops if s.is_visit and s.visit_id in ids]
        for r in solution.routes
    }
    started = time.perf_counter()
    plan = solve(changed, SolveOptions(time_limit_s=time_limit_s), current)
    seconds = time.perf_counter() - started
    row, _ = _row("re-plan", changed, plan, seconds, _peak_rss_mib())
    before = {s.visit_id: r.engineer_id for r in solution.routes for s in r.stops if s.is_visit}
    after = {s.visit_id: r.engineer_id for r in plan.routes for s in r.stops if s.is_visit}
    moved = sum(1 for v, e in after.items() if v in before and before[v] != e)
    added = sum(1 for v in after if v.startswith("R"))
    return row, {"moved": moved, "added_placed": added, "added": REPLAN_CHANGES}


# -- the run ---------------------------------------------------------------------


@dataclass
class Row:
    name: str
    seconds: float
    assigned: int
    late: int
    missed: int
    travel_per_visit_min: float | None
    peak_rss_mib: float
    feasible: bool
    problems: list[str] = field(default_factory=list)


def _peak_rss_mib(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0  # KiB on Linux


def _row(name: str, problem: Problem, solution: Solution, seconds: float, rss: float) -> tuple[Row, Check]:
    check = check_plan(problem, solution)
    tpv = check.travel_per_visit_min
    row = Row(
        name,
        round(seconds, 3),
        check.assigned,
        len(check.late),
        len(check.missed),
        None if tpv is None else round(tpv, 2),
        round(rss, 1),
        check.feasible,
        check.problems[:10],
    )
    return row, check


def run(
    visits: int,
    engineers: int,
    time_limit_s: float,
    seed: int,
    workers: int = 1,
    urgent: int = 20,
    log: Callable[[str], None] | None = None,
    with_replan: bool = True,
    regions: bool = False,
) -> dict[str, object]:
    say = log or (lambda _msg: None)
    problem = field_scenario(visits, engineers, seed)
    say(f"scenario: {visits} visits, {engineers} engineers, seed {seed}")

    started = time.perf_counter()
    greedy = greedy_solve(problem)
    greedy_s = time.perf_counter() - started
    greedy_row, greedy_check = _row("greedy", problem, greedy, greedy_s, _peak_rss_mib())
    say(f"greedy: {greedy_s:.2f} s")

    options = SolveOptions(time_limit_s=time_limit_s)
    say(f"solver: {'solve' if workers <= 1 else f'solve_portfolio x{workers}'}, {time_limit_s:g} s limit")
    started = time.perf_counter()
    if regions:
        product = solve_by_regions(problem, options)
        entry = f"routing.regions.solve_by_regions ({district_count(problem)} districts)"
    elif workers <= 1:
        product = solve(problem, options)
        entry = "routing.solver.solve"
    else:
        product, variant = solve_portfolio(problem, options, workers)
        entry = f"routing.portfolio.solve_portfolio (workers={workers}, best variant {variant})"
    solver_s = time.perf_counter() - started
    rss = max(_peak_rss_mib(), _peak_rss_mib(resource.RUSAGE_CHILDREN))
    solver_row, solver_check = _row("solver", problem, product, solver_s, rss)
    say(f"solver: {solver_s:.2f} s")

    insertion = insertion_latency(problem, product, urgent, seed)
    replan_result: dict[str, object] | None = None
    if with_replan:
        replan_row, replan_counts = replan(problem, product, seed, min(REPLAN_LIMIT_S, time_limit_s))
        replan_result = {**asdict(replan_row), **replan_counts}
        say(f"re-plan: {replan_row.seconds:.2f} s")
    avoided = sorted((solver_check.late | solver_check.missed) - (greedy_check.late | greedy_check.missed))
    return {
        "visits": visits,
        "engineers": engineers,
        "shifts": sum(len(e.shifts) for e in problem.engineers),
        "seed": seed,
        "time_limit_s": time_limit_s,
        "solver": entry,
        "solver_status": product.status,
        "solver_solutions": product.solutions_found,
        "machine": machine(),
        "rows": [asdict(greedy_row), asdict(solver_row)],
        "breaches_baseline_avoids": len(avoided),
        "breaches_baseline_avoids_ids": avoided[:20],
        "insertion": asdict(insertion),
        "replan": replan_result,
    }


def machine() -> str:
    import ortools

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{platform.system()} {platform.machine()}, {cores} cores, Python {platform.python_version()}, "
        f"OR-Tools {ortools.__version__}"
    )


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:.3f}"


def render(result: dict[str, object]) -> str:
    rows = result["rows"]
    assert isinstance(rows, list)
    g, s = rows
    ins = result["insertion"]
    assert isinstance(ins, dict)

    def fmt(x: object) -> str:
        if x is None:
            return "-"
        if isinstance(x, bool):
            return "yes" if x else "no"
        if isinstance(x, float):
            return f"{x:.2f}"
        return str(x)

    lines = [
        f"field-service benchmark: {result['visits']} visits, {result['engineers']} engineers "
        f"({result['shifts']} shifts), 48 h, seed {result['seed']}, time limit {result['time_limit_s']} s",
        f"solver: {result['solver']} (status {result['solver_status']}, "
        f"{result['solver_solutions']} solutions)",
        f"machine: {result['machine']}",
        "",
        f"{'':<34}{'greedy':>10}{'solver':>10}{'solver/greedy':>15}",
    ]
    metrics = [
        ("solve time (s)", "seconds"),
        ("visits assigned", "assigned"),
        ("SLA breaches (late visits)", "late"),
        ("deadline visits left unassigned", "missed"),
        ("travel per assigned visit (min)", "travel_per_visit_min"),
        ("peak RSS (MiB)", "peak_rss_mib"),
        ("feasible", "feasible"),
    ]
    for label, key in metrics:
        ratio = "" if key == "feasible" else _ratio(s[key], g[key])
        lines.append(f"{label:<34}{fmt(g[key]):>10}{fmt(s[key]):>10}{ratio:>15}")
    if g["travel_per_visit_min"] and s["travel_per_visit_min"]:
        less = 100 * (1 - s["travel_per_visit_min"] / g["travel_per_visit_min"])
        lines.append(
            f"travel per assigned visit vs baseline: {less:.1f} % less"
            if less >= 0
            else f"travel per assigned visit vs baseline: {-less:.1f} % more"
        )
    lines.append(f"SLA breaches (late or missed) the baseline avoids: {result['breaches_baseline_avoids']}")
    lines.append(
        f"emergency insertion at {ins['now']}: {ins['visits']} urgent visits one at a time, "
        f"median {ins['median_ms']:.1f} ms, max {ins['max_ms']:.1f} ms, "
        f"placed {ins['placed']}/{ins['visits']}"
    )
    rp = result.get("replan")
    if isinstance(rp, dict):
        lines.append(
            f"warm-start re-plan after {rp['added']} visits cancelled and {rp['added']} urgent added: "
            f"{rp['seconds']:.1f} s, {rp['assigned']} assigned ({rp['added_placed']}/{rp['added']} new), "
            f"{rp['late']} late, {fmt(rp['travel_per_visit_min'])} min travel per visit, "
            f"{rp['moved']} moved to another engineer, feasible {fmt(rp['feasible'])}"
        )
    for row in (g, s):
        for problem in row["problems"]:
            lines.append(f"  {row['name']} infeasible: {problem}")
    return "\n".join(lines)


def scaling(sizes: list[int], time_limit_s: float, seed: int, log: Callable[[str], None] | None) -> str:
    """One row per size: visits, engineers in proportion (one per ten visits),
    greedy and solver side by side; from `REGIONS_FROM_VISITS` visits on, a
    second row solved by districts (`routing.regions`)."""
    lines = [
        f"{'visits':>6} {'eng':>4} {'plan':>7} {'secs':>6} {'assigned':>13} {'late':>11} {'travel/visit':>13}"
        f" {'less':>6} {'extra':>5} {'MiB':>5}",
    ]
    for visits in sizes:
        for by_regions in (False, True) if visits >= REGIONS_FROM_VISITS else (False,):
            r = run(
                visits,
                max(1, visits // 10),
                time_limit_s,
                seed,
                urgent=0,
                log=log,
                with_replan=False,
                regions=by_regions,
            )
            lines.append(_scale_row(r, "regions" if by_regions else "whole"))
    lines.append(
        "solver/greedy; extra: breaches the greedy plan avoids; less: travel per assigned visit vs greedy;"
        " plan: one search over the whole problem, or districts solved in turn and the boundary repaired"
    )
    return "\n".join(lines)


def _scale_row(r: dict[str, object], plan: str) -> str:
    rows = r["rows"]
    assert isinstance(rows, list)
    g, s = rows
    less = (
        f"{100 * (1 - s['travel_per_visit_min'] / g['travel_per_visit_min']):.1f}%"
        if g["travel_per_visit_min"] and s["travel_per_visit_min"]
        else "-"
    )
    return (
        f"{r['visits']!s:>6} {r['engineers']!s:>4} {plan:>7} {s['seconds']:>6.1f}"
        f" {s['assigned']:>6}/{g['assigned']:<6} {s['late']:>5}/{g['late']:<5}"
        f" {s['travel_per_visit_min']!s:>6}/{g['travel_per_visit_min']!s:<6}"
        f" {less:>6} {r['breaches_baseline_avoids']!s:>5} {s['peak_rss_mib']:>5.0f}"
        + ("" if s["feasible"] and g["feasible"] else "  INFEASIBLE")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m routing.fieldbench", description=__doc__.split("\n\n")[1]
    )
    parser.add_argument("--visits", type=int, default=1000)
    parser.add_argument("--engineers", type=int, default=100)
    parser.add_argument("--time-limit", type=float, default=30.0, help="solver seconds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--workers", type=int, default=1, help="1: routing.solver.solve; 2+: the portfolio on that many cores"
    )
    parser.add_argument("--urgent", type=int, default=20, help="emergency visits to insert")
    parser.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    parser.add_argument(
        "--scale",
        type=lambda text: [int(x) for x in text.split(",")],
        default=None,
        help="visit counts, e.g. 250,500,1000,2000 (one engineer per ten visits): the scaling table",
    )
    args = parser.parse_args(argv)
    log = None if args.json else (lambda msg: print(msg, file=sys.stderr, flush=True))
    if args.scale:
        print(scaling(args.scale, args.time_limit, args.seed, log), flush=True)
        return 0
    result = run(args.visits, args.engineers, args.time_limit, args.seed, args.workers, args.urgent, log)
    print(json.dumps(result) if args.json else render(result), flush=True)
    rows = result["rows"]
    assert isinstance(rows, list)
    return 0 if all(r["feasible"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
