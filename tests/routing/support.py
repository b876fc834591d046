"""Builders and checks shared by the routing tests.

Small problems on a plane (coordinates in metres, 10 m/s), runs bounded by
solution counts rather than wall time (so results do not depend on machine
load), where each visit went, and the hard rules every plan must keep.
"""

from __future__ import annotations

from pathlib import Path

from routing.model import Engineer, Problem, Solution, Visit
from routing.options import SolveOptions
from routing.travel import EuclideanTravelTime

# Standard VRPTW instances kept beside the tests (see instances/README.md).
INSTANCES = Path(__file__).resolve().parent / "instances"
H = 3600.0
DAY = (8 * H, 17 * H)
PLANE = EuclideanTravelTime(speed=10.0)  # coordinates in metres, 10 m/s

# A Solomon-format instance small enough to check by hand: depot at the
# origin, customers on the axes, 10 units away.
TINY_VRPTW = """TINY

VEHICLE
NUMBER     CAPACITY
   2          15

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

    0       0          0          0          0        100          0
    1      10          0          5         10         20          5
    2      10         10          5          0         40          5
    3       0         10         10          0         30          5
"""


def opts(**kw: object) -> SolveOptions:
    """Options for a test run: 200 solutions at most, 30 s only as a safety net."""
    base: dict[str, object] = {"time_limit_s": 30.0, "solution_limit": 200}
    base.update(kw)
    return SolveOptions(**base)  # type: ignore[arg-type]


def problem(engineers: list[Engineer], visits: list[Visit], **kw: object) -> Problem:
    """A problem on the plane."""
    return Problem(engineers=engineers, visits=visits, travel=PLANE, **kw)  # type: ignore[arg-type]


def stop_of(sol: Solution, visit_id: str) -> tuple[str, float]:
    """(engineer, start) of the visit's first visit stop (pick-ups aside)."""
    for r in sol.routes:
        for s in r.stops:
            if s.visit_id == visit_id and s.is_visit:
                return r.engineer_id, s.start_s
    raise AssertionError(f"{visit_id} not routed")


def planned(sol: Solution) -> dict[str, list[tuple[str, float]]]:
    """Visit id -> (engineer, start) of every stop that serves it."""
    out: dict[str, list[tuple[str, float]]] = {}
    for r in sol.routes:
        for s in r.stops:
            out.setdefault(s.visit_id, []).append((r.engineer_id, s.start_s))
    return out


def assert_shifts_and_windows(p: Problem, sol: Solution) -> None:
    """Routes inside their shifts plus overtime cap, stops in order, visits inside their windows."""
    by_id = {v.id: v for v in p.visits}
    engineers = {e.id: e for e in p.engineers}
    for r in sol.routes:
        e = engineers[r.engineer_id]
        assert r.shift[0] - 1e-6 <= r.depart_s
        assert r.return_s <= r.shift[1] + e.overtime_cap_s + 1e-6
        prev_end = r.depart_s
        for s in r.stops:
            v = by_id[s.visit_id]
            assert s.arrival_s >= prev_end - 1e-6
            assert s.start_s >= s.arrival_s - 1e-6
            if v.windows and s.is_visit:
                assert any(a - 1e-6 <= s.start_s <= b + 1e-6 for a, b in v.windows)
            prev_end = s.end_s


def assert_hard_rules(p: Problem, sol: Solution) -> None:
    """Shifts and windows, and: routes on the engineer's own shifts, skills at level
    and valid until the work is done, parts in the van, confirmed appointments,
    joint visits by distinct engineers starting together, every visit either
    planned or listed unassigned."""
    assert_shifts_and_windows(p, sol)
    visits = {v.id: v for v in p.visits}
    engineers = {e.id: e for e in p.engineers}
    for r in sol.routes:
        e = engineers[r.engineer_id]
        assert tuple(r.shift) in {tuple(w) for w in e.shifts}
        for s in r.stops:
            v = visits[s.visit_id]
            for name, need in v.skills.items():
                level, until = e.skills[name]
                assert level >= need
                assert until is None or until >= s.end_s
            assert v.parts <= e.parts
            if v.confirmed and v.appointment:
                assert v.appointment[0] <= s.start_s <= v.appointment[1]
    for v_id, stops in planned(sol).items():
        v = visits[v_id]
        assert len(stops) == v.people_needed
        assert len({e for e, _ in stops}) == v.people_needed
        assert len({round(t) for _, t in stops}) == 1
    assert set(planned(sol)) | {u.visit_id for u in sol.unassigned} == set(visits)
    assert not set(planned(sol)) & {u.visit_id for u in sol.unassigned}
