"""A due window's end as a soft bound priced per day late, and a drop cost of its own: the terms
preventive inspections plan with. Such a visit yields to a repair's deadline, is served late
when that costs less than leaving it out, and is left out (with a reason) when it does not."""

from __future__ import annotations

from routing.model import Engineer, Visit
from routing.solver import solve
from tests.routing.support import DAY, H, opts, problem, stop_of


def _engineer() -> Engineer:
    return Engineer(id="e1", start=(0.0, 0.0), shifts=[DAY])


def _inspection(due_by_s: float, drop_cost_s: float, *, at: tuple[float, float] = (3000.0, 0.0)) -> Visit:
    return Visit(
        id="inspection",
        point=at,
        duration_s=2 * H,
        due_by_s=due_by_s,
        late_cost_per_day=86400.0,
        drop_cost_s=drop_cost_s,
    )


def test_an_inspection_yields_to_a_repair_deadline_and_is_served_late_after_it() -> None:
    # The inspection is on the way and due first; serving it first would make the repair
    # (deadline 10:00, 5 min beyond it) late.
    repair = Visit(id="repair", point=(6000.0, 0.0), duration_s=1.5 * H, deadline_s=10 * H, priority=8)
    sol = solve(problem([_engineer()], [_inspection(9 * H, 7200.0), repair]), opts())
    _, repair_start = stop_of(sol, "repair")
    _, inspection_start = stop_of(sol, "inspection")
    assert repair_start <= 10 * H
    assert inspection_start > repair_start  # late for its window, still done: cheaper than leaving it
    assert sol.late == []  # a due window missed is not an SLA breach


def test_an_inspection_whose_lateness_costs_more_than_leaving_it_is_left_out_with_a_reason() -> None:
    repair = Visit(id="repair", point=(6000.0, 0.0), duration_s=5 * H, deadline_s=9 * H, priority=8)
    # Only after the repair (13:10) could it start: over 4 h late, against 1 h of travel to leave it ...
    sol = solve(problem([_engineer()], [_inspection(9 * H, 3600.0), repair]), opts())
    assert stop_of(sol, "repair")[1] <= 9 * H
    (left,) = sol.unassigned
    assert left.visit_id == "inspection"
    assert left.reason
    # ... and served after the repair when leaving it out costs more than those hours.
    sol = solve(problem([_engineer()], [_inspection(9 * H, 6 * H), repair]), opts())
    assert stop_of(sol, "inspection")[1] > stop_of(sol, "repair")[1]
    assert sol.unassigned == []


def test_inside_its_window_an_inspection_costs_nothing_but_travel() -> None:
    early = _inspection(17 * H, 7200.0)
    sol = solve(problem([_engineer()], [early]), opts())
    assert stop_of(sol, "inspection")[1] <= 17 * H
    assert sol.unassigned == []
