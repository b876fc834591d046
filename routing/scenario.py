"""A seeded field-service scenario: a city-sized dispatch problem for benchmarks and tests.

The defaults are the benchmark of the optimizer issue: 1,000 visits and 100
engineers over a 48 h horizon in a 25 km radius around Zhengzhou's centre.
Second 0 of the horizon is 06:00 local time on day 1; every engineer works
two 9-hour shifts, 08:00–17:00 on day 1 and on day 2, with up to 30 minutes
of overtime, starting and ending at home.

Visits mix four severities, each with an on-site deadline counted from when
the work order was opened (a few hours before the plan is made):

==========  ========  ===========================  ===========
severity    priority  on site within               share
==========  ========  ===========================  ===========
critical    10        6 h (opened ≤ 3 h ago)       5 %
high        5         12 h (opened ≤ 8 h ago)      15 %
medium      2         24 h (opened ≤ 20 h ago)     30 %
low         1         no deadline; an appointment  50 %
==========  ========  ===========================  ===========

Low-severity visits carry a half-day appointment (start 08–12 or 12–16 on
day 1 or day 2), 40 % of them confirmed by the customer (hard window), the
rest tentative (soft). A tenth of all sites only admit engineers 09:00–16:00.
Skills come with levels 1–3 and a few expire (some already, some between
the two shifts); a fifth of the visits need a part that only some vans hold;
2 % are joint visits for two engineers.

The same seed always gives the same problem, whatever the platform.
"""

from __future__ import annotations

import math

import numpy as np

from routing.geo import Point
from routing.model import DEFAULT_HORIZON_S, Engineer, Problem, Visit, Window
from routing.travel import HaversineTravelTime, TravelTimeProvider

H = 3600.0
ZHENGZHOU: Point = (113.6254, 34.7466)
# Local time of day at horizon second 0.
EPOCH_SECOND_OF_DAY = 6 * 3600
# Day 1 and day 2, 08:00–17:00 local.
SHIFTS: tuple[Window, ...] = ((2 * H, 11 * H), (26 * H, 35 * H))
OVERTIME_CAP_S = 1800.0
# Start-of-service windows of the half-day appointment slots.
APPOINTMENT_SLOTS: tuple[Window, ...] = ((2 * H, 6 * H), (6 * H, 10 * H), (26 * H, 30 * H), (30 * H, 34 * H))
# Business-hours sites: 09:00–16:00 each day.
ACCESS_WINDOWS: tuple[Window, ...] = ((3 * H, 10 * H), (27 * H, 34 * H))

SEVERITY_PRIORITY: dict[str, int] = {"critical": 10, "high": 5, "medium": 2, "low": 1}
# severity -> (share of visits, on-site hours, latest hours before the plan it was opened)
SEVERITIES: dict[str, tuple[float, float | None, float]] = {
    "critical": (0.05, 6.0, 3.0),
    "high": (0.15, 12.0, 8.0),
    "medium": (0.30, 24.0, 20.0),
    "low": (0.50, None, 0.0),
}
SKILLS: tuple[str, ...] = (
    "hvac",
    "electrical",
    "plumbing",
    "elevator",
    "fire_safety",
    "network",
    "medical_devices",
    "refrigeration",
)
# Parts by popularity: the first few are in most vans.
SKUS: tuple[str, ...] = tuple(f"SKU-{k:03d}" for k in range(1, 21))
COMMON_SKUS = 5
DURATIONS_MIN = (30, 45, 60, 90, 120)
DURATION_WEIGHTS = (0.2, 0.25, 0.3, 0.15, 0.1)
DISTRICTS = 6


def severity_of(visit: Visit) -> str:
    """The severity a scenario visit was generated with (from its priority)."""
    for name, priority in SEVERITY_PRIORITY.items():
        if visit.priority == priority:
            return name
    return "low"


def _offset(centre: Point, east_km: float, north_km: float) -> Point:
    lat = centre[1] + north_km / 111.32
    lon = centre[0] + east_km / (111.32 * math.cos(math.radians(centre[1])))
    return (round(lon, 6), round(lat, 6))


def _in_disc(rng: np.random.Generator, radius_km: float) -> tuple[float, float]:
    r = radius_km * math.sqrt(float(rng.random()))
    a = 2 * math.pi * float(rng.random())
    return r * math.cos(a), r * math.sin(a)


def _visit_point(
    rng: np.random.Generator, centre: Point, radius_km: float, districts: list[tuple[float, float]]
) -> Point:
    # Most work is in the dense districts, the rest anywhere in the city.
    if rng.random() < 0.6:
        dx, dy = districts[int(rng.integers(len(districts)))]
        x, y = dx + float(rng.normal(0, radius_km / 8)), dy + float(rng.normal(0, radius_km / 8))
        norm = math.hypot(x, y)
        if norm > radius_km:
            x, y = x * radius_km / norm, y * radius_km / norm
    else:
        x, y = _in_disc(rng, radius_km)
    return _offset(centre, x, y)


