"""Who may do which visit, and when: the hard rules that need no search.

The solver turns these into allowed-vehicle sets and cumul ranges; the
explanations use the same rules to say why a visit stayed unassigned.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from routing.model import Engineer, Problem, Visit, Window

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Vehicle:
    """One working period of one engineer: the solver's vehicle."""

    engineer_index: int
    shift_index: int
    start_s: float
    end_s: float
    overtime_cap_s: float
    on_call: bool
    # Several shifts of an engineer who stays away overnight, as one vehicle:
    # (shift index, start, end) per day; the nights between are breaks.
    days: tuple[tuple[int, float, float], ...] = ()

    @property
    def breaks(self) -> list[Window]:
        return [(a[2], b[1]) for a, b in itertools.pairwise(self.days)]


def day_of(vehicle: Vehicle, start_s: float) -> int:
    """Which of the vehicle's days a stop starting at `start_s` belongs to."""
    day = 0
    for d, (_, lo, _) in enumerate(vehicle.days):
        if d and start_s >= lo:
            day = d
    return day


def standby_periods(engineer: Engineer, visit: Visit) -> list[Window]:
    """The engineer's standby periods open to the visit: only while they are on the rota, and only
    for critical work or work that cannot wait for the next regular shift (`Visit.critical`; the
    solver's vehicles follow the same rule in `can_serve`)."""
    return engineer.on_call_shifts if engineer.on_call and visit.critical else []


def vehicles_of(problem: Problem) -> list[Vehicle]:
    out: list[Vehicle] = []
    for e_index, engineer in enumerate(problem.engineers):
        periods = [(w, False) for w in engineer.shifts]
        if engineer.on_call:
            periods += [(w, True) for w in engineer.on_call_shifts]
        days: list[tuple[int, float, float]] = []
        per_shift = engineer.overtime_cap_s
        if engineer.overtime_left_month_s is not None:
            per_shift = min(per_shift, max(0.0, engineer.overtime_left_month_s))
        for s_index, ((start, end), on_call) in enumerate(periods):
            start, end = max(0.0, start), min(problem.horizon_s, end)
            overtime_now = end == 0.0 and engineer.overtime_now_s is not None and not on_call
            if end <= start and not overtime_now:
                continue
            if engineer.stays_away and not on_call and not overtime_now:
                days.append((s_index, start, end))
                continue
            # Overtime past the horizon would be work nobody planned for; a standby period has
            # none: the engineer rests after the night and the day shift takes over at its end.
            cap = (
                0.0
                if on_call
                else max(0.0, min(per_shift, problem.horizon_s - end, engineer.overtime_cap_after(end)))
            )
            out.append(Vehicle(e_index, s_index, start, end, cap, on_call))
        if days:
            days.sort(key=lambda d: d[1])
            end = days[-1][2]
            cap = max(0.0, min(per_shift, problem.horizon_s - end, engineer.overtime_cap_after(end)))
            out.append(Vehicle(e_index, days[0][0], days[0][1], end, cap, False, tuple(days)))
    return out


def per_shift(vehicles: list[Vehicle]) -> list[Vehicle]:
    """Vehicles with nights away split back into one per shift, each from home:
    for the baseline and the start heuristic, which do not model nights away."""
    out: list[Vehicle] = []
    for v in vehicles:
        if not v.days:
            out.append(v)
            continue
        for d, (shift_index, start, end) in enumerate(v.days):
            cap = v.overtime_cap_s if d == len(v.days) - 1 else 0.0
            out.append(Vehicle(v.engineer_index, shift_index, start, end, cap, False))
    return out


def skill_problem(engineer: Engineer, visit: Visit, until_s: float) -> str | None:
    """The first required skill the engineer lacks, as a phrase, or None."""
    for name, min_level in sorted(visit.skills.items()):
        held = engineer.skills.get(name)
        if held is None:
            return f"lacks skill {name}"
        level, valid_until = held
        if level < min_level:
            return f"has {name} at level {level}, needs {min_level}"
        # A licence must cover the whole working period: a visit may land at its end.
        if valid_until is not None and valid_until < until_s:
            return f"skill {name} expires before the end of the shift"
    return None


def engineer_admitted(engineer: Engineer, visit: Visit) -> bool:
    """The site's whitelist and the list of barred engineers, both hard."""
    if engineer.id in visit.barred_engineers:
        return False
    return visit.allowed_engineers is None or engineer.id in visit.allowed_engineers


def missing_parts(engineer: Engineer, visit: Visit) -> frozenset[str]:
    return visit.parts - engineer.parts


def stocking_warehouses(problem: Problem, visit: Visit) -> list[int]:
    """Warehouses that hold every part of the visit (one pick-up covers them all)."""
    if not visit.parts:
        return []
    return [w for w, house in enumerate(problem.warehouses) if visit.parts <= house.stock]


def pickup_possible(problem: Problem, visit: Visit) -> bool:
    """Whether a van short of the visit's parts may fetch them on the way: single-engineer
    visits not yet started, with a warehouse that has them all."""
    return (
        bool(visit.parts)
        and visit.people_needed <= 1
        and not visit.already_started
        and bool(stocking_warehouses(problem, visit))
    )


