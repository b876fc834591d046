"""What a run achieved, per policy: the figures, PNG charts and a Markdown summary.

The 12-hour and 48-hour shares count elapsed time from the report, as the promise is worded;
an order reported less than 12 h (48 h) before the end of the week is left out of that share,
since its answer lies beyond the simulation. The 12 h / 48 h pair is what 7x24 contracts promise;
5x8 contracts count business hours (next business day), so the report also gives the elapsed
share among 7x24 orders and, for every critical/high order, whether the contract's own on-site
clock was kept."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from core import zones
from dispatch.simulation.check import TZ, windows
from dispatch.simulation.engine import Outcome
from dispatch.simulation.waiting import Wait, Waits, busy_spans, overlap

URGENT = {"critical", "high"}
ON_SITE = dt.timedelta(hours=12)
RESTORED = dt.timedelta(hours=48)


@dataclass(frozen=True)
class Figures:
    policy: str
    orders: int
    on_site_12h: float | None
    on_site_12h_urgent: float | None
    on_site_12h_urgent_7x24: float | None
    on_site_clock_kept_urgent: float | None
    restored_48h_urgent: float | None
    restored_48h_urgent_7x24: float | None
    response_compliance: float | None
    breaches: int
    backups_installed: int
    follow_ups: int
    km_per_order: float | None
    overtime_hours: float
    utilisation: float | None
    # Orders needing a part, and how many of them had a visit without it (one order counts once
    # however often it was visited empty-handed).
    stockout_orders: int
    orders_needing_parts: int
    wall_seconds: float


def _share(hits: int, of: int) -> float | None:
    return hits / of if of else None


def _within(rows: list[dict[str, Any]], field: str, limit: dt.timedelta, end: dt.datetime) -> tuple[int, int]:
    counted = [r for r in rows if r["reported_at"] + limit <= end]
    hits = sum(1 for r in counted if r[field] is not None and r[field] - r["reported_at"] <= limit)
    return hits, len(counted)


def _kept(row: dict[str, Any]) -> bool:
    """The on-site clock met by its deadline. A deadline passed unmet counts as missed even when
    no sweep has marked the breach yet (one due in the run's last minutes)."""
    met, deadline = row.get("on_site_met_at"), row.get("on_site_deadline")
    return met is not None and (deadline is None or met <= deadline) and not row.get("on_site_breached")


def _clock_kept(rows: list[dict[str, Any]], end: dt.datetime) -> tuple[int, int]:
    """Orders whose on-site clock was met or ran out by `end`, and how many of them kept it."""
    counted = [
        r
        for r in rows
        if r.get("on_site_met_at") is not None
        or (r.get("on_site_deadline") is not None and r["on_site_deadline"] <= end)
    ]
    return sum(1 for r in counted if _kept(r)), len(counted)


def _duty(crew: dict[str, Any], start: dt.datetime, days: int) -> list[tuple[dt.datetime, dt.datetime]]:
    first = start.astimezone(zones.zone(TZ)).date() - dt.timedelta(days=1)
    return [
        (s, e)
        for d in range(days + 1)
        for s, e, standby in windows(crew, first + dt.timedelta(days=d))
        if not standby
    ]


def _labour(outcome: Outcome, start: dt.datetime, days: int) -> tuple[float, float | None]:
    """Overtime hours (busy outside regular shifts) and utilisation (busy share of shift time)."""
    spans = busy_spans(outcome.log.rows)
    end = start + dt.timedelta(days=days)
    overtime = busy_in = duty_total = 0.0
    for crew in outcome.crews:
        duty = [(max(s, start), min(e, end)) for s, e in _duty(crew, start, days) if e > start and s < end]
        duty_total += sum((e - s).total_seconds() for s, e in duty)
        for span in spans.get(crew["engineer"], []):
            inside = overlap(span, duty)
            busy_in += inside
            overtime += (span[1] - span[0]).total_seconds() - inside
    return overtime / 3600, _share(round(busy_in), round(duty_total))


def figures(outcome: Outcome, start: dt.datetime, days: int) -> Figures:
    end = start + dt.timedelta(days=days)
    rows = outcome.orders
    urgent = [r for r in rows if r["severity"] in URGENT]
    log = outcome.log.rows
    responses = [r for r in rows if r.get("response_deadline") is not None and r["response_deadline"] <= end]
    km = sum(r.get("km", 0.0) for r in log if r["event"] == "travel")
    visited = len({r["fault"] for r in log if r["event"] == "arrive"})
    overtime, utilisation = _labour(outcome, start, days)
    return Figures(
        policy=outcome.policy,
        orders=len(rows),
        on_site_12h=_share(*_within(rows, "arrived_at", ON_SITE, end)),
        on_site_12h_urgent=_share(*_within(urgent, "arrived_at", ON_SITE, end)),
        on_site_12h_urgent_7x24=_share(
            *_within([r for r in urgent if r.get("contract") == "7x24"], "arrived_at", ON_SITE, end)
        ),
        on_site_clock_kept_urgent=_share(*_clock_kept(urgent, end)),
        restored_48h_urgent=_share(*_within(urgent, "restored_at", RESTORED, end)),
        restored_48h_urgent_7x24=_share(
            *_within([r for r in urgent if r.get("contract") == "7x24"], "restored_at", RESTORED, end)
        ),
        response_compliance=_share(sum(1 for r in responses if not r["response_breached"]), len(responses)),
        breaches=sum(1 for r in rows for m in ("on_site", "restore") if r.get(f"{m}_breached")),
        backups_installed=sum(
            1 for r in log if r["event"] == "finish" and r["outcome"] == "backup_installed"
        ),
        follow_ups=sum(
            1 for r in log if r["event"] == "finish" and str(r["outcome"]).startswith("follow_up")
        ),
        km_per_order=km / visited if visited else None,
        overtime_hours=overtime,
        utilisation=utilisation,
        stockout_orders=len({r["fault"] for r in log if r["event"] == "stockout"}),
        orders_needing_parts=sum(1 for r in log if r["event"] == "reported" and r.get("part")),
        wall_seconds=outcome.wall_seconds,
    )


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def table(all_figures: list[Figures]) -> str:
    """The comparison as a Markdown table, one column per policy."""
    lines: list[tuple[str, Any]] = [
        ("work orders", lambda f: str(f.orders)),
        ("on site within 12 h (all)", lambda f: _pct(f.on_site_12h)),
        ("on site within 12 h elapsed (critical/high, every contract)", lambda f: _pct(f.on_site_12h_urgent)),
        (
            "on site within 12 h elapsed (critical/high, 7x24 contracts)",
            lambda f: _pct(f.on_site_12h_urgent_7x24),
        ),
        ("contract's on-site clock kept (critical/high)", lambda f: _pct(f.on_site_clock_kept_urgent)),
        (
            "restored or backup within 48 h (critical/high, every contract)",
            lambda f: _pct(f.restored_48h_urgent),
        ),
        (
            "restored or backup within 48 h (critical/high, 7x24 contracts)",
            lambda f: _pct(f.restored_48h_urgent_7x24),
        ),
        ("first-response compliance", lambda f: _pct(f.response_compliance)),
        ("SLA breaches (on site + restore clocks)", lambda f: str(f.breaches)),
        ("backups installed", lambda f: str(f.backups_installed)),
        ("follow-up visits", lambda f: str(f.follow_ups)),
        ("travel km per order", lambda f: "–" if f.km_per_order is None else f"{f.km_per_order:.1f}"),
        ("overtime (engineer-hours)", lambda f: f"{f.overtime_hours:.1f}"),
        ("utilisation (busy share of shift time)", lambda f: _pct(f.utilisation)),
        (
            "stock-outs (orders with a visit without the part, of orders needing one)",
            lambda f: f"{f.stockout_orders} of {f.orders_needing_parts}",
        ),
        ("run time", lambda f: f"{f.wall_seconds / 60:.1f} min"),
    ]
    head = "| measure | " + " | ".join(f.policy for f in all_figures) + " |"
    rule = "|---|" + "---|" * len(all_figures)
    body = [f"| {name} | " + " | ".join(cell(f) for f in all_figures) + " |" for name, cell in lines]
    if len(all_figures) == 2:
        avoided = all_figures[1].breaches - all_figures[0].breaches
        body.append(f"| breaches avoided by {all_figures[0].policy} | {avoided} | |")
    return "\n".join([head, rule, *body])


def _shift_hours(crews: list[dict[str, Any]], since: dt.datetime, until: dt.datetime) -> float:
    """The most regular shift time (standby aside) any engineer has between the two moments: how
    long the team could work on a fault before its 12 hours ran out."""
    day = since.astimezone(zones.zone(TZ)).date()
    spans = [
        (max(s, since), min(e, until))
        for crew in crews
        for d in (-1, 0, 1)
        for s, e, standby in windows(crew, day + dt.timedelta(days=d))
        if not standby
    ]
    return max((max(0.0, (b - a).total_seconds()) for a, b in spans), default=0.0) / 3600


def _churn(waited: Wait) -> str:
    # Only the product's plans log assignments as they change.
    if not waited.engineers:
        return ""
    return f"; first visit planned for {waited.engineers} engineer(s), start slid later {waited.slides}×"


def _waited(waits: Waits, r: dict[str, Any], end: dt.datetime) -> Wait:
    """The fault's wait for someone on site, within its 12 hours."""
    until = min(r["arrived_at"] or end, r["reported_at"] + ON_SITE, end)
    return waits.of(r["fault"], r["category"], r["reported_at"], until)


def waiting(outcome: Outcome, end: dt.datetime) -> list[str]:
    """Critical/high faults late on site, and how many of them waited while an engineer with the
    skill was free on a regular shift for an hour or more of their 12 hours: work left waiting
    beside idle capacity, not capacity missing."""
    waits = Waits(outcome.log.rows, outcome.crews)
    late = [
        r
        for r in outcome.orders
        if r["severity"] in URGENT
        and r["reported_at"] + ON_SITE <= end
        and (r["arrived_at"] is None or r["arrived_at"] - r["reported_at"] > ON_SITE)
    ]
    found = [_waited(waits, r, end) for r in late]
    beside = [w for w in found if w.idle_hours >= 1.0]
    moved, slid = sum(1 for w in found if w.engineers > 1), sum(1 for w in found if w.slides)
    lines = [
        f"- critical/high faults late on site (elapsed 12 h): {len(late)}",
        f"- of them, waiting while engineers with the skill were free on a regular shift for 1 h or more: "
        f"{len(beside)} ({sum(w.idle_hours for w in beside):.1f} free engineer-hours in all)",
    ]
    return lines + (
        [
            f"- first visit moved to another engineer at least once: {moved}; "
            f"start slid later by more than 30 min at a re-plan at least once: {slid}"
        ]
        if any(w.engineers for w in found)
        else []
    )


def misses(outcome: Outcome, end: dt.datetime) -> list[str]:
    """Critical and high faults that missed 12 h on site or 48 h restored, with what the plans said."""
    found = []
    reasons = outcome.unassigned_reasons
    waits = Waits(outcome.log.rows, outcome.crews)
    for r in outcome.orders:
        if r["severity"] not in URGENT:
            continue
        late_site = r["reported_at"] + ON_SITE <= end and (
            r["arrived_at"] is None or r["arrived_at"] - r["reported_at"] > ON_SITE
        )
        late_restore = r["reported_at"] + RESTORED <= end and (
            r["restored_at"] is None or r["restored_at"] - r["reported_at"] > RESTORED
        )
        if not (late_site or late_restore):
            continue
        said = sorted({v for k, v in reasons.items() if k.startswith(f"F{r['fault']}.")})
        what = " and ".join(
            x for x, late in (("on site > 12 h", late_site), ("restore > 48 h", late_restore)) if late
        )
        local = r["reported_at"].astimezone(zones.zone(TZ)).strftime("%a %H:%M")
        shift = _shift_hours(outcome.crews, r["reported_at"], r["reported_at"] + ON_SITE)
        waited = _waited(waits, r, end)
        found.append(
            f"F{r['fault']} ({r['severity']}, {r.get('contract', '?')}, {r['category']}, reported {local}):"
            + f" {what}{' (contract clock kept)' if _kept(r) else ''}"
            + f" ({shift:.1f} h of regular shift in its 12 h)"
            + _churn(waited)
            + f"; qualified engineers free on shift {waited.idle_hours:.1f} h while it waited"
            + (f" — plan: {'; '.join(said)}" if said else "")
        )
    return found
