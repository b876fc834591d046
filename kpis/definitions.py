"""The KPIs, in the order they are reported: key, label, unit, target and definition.

A target's `kind` says how the value is judged: `min` (value ≥ target), `max` (value ≤ target),
`above` (value > target). Ratios are shares between 0 and 1.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Definition:
    key: str
    label: str
    unit: str
    target: float | None
    target_kind: str | None
    definition: str


_COMPLIANCE = (
    "Of the {what} clocks of the work orders reported in the period that are decided (met, or "
    "breached: met late or past the deadline unmet), the share met on time{how}. Running clocks "
    "are left out. The deadline is the contract's target for the order's severity (on site 12 h and "
    "restored 48 h for 7x24 hardware contracts)."
)
_RAW = ""
_CONTRACTUAL = "; breaches the customer caused (a declined backup device) count as met"

DEFINITIONS: tuple[Definition, ...] = (
    Definition(
        "first_response",
        "First response on time (raw)",
        "ratio",
        None,
        None,
        _COMPLIANCE.format(what="first-response", how=_RAW),
    ),
    Definition(
        "first_response_contractual",
        "First response on time (contractual)",
        "ratio",
        None,
        None,
        _COMPLIANCE.format(what="first-response", how=_CONTRACTUAL),
    ),
    Definition(
        "on_site",
        "On site within target, 12 h (raw)",
        "ratio",
        None,
        None,
        _COMPLIANCE.format(what="on-site", how=_RAW),
    ),
    Definition(
        "on_site_contractual",
        "On site within target, 12 h (contractual)",
        "ratio",
        None,
        None,
        _COMPLIANCE.format(what="on-site", how=_CONTRACTUAL),
    ),
    Definition(
        "restored",
        "Restored within target, 48 h (raw)",
        "ratio",
        None,
        None,
        _COMPLIANCE.format(what="restore", how=_RAW),
    ),
    Definition(
        "restored_contractual",
        "Restored within target, 48 h (contractual)",
        "ratio",
        None,
        None,
        _COMPLIANCE.format(what="restore", how=_CONTRACTUAL),
    ),
    Definition(
        "backup_devices_provided",
        "Backup devices provided",
        "count",
        None,
        None,
        "Backup units installed at the customer's (a loan opened with the signed loan form) for the "
        "work orders reported in the period; the denominator is those work orders (not cancelled).",
    ),
    Definition(
        "mean_loan_days",
        "Mean loan duration",
        "days",
        None,
        None,
        "Of those loans, the ones that ended: mean days from installation to the unit's collection "
        "(returned, else closed) — the stock KPIs' definition.",
    ),
    Definition(
        "first_time_fix_rate",
        "First-time fix rate",
        "ratio",
        None,
        None,
        "Of the work orders reported in the period with at least one finished visit, the share whose "
        "first finished visit ended `resolved`, with no other visit (not cancelled) and never reopened.",
    ),
    Definition(
        "mean_time_to_restore",
        "Mean time to restore",
        "hours",
        None,
        None,
        "Mean elapsed hours from the report (`reported_at`) to the recorded restoration (on site, by "
        "a backup unit, or a remote fix), over the work orders reported in the period that were "
        "restored (not cancelled).",
    ),
    Definition(
        "resolution_rate",
        "Resolution rate",
        "ratio",
        0.95,
        "min",
        "Of the work orders reported in the period (not cancelled), the share resolved — their "
        "timeline holds a move to `resolved` or `remote_fix` — as of now.",
    ),
    Definition(
        "resolution_rate_major",
        "Resolution rate, major faults",
        "ratio",
        0.98,
        "min",
        "The resolution rate over major faults: severity critical or high when reported (a later "
        "downgrade by a degraded restoration does not change it; read from the timeline).",
    ),
    Definition(
        "repeat_fault_rate",
        "Repeat faults",
        "ratio",
        None,
        None,
        "Of the resolved work orders reported in the period, the share whose fix did not hold: "
        "reopened within 7 days of being closed, or the same asset (by id, else model and serial) "
        "reported faulty again in another work order within 7 days of the first resolution.",
    ),
    Definition(
        "stock_out_rate",
        "Spare-part stock-out rate",
        "ratio",
        0.05,
        "max",
        "Of the visits needing parts whose moment (arrival, else planned start, else the report) falls "
        "in the period, the share for which a part was not within reach (the stock KPIs' definition: "
        "engineer's van, one warehouse's free stock, or reserved for the visit; replayed from the ledger).",
    ),
    Definition(
        "satisfaction",
        "Satisfied customers",
        "ratio",
        0.85,
        "above",
        "Of the customer surveys of the work orders reported in the period that carry an overall "
        "rating (1–5), the share rating it 4 or 5. Surveys confirmed by default (no answer in 7 days) "
        "carry no rating and are left out.",
    ),
    Definition(
        "csat",
        "CSAT",
        "ratio",
        0.90,
        "min",
        "Every rating given in those surveys — timeliness, attitude, result and overall, 1–5 each, "
        "those left blank not counted — summed, as a share of 5 points per rating given (the mean "
        "rating as a percentage of the best).",
    ),
    Definition(
        "complaints",
        "Complaints",
        "count",
        None,
        None,
        "Complaints filed through the customer survey on the work orders reported in the period "
        "(the denominator: those orders, cancelled ones left out).",
    ),
    Definition(
        "complaints_per_100_orders",
        "Complaints per 100 work orders",
        "per_100",
        None,
        None,
        "Complaints ÷ the work orders reported in the period (cancelled ones left out) × 100.",
    ),
    Definition(
        "engineer_utilisation",
        "Engineer utilisation",
        "ratio",
        None,
        None,
        "Time on site ÷ shift time, over active engineers: on-site time (arrival to end) of the visits "
        "that arrived in the period, each person of a joint visit counted; shift time from the weekly "
        "shifts (standby shifts not counted) in each engineer's time zone, within the period. "
        "Company-wide only: engineers' time is not split by customer or region.",
    ),
    Definition(
        "travel_share",
        "Travel share",
        "ratio",
        None,
        None,
        "Travel ÷ (travel + on site), over the visits that arrived in the period with a recorded "
        "start of travel: travel is start of travel to arrival, on site is arrival to end.",
    ),
    Definition(
        "inspections_within_window",
        "Inspections done within their window",
        "ratio",
        None,
        None,
        "Of the preventive inspections (巡检) due in the period (by due date) and not cancelled or "
        "skipped, the share done inside their window: the due date ± the plan's tolerance in "
        "business days on the contract's calendar. Open and late ones count against it.",
    ),
)
