"""`python -m dispatch.simulation`: simulate a week under each policy and write the comparison.

Builds a throwaway PostgreSQL cluster with the demo city, copies its database for each policy,
replays the same seeded week through both, and writes summary.md, the charts and each run's event
log under --out; the comparison table is printed. The policies play side by side, each in its own
process (--jobs 1: one after the other); a progress line per policy goes to stderr."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from core import zones
from dispatch.simulation import charts, check, policies, report
from dispatch.simulation.databases import demo_cluster
from dispatch.simulation.engine import TZ, Outcome
from dispatch.simulation.runner import Run, run_policy, run_side_by_side
from dispatch.simulation.scenario import WEEKEND_FACTOR, generate
from dispatch.simulation.world import ROSTERS, STANDBY_SHARE, WEEKEND_PER_SKILL

# The demo data is dated from this moment; the simulated week starts the Monday after, at local
# midnight (Asia/Shanghai), when the demo's stock is on the shelves.
DEMO_NOW = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
WEEK_START = dt.datetime(2026, 3, 8, 16, 0, tzinfo=dt.UTC)
SITE_TZ = zones.zone(TZ)
# Lendable backups per customer model the simulated company holds at the start: few of a week's
# loans come back within it (the vendor's repair takes 2 to 5 days before the swap-back), so the
# pool covers the loans a week at 150 faults a weekday asks for (at most 8 of one model were out at
# once in the default week).
BACKUP_POOL = 15
# The stock rule per warehouse and part: below 10 free, refilled to 20 overnight.
RESTOCK_LEVELS = "10,20"


class _Bars:
    """A progress line per policy on stderr: redrawn in place on a terminal, a line per tenth
    of the way otherwise (a log file stays short)."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.done = dict.fromkeys(names, 0.0)
        self.started: float | None = None  # the first report: the runs' start, not the template's
        self.ended: dict[str, float] = {}
        self.tty = sys.stderr.isatty()
        self.drawn = False

    def _line(self, name: str) -> str:
        done = self.done[name]
        filled = int(30 * done)
        elapsed = self.ended.get(name, time.perf_counter() - (self.started or 0.0))
        return f"{name:>8} [{'#' * filled}{'.' * (30 - filled)}] {100 * done:5.1f} % {elapsed:6.0f} s"

    def show(self, name: str, done: float) -> None:
        if self.started is None:
            self.started = time.perf_counter()
        before = self.done[name]
        self.done[name] = done
        if done >= 1:
            self.ended.setdefault(name, time.perf_counter() - self.started)
        if self.tty:
            if self.drawn:
                sys.stderr.write(f"\x1b[{len(self.names)}F")
            sys.stderr.write("".join(f"\x1b[2K{self._line(n)}\n" for n in self.names))
            self.drawn = True
        elif int(10 * done) > int(10 * before):
            sys.stderr.write(self._line(name) + "\n")
        sys.stderr.flush()

    def one(self, name: str) -> Callable[[float], None]:
        return lambda done: self.show(name, done)


