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
    # Overtime still allowed this month over all shifts of the plan; None: no monthly cap.
    overtime_left_month_s: float | None = None
    capacity: int | None = None  # units per shift for the capacity dimension
    # Away overnight: each shift after the first starts where the previous one
    # ended (no drive home in between); the route ends at `end` after the last.
    stays_away: bool = False
    # After a call-out on an on-call period, no regular shift work starts
    # sooner than this after the engineer is back.
    rest_after_call_s: float = 0.0
    # Time away (sick, leave, training): the shifts given leave it out already; this says where
    # overtime after a shift must stop.
    absences: list[Window] = field(default_factory=list)
    # Out on work under way with no shift of theirs running now (driving to a job or on site in
    # the overtime after a shift): `shifts` holds a period (0, 0) for it, and this is the overtime
    # still left after it. None: no such period.
    overtime_now_s: float | None = None

    @property
    def end_point(self) -> Point:
        return self.end if self.end is not None else self.start

    def start_of_period(self, start_s: float) -> Point:
        """Where a working period starting at `start_s` begins: the engineer's first period at
        `start` (where they are, or set out from), each later one at home, since they go home in
        between (unless they stay away overnight). Started from where the engineer stands now,
        tomorrow's shift might not even get them home inside its own span, and the plan of
        everyone would fail with it."""
        periods = [*self.shifts, *(self.on_call_shifts if self.on_call else [])]
        first = min((lo for lo, hi in periods if hi > 0), default=start_s)
        if self.stays_away or start_s <= max(0.0, first):
            return self.start
        return self.end_point

    def overtime_cap_after(self, end_s: float) -> float:
        """The overtime a shift ending at `end_s` may run to: the cap, or less up to an absence."""
        gaps = [start - end_s for start, _ in self.absences if start >= end_s]
        cap = self.overtime_now_s if self.overtime_now_s is not None and end_s <= 0 else self.overtime_cap_s
        return max(0.0, min([cap, *gaps]))


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
    # A sooner aim than the deadline (the desk's own target for urgent work): a start past it is
    # priced like lateness, and the start promised by the current plan does not hold it back, so
    # that urgent work starts as soon as an engineer can be there. Lateness is still told
    # against the deadline.
    target_s: float | None = None
    # Seconds of travel that each hour between the plan's start and the start of the shift (or
    # standby period) serving the visit costs: work is not put off to a later shift for a little
    # travel while an earlier one has room. 0: when it is served does not matter before its deadline.
    later_shift_cost_per_hour: float = 0.0
    appointment: Window | None = None  # promised to the customer
    confirmed: bool = False  # a confirmed appointment is hard, an unconfirmed one soft
    # May go to on-call engineers outside their shifts: critical work, or work whose deadline
    # cannot wait for the next regular shift (the caller decides).
    critical: bool = False
    pinned_engineer: str | None = None
    # A joint visit's second engineer on record, pinned with the first (a joint job under way
    # holds both); the people beyond the two a record holds may be anyone qualified.
    pinned_partner: str | None = None
    pinned_start_s: float | None = None
    already_started: bool = False  # the engineer is on site: first stop, cannot move
    demand: int = 0  # for the capacity dimension
    # Site whitelist (None: anyone) and barred engineers: both hard.
    allowed_engineers: frozenset[str] | None = None
    barred_engineers: frozenset[str] = frozenset()
    # Soft: the customer's favourites, or whoever did the earlier visits of the
    # same work order (a follow-up); someone else costs `preference_cost`.
    preferred_engineers: frozenset[str] = frozenset()
    # Hard "not before": a part coming by courier (its ETA), for instance.
    earliest_start_s: float | None = None
    # The site needs the engineer registered this long ahead: no start before
    # `Problem.now_s` + this.
    registration_lead_s: float = 0.0
    # The promise in force from the current plan, for churn: another engineer,
    # or a start moved by more than `SolveOptions.churn_tolerance_s`, is a change.
    current_engineer: str | None = None
    current_start_s: float | None = None
    # Soft end of a due window (a preventive inspection): a start past it costs
    # `late_cost_per_day` (seconds of travel per day late) instead of the SLA
    # lateness price, so that such work yields to every deadline.
    due_by_s: float | None = None
    late_cost_per_day: float = 86400.0
    # Leaving the visit out costs this many seconds of travel instead of
    # `SolveOptions.drop_cost` × priority (work that a repair never waits for).
    drop_cost_s: float | None = None

    @property
    def pinned_crew(self) -> tuple[str, ...]:
        """The engineers pinned to the visit, one per copy in order (the main engineer first)."""
        return tuple(e for e in (self.pinned_engineer, self.pinned_partner) if e is not None)

    @property
    def pinned_only(self) -> bool:
        """Whether only the pinned crew may do the visit: it names everyone the visit needs (the
        people it does not name may be anyone qualified)."""
        crew = self.pinned_crew
        return bool(crew) and len(crew) >= max(1, self.people_needed)

    def pin_allows(self, engineer_id: str) -> bool:
        return not self.pinned_only or engineer_id in self.pinned_crew

    @property
    def aim_s(self) -> float | None:
        """The start to work to: the sooner of the on-site deadline and the desk's aim."""
        ends = [t for t in (self.deadline_s, self.target_s) if t is not None]
        return min(ends) if ends else None


@dataclass
class Warehouse:
    """Where an engineer whose van lacks a visit's parts can pick them up on the way."""

    id: str
    point: Point
    stock: frozenset[str]  # parts free to take (on hand, not reserved)
    hours: list[Window] = field(default_factory=list)  # open for pick-up; empty: any time
    pickup_s: float = 600.0  # time at the counter


@dataclass
class Problem:
    engineers: list[Engineer]
    visits: list[Visit]
    travel: TravelTimeProvider = field(default_factory=HaversineTravelTime)
    horizon_s: float = DEFAULT_HORIZON_S
    now_s: float = 0.0  # the moment of planning, in horizon seconds
    warehouses: list[Warehouse] = field(default_factory=list)


@dataclass
class Stop:
    visit_id: str  # for a pick-up: the visit the parts are for
    arrival_s: float
    start_s: float
    end_s: float
    travel_s: float  # from the previous stop or the route start
    late_s: float = 0.0  # past the visit's deadline
    # "visit", or "pickup": parts collected at a warehouse before the visit.
    kind: str = "visit"
    warehouse_id: str | None = None
    parts: tuple[str, ...] = ()  # what is picked up
    point: Point | None = None  # where the stop is (a pick-up: the warehouse)

    @property
    def is_visit(self) -> bool:
        return self.kind == "visit"


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
    # Where the route begins and ends when that is not the engineer's start /
    # end (away overnight: day 2 starts where day 1 ended). None: the engineer's.
    start_point: Point | None = None
    end_point: Point | None = None


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
    # Visits whose current promise (engineer, or start within the churn
    # tolerance) this plan breaks, dropped ones included.
    changed: list[str] = field(default_factory=list)

    @property
    def assigned_visit_ids(self) -> set[str]:
        return {s.visit_id for r in self.routes for s in r.stops if s.is_visit}

    @property
    def promises_changed(self) -> int:
        return len(self.changed)

    @property
    def total_travel_s(self) -> float:
        return sum(r.travel_s for r in self.routes)


@dataclass(frozen=True)
class Progress:
    objective: int
    elapsed_s: float
    solutions: int
