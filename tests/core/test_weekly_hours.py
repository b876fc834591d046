"""Weekly hours: the spans every weekly pattern is read into, checked and laid over a horizon."""

from __future__ import annotations

import datetime as dt

from core import zones
from core.weekly_hours import WeeklySpan, laid_over, overlapping

SHANGHAI = zones.zone("Asia/Shanghai")
HOUR = 3600.0


def test_a_span_ending_before_it_starts_runs_into_the_next_day() -> None:
    # Monday 2026-12-07 06:00 local; the Sunday night standby 18:00-08:00 ends Monday 08:00.
    origin = dt.datetime(2026, 12, 7, 6, 0, tzinfo=SHANGHAI)
    night = WeeklySpan(6, dt.time(18, 0), dt.time(8, 0))
    assert night.overnight
    assert laid_over([night], SHANGHAI, origin, 24 * HOUR) == [(0.0, 2 * HOUR)]


def test_an_every_day_span_is_laid_on_each_day_and_clipped_to_the_horizon() -> None:
    origin = dt.datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)
    daily = WeeklySpan(None, dt.time(9, 0), dt.time(17, 0))
    assert laid_over([daily], SHANGHAI, origin, 30 * HOUR) == [(0.0, 7 * HOUR), (23 * HOUR, 30 * HOUR)]


def test_the_week_wraps_round_when_spans_are_checked_for_overlap() -> None:
    monday = WeeklySpan(0, dt.time(7, 0), dt.time(17, 0))
    sunday_night = WeeklySpan(6, dt.time(22, 0), dt.time(8, 0))
    assert overlapping([monday, sunday_night])
    assert not overlapping([monday, WeeklySpan(6, dt.time(22, 0), dt.time(6, 0))])


def test_a_span_that_ends_when_it_starts_is_empty() -> None:
    assert WeeklySpan(None, dt.time(9, 0), dt.time(9, 0)).empty
    assert not WeeklySpan(None, dt.time(9, 0), dt.time(9, 1)).empty
