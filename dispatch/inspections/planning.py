"""How an inspection visit enters the routing problem: low priority, never before its window
opens, its window's end a soft bound priced per day late, and cheap to leave out — so that it
fills the quiet hours and never pushes a repair past its SLA deadline (a repair's minute late
costs 100 s of travel × its priority, an inspection left out two hours of travel)."""

from __future__ import annotations

from routing import model as rm

DAY_S = 86400.0
# Leaving an inspection out of a plan costs two hours of travel ...
DROP_S = 2 * 3600.0
# ... and half an hour more for each day past its window's end, up to a day's travel: an overdue
# inspection weighs more in each plan, still never as much as a repair's deadline.
OVERDUE_PER_DAY_S = 1800.0
DROP_CAP_S = 8 * 3600.0
# Inside the plan, each day past the window's end costs a day of travel (per second late: one).
LATE_COST_PER_DAY = DAY_S


def apply_window(visit: rm.Visit, window_start_s: float, window_end_s: float) -> None:
    """Turn a modelled visit (times in seconds after the plan's origin) into an inspection."""
    overdue_days = max(0.0, -window_end_s) / DAY_S
    visit.priority = 1
    visit.deadline_s = None
    visit.appointment, visit.confirmed = None, False
    if window_start_s > 0:
        earliest = visit.earliest_start_s or 0.0
        visit.earliest_start_s = max(earliest, window_start_s)
    visit.due_by_s = window_end_s if window_end_s > 0 else None
    visit.late_cost_per_day = LATE_COST_PER_DAY
    visit.drop_cost_s = min(DROP_CAP_S, DROP_S + OVERDUE_PER_DAY_S * overdue_days)
