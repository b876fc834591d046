"""The severity table every contract starts from (docs/rules.md, "SLA targets by severity").

Contracts may override any row; the 12 h / 48 h pair is the default for hardware
under a 7x24 contract, while 5x8 contracts usually promise the next business day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from dispatch.contracts.models import CalendarKind, CountMode, DeadlineRule, Measure, Severity, StartRule


@dataclass(frozen=True)
class TargetSpec:
    severity: Severity
    measure: Measure
    rule: DeadlineRule = DeadlineRule.DURATION
    minutes: int | None = None
    count_mode: CountMode = CountMode.ELAPSED
    start_rule: StartRule = StartRule.IMMEDIATE
    cutoff: time | None = None


H = 60
PERMANENT_FIX_DAYS = 30

_ALWAYS: list[tuple[Severity, int | None, int | None, int | None]] = [
    # severity, response, on site, restored (minutes); None = scheduled with the customer
    (Severity.CRITICAL, 15, 12 * H, 48 * H),
    (Severity.HIGH, 60, 12 * H, 48 * H),
    (Severity.MEDIUM, 120, 24 * H, 72 * H),
]


# 5x8, the same for every severity: respond within business hours, on site by close of the next
# business day (a call after the cut-off counts from the next opening), restored within three days.
_OFFICE: list[tuple[Measure, DeadlineRule, int | None, StartRule, time | None]] = [
    # measure, rule, business minutes, when the clock starts, cut-off
    (Measure.RESPONSE, DeadlineRule.DURATION, 2 * H, StartRule.IMMEDIATE, None),
    (Measure.ON_SITE, DeadlineRule.NEXT_BUSINESS_DAY, None, StartRule.NEXT_BUSINESS_OPENING, time(15, 0)),
    (Measure.RESTORE, DeadlineRule.DURATION, 3 * 8 * H, StartRule.IMMEDIATE, None),
]


def _always_targets() -> list[TargetSpec]:
    """7x24: elapsed time from the call; a low-severity call is answered the next business day
    and its visit scheduled with the customer."""
    timed = [
        TargetSpec(severity, measure, DeadlineRule.DURATION, minutes)
        for severity, response, on_site, restore in _ALWAYS
        for measure, minutes in (
            (Measure.RESPONSE, response),
            (Measure.ON_SITE, on_site),
            (Measure.RESTORE, restore),
        )
    ]
    return [
        *timed,
        TargetSpec(
            Severity.LOW, Measure.RESPONSE, DeadlineRule.NEXT_BUSINESS_DAY, count_mode=CountMode.BUSINESS
        ),
        TargetSpec(Severity.LOW, Measure.ON_SITE, DeadlineRule.SCHEDULED),
        TargetSpec(Severity.LOW, Measure.RESTORE, DeadlineRule.SCHEDULED),
    ]


def default_targets(kind: CalendarKind) -> list[TargetSpec]:
    specs = (
        _always_targets()
        if kind is CalendarKind.ALWAYS
        else [
            TargetSpec(severity, measure, rule, minutes, CountMode.BUSINESS, start_rule, cutoff)
            for severity in Severity
            for measure, rule, minutes, start_rule, cutoff in _OFFICE
        ]
    )
    # Every contract: the permanent fix within a month of elapsed time.
    return specs + [
        TargetSpec(severity, Measure.PERMANENT_FIX, DeadlineRule.DURATION, PERMANENT_FIX_DAYS * 24 * H)
        for severity in Severity
    ]


WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OFFICE_HOURS: dict[str, list[list[str]]] = {
    day: [["09:00", "12:00"], ["13:00", "17:00"]] for day in WEEKDAY_KEYS[:5]
}
