"""Reasons a dispatcher understands, for visits left out or planned late.

Every reason is derived from the problem (skills, stock, shifts, travel
times), never guessed from the solver's output alone.
"""

from __future__ import annotations

from collections.abc import Mapping

from routing.eligibility import (
    Vehicle,
    can_serve,
    engineer_admitted,
    first_start,
    missing_parts,
    pickup_possible,
    skill_problem,
    start_windows,
)
from routing.model import Problem, Visit, Window
from routing.travel import format_clock, speed_factor

# (engineer index) -> (travel seconds from their start to the visit, from the visit to their end)
Reach = Mapping[int, tuple[float, float]]

UNREACHABLE = "no engineer can reach it by road (the road network has no route there)"


def never_s(problem: Problem) -> float:
    """The travel time that stands for "no road": beyond any shift of the horizon."""
    return 10.0 * max(problem.horizon_s, 1.0)


def earliest_start(
    problem: Problem, vehicles: list[Vehicle], visit: Visit, reach: Reach
) -> tuple[float | None, float | None]:
    """Earliest feasible start of service for any eligible engineer on an empty route.

    Returns (earliest feasible start, earliest arrival ignoring windows);
    either is None when no eligible vehicle exists / none fits.
    """
    windows = start_windows(problem, visit)
    best_start: float | None = None
    best_arrival: float | None = None
    via_pickup = pickup_possible(problem, visit)
    for v in vehicles:
        # With a pick-up the detour to the warehouse comes on top: a lower bound.
        if not can_serve(problem, v, visit, via_pickup=via_pickup):
            continue
        to_s, back_s = reach[v.engineer_index]
        # Leaving at the start of the shift, at that hour's speed (rush hours).
        arrival = v.start_s + to_s / speed_factor(problem.travel, v.start_s)
        best_arrival = arrival if best_arrival is None else min(best_arrival, arrival)
        start = first_start(windows, arrival)
        if start is None or start + visit.duration_s + back_s > v.end_s + v.overtime_cap_s:
            continue
        best_start = start if best_start is None else min(best_start, start)
    return best_start, best_arrival


def why_unassigned(problem: Problem, vehicles: list[Vehicle], visit: Visit, reach: Reach) -> str:
    """The first rule that leaves the visit out, checked in order: its windows,
    pins and shifts, the site's admission, skills, parts, roads, people, timing;
    when every rule admits it, the day's capacity was used up by other work."""
    windows = start_windows(problem, visit)
    if not windows:
        return "no start time satisfies its access windows, confirmed appointment and pinned start together"
    usable = _usable_vehicles(problem, vehicles, visit)
    if isinstance(usable, str):
        return usable
    on_shift = _admitted_on_shift(problem, usable, visit)
    if isinstance(on_shift, str):
        return on_shift
    skilled = _skilled(problem, usable, visit, on_shift)
    if isinstance(skilled, str):
        return skilled
    via_pickup = pickup_possible(problem, visit)
    if not via_pickup and all(missing_parts(problem.engineers[e], visit) for e in skilled):
        return _parts_missing(problem, visit, skilled)
    eligible = [v for v in vehicles if can_serve(problem, v, visit, via_pickup=via_pickup)]
    return _no_room(problem, vehicles, visit, reach, windows, eligible)


def _usable_vehicles(problem: Problem, vehicles: list[Vehicle], visit: Visit) -> list[Vehicle] | str:
    """Shifts (and on-call periods for critical work) of the pinned engineer, or
    of everyone; the reason instead when there are none."""
    usable = [v for v in vehicles if not v.on_call or visit.critical]
    ids = {e.id for e in problem.engineers}
    for pinned in visit.pinned_crew:
        if pinned not in ids:
            return f"pinned to engineer {pinned}, who is not in this plan"
        if not any(problem.engineers[v.engineer_index].id == pinned for v in usable):
            return f"pinned to engineer {pinned}, who has no shift in the horizon"
    if visit.pinned_only:
        usable = [v for v in usable if problem.engineers[v.engineer_index].id in visit.pinned_crew]
    return usable


def _admitted_on_shift(problem: Problem, usable: list[Vehicle], visit: Visit) -> list[int] | str:
    """Engineers on shift whom the site admits; the reason instead when there are none."""
    on_shift = sorted({v.engineer_index for v in usable})
    if not on_shift:
        return "no engineer on shift in the horizon"
    admitted = [e for e in on_shift if engineer_admitted(problem.engineers[e], visit)]
    if not admitted:
        if visit.allowed_engineers is not None:
            return "the site admits only engineers who are not on shift: " + ", ".join(
                sorted(visit.allowed_engineers)
            )
        return "every engineer on shift is barred from the site"
    return admitted


