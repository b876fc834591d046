"""The run's charts as PNG files, drawn without a display (Agg)."""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")

import matplotlib.pyplot as plt

from core import zones
from dispatch.simulation.check import TZ
from dispatch.simulation.engine import Outcome


def open_orders(outcomes: list[Outcome], path: Path) -> Path:
    """Orders not yet restored and at-risk SLA clocks over the simulated time, one line per policy."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    tz = zones.zone(TZ)
    for outcome in outcomes:
        # The site's clock, not UTC: the day's shape (office hours, quiet nights) reads as lived.
        times = [s.at.astimezone(tz).replace(tzinfo=None) for s in outcome.samples]
        top.plot(times, [s.open_orders for s in outcome.samples], label=outcome.policy)
        bottom.plot(times, [s.at_risk for s in outcome.samples], label=outcome.policy)
    top.set_ylabel("orders not yet restored")
    bottom.set_ylabel("SLA clocks at risk")
    top.legend()
    bottom.set_xlabel(f"simulated time ({TZ})")
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def time_to_site(outcomes: list[Outcome], path: Path) -> Path:
    """Hours from report to the first check-in on site, per policy."""
    fig, ax = plt.subplots(figsize=(10, 4))
    bins = [h / 2 for h in range(0, 97)]
    for outcome in outcomes:
        hours = [
            (r["arrived_at"] - r["reported_at"]).total_seconds() / 3600
            for r in outcome.orders
            if r["arrived_at"] is not None
        ]
        ax.hist(hours, bins=bins, alpha=0.5, label=outcome.policy)
    ax.axvline(12, color="black", linestyle="--", linewidth=1)
    ax.set_xlabel("hours from report to on site (dashed: 12 h)")
    ax.set_ylabel("work orders")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
