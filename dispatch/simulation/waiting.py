"""Why an urgent fault waited, read from a run's event log and roster apart from the product: how
often its first visit changed engineer or slid to a later start between plans, and how many hours
engineers with the skill sat free on their regular shift while it waited for someone on site."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

from core import zones
from dispatch.simulation.check import TZ, windows

Span = tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True)
class Wait:
    engineers: int  # distinct engineers its first visit was assigned to
    slides: int  # times a re-assignment moved its planned start later by more than 30 min
    idle_hours: float  # qualified engineers' free regular-shift hours while it waited


SLIDE = dt.timedelta(minutes=30)


def _time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def busy_spans(log: list[dict[str, Any]]) -> dict[str, list[Span]]:
    """Per engineer, the spans from setting off to finishing a visit."""
    spans: dict[str, list[Span]] = {}
    started: dict[str, dt.datetime] = {}
    for row in log:
        who = row.get("engineer")
        if row["event"] == "travel" and who:
            started[who] = _time(row["at"])
        elif row["event"] == "finish" and who in started:
            spans.setdefault(who, []).append((started.pop(who), _time(row["at"])))
    return spans


def overlap(span: Span, others: list[Span]) -> float:
    """Seconds of `span` inside each of `others`, summed."""
    return sum(max(0.0, (min(span[1], e) - max(span[0], s)).total_seconds()) for s, e in others)


def _free(crew: dict[str, Any], span: Span, busy: list[Span], sick: set[tuple[str, str]]) -> float:
    """Seconds of `span` the engineer was on a regular shift, not sick and not on a visit."""
    day = span[0].astimezone(zones.zone(TZ)).date()
    total = 0.0
    for d in (-1, 0, 1):
        for s, e, standby in windows(crew, day + dt.timedelta(days=d)):
            if standby or (crew["engineer"], s.date().isoformat()) in sick:
                continue
            on = (max(s, span[0]), min(e, span[1]))
            if on[1] > on[0]:
                total += (on[1] - on[0]).total_seconds() - overlap(on, busy)
    return total


class Waits:
    """The log read once; `of(fault, …)` per fault."""

    def __init__(self, log: list[dict[str, Any]], crews: list[dict[str, Any]]) -> None:
        self.crews = crews
        self.busy = busy_spans(log)
        self.sick = {(r["engineer"], r["day"]) for r in log if r["event"] == "sick"}
        self.assigns: dict[str, list[tuple[str, dt.datetime | None]]] = {}
        for row in log:
            if row["event"] == "assign":
                start = _time(row["planned_start"]) if row.get("planned_start") else None
                self.assigns.setdefault(row["visit"], []).append((row["engineer"], start))

    def of(self, fault: int, skill: str, reported: dt.datetime, until: dt.datetime) -> Wait:
        history = self.assigns.get(f"F{fault}.1", [])
        slides = sum(
            1
            for (_, before), (_, after) in itertools.pairwise(history)
            if before is not None and after is not None and after - before > SLIDE
        )
        day = reported.astimezone(zones.zone(TZ)).date().isoformat()
        able = [c for c in self.crews if skill in c["skills"] and (c["skills"][skill] or day) >= day]
        idle = sum(_free(c, (reported, until), self.busy.get(c["engineer"], []), self.sick) for c in able)
        return Wait(len({e for e, _ in history}), slides, idle / 3600)
