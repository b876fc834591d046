"""Weekly hours: the one shape behind every weekly pattern the system keeps.

A contract's business hours, a site's access windows, an engineer's shifts and a
warehouse's opening hours are each stored their own way (a JSON object of weekday
keys, a JSON list, rows, two columns), but each is a set of spans in a week, in a
local time zone: on a weekday (or every day) from one time of day to another, where
an end at or before the start falls on the next day. Readers of each storage turn it
into `WeeklySpan`s; what is checked and laid over a planning horizon is checked and
laid over here, once.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

DAY_S = 24 * 3600
WEEK_S = 7 * DAY_S


def seconds_of(t: dt.time) -> float:
    """Seconds after midnight."""
    return t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6


@dataclass(frozen=True)
class WeeklySpan:
    weekday: int | None  # 0 = Monday; None: every day
    starts: dt.time
    ends: dt.time  # at or before `starts`: on the next day

    @property
    def overnight(self) -> bool:
        return self.ends <= self.starts

    @property
    def empty(self) -> bool:
        return self.ends == self.starts

    def week_span(self) -> tuple[float, float]:
        """Seconds after Monday 00:00 it starts and ends (past the week's end on a Sunday night);
        for a span of one weekday only."""
        assert self.weekday is not None
        start = self.weekday * DAY_S + seconds_of(self.starts)
        end = self.weekday * DAY_S + seconds_of(self.ends) + (DAY_S if self.overnight else 0)
        return start, end


def overlapping(spans: Sequence[WeeklySpan]) -> bool:
    """Whether any two spans of given weekdays overlap. The week wraps round, so Sunday night's
    span is checked against Monday's first too."""
    ordered = sorted(s.week_span() for s in spans)
    ordered += [(start + WEEK_S, end + WEEK_S) for start, end in ordered[:1]]
    return any(after[0] < before[1] for before, after in itertools.pairwise(ordered))


def laid_over(
    spans: Sequence[WeeklySpan], tz: dt.tzinfo, origin: dt.datetime, horizon_s: float
) -> list[tuple[float, float]]:
    """The spans on every local day that touches the horizon, as seconds after `origin`, clipped
    to [0, horizon_s] and sorted."""
    first = origin.astimezone(tz).date() - dt.timedelta(days=1)
    windows: list[tuple[float, float]] = []
    for offset in range(int(horizon_s // 86400) + 3):
        day = first + dt.timedelta(days=offset)
        for span in spans:
            if span.weekday not in (None, day.weekday()):
                continue
            last = day + dt.timedelta(days=1) if span.overnight else day
            start = (dt.datetime.combine(day, span.starts, tz) - origin).total_seconds()
            end = (dt.datetime.combine(last, span.ends, tz) - origin).total_seconds()
            if end > 0 and start < horizon_s:
                windows.append((max(0.0, start), min(horizon_s, end)))
    return sorted(windows)
