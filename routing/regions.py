"""Region decomposition: a large plan solved district by district, then the boundary repaired.

At a few thousand visits one search over the whole problem does not get
going on one core (the matrices alone are millions of entries per speed,
and the start plan takes most of the time limit). Split instead:

- districts by k-means on the visits' coordinates (weighted by their work),
  then engineers to districts nearest home first, each district getting a
  share of the engineers in proportion to its work;
- a visit pinned to an engineer, or open only to a few, goes to the district
  of (most of) those engineers;
- each district is its own problem, solved in turn by `solver.solve` with a
  share of the time limit in proportion to its visits (one core);
- the boundary: visits no district served, visits late in their district
  and visits the greedy plan of the whole problem serves on time but the
  districts do not are taken out and put back anywhere in the whole fleet
  where they add least travel, on time if they can be (an engineer across
  the border may be closer or free), each stop keeping its window and
  on-time status (`solver.with_visits_reinserted`).

The result is one plan of the whole problem, as `solver.solve` returns it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np

from routing.greedy import greedy_solve
from routing.model import Problem, Solution
from routing.options import SolveOptions
from routing.repair import breaches
from routing.solver import solve, with_visits_reinserted

# Visits per district when the count is not given.
REGION_VISITS = 500
# The scaling benchmark compares districts with the whole problem from this size on.
REGIONS_FROM_VISITS = 1000
# Share of the time limit kept for the boundary repair (the whole problem's
# node model and the re-insertions: 12 s of 30 at 2,000 visits on a loaded machine).
BOUNDARY_SHARE = 0.35
KMEANS_ROUNDS = 25


@dataclass(frozen=True)
class District:
    engineers: list[int]  # indexes into problem.engineers
    visits: list[int]  # indexes into problem.visits


def district_count(problem: Problem) -> int:
    return max(1, round(len(problem.visits) / REGION_VISITS))


def districts(problem: Problem, count: int) -> list[District]:
    """Visits and engineers split into `count` districts (fewer when there are
    fewer engineers); each district has at least one engineer."""
    count = max(1, min(count, len(problem.engineers), max(1, len(problem.visits))))
    if count == 1 or not problem.visits:
        return [District(list(range(len(problem.engineers))), list(range(len(problem.visits))))]
    visit_xy = _plane([v.point for v in problem.visits])
    work = np.asarray([max(v.duration_s, 1.0) * max(1, v.people_needed) for v in problem.visits])
    centres = _kmeans(visit_xy, work, count)
    home_xy = _plane([e.start for e in problem.engineers])
    of_engineer = _engineers_to_centres(
        home_xy, centres, work, np.argmin(_distances(visit_xy, centres), axis=1)
    )
    _crews_together(problem, of_engineer)
    of_visit = np.argmin(_distances(visit_xy, centres), axis=1)
    by_id = {e.id: d for e, d in zip(problem.engineers, of_engineer.tolist(), strict=True)}
    for i, visit in enumerate(problem.visits):
        who = _only_engineers(visit.pinned_crew, visit.allowed_engineers, by_id)
        if who:
            # Where most of the engineers who may do it are.
            of_visit[i] = max(set(who), key=lambda d: (who.count(d), -d))
    return [
        District(
            [e for e in range(len(problem.engineers)) if of_engineer[e] == d],
            [i for i in range(len(problem.visits)) if of_visit[i] == d],
        )
        for d in range(count)
    ]


def solve_by_regions(
    problem: Problem, options: SolveOptions | None = None, count: int | None = None
) -> Solution:
    """Plan the problem district by district (`districts`), then repair the boundary."""
    options = options or SolveOptions()
    started = time.monotonic()
    deadline = started + options.time_limit_s
    parts = districts(problem, district_count(problem) if count is None else count)
    if len(parts) == 1:
        return solve(problem, options)
    # The rule of thumb over the whole problem says which visits can be on time
    # (see the boundary below); made first, so that its time counts.
    baseline = greedy_solve(problem)
    search_end = deadline - BOUNDARY_SHARE * options.time_limit_s
    plans: list[Solution] = []
    left = sum(len(d.visits) for d in parts)
    for d in parts:
        share = len(d.visits) / max(1, left)
        left -= len(d.visits)
        sub = replace(
            problem,
            engineers=[problem.engineers[e] for e in d.engineers],
            visits=[problem.visits[i] for i in d.visits],
        )
        limit = max(1.0, share * (search_end - time.monotonic()))
        plans.append(solve(sub, replace(options, time_limit_s=limit, progress=None)))
    merged = _side_by_side(plans, started)
    if problem.warehouses:
        return merged  # pick-up stops are not re-timed by the repair: the districts' plans as they are
    boundary = (
        {u.visit_id for u in merged.unassigned}
        | {lv.visit_id for lv in merged.late}
        | breaches(merged, baseline)
    )
    if not boundary:
        return merged
    # Swaps stop a little before the limit, so that the rest is placed and timed in it.
    swap_until = deadline - 0.15 * options.time_limit_s
    repaired = with_visits_reinserted(problem, options, merged, boundary, started, swap_until)
    return replace(repaired, status=merged.status)


def _side_by_side(plans: list[Solution], started: float) -> Solution:
    """The districts' plans as one (their engineers and visits are disjoint)."""
    statuses = {p.status for p in plans}
    return Solution(
        routes=[r for p in plans for r in p.routes],
        unassigned=[u for p in plans for u in p.unassigned],
        late=[lv for p in plans for lv in p.late],
        objective=None if any(p.objective is None for p in plans) else sum(p.objective or 0 for p in plans),
        status="success" if statuses <= {"success", "optimal", "greedy"} else sorted(statuses)[0],
        seconds=time.monotonic() - started,
        solutions_found=sum(p.solutions_found for p in plans),
        changed=[c for p in plans for c in p.changed],
    )


