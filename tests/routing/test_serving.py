"""Who may serve which visit, for all pairs at once, agrees with the rule checked pair by pair."""

from __future__ import annotations

from dataclasses import replace

from routing.eligibility import can_serve, per_shift, serving_vehicles, vehicles_of
from routing.scenario import field_scenario


def test_serving_vehicles_agrees_with_can_serve_on_every_pair() -> None:
    problem = field_scenario(200, 20, seed=4)
    e = problem.engineers
    problem.engineers[3] = replace(e[3], on_call=True, on_call_shifts=[(12 * 3600.0, 20 * 3600.0)])
    v = problem.visits
    v[0] = replace(v[0], pinned_engineer=e[5].id)
    v[1] = replace(v[1], allowed_engineers=frozenset({e[1].id, e[2].id, "nobody"}))
    v[2] = replace(v[2], barred_engineers=frozenset({e[0].id}))
    v[3] = replace(v[3], critical=True)
    v[4] = replace(v[4], already_started=True, pinned_start_s=3 * 3600.0, pinned_engineer=e[4].id)
    v[5] = replace(v[5], pinned_engineer="gone")
    for vehicles in (vehicles_of(problem), per_shift(vehicles_of(problem))):
        expected = [[k for k, veh in enumerate(vehicles) if can_serve(problem, veh, visit)] for visit in v]
        assert serving_vehicles(problem, vehicles, v) == expected
        assert any(expected)
        assert not all(len(x) == len(vehicles) for x in expected)
