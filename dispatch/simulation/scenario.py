"""A week of faults, drawn once from a seed: the same seed gives the same week, so every policy
is judged on the same arrivals, durations, parts and mishaps."""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field

from dispatch.contracts.models import Severity

# Shares of the severities among reported faults.
SEVERITY_SHARES = (
    (Severity.CRITICAL, 0.05),
    (Severity.HIGH, 0.20),
    (Severity.MEDIUM, 0.50),
    (Severity.LOW, 0.25),
)
# Relative fault rate per local hour: busy office hours, a quiet night.
HOUR_SHAPE = (
    0.15, 0.1, 0.1, 0.1, 0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0, 1.8,
    1.2, 1.6, 2.0, 2.0, 1.8, 1.4, 0.9, 0.6, 0.45, 0.35, 0.25, 0.2,
)  # fmt: skip
WEEKEND_FACTOR = 0.4
# Median true repair minutes and the spread (sigma of the log) per equipment category.
REPAIR = {
    "server": (75, 0.45),
    "storage": (90, 0.5),
    "network": (50, 0.4),
    "ups_power": (80, 0.45),
    "printer": (35, 0.35),
}
# Parts a first visit may need, per category, and how often one is needed.
PARTS = {
    "server": ("PSU-750W", "MEM-32G-DDR4", "FAN-2U", "DISK-1.2T-SAS"),
    "storage": ("DISK-1.2T-SAS",),
    "ups_power": ("BATT-UPS-12V",),
}
PART_SHARE = 0.3
# A first visit that cannot restore: the unit goes to the vendor (days); the engineer says so.
CANNOT_FIX_SHARE = 0.08
VENDOR_REPAIR_HOURS = (48, 120)
# The customer keeps the engineer waiting at the gate (registration, escort).
GATE_DELAY_SHARE = 0.05
GATE_DELAY_MINUTES = (20, 90)
# Sick days per engineer and day.
SICK_SHARE = 0.03


@dataclass(frozen=True)
class Fault:
    n: int
    reported_at: dt.datetime
    place: int  # index into the (site, asset) places, taken modulo their number
    severity: Severity
    repair_minutes: int
    part_draw: float  # below PART_SHARE: a part is needed (which one: see part_of)
    part_pick: int
    cannot_fix: bool
    vendor_hours: int
    gate_delay_minutes: int
    callback_minutes: int  # when the desk's person calls the reporter back

    def part_of(self, category: str) -> str | None:
        skus = PARTS.get(category)
        if not skus or self.part_draw >= PART_SHARE:
            return None
        return skus[self.part_pick % len(skus)]

    def true_minutes(self, category: str) -> int:
        """The true duration for the asset's category: the fault's draw scaled to its median."""
        median, _ = REPAIR.get(category, (60, 0.4))
        return max(15, round(self.repair_minutes * median / 60))


@dataclass(frozen=True)
class Scenario:
    seed: int
    start: dt.datetime
    days: int
    engineers: int
    faults: list[Fault]
    # (engineer index, day index) of the sick days.
    sick: list[tuple[int, int]] = field(default_factory=list)
    # A shorter run than whole days (tests): this many hours.
    hours: int | None = None
    # The team's roster: "forecast" adds a weekend rota staffed for the weekend's expected faults
    # to the demo's, "weekend" one of two engineers per skill, "lean" keeps it as it is (see
    # world.weekend_rota).
    roster: str = "forecast"
    # Lendable backup devices per customer model at the start (topped up in the warehouses; 0:
    # the demo's stock as it is; see pool.stock_backups).
    backup_pool: int = 0
    # The stock rule (min, max) the company keeps in every warehouse for each part its faults use,
    # restocked overnight through the product's replenishment (None: no restocking; see restock).
    restock_levels: tuple[int, int] | None = None

    @property
    def end(self) -> dt.datetime:
        return self.start + dt.timedelta(hours=self.hours if self.hours is not None else 24 * self.days)


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: fine for the small hourly means used here.
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _severity(rng: random.Random) -> Severity:
    x, acc = rng.random(), 0.0
    for severity, share in SEVERITY_SHARES:
        acc += share
        if x < acc:
            return severity
    return Severity.LOW


def _fault(rng: random.Random, n: int, at: dt.datetime) -> Fault:
    return Fault(
        n=n,
        reported_at=at,
        place=rng.randrange(1_000_000),
        severity=_severity(rng),
        # Minutes at a median of 60, log-normal; scaled to the category in true_minutes.
        repair_minutes=max(10, round(60 * math.exp(rng.gauss(0.0, 0.45)))),
        part_draw=rng.random(),
        part_pick=rng.randrange(1000),
        cannot_fix=rng.random() < CANNOT_FIX_SHARE,
        vendor_hours=rng.randint(*VENDOR_REPAIR_HOURS),
        gate_delay_minutes=rng.randint(*GATE_DELAY_MINUTES) if rng.random() < GATE_DELAY_SHARE else 0,
        callback_minutes=rng.randint(3, 25),
    )


def generate(
    seed: int,
    *,
    start: dt.datetime,
    days: int,
    engineers: int,
    faults_per_day: float,
    utc_offset_hours: int = 8,
) -> Scenario:
    """Arrivals as a Poisson process with a daily and weekly shape, `faults_per_day` on an
    average weekday; `start` should be a local midnight (site time `utc_offset_hours`)."""
    rng = random.Random(seed)
    weekday_total = sum(HOUR_SHAPE)
    faults: list[Fault] = []
    for hour in range(days * 24):
        at = start + dt.timedelta(hours=hour)
        local = at + dt.timedelta(hours=utc_offset_hours)
        mean = faults_per_day * HOUR_SHAPE[local.hour] / weekday_total
        if local.weekday() >= 5:
            mean *= WEEKEND_FACTOR
        count = _poisson(rng, mean)
        offsets = sorted(rng.uniform(0, 3600) for _ in range(count))
        faults += [
            _fault(rng, len(faults) + i, at + dt.timedelta(seconds=round(s))) for i, s in enumerate(offsets)
        ]
    sick = [(e, d) for d in range(days) for e in range(engineers) if rng.random() < SICK_SHARE]
    return Scenario(seed, start, days, engineers, faults, sick)


def fixed(start: dt.datetime, engineers: int, faults: list[Fault], hours: int) -> Scenario:
    """A hand-made scenario (tests): exactly these faults, nobody sick."""
    return Scenario(0, start, math.ceil(hours / 24), engineers, faults, [], hours, roster="lean")