def _engineer(rng: np.random.Generator, k: int, centre: Point, radius_km: float) -> Engineer:
    home = _offset(centre, *_in_disc(rng, radius_km * 0.8))
    skills: dict[str, tuple[int, float | None]] = {}
    for name in rng.choice(SKILLS, size=3, replace=False):
        level = int(rng.choice([1, 2, 3], p=[0.4, 0.4, 0.2]))
        valid_until: float | None = None
        draw = float(rng.random())
        if draw < 0.03:
            valid_until = -24 * H  # lapsed before the plan
        elif draw < 0.06:
            valid_until = 20 * H  # lapses overnight, between the two shifts
        skills[str(name)] = (level, valid_until)
    rare = rng.choice(SKUS[COMMON_SKUS:], size=5, replace=False)
    parts = frozenset(SKUS[:COMMON_SKUS]) | frozenset(str(s) for s in rare)
    if rng.random() < 0.2:  # some vans are short of the common parts too
        parts -= {SKUS[int(rng.integers(COMMON_SKUS))]}
    return Engineer(
        id=f"E{k + 1:03d}",
        start=home,
        shifts=list(SHIFTS),
        skills=skills,
        parts=parts,
        overtime_cap_s=OVERTIME_CAP_S,
    )


def _visit(
    rng: np.random.Generator,
    k: int,
    severity: str,
    centre: Point,
    radius_km: float,
    districts: list[tuple[float, float]],
) -> Visit:
    _, sla_h, opened_h = SEVERITIES[severity]
    point = _visit_point(rng, centre, radius_km, districts)
    duration = 60.0 * int(rng.choice(DURATIONS_MIN, p=DURATION_WEIGHTS))
    joint = severity != "critical" and rng.random() < 0.02
    skills: dict[str, int] = {}
    names = rng.choice(SKILLS, size=2 if (rng.random() < 0.15 and not joint) else 1, replace=False)
    for name in names:
        skills[str(name)] = 1 if joint else int(rng.choice([1, 2, 3], p=[0.55, 0.35, 0.1]))
    parts: frozenset[str] = frozenset()
    if not joint and rng.random() < 0.2:
        # Popular parts far more often than rare ones.
        weights = np.array([4.0] * COMMON_SKUS + [1.0] * (len(SKUS) - COMMON_SKUS))
        parts = frozenset({str(rng.choice(SKUS, p=weights / weights.sum()))})
    deadline: float | None = None
    if sla_h is not None:
        opened = -opened_h * H * float(rng.random())
        deadline = round(opened + sla_h * H)
    appointment: Window | None = None
    confirmed = False
    if severity == "low":
        appointment = APPOINTMENT_SLOTS[int(rng.integers(len(APPOINTMENT_SLOTS)))]
        confirmed = bool(rng.random() < 0.4)
    windows = list(ACCESS_WINDOWS) if rng.random() < 0.1 else []
    return Visit(
        id=f"V{k + 1:04d}",
        point=point,
        duration_s=duration,
        skills=skills,
        parts=parts,
        people_needed=2 if joint else 1,
        windows=windows,
        priority=SEVERITY_PRIORITY[severity],
        deadline_s=deadline,
        appointment=appointment,
        confirmed=confirmed,
        critical=severity == "critical",
    )


def field_scenario(
    visits: int = 1000,
    engineers: int = 100,
    seed: int = 0,
    *,
    centre: Point = ZHENGZHOU,
    radius_km: float = 25.0,
    travel: TravelTimeProvider | None = None,
) -> Problem:
    """`visits` visits and `engineers` engineers over 48 h around `centre`; deterministic per seed.

    Travel defaults to great-circle distance × 1.3 at 30 km/h (city traffic).
    """
    rng = np.random.default_rng(seed)
    districts = [_in_disc(rng, radius_km * 0.6) for _ in range(DISTRICTS)]
    team = [_engineer(rng, k, centre, radius_km) for k in range(engineers)]
    names = list(SEVERITIES)
    shares = np.array([SEVERITIES[n][0] for n in names])
    severities = rng.choice(names, size=visits, p=shares / shares.sum())
    work = [_visit(rng, k, str(s), centre, radius_km, districts) for k, s in enumerate(severities)]
    if travel is None:
        travel = HaversineTravelTime(
            detour_factor=1.3, speed_kmh=30.0, epoch_second_of_day=EPOCH_SECOND_OF_DAY
        )
    return Problem(engineers=team, visits=work, travel=travel, horizon_s=DEFAULT_HORIZON_S)


def urgent_visits(count: int, seed: int, now_s: float, *, centre: Point = ZHENGZHOU) -> list[Visit]:
    """New critical visits arriving at `now_s`: on site within 4 h, one common skill, no parts."""
    rng = np.random.default_rng(seed + 7919)
    out = []
    for k in range(count):
        out.append(
            Visit(
                id=f"U{k + 1:03d}",
                point=_offset(centre, *_in_disc(rng, 20.0)),
                duration_s=3600.0,
                skills={str(rng.choice(SKILLS)): 1},
                priority=SEVERITY_PRIORITY["critical"],
                deadline_s=now_s + 4 * H,
                critical=True,
            )
        )
    return out
