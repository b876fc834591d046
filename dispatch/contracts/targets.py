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
    rule: DeadlineRule
    minutes: int | None
    count_mode: CountMode
    start_rule: StartRule
    cutoff: time | None = None


H = 60
PERMANENT_FIX_DAYS = 30

_ALWAYS: list[tuple[Severity, int | None, int | None, int | None]] = [
    # severity, response, on site, restored (minutes); None = scheduled with the customer
    (Severity.CRITICAL, 15, 12 * H, 48 * H),
    (Severity.HIGH, 60, 12 * H, 48 * H),
    (Severity.MEDIUM, 120, 24 * H, 72 * H),
]


def default_targets(kind: CalendarKind) -> list[TargetSpec]:
    specs: list[TargetSpec] = []
    if kind is CalendarKind.ALWAYS:
        for severity, response, on_site, restore in _ALWAYS:
            for measure, minutes in (
                (Measure.RESPONSE, response),
                (Measure.ON_SITE, on_site),
                (Measure.RESTORE, restore),
            ):
                specs.append(
                    TargetSpec(
                        severity,
                        measure,
                        DeadlineRule.DURATION,
                        minutes,
                        CountMode.ELAPSED,
                        StartRule.IMMEDIATE,
                    )
                )
        specs.append(
            TargetSpec(
                Severity.LOW,
                Measure.RESPONSE,
                DeadlineRule.NEXT_BUSINESS_DAY,
                None,
                CountMode.BUSINESS,
                StartRule.IMMEDIATE,
            )
        )
        for measure in (Measure.ON_SITE, Measure.RESTORE):
            specs.append(
                TargetSpec(
                    Severity.LOW,
                    measure,
                    DeadlineRule.SCHEDULED,
                    None,
                    CountMode.ELAPSED,
                    StartRule.IMMEDIATE,
                )
            )
    else:
        # 5x8: respond within business hours, on site by close of the next business day.
        for severity in Severity:
            specs.append(
                TargetSpec(
                    severity,
                    Measure.RESPONSE,
                    DeadlineRule.DURATION,
                    2 * H,
                    CountMode.BUSINESS,
                    StartRule.IMMEDIATE,
                )
            )
            specs.append(
                TargetSpec(
                    severity,
                    Measure.ON_SITE,
                    DeadlineRule.NEXT_BUSINESS_DAY,
                    None,
                    CountMode.BUSINESS,
                    StartRule.NEXT_BUSINESS_OPENING,
                    time(15, 0),
                )
            )
            specs.append(
                TargetSpec(
                    severity,
                    Measure.RESTORE,
                    DeadlineRule.DURATION,
                    3 * 8 * H,
                    CountMode.BUSINESS,
                    StartRule.IMMEDIATE,
                )
            )
    for severity in Severity:
        specs.append(
            TargetSpec(
                severity,
                Measure.PERMANENT_FIX,
                DeadlineRule.DURATION,
                PERMANENT_FIX_DAYS * 24 * H,
                CountMode.ELAPSED,
                StartRule.IMMEDIATE,
            )
        )
    return specs


WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OFFICE_HOURS: dict[str, list[list[str]]] = {
    day: [["09:00", "12:00"], ["13:00", "17:00"]] for day in WEEKDAY_KEYS[:5]
}