def _skilled(problem: Problem, usable: list[Vehicle], visit: Visit, on_shift: list[int]) -> list[int] | str:
    """Engineers holding every skill at its level with licences valid through their
    last shift; the reason instead: the first skill nobody holds (naming expired
    licences), or no one holding them all."""

    def until(e: int) -> float:
        return max(v.end_s + v.overtime_cap_s for v in usable if v.engineer_index == e)

    for name, level in sorted(visit.skills.items()):
        holders = [
            e
            for e in on_shift
            if skill_problem(problem.engineers[e], Visit("", visit.point, 0, {name: level}), until(e)) is None
        ]
        if not holders:
            expired = [
                problem.engineers[e].id
                for e in on_shift
                if (held := problem.engineers[e].skills.get(name)) is not None
                and held[0] >= level
                and held[1] is not None
                and held[1] < until(e)
            ]
            reason = f"no engineer with skill {name} at level {level} on shift"
            if expired:
                reason += f" (licence expired or expiring: {', '.join(expired)})"
            return reason
    skilled = [e for e in on_shift if skill_problem(problem.engineers[e], visit, until(e)) is None]
    if not skilled:
        return "no engineer on shift holds all required skills " + ", ".join(
            f"{n}>={lv}" for n, lv in sorted(visit.skills.items())
        )
    return skilled


def _parts_missing(problem: Problem, visit: Visit, skilled: list[int]) -> str:
    """The parts no skilled engineer's van holds, and no warehouse in reach either."""
    lacking = sorted(
        set.intersection(*(set(missing_parts(problem.engineers[e], visit)) for e in skilled))
    ) or sorted(visit.parts)
    where = "with any qualified engineer"
    if problem.warehouses:
        where = "within reach: in no qualified engineer's van and no warehouse has " + (
            "it" if len(lacking) == 1 else "them all"
        )
    return f"part {', '.join(lacking)} not in stock {where}"


def _no_room(
    problem: Problem,
    vehicles: list[Vehicle],
    visit: Visit,
    reach: Reach,
    windows: list[Window],
    eligible: list[Vehicle],
) -> str:
    """Qualified engineers exist: no road, too few people, no shift for the
    pinned start, no time in the window or shift, or no room left in the day."""
    never = never_s(problem)
    if eligible and all(max(reach.get(v.engineer_index, (never, never))) >= never for v in eligible):
        return UNREACHABLE
    people = len({v.engineer_index for v in eligible})
    if people < visit.people_needed:
        return f"needs {visit.people_needed} engineers at once, only {people} qualified on shift"
    if not eligible:
        return "no qualified engineer has a matching shift for its pinned start"
    best_start, best_arrival = earliest_start(problem, vehicles, visit, reach)
    if best_start is None:
        closes = windows[-1][1]
        if best_arrival is not None and best_arrival > closes:
            return (
                "no qualified engineer can reach it in its window: nearest could arrive at "
                f"{format_clock(best_arrival)}, window closes {format_clock(closes)}"
            )
        return "no qualified engineer could do it and get back within their shift"
    if visit.people_needed > 1:
        return (
            f"needs {visit.people_needed} engineers at the same time and they could not be "
            "brought together around their other work"
        )
    return (
        f"capacity of the day exhausted: all {people} qualified engineers are fully booked "
        "with more urgent or nearer work"
    )


def why_late(
    problem: Problem, vehicles: list[Vehicle], visit: Visit, reach: Reach, planned_start_s: float
) -> str:
    assert visit.deadline_s is not None
    deadline = visit.deadline_s
    late_min = (planned_start_s - deadline) / 60.0
    best_start, best_arrival = earliest_start(problem, vehicles, visit, reach)
    if best_arrival is not None and best_arrival >= never_s(problem):
        return f"no engineer can reach it by road before its deadline {format_clock(deadline)}"
    if best_arrival is not None and best_arrival > deadline:
        return (
            f"no engineer can reach it before its deadline {format_clock(deadline)}: "
            f"nearest could arrive at {format_clock(best_arrival)}"
        )
    if best_start is not None and best_start > deadline:
        return (
            f"its access window opens only at {format_clock(best_start)}, "
            f"after its deadline {format_clock(deadline)}"
        )
    return (
        f"qualified engineers are busy with more urgent work until then: starts "
        f"{format_clock(planned_start_s)}, {late_min:.0f} min after its deadline "
        f"{format_clock(deadline)}"
    )
