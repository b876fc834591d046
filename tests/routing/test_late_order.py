"""Late urgent work of one severity is served oldest deadline first: once two high faults are
both past their aim, the plan does not let the newer one overtake the older one and push it
past its on-site deadline (swapping two late jobs leaves the sum of lateness unchanged, so the
price of a minute late grows with how early the deadline is)."""

from __future__ import annotations

from routing.model import Engineer, Visit
from routing.solver import solve
from tests.routing.support import DAY, H, opts, problem, stop_of


def _high(visit_id: str, x: float, target_s: float, deadline_s: float) -> Visit:
    return Visit(
        id=visit_id,
        point=(x, 0.0),
        duration_s=2.5 * H,
        priority=4,
        target_s=target_s,
        deadline_s=deadline_s,
    )


def _two_late_highs() -> list[Visit]:
    # At 08:00 both are past their 6 h aim. The older one is due on site by 10:30, the newer by
    # 12:00; one engineer can reach only one of them before 10:30. The newer one is a little
    # nearer, so travel alone would take it first.
    older = _high("older", 3000.0, target_s=5 * H, deadline_s=10.5 * H)
    newer = _high("newer", -2900.0, target_s=7 * H, deadline_s=12 * H)
    return [newer, older]


def test_of_two_late_high_faults_the_older_is_on_site_before_its_deadline() -> None:
    engineer = Engineer(id="e1", start=(0.0, 0.0), shifts=[DAY])
    sol = solve(problem([engineer], _two_late_highs(), now_s=8 * H), opts())
    _, older_start = stop_of(sol, "older")
    _, newer_start = stop_of(sol, "newer")
    assert older_start <= 10.5 * H
    assert newer_start > older_start
    assert sol.late == []  # both on site by their deadlines


def test_without_the_deadline_order_the_nearer_newer_fault_goes_first() -> None:
    # The same plan priced with one lateness price for both: the older fault slides past its
    # deadline, which is what the deadline order prevents.
    engineer = Engineer(id="e1", start=(0.0, 0.0), shifts=[DAY])
    sol = solve(problem([engineer], _two_late_highs(), now_s=8 * H), opts(deadline_order_window_s=None))
    assert stop_of(sol, "newer")[1] < stop_of(sol, "older")[1]
    assert stop_of(sol, "older")[1] > 10.5 * H