def _crews_together(problem: Problem, of_engineer: np.ndarray) -> None:
    """A pinned joint visit's engineers go to its main engineer's district (apart, neither
    district could serve it), unless that leaves a district with nobody."""
    index = {e.id: k for k, e in enumerate(problem.engineers)}
    for visit in problem.visits:
        crew = [index[e] for e in visit.pinned_crew if e in index]
        for k in crew[1:]:
            if np.count_nonzero(of_engineer == of_engineer[k]) > 1:
                of_engineer[k] = of_engineer[crew[0]]


def _only_engineers(
    pinned: tuple[str, ...], allowed: frozenset[str] | None, district_of: dict[str, int]
) -> list[int]:
    """The districts of the engineers a visit is limited to (empty: anyone may do it)."""
    if pinned:
        return [district_of[e] for e in pinned if e in district_of]
    if allowed is not None:
        return [district_of[e] for e in sorted(allowed) if e in district_of]
    return []


def _plane(points: list[tuple[float, float]]) -> np.ndarray:
    """(lon, lat) as kilometres on a plane through their mean latitude (a city or a region)."""
    arr = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    lat0 = math.radians(float(arr[:, 1].mean())) if len(arr) else 0.0
    return np.column_stack([arr[:, 0] * 111.32 * math.cos(lat0), arr[:, 1] * 110.57])


def _distances(xy: np.ndarray, centres: np.ndarray) -> np.ndarray:
    diff = xy[:, None, :] - centres[None, :, :]
    result: np.ndarray = np.sqrt((diff * diff).sum(axis=2))
    return result


def _kmeans(xy: np.ndarray, weight: np.ndarray, count: int) -> np.ndarray:
    """Weighted k-means, started from the farthest-first points (deterministic)."""
    centres = [xy[int(np.argmax(np.linalg.norm(xy - xy.mean(axis=0), axis=1)))]]
    while len(centres) < count:
        nearest = _distances(xy, np.asarray(centres)).min(axis=1)
        centres.append(xy[int(np.argmax(nearest))])
    c = np.asarray(centres)
    for _ in range(KMEANS_ROUNDS):
        label = np.argmin(_distances(xy, c), axis=1)
        moved = c.copy()
        for d in range(count):
            members = label == d
            if members.any():
                moved[d] = np.average(xy[members], axis=0, weights=weight[members])
        if np.allclose(moved, c):
            break
        c = moved
    return c


def _engineers_to_centres(
    home_xy: np.ndarray, centres: np.ndarray, work: np.ndarray, visit_label: np.ndarray
) -> np.ndarray:
    """Each engineer to a district: quotas in proportion to the districts' work
    (at least one each), filled nearest home first."""
    count, engineers = len(centres), len(home_xy)
    share = np.asarray([work[visit_label == d].sum() for d in range(count)], dtype=np.float64)
    quota = np.maximum(1, np.floor(share / max(share.sum(), 1e-9) * engineers)).astype(int)
    while quota.sum() < engineers:
        quota[int(np.argmax(share / quota))] += 1
    while quota.sum() > engineers:
        quota[int(np.argmax(np.where(quota > 1, quota - share / share.sum() * engineers, -np.inf)))] -= 1
    dist = _distances(home_xy, centres)
    label = np.full(engineers, -1)
    for flat in np.argsort(dist, axis=None, kind="stable").tolist():
        e, d = divmod(flat, count)
        if label[e] < 0 and quota[d] > 0:
            label[e] = d
            quota[d] -= 1
    return label
