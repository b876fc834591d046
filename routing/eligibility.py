"""Who may do which visit, and when: the hard rules that need no search.

The solver turns these into allowed-vehicle sets and cumul ranges; the
explanations use the same rules to say why a visit stayed unassigned.
"""

from __future__ import annotations

from dataclasses import dataclass

from routing.model import Engineer, Problem, Visit, Window


@dataclass(frozen=True)
class Vehicle:
    """One working period of one engineer: the solver's vehicle."""

    engineer_index: int
    shift_index: int
    start_s: float
    end_s: float
    overtime_cap_s: float
    on_call: bool


def vehicles_of(problem: Problem) -> list[Vehicle]:
    out: list[Vehicle] = []
    for e_index, engineer in enumerate(problem.engineers):
        periods = [(w, False) for w in engineer.shifts]
        if engineer.on_call:
            periods += [(w, True) for w in engineer.on_call_shifts]
        for s_index, ((start, end), on_call) in enumerate(periods):
            start, end = max(0.0, start), min(problem.horizon_s, end)
            if end <= start:
                continue
            # Overtime past the horizon would be work nobody planned for.
            cap = max(0.0, min(engineer.overtime_cap_s, problem.horizon_s - end))
            out.append(Vehicle(e_index, s_index, start, end, cap, on_call))
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


def missing_parts(engineer: Engineer, visit: Visit) -> frozenset[str]:
    return visit.parts - engineer.parts


def can_serve(problem: Problem, vehicle: Vehicle, visit: Visit) -> bool:
    engineer = problem.engineers[vehicle.engineer_index]
    if visit.pinned_engineer is not None and visit.pinned_engineer != engineer.id:
        return False
    if vehicle.on_call and not visit.critical:
        return False
    if skill_problem(engineer, visit, vehicle.end_s + vehicle.overtime_cap_s) is not None:
        return False
    if missing_parts(engineer, visit):
        return False
    if visit.already_started and visit.pinned_start_s is not None:
        return vehicle.start_s <= visit.pinned_start_s <= vehicle.end_s + vehicle.overtime_cap_s
    return True


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
    windows = _intersect(windows, [(0.0, problem.horizon_s)])
    return _merge(windows)


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
