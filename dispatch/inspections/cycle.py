"""When each period of a plan is due, and its window: due date ± N business days on the
contract's calendar at the site (holidays and make-up working days 调休 counted). Pure code."""

from __future__ import annotations

import calendar
import datetime as dt

from dispatch.sla.calendar import WorkingCalendar


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day of the month `months` later; the 31st becomes the month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def step(day: dt.date, unit: str, every: int, times: int = 1) -> dt.date:
    """`day` moved on by `times` cycles of `every` units."""
    if unit == "days":
        return day + dt.timedelta(days=every * times)
    if unit == "weeks":
        return day + dt.timedelta(weeks=every * times)
    if unit == "months":
        return add_months(day, every * times)
    raise ValueError(f"no cycle step for {unit!r}")


def due_date(unit: str, every: int, first_due: dt.date, fixed: list[str], period: int) -> dt.date | None:
    """Period `period`'s due date by the cycle (None: a fixed list has no such period)."""
    if unit == "fixed":
        return dt.date.fromisoformat(fixed[period]) if period < len(fixed) else None
    # From the first due date each time, so that months do not drift (31 Jan → 28 Feb → 31 Mar).
    return step(first_due, unit, every, period)


def _working_day(cal: WorkingCalendar, day: dt.date, direction: int, count: int) -> dt.date:
    """The `count`-th working day from `day` in `direction` (0: `day` itself if it is one, else the
    next one after it)."""
    found = 0
    current = day
    if count == 0:
        while not cal.is_working_day(current):
            current += dt.timedelta(days=1)
        return current
    while found < count:
        current += dt.timedelta(days=direction)
        if cal.is_working_day(current):
            found += 1
    return current


def window(cal: WorkingCalendar, due: dt.date, tolerance_days: int) -> tuple[dt.datetime, dt.datetime]:
    """From the start of the working day `tolerance_days` business days before the due date to the
    end of the one as many after it, as instants in the calendar's zone (due on a holiday: the
    count runs from the days around it). Raises CalendarYearNotLoaded for an unpublished year."""
    first = _working_day(cal, due, -1, tolerance_days) if tolerance_days else _working_day(cal, due, 1, 0)
    last = _working_day(cal, due, 1, tolerance_days) if tolerance_days else first
    tz = cal.tz
    start = dt.datetime.combine(first, dt.time(0), tz).astimezone(dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tz).astimezone(dt.UTC)
    return start, end