def _run_time(outcome: Outcome) -> str:
    """Where a run's wall time went, by phase of the loop (solving is a part of dispatch)."""
    phases = sorted(outcome.timings.items(), key=lambda kv: -kv[1])
    spent = ", ".join(f"{phase} {seconds:.0f} s" for phase, seconds in phases)
    return f"{outcome.policy}: {outcome.wall_seconds:.0f} s — {spent}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dispatch.simulation", description=__doc__)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument(
        "--hours",
        type=int,
        default=None,
        help="time a shorter run: the first hours of the days (the figures still count whole days)",
    )
    parser.add_argument(
        "--start-day",
        type=int,
        default=0,
        help="start this many days after the demo week's Monday (5: a run from Saturday)",
    )
    parser.add_argument("--engineers", type=int, default=30)
    parser.add_argument(
        "--roster",
        choices=ROSTERS,
        default="forecast",
        help="forecast: the demo's roster plus a weekend rota staffed for the weekend's expected faults; "
        "weekend: plus a rota of 2 engineers per skill; lean: the demo's roster (nobody on Sunday)",
    )
    parser.add_argument(
        "--backup-pool",
        type=int,
        default=BACKUP_POOL,
        help="lendable backup devices per customer model at the start, topped up in the warehouses "
        "(0: the demo's stock, which has none for storage, printers and UPSs)",
    )
    parser.add_argument(
        "--restock-levels",
        default=RESTOCK_LEVELS,
        help="MIN,MAX: the stock rule set in every warehouse for each part the faults use (where the "
        "product has none); each night the product's suggested reorder is received by 06:00 ('none': "
        "no restocking)",
    )
    parser.add_argument("--faults-per-day", type=float, default=150.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--policy", choices=["both", "product", "plain"], default="both")
    parser.add_argument("--replan-minutes", type=int, default=60, help="the product re-plans this often")
    parser.add_argument(
        "--replan-always",
        action="store_true",
        help="the product re-plans on every turn, even when nothing a plan reads changed since the last",
    )
    parser.add_argument("--time-limit", type=float, default=3.0, help="seconds per re-plan")
    parser.add_argument("--sweep-minutes", type=int, default=30, help="the worker's sweeps run this often")
    parser.add_argument(
        "--jobs",
        type=int,
        default=2,
        help="policies played at once, each in its own process (1: one after the other, in this process)",
    )
    parser.add_argument("--out", type=Path, default=Path("var/simulation"))
    return parser


def _write(out: Path, outcomes: list[Outcome], args: argparse.Namespace) -> str:
    out.mkdir(parents=True, exist_ok=True)
    start = _start(args)
    all_figures = [report.figures(o, start, args.days) for o in outcomes]
    table = report.table(all_figures)
    end = start + dt.timedelta(days=args.days)
    roster = {
        "forecast": "the demo's roster plus a weekend rota staffed for the forecast (the weekday day shift × "
        f"{WEEKEND_FACTOR:g}, the weekend's share of a weekday's faults, at least {WEEKEND_PER_SKILL} "
        "engineers per skill on Saturday and on Sunday, standby the nights after) and standby nights "
        f"staffed by the equipment (one engineer per skill for each {100 * STANDBY_SHARE:g} % of the places)",
        "weekend": f"the demo's roster plus a weekend rota ({WEEKEND_PER_SKILL} engineers per skill on "
        "Saturday and on Sunday, standby the nights after)",
        "lean": "the demo's lean roster (Mon–Fri, every fourth Tue–Sat, nobody on Sunday)",
    }[args.roster]
    lines = [
        "# Simulated week",
        "",
        f"{args.days} days × {args.engineers} engineers × {args.faults_per_day:g} faults per weekday, "
        f"seed {args.seed}; re-plan every {args.replan_minutes} min with {args.time_limit:g} s; "
        f"sweeps every {args.sweep_minutes} min; {roster}"
        + (f"; from {start.astimezone(SITE_TZ):%A}" if args.start_day else "")
        + ".",
        "",
        table,
        "",
        "![Open orders and at-risk clocks](open_orders.png)",
        "",
        "![Time to site](time_to_site.png)",
    ]
    lines += ["", "## The roster", "", *_roster(outcomes[0].crews)]
    lines += ["", "## Backup devices", "", *_backups(outcomes)]
    lines += ["", "## Backup loans", "", *_loan_lifecycle(outcomes)]
    lines += ["", "## Overnight restocking", "", *_restocking(outcomes)]
    for outcome in outcomes:
        found = check.assignments(outcome.log.rows, outcome.crews) + check.one_place_at_a_time(
            outcome.log.rows
        )
        missed = report.misses(outcome, end)
        lines += ["", f"## {outcome.policy}: checks", "", *(f"- {f}" for f in found or ["no finding"])]
        lines += ["", f"## {outcome.policy}: critical/high faults that missed", ""]
        lines += [f"- {m}" for m in missed or ["none"]]
        lines += ["", f"## {outcome.policy}: late urgent faults beside free engineers", ""]
        lines += report.waiting(outcome, end)
        (out / f"events_{outcome.policy}.json").write_text(
            json.dumps(outcome.log.rows, ensure_ascii=False, indent=0)
        )
    # The roster as the runs began, for reading the event logs apart from this report.
    (out / "crews.json").write_text(json.dumps(outcomes[0].crews, ensure_ascii=False, indent=0))
    charts.open_orders(outcomes, out / "open_orders.png")
    charts.time_to_site(outcomes, out / "time_to_site.png")
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    return table


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _roster(crews: list[dict[str, Any]]) -> list[str]:
    """Per weekday, who works a day shift and who is on standby the night after, with the kinds of
    equipment they can repair between them."""
    rows = [
        "| weekday | day shift | standby night | skills by day | skills by night |",
        "|---|---|---|---|---|",
    ]
    for weekday, name in enumerate(WEEKDAYS):
        day = [c for c in crews if any(s["weekday"] == weekday and not s["on_call"] for s in c["shifts"])]
        night = [
            c
            for c in crews
            if c["on_call"] and any(s["weekday"] == weekday and s["on_call"] for s in c["shifts"])
        ]
        by_day, by_night = ", ".join(_skills(day)), ", ".join(_skills(night))
        rows.append(f"| {name} | {len(day)} | {len(night)} | {by_day} | {by_night} |")
    return rows


def _backups(outcomes: list[Outcome]) -> list[str]:
    """Per customer model: lendable backups at the start (the demo's and those the scenario
    added), then per policy the loans installed and the faults a backup was asked for and none
    could be reserved (the watch's notice or the engineer's request refused)."""
    head = "| model | lendable at start | added |" + "".join(
        f" {o.policy}: installed | {o.policy}: none available |" for o in outcomes
    )
    rows = [head, "|---" * (3 + 2 * len(outcomes)) + "|"]
    pool = {r["model"]: (r["had"], r["added"]) for r in outcomes[0].log.rows if r["event"] == "backup_pool"}
    counts = [_loans_by_model(o.log.rows) for o in outcomes]
    models = sorted(set(pool) | {m for c in counts for m in c})
    for model in models:
        had, added = pool.get(model, (None, 0))
        cells = "".join(f" {c.get(model, (0, 0))[0]} | {c.get(model, (0, 0))[1]} |" for c in counts)
        rows.append(f"| {model} | {'' if had is None else had + added} | {added} |{cells}")
    return rows


# The loan's steps as the event log names them, in lifecycle order.
LOAN_STEPS = (
    ("lent (backup installed)", "backup_installed"),
    ("faulty unit shipped to the vendor", "rma_shipped"),
    ("at the vendor", "rma_at_vendor"),
    ("back from the vendor (swap-back planned)", "rma_returned"),
    ("swapped back", "swapped_back"),
    ("backup back in stock", "backup_in_stock"),
    ("backup wiped: loan closed, lendable again", "backup_wiped"),
    ("step refused by the product", "loan_step_failed"),
)


def _loan_lifecycle(outcomes: list[Outcome]) -> list[str]:
    """Per policy: the loans that reached each step of the lifecycle within the run."""
    counts = []
    for o in outcomes:
        seen: dict[str, int] = {}
        for r in o.log.rows:
            key = r["outcome"] if r["event"] == "finish" else r["event"]
            seen[key] = seen.get(key, 0) + 1
        counts.append(seen)
    rows = ["| step | " + " | ".join(o.policy for o in outcomes) + " |", "|---" * (1 + len(outcomes)) + "|"]
    rows += [
        f"| {name} | " + " | ".join(str(c.get(key, 0)) for c in counts) + " |" for name, key in LOAN_STEPS
    ]
    return rows


def _restocking(outcomes: list[Outcome]) -> list[str]:
    """Per night and policy: the parts received by the morning, by SKU (all warehouses)."""
    received = [[r for r in o.log.rows if r["event"] == "restock_received"] for o in outcomes]
    if not any(received):
        return ["No part was reordered (or restocking is off)."]
    rows = ["| morning | " + " | ".join(f"{o.policy}: parts received" for o in outcomes) + " |"]
    rows.append("|---" * (1 + len(outcomes)) + "|")
    mornings = sorted({_local_day(r["at"]) for rs in received for r in rs})
    for day in mornings:
        cells = []
        for rs in received:
            skus: dict[str, int] = {}
            for r in rs:
                if _local_day(r["at"]) == day:
                    for sku, n in r["lines"].items():
                        skus[sku] = skus.get(sku, 0) + n
            cells.append(", ".join(f"{sku} {n}" for sku, n in sorted(skus.items())) or "none")
        rows.append(f"| {day} | " + " | ".join(cells) + " |")
    return rows


def _local_day(at: str) -> str:
    return dt.datetime.fromisoformat(at).astimezone(SITE_TZ).strftime("%Y-%m-%d %a")


def _loans_by_model(rows: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    model = {r["fault"]: r.get("model") for r in rows if r["event"] == "reported"}
    installed: dict[str, set[int]] = {}
    refused: dict[str, set[int]] = {}
    for r in rows:
        if r["event"] == "finish" and r.get("outcome") == "backup_installed":
            installed.setdefault(str(model.get(r["fault"])), set()).add(r["fault"])
        elif (r["event"] == "notice" and r.get("notice") == "backup_unavailable") or (
            r["event"] == "backup_unavailable"
        ):
            refused.setdefault(str(model.get(r["fault"])), set()).add(r["fault"])
    return {m: (len(installed.get(m, ())), len(refused.get(m, ()))) for m in set(installed) | set(refused)}


def _skills(crews: list[dict[str, Any]]) -> list[str]:
    # Licences valid through the simulated weeks (an electrician's licence may have run out).
    return sorted({k for c in crews for k, until in c["skills"].items() if until is None or until >= "2027"})


def _start(args: argparse.Namespace) -> dt.datetime:
    return WEEK_START + dt.timedelta(days=args.start_day)


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    scenario = generate(
        args.seed,
        start=_start(args),
        days=args.days,
        engineers=args.engineers,
        faults_per_day=args.faults_per_day,
    )
    levels = None if args.restock_levels == "none" else tuple(int(x) for x in args.restock_levels.split(","))
    scenario = dataclasses.replace(
        scenario,
        roster=args.roster,
        backup_pool=args.backup_pool,
        restock_levels=(levels[0], levels[1]) if levels else None,
    )
    if args.hours is not None:
        scenario = dataclasses.replace(scenario, hours=args.hours)
    print(f"{len(scenario.faults)} faults, {len(scenario.sick)} sick days", file=sys.stderr)
    names = ["product", "plain"] if args.policy == "both" else [args.policy]
    bars = _Bars(names)
    with demo_cluster(DEMO_NOW) as databases, ExitStack() as copies:
        runs = [
            Run(
                copies.enter_context(databases.copy()),
                scenario,
                policies.make(
                    name,
                    replan_minutes=args.replan_minutes,
                    time_limit_s=args.time_limit,
                    skip_unchanged=not args.replan_always,
                ),
                args.sweep_minutes,
            )
            for name in names
        ]
        if args.jobs > 1 and len(runs) > 1:
            outcomes = run_side_by_side(runs, bars.show, jobs=args.jobs)
        else:
            outcomes = [
                asyncio.run(
                    run_policy(
                        r.url, r.scenario, r.policy, sweep_minutes=r.sweep_minutes, progress=bars.one(name)
                    )
                )
                for name, r in zip(names, runs, strict=True)
            ]
    for outcome in outcomes:
        print(_run_time(outcome), file=sys.stderr)
    print(_write(args.out, outcomes, args))
    print(f"\nWritten to {args.out}/ (summary.md, the charts, events_*.json, crews.json)")


if __name__ == "__main__":
    main()