def can_serve(problem: Problem, vehicle: Vehicle, visit: Visit, *, via_pickup: bool = False) -> bool:
    """Whether the vehicle may serve the visit; with `via_pickup`, parts missing from
    the van do not rule it out (they are fetched from a warehouse on the way)."""
    engineer = problem.engineers[vehicle.engineer_index]
    if not visit.pin_allows(engineer.id):
        return False
    if not engineer_admitted(engineer, visit):
        return False
    if vehicle.on_call and not visit.critical:
        return False
    if skill_problem(engineer, visit, vehicle.end_s + vehicle.overtime_cap_s) is not None:
        return False
    if missing_parts(engineer, visit) and not via_pickup:
        return False
    if visit.already_started and visit.pinned_start_s is not None:
        return vehicle.start_s <= visit.pinned_start_s <= vehicle.end_s + vehicle.overtime_cap_s
    return True


def serving_vehicles(
    problem: Problem, vehicles: Sequence[Vehicle], visits: Sequence[Visit]
) -> list[list[int]]:
    """For each visit, the vehicles that may serve it from the van: `can_serve`
    for every pair, with the vehicles' skills, parts and shifts as arrays (at
    2,000 visits x 400 engineer-shifts the pair by pair check took seconds)."""
    if not vehicles:
        return [[] for _ in visits]
    engineers = [problem.engineers[v.engineer_index] for v in vehicles]
    until = np.asarray([v.end_s + v.overtime_cap_s for v in vehicles])
    start = np.asarray([v.start_s for v in vehicles])
    on_call = np.asarray([v.on_call for v in vehicles])
    engineer_of = np.asarray([v.engineer_index for v in vehicles])
    index_of = {e.id: i for i, e in enumerate(problem.engineers)}
    level: dict[str, tuple[FloatArray, FloatArray]] = {}
    for name in {n for v in visits for n in v.skills}:
        held = [e.skills.get(name) for e in engineers]
        level[name] = (
            np.asarray([-np.inf if h is None else float(h[0]) for h in held]),
            np.asarray([np.inf if h is None or h[1] is None else float(h[1]) for h in held]),
        )
    has_part = {
        part: np.asarray([part in e.parts for e in engineers])
        for part in {p for v in visits for p in v.parts}
    }
    out: list[list[int]] = []
    for visit in visits:
        ok = np.ones(len(vehicles), dtype=bool)
        if visit.pinned_only:
            ok &= np.isin(engineer_of, [index_of.get(e, -1) for e in visit.pinned_crew])
        if visit.allowed_engineers is not None:
            ok &= np.isin(engineer_of, [index_of[e] for e in visit.allowed_engineers if e in index_of])
        if visit.barred_engineers:
            ok &= ~np.isin(engineer_of, [index_of[e] for e in visit.barred_engineers if e in index_of])
        if not visit.critical:
            ok &= ~on_call
        for name, min_level in visit.skills.items():
            levels, valid_until = level[name]
            ok &= (levels >= min_level) & (valid_until >= until)
        for part in visit.parts:
            ok &= has_part[part]
        if visit.already_started and visit.pinned_start_s is not None:
            ok &= (start <= visit.pinned_start_s) & (visit.pinned_start_s <= until)
        out.append(np.flatnonzero(ok).tolist())
    return out


def start_windows(problem: Problem, visit: Visit) -> list[Window]:
    """Hard windows for the start of service, sorted, disjoint, inside the horizon.

    Empty when the constraints contradict each other.
    """
    windows = list(visit.windows) or [(0.0, problem.horizon_s)]
    if visit.appointment is not None and visit.confirmed:
        windows = _intersect(windows, [visit.appointment])
    if visit.pinned_start_s is not None:
        p = visit.pinned_start_s
        windows = _intersect(windows, [(p, p)])
    elif not visit.already_started:
        # A part's ETA, and registration with the site ahead of the visit.
        not_before = max(visit.earliest_start_s or 0.0, problem.now_s + visit.registration_lead_s)
        if not_before > 0:
            windows = _intersect(windows, [(not_before, max(not_before, problem.horizon_s))])
    windows = _intersect(windows, [(0.0, problem.horizon_s)])
    return _merge(windows)


def first_start(windows: list[Window], not_before: float) -> float | None:
    """The earliest start inside sorted `windows` at or after `not_before`; None if none."""
    for lo, hi in windows:
        if not_before <= hi:
            return max(lo, not_before)
    return None


def _intersect(a: list[Window], b: list[Window]) -> list[Window]:
    out = []
    for a0, a1 in a:
        for b0, b1 in b:
            lo, hi = max(a0, b0), min(a1, b1)
            if lo <= hi:
                out.append((lo, hi))
    return out


def _merge(windows: list[Window]) -> list[Window]:
    merged: list[Window] = []
    for lo, hi in sorted(windows):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged
