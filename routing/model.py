"""The dispatch problem and its solution as plain data.

Times are seconds from the start of the plan horizon (floats are allowed so
that abstract benchmark units fit too); points are (lon, lat) for the default
haversine provider, or planar (x, y) for `EuclideanTravelTime`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from routing.geo import Point
from routing.travel import HaversineTravelTime, TravelTimeProvider

Window = tuple[float, float]

DEFAULT_HORIZON_S = 48 * 3600


@dataclass
class Engineer:
    id: str
    start: Point
    shifts: list[Window]
    end: Point | None = None  # None: back to `start`
    # name -> (level, valid until in horizon seconds or None for no expiry)
    skills: dict[str, tuple[int, float | None]] = field(default_factory=dict)
    parts: frozenset[str] = frozenset()  # what the van holds
    on_call: bool = False
    # Standby periods (nights, weekends); used only when `on_call`, and only
    # for critical visits.
    on_call_shifts: list[Window] = field(default_factory=list)
    overtime_cap_s: float = 0.0  # per shift
    capacity: int | None = None  # units per shift for the capacity dimension

    @property
    def end_point(self) -> Point:
        return self.end if self.end is not None else self.start


@dataclass
class Visit:
    id: str
    point: Point
    duration_s: float
    skills: dict[str, int] = field(default_factory=dict)  # name -> minimum level
    parts: frozenset[str] = frozenset()
    people_needed: int = 1
    # Hard windows for the start of service (site access); empty: any time.
    windows: list[Window] = field(default_factory=list)
    priority: int = 1  # weight of lateness and of leaving the visit out
    deadline_s: float | None = None  # soft "on site by"; lateness costs per minute × priority
    appointment: Window | None = None  # promised to the customer
    confirmed: bool = False  # a confirmed appointment is hard, an unconfirmed one soft
    critical: bool = False  # may go to on-call engineers outside their shifts
    pinned_engineer: str | None = None
    pinned_start_s: float | None = None
    already_started: bool = False  # the engineer is on site: first stop, cannot move
    demand: int = 0  # for the capacity dimension


@dataclass
class Problem:
    engineers: list[Engineer]
    visits: list[Visit]
    travel: TravelTimeProvider = field(default_factory=HaversineTravelTime)
    horizon_s: float = DEFAULT_HORIZON_S


@dataclass
class Stop:
    visit_id: str
    arrival_s: float
    start_s: float
    end_s: float
    travel_s: float  # from the previous stop or the route start
    late_s: float = 0.0  # past the visit's deadline


@dataclass
class Route:
    engineer_id: str
    shift_index: int  # into the engineer's shifts, then on-call shifts
    shift: Window
    on_call: bool
    depart_s: float
    return_s: float
    stops: list[Stop]
    travel_s: float
    overtime_s: float
    load: int = 0


@dataclass
class Unassigned:
    visit_id: str
    reason: str


@dataclass
class LateVisit:
    visit_id: str
    engineer_ids: list[str]
    start_s: float
    deadline_s: float
    late_s: float
    reason: str


@dataclass
class Solution:
    routes: list[Route]
    unassigned: list[Unassigned]
    late: list[LateVisit]
    objective: int | None  # solver units; None when no solution was found
    status: str
    seconds: float
    solutions_found: int = 0

    @property
    def assigned_visit_ids(self) -> set[str]:
        return {s.visit_id for r in self.routes for s in r.stops}

    @property
    def total_travel_s(self) -> float:
        return sum(r.travel_s for r in self.routes)


@dataclass(frozen=True)
class Progress:
    objective: int
    elapsed_s: float
    solutions: int
