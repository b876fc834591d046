"""Why an urgent fault waited, from the event log: the engineers its first visit went to, the
slides of its planned start, and the free regular-shift hours of engineers with its skill."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dispatch.simulation import report
from dispatch.simulation.engine import Outcome
from dispatch.simulation.waiting import Waits
from dispatch.simulation.world import EventLog

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _crew(name: str, skills: dict[str, str | None]) -> dict[str, Any]:
    # Monday to Friday 08:30–17:30, standby the nights after (not counted as free time).
    day = [{"weekday": d, "starts": "08:30:00", "ends": "17:30:00", "on_call": False} for d in range(5)]
    night = [{"weekday": d, "starts": "18:00:00", "ends": "08:00:00", "on_call": True} for d in range(5)]
    return {"engineer": name, "shifts": day + night, "on_call": True, "skills": skills}


def _at(hour: int, minute: int = 0) -> str:
    return datetime(2026, 3, 9, hour, minute, tzinfo=SHANGHAI).isoformat()  # a Monday


CREWS = [
    _crew("a", {"server": None}),
    _crew("b", {"server": "2027-12-31"}),
    _crew("c", {"server": "2026-01-31"}),  # the licence ran out: not qualified
    _crew("d", {"storage": None}),
    _crew("e", {"server": None}),  # sick on Monday
]
LOG: list[dict[str, Any]] = [
    {"at": _at(0), "event": "sick", "engineer": "e", "day": "2026-03-09"},
    {"at": _at(9), "event": "assign", "visit": "F7.1", "engineer": "a", "planned_start": _at(10)},
    # Re-planned: 25 minutes later is within the tolerance; then two hours later, on b.
    {"at": _at(10), "event": "assign", "visit": "F7.1", "engineer": "a", "planned_start": _at(10, 25)},
    {"at": _at(11), "event": "assign", "visit": "F7.1", "engineer": "b", "planned_start": _at(12, 25)},
    # a is on another visit 09:00–12:00; b on one 08:30–17:30 (never free).
    {"at": _at(9), "event": "travel", "visit": "F1.1", "engineer": "a"},
    {"at": _at(12), "event": "finish", "visit": "F1.1", "engineer": "a"},
    {"at": _at(8, 30), "event": "travel", "visit": "F2.1", "engineer": "b"},
    {"at": _at(17, 30), "event": "finish", "visit": "F2.1", "engineer": "b"},
]  # fmt: skip


def test_the_wait_counts_engineers_slides_and_free_qualified_shift_hours() -> None:
    reported = datetime(2026, 3, 9, 9, 0, tzinfo=SHANGHAI)
    until = datetime(2026, 3, 9, 20, 0, tzinfo=SHANGHAI)
    wait = Waits(LOG, CREWS).of(7, "server", reported, until)
    assert wait.engineers == 2
    assert wait.slides == 1
    # Only a counts: free 12:00–17:30 (b busy all day, c unlicensed, d without the skill, e sick,
    # standby after 18:00 is not regular shift).
    assert wait.idle_hours == 5.5


def test_the_summary_names_a_late_fault_with_its_wait() -> None:
    reported = datetime(2026, 3, 9, 9, 0, tzinfo=SHANGHAI)
    order = {"fault": 7, "severity": "high", "reported_at": reported, "arrived_at": None, "restored_at": None,
             "category": "server", "contract": "7x24"}  # fmt: skip
    outcome = Outcome("product", EventLog(rows=LOG), [], [order], CREWS)
    end = datetime(2026, 3, 9, 23, 0, tzinfo=SHANGHAI)
    # Until 21:00, its 12 hours: a is free 12:00–17:30.
    assert report.misses(outcome, end) == [
        "F7 (high, 7x24, server, reported Mon 09:00): on site > 12 h (8.5 h of regular shift in its 12 h)"
        "; first visit planned for 2 engineer(s), start slid later 1×"
        "; qualified engineers free on shift 5.5 h while it waited"
    ]
    assert report.waiting(outcome, end)[1].endswith(": 1 (5.5 free engineer-hours in all)")
