"""Checks over a run's event log, written apart from the product's rules: from the roster (shifts,
standby periods, skills and their expiry, sick days) as the run started and what the log says
happened. A finding is a sentence naming the visit and the engineer."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core import zones

TZ = "Asia/Shanghai"


def _time(value: str) -> dt.time:
    return dt.time.fromisoformat(value)


def windows(crew: dict[str, Any], day: dt.date) -> list[tuple[dt.datetime, dt.datetime, bool]]:
    """The engineer's shifts and standby periods that start on local `day`: (start, end, standby)."""
    tz = zones.zone(TZ)
    found = []
    for shift in crew["shifts"]:
        if shift["weekday"] != day.weekday():
            continue
        if shift["on_call"] and not crew["on_call"]:
            continue  # standby counts only while the engineer is on the rota
        start = dt.datetime.combine(day, _time(shift["starts"]), tz)
        end = dt.datetime.combine(day, _time(shift["ends"]), tz)
        if end <= start:
            end += dt.timedelta(days=1)
        found.append((start, end, bool(shift["on_call"])))
    return found


def on_duty(crew: dict[str, Any], at: dt.datetime) -> bool:
    """In a shift or in the overtime its daily cap allows after it, or on standby (on the rota)."""
    local = at.astimezone(zones.zone(TZ)).date()
    overtime = dt.timedelta(minutes=crew.get("overtime_cap_minutes", 0))
    return any(
        s <= at <= e + (dt.timedelta(0) if standby else overtime)
        for day in (local - dt.timedelta(days=1), local)
        for s, e, standby in windows(crew, day)
    )


def _skilled(crew: dict[str, Any], skills: list[str], at: dt.datetime) -> bool:
    day = at.astimezone(zones.zone(TZ)).date().isoformat()
    held = crew["skills"]
    return all(s in held and (held[s] is None or held[s] >= day) for s in skills)


def assignments(log: list[dict[str, Any]], crews: list[dict[str, Any]]) -> list[str]:
    """Every assignment with a planned start is to an engineer on duty (see on_duty) at that
    start, not on a sick day, with every skill the visit needs, valid that day."""
    roster = {c["engineer"]: c for c in crews}
    sick = {(r["engineer"], r["day"]) for r in log if r["event"] == "sick"}
    found = []
    for row in log:
        if row["event"] != "assign" or row.get("planned_start") is None:
            continue
        crew = roster.get(row["engineer"])
        start = dt.datetime.fromisoformat(row["planned_start"])
        if crew is None:
            found.append(f"{row['visit']}: assigned to {row['engineer']}, who is not in the simulated team")
            continue
        if not on_duty(crew, start):
            found.append(f"{row['visit']}: assigned to {row['engineer']} at {start.isoformat()}, off shift")
        if (row["engineer"], start.astimezone(zones.zone(TZ)).date().isoformat()) in sick:
            found.append(f"{row['visit']}: assigned to {row['engineer']} on a sick day")
        if not _skilled(crew, row.get("skills", []), start):
            found.append(f"{row['visit']}: assigned to {row['engineer']} without skill {row.get('skills')}")
    return found


def one_place_at_a_time(log: list[dict[str, Any]]) -> list[str]:
    """Per engineer, each visit runs travel → arrive → finish, and the next travel starts only
    after the previous finish: nobody is on two visits (or in two places) at once."""
    found = []
    doing: dict[str, tuple[str, str]] = {}  # engineer -> (visit, step)
    for row in log:
        event, who = row["event"], row.get("engineer")
        if event not in {"travel", "arrive", "finish"} or who is None:
            continue
        current = doing.get(who)
        if event == "travel":
            if current is not None:
                found.append(f"{who}: sets off for {row['visit']} at {row['at']} while on {current[0]}")
            doing[who] = (row["visit"], "travel")
        elif current is None or current[0] != row["visit"]:
            found.append(f"{who}: {event} at {row['visit']} at {row['at']} while on {current and current[0]}")
        elif event == "arrive":
            doing[who] = (row["visit"], "arrive")
        else:
            if current[1] != "arrive":
                found.append(f"{who}: finishes {row['visit']} at {row['at']} without arriving")
            del doing[who]
    return found
