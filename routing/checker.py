"""Independent VRPTW solution checker.

Reads the instance text itself and recomputes everything from the numbers in
it, in double precision. It shares no code with the parser or the solver on
purpose: a bug there must not be able to hide here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

_EPS = 1e-9  # float noise only; the solver's rounding must never need more slack


@dataclass
class CheckResult:
    feasible: bool
    cost: float
    vehicles: int
    violations: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Row:
    x: float
    y: float
    demand: float
    ready: float
    due: float
    service: float


def _read(text: str) -> tuple[int, float, list[_Row]]:
    fleet: tuple[int, float] | None = None
    rows: list[_Row] = []
    for line in text.splitlines():
        tokens = line.split()
        try:
            numbers = [float(t) for t in tokens]
        except ValueError:
            continue
        if len(numbers) == 2 and fleet is None:
            fleet = (int(numbers[0]), numbers[1])
        elif len(numbers) == 7:
            if int(numbers[0]) != len(rows):
                raise ValueError(f"customer numbers out of order at {line!r}")
            rows.append(_Row(*numbers[1:]))
    if fleet is None or not rows:
        raise ValueError("not a VRPTW instance")
    return fleet[0], fleet[1], rows


def check_vrptw(instance_text: str, routes: list[list[int]]) -> CheckResult:
    """Check `routes` (customer numbers, depot excluded) against the instance.

    Waiting before a window opens is allowed; every route starts at the depot
    at its ready time and must be back by its due date.
    """
    fleet, capacity, rows = _read(instance_text)
    depot = rows[0]
    violations: list[str] = []

    def dist(a: _Row, b: _Row) -> float:
        return math.hypot(a.x - b.x, a.y - b.y)

    used = [r for r in routes if r]
    if len(used) > fleet:
        violations.append(f"{len(used)} routes but only {fleet} vehicles")

    seen: dict[int, int] = {}
    for number in (n for r in used for n in r):
        seen[number] = seen.get(number, 0) + 1
    for number, count in sorted(seen.items()):
        if not 1 <= number < len(rows):
            violations.append(f"unknown customer {number}")
        elif count > 1:
            violations.append(f"customer {number} visited {count} times")
    missing = [n for n in range(1, len(rows)) if n not in seen]
    if missing:
        violations.append(f"customers never visited: {missing}")

    cost = 0.0
    for k, route in enumerate(used):
        stops = [rows[n] for n in route if 1 <= n < len(rows)]
        load = sum(s.demand for s in stops)
        if load > capacity + _EPS:
            violations.append(f"route {k}: load {load:g} exceeds capacity {capacity:g}")
        here, clock = depot, depot.ready
        for number in route:
            if not 1 <= number < len(rows):
                continue
            stop = rows[number]
            leg = dist(here, stop)
            cost += leg
            start = max(clock + leg, stop.ready)
            if start > stop.due + _EPS:
                violations.append(
                    f"route {k}: customer {number} starts at {start:.4f} after due {stop.due:g}"
                )
            clock = start + stop.service
            here = stop
        leg = dist(here, depot)
        cost += leg
        if clock + leg > depot.due + _EPS:
            violations.append(f"route {k}: back at depot at {clock + leg:.4f} after due {depot.due:g}")

    return CheckResult(feasible=not violations, cost=cost, vehicles=len(used), violations=violations)
