"""The seeded field-service scenario: same seed, same problem; the requested shape."""

from __future__ import annotations

from collections import Counter

import pytest

from routing.geo import haversine_m
from routing.scenario import (
    APPOINTMENT_SLOTS,
    SEVERITY_PRIORITY,
    SHIFTS,
    ZHENGZHOU,
    field_scenario,
    severity_of,
    urgent_visits,
)

H = 3600.0


def test_same_seed_same_problem_other_seed_other_problem() -> None:
    a = field_scenario(120, 12, seed=5)
    b = field_scenario(120, 12, seed=5)
    c = field_scenario(120, 12, seed=6)
    assert a.visits == b.visits
    assert a.engineers == b.engineers
    assert a.visits != c.visits
    assert urgent_visits(5, 1, 3 * H) == urgent_visits(5, 1, 3 * H)


def test_default_size_has_the_requested_shape() -> None:
    p = field_scenario()
    assert len(p.visits) == 1000
    assert len(p.engineers) == 100
    assert p.horizon_s == 48 * H
    assert len({v.id for v in p.visits}) == 1000
    assert len({e.id for e in p.engineers}) == 100

    for point in [v.point for v in p.visits] + [e.start for e in p.engineers]:
        assert haversine_m(point, ZHENGZHOU) <= 25_100

    for e in p.engineers:
        assert e.shifts == list(SHIFTS)
        assert all(hi - lo == 9 * H for lo, hi in e.shifts)
        assert e.end is None  # home at night
        assert len(e.skills) == 3
        assert all(1 <= level <= 3 for level, _ in e.skills.values())
    expiring = [until for e in p.engineers for _, until in e.skills.values() if until is not None]
    assert any(until < 0 for until in expiring)  # already lapsed
    assert any(SHIFTS[0][1] < until < SHIFTS[1][1] for until in expiring)  # lapses overnight
    assert len({frozenset(e.parts) for e in p.engineers}) > 10  # vans hold different stock

    severity = Counter(severity_of(v) for v in p.visits)
    assert set(severity) == set(SEVERITY_PRIORITY)
    assert 20 <= severity["critical"] <= 90
    assert 350 <= severity["low"] <= 650
    for v in p.visits:
        s = severity_of(v)
        assert v.priority == SEVERITY_PRIORITY[s]
        assert v.critical == (s == "critical")
        assert v.skills
        if s == "low":
            assert v.deadline_s is None
            assert v.appointment in APPOINTMENT_SLOTS
        else:
            assert v.deadline_s is not None
            assert v.appointment is None
            limit = {"critical": 6, "high": 12, "medium": 24}[s] * H
            assert 0 < v.deadline_s <= limit
    assert sum(v.confirmed for v in p.visits) > 100
    assert 5 <= sum(v.people_needed == 2 for v in p.visits) <= 40
    assert 100 <= sum(bool(v.parts) for v in p.visits) <= 300
    assert 50 <= sum(bool(v.windows) for v in p.visits) <= 150


def test_sizes_and_urgent_visits() -> None:
    p = field_scenario(60, 8, seed=2)
    assert (len(p.visits), len(p.engineers)) == (60, 8)
    urgent = urgent_visits(20, 2, now_s=3 * H)
    assert len(urgent) == 20
    assert all(u.critical and u.deadline_s == pytest.approx(7 * H) and not u.parts for u in urgent)
    assert all(haversine_m(u.point, ZHENGZHOU) <= 20_100 for u in urgent)
