"""Working calendars for the SLA clocks: business hours, holidays, make-up working days and 7x24.

Pure code: plain values in, plain values out. Nothing here reads the database; a service turns a
contract's ``business_hours`` JSON, its holiday calendar and the site's regional calendar into the
frozen values below (``WeeklyHours``, ``HolidaySet``, ``WorkingCalendar``).

Conventions
-----------
* Every instant passed in must be timezone-aware (any zone); a naive datetime is a ``ValueError``.
* Every instant returned is in UTC (``tzinfo=datetime.UTC``), whatever zone the input was in. UTC
  values compare and subtract as real instants and store as they are; ``WorkingCalendar.to_local``
  converts for display.
* Business hours are wall-clock times in the calendar's time zone (the site's). Business time is real
  elapsed time inside those hours, so an interval that spans a DST change counts its true length. A
  wall time repeated in the autumn means its first occurrence; one skipped in the spring means the
  instant of the change.
* Two count modes. *Business* counts only inside business intervals on working days. *Elapsed*
  (7x24, ``WorkingCalendar.always``) counts plain elapsed time and never needs a holiday calendar.
* A working day is a day of the week with hours that is not a holiday, or a make-up working day (调休).
  A make-up day keeps its own weekday's hours if it has any; otherwise (the usual case, a Saturday or
  Sunday) it is worked with the hours of the first day from Monday to Friday that has hours
  (``WeeklyHours.standard_day``).
* Holidays and make-up days are published per year. In business mode, any computation that has to
  look at a day of a year whose calendar is not loaded raises ``CalendarYearNotLoaded`` instead of
  guessing. ``HolidaySet.unrestricted()`` is the explicit opt-out: no holiday calendar at all, weekly
  hours only, every year accepted.
* A deadline reached exactly at the end of a business interval stays there (Friday 17:00 stays Friday
  17:00; it does not roll over to Monday 09:00).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "MAX_IDLE_DAYS",
    "WEEKDAY_KEYS",
    "CalendarError",
    "CalendarYearNotLoaded",
    "HolidaySet",
    "Interval",
    "NoWorkingTime",
    "WeeklyHours",
    "WorkingCalendar",
]

WEEKDAY_KEYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Keys of ``Contract.business_hours``, Monday first (``date.weekday()`` order)."""

MAX_IDLE_DAYS = 400
"""A walk that finds no business time in this many consecutive days gives up with ``NoWorkingTime``."""

HOLIDAY = "holiday"
MAKEUP_WORKDAY = "makeup_workday"
IMMEDIATE = "immediate"
NEXT_BUSINESS_OPENING = "next_business_opening"
ELAPSED = "elapsed"
BUSINESS = "business"

_ZERO = timedelta(0)
_DAY = timedelta(days=1)
_MIDNIGHT = time(0)
_MICROSECOND = timedelta(microseconds=1)
_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)

Span = tuple[datetime, datetime]


class CalendarError(Exception):
    """A calendar cannot answer the question asked of it."""


class CalendarYearNotLoaded(CalendarError):
    """A business-hours computation needs a year whose holiday calendar is not loaded."""

    def __init__(self, year: int, loaded: Iterable[int] = ()) -> None:
        self.year = year
        self.loaded = tuple(sorted(loaded))
        shown = ", ".join(str(y) for y in self.loaded) or "none"
        super().__init__(
            f"no holiday calendar is loaded for {year} (loaded years: {shown}); "
            f"business-hours deadlines that reach into {year} are refused, not guessed"
        )


class NoWorkingTime(CalendarError):
    """The calendar has no business time where some was needed (e.g. no business hours at all)."""


def _offset(t: time) -> timedelta:
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond)


def _fmt(t: time) -> str:
    return t.isoformat(timespec="minutes" if not (t.second or t.microsecond) else "auto")


def _parse_time(text: str, *, is_end: bool) -> time:
    if is_end and text.strip() in ("24:00", "24:00:00"):
        return _MIDNIGHT
    try:
        return time.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"not a time of day (HH:MM): {text!r}") from None


def _utc(t: datetime, what: str = "instant") -> datetime:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {t.isoformat()}")
    return t.astimezone(UTC)


def _check_duration(duration: timedelta) -> None:
    if duration < _ZERO:
        raise ValueError(f"duration must not be negative, got {duration}")


@dataclass(frozen=True, order=True)
class Interval:
    """Business hours on one day, wall-clock in the calendar's zone: ``start`` to ``end``.

    An ``end`` of 00:00 means midnight at the end of the day (24:00), so 00:00–00:00 is the whole day.
    """

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("business hours are wall-clock times: pass times without tzinfo")
        if self.end_offset <= self.start_offset:
            raise ValueError(f"business interval must end after it starts: {_fmt(self.start)}–{self._end()}")

    @classmethod
    def parse(cls, start: str, end: str) -> Interval:
        """From ``"HH:MM"`` strings; the end may be ``"24:00"``."""
        return cls(_parse_time(start, is_end=False), _parse_time(end, is_end=True))

    @property
    def start_offset(self) -> timedelta:
        return _offset(self.start)

    @property
    def end_offset(self) -> timedelta:
        return _DAY if self.end == _MIDNIGHT else _offset(self.end)

    @property
    def length(self) -> timedelta:
        """Wall-clock length (the real length differs only across a DST change)."""
        return self.end_offset - self.start_offset

    def _end(self) -> str:
        return "24:00" if self.end == _MIDNIGHT else _fmt(self.end)

    def to_json(self) -> list[str]:
        return [_fmt(self.start), self._end()]


_ALL_DAY = Interval(_MIDNIGHT, _MIDNIGHT)


@dataclass(frozen=True)
class WeeklyHours:
    """Business intervals per day of the week, Monday first. Lunch breaks are gaps between intervals."""

    days: tuple[tuple[Interval, ...], ...]

    def __post_init__(self) -> None:
        if len(self.days) != 7:
            raise ValueError(f"weekly hours need 7 days, got {len(self.days)}")
        for key, intervals in zip(WEEKDAY_KEYS, self.days, strict=True):
            for before, after in pairwise(intervals):
                if after.start_offset < before.end_offset:
                    raise ValueError(
                        f"business intervals on {key} overlap or are out of order: "
                        f"{before.to_json()} and {after.to_json()}"
                    )

    @classmethod
    def from_weekdays(cls, by_weekday: Mapping[int, Iterable[tuple[time, time]]]) -> WeeklyHours:
        """From ``{weekday: [(start, end), ...]}`` with weekday 0 = Monday; missing days have no hours."""
        unknown = set(by_weekday) - set(range(7))
        if unknown:
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {sorted(unknown)}")
        return cls(
            tuple(
                tuple(sorted(Interval(start, end) for start, end in by_weekday.get(day, ())))
                for day in range(7)
            )
        )

    @classmethod
    def from_json(cls, raw: Mapping[str, Sequence[Sequence[str]]]) -> WeeklyHours:
        """From ``Contract.business_hours``: ``{"mon": [["09:00", "12:00"], ["13:00", "17:00"]], ...}``."""
        unknown = set(raw) - set(WEEKDAY_KEYS)
        if unknown:
            raise ValueError(f"unknown day keys in business hours: {sorted(unknown)}; use {WEEKDAY_KEYS}")
        days: list[tuple[Interval, ...]] = []
        for key in WEEKDAY_KEYS:
            intervals: list[Interval] = []
            for pair in raw.get(key, ()):
                if len(pair) != 2:
                    raise ValueError(f"business interval on {key} must be [start, end], got {pair!r}")
                intervals.append(Interval.parse(pair[0], pair[1]))
            days.append(tuple(sorted(intervals)))
        return cls(tuple(days))

    @classmethod
    def every_day(cls) -> WeeklyHours:
        """00:00–24:00 on all seven days."""
        return cls(tuple((_ALL_DAY,) for _ in range(7)))

    def to_json(self) -> dict[str, list[list[str]]]:
        return {
            key: [interval.to_json() for interval in intervals]
            for key, intervals in zip(WEEKDAY_KEYS, self.days, strict=True)
            if intervals
        }

    def on_weekday(self, weekday: int) -> tuple[Interval, ...]:
        return self.days[weekday]

    @property
    def is_empty(self) -> bool:
        return not any(self.days)

    @property
    def standard_day(self) -> tuple[Interval, ...]:
        """Hours of a make-up working day: the first of Monday–Friday with hours, else of any day."""
        for intervals in (*self.days[:5], *self.days[5:]):
            if intervals:
                return intervals
        return ()


@dataclass(frozen=True)
class HolidaySet:
    """Non-working days and make-up working days, and the years for which they are known.

    ``years`` lists the loaded years; ``None`` means no holiday calendar applies at all (every year is
    accepted and only the weekly hours count). A date may not be both a holiday and a make-up day.
    """

    years: frozenset[int] | None
    holidays: frozenset[date] = frozenset()
    makeup_workdays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "years", None if self.years is None else frozenset(self.years))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "makeup_workdays", frozenset(self.makeup_workdays))
        both = self.holidays & self.makeup_workdays
        if both:
            shown = ", ".join(d.isoformat() for d in sorted(both))
            raise ValueError(f"dates cannot be both a holiday and a make-up working day: {shown}")

    @classmethod
    def from_days(cls, years: Iterable[int], days: Iterable[tuple[date, str]]) -> HolidaySet:
        """From ``(date, kind)`` rows, kind ``"holiday"`` or ``"makeup_workday"`` (``DayKind`` values)."""
        holidays: set[date] = set()
        makeup: set[date] = set()
        for day, kind in days:
            if kind == HOLIDAY:
                holidays.add(day)
            elif kind == MAKEUP_WORKDAY:
                makeup.add(day)
            else:
                raise ValueError(f"unknown day kind {kind!r}; expected {HOLIDAY!r} or {MAKEUP_WORKDAY!r}")
        return cls(frozenset(years), frozenset(holidays), frozenset(makeup))

    @classmethod
    def unrestricted(cls) -> HolidaySet:
        """No holiday calendar: weekly hours only, any year."""
        return cls(None)

    def covers(self, year: int) -> bool:
        return self.years is None or year in self.years

    def merge(self, other: HolidaySet) -> HolidaySet:
        """Combine e.g. the contract's national calendar with the site's regional one.

        Holidays of either count. A make-up day of one that is a holiday of the other is a holiday
        (a day off at the site is a day off). A year is loaded only if it is loaded in both, since a
        year missing from either calendar would otherwise be guessed; ``None`` (unrestricted) defers
        to the other side.
        """
        if self.years is None:
            years = other.years
        elif other.years is None:
            years = self.years
        else:
            years = self.years & other.years
        holidays = self.holidays | other.holidays
        return HolidaySet(years, holidays, (self.makeup_workdays | other.makeup_workdays) - holidays)


def _merge_pauses(pauses: Iterable[tuple[datetime, datetime]], start: datetime) -> list[Span]:
    """Pauses in UTC, clipped to at or after ``start``, sorted, overlaps merged, empty ones dropped."""
    spans: list[Span] = []
    for begin, end in pauses:
        b, e = _utc(begin, "pause start"), _utc(end, "pause end")
        if e < b:
            raise ValueError(f"pause ends before it starts: {b.isoformat()} – {e.isoformat()}")
        b = max(b, start)
        if e > b:
            spans.append((b, e))
    spans.sort()
    merged: list[Span] = []
    for b, e in spans:
        if merged and b <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((b, e))
    return merged


def _without(spans: Iterable[Span], pauses: Sequence[Span]) -> Iterator[Span]:
    """The parts of increasing, disjoint ``spans`` not covered by the sorted, disjoint ``pauses``."""
    first = 0
    for s, e in spans:
        while first < len(pauses) and pauses[first][1] <= s:
            first += 1
        cursor, i = s, first
        while cursor < e:
            if i < len(pauses) and pauses[i][0] < e:
                p_start, p_end = pauses[i]
                if p_start > cursor:
                    yield cursor, p_start
                cursor = max(cursor, p_end)
                i += 1
            else:
                yield cursor, e
                cursor = e


@dataclass(frozen=True)
class WorkingCalendar:
    """When an SLA clock runs: business hours on working days in a time zone, or 7x24 (``hours=None``).

    Build with ``WorkingCalendar.business(...)`` or ``WorkingCalendar.always(...)``. See the module
    docstring for the conventions (aware inputs, UTC outputs, make-up days, unloaded years).
    """

    time_zone: str
    hours: WeeklyHours | None = None
    days: HolidaySet = field(default_factory=HolidaySet.unrestricted)
    _tz: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            tz = ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.time_zone!r}") from None
        object.__setattr__(self, "_tz", tz)

    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def business(cls, time_zone: str, hours: WeeklyHours, days: HolidaySet) -> WorkingCalendar:
        """Count business hours ``hours`` (wall-clock in ``time_zone``) on working days per ``days``."""
        return cls(time_zone, hours, days)

    @classmethod
    def always(cls, time_zone: str = "UTC") -> WorkingCalendar:
        """7x24: elapsed time. The zone matters only for day-based rules (cut-off, next business day)."""
        return cls(time_zone, None, HolidaySet.unrestricted())

    def for_count_mode(self, mode: str) -> WorkingCalendar:
        """This calendar for a target's count mode: ``"elapsed"`` (7x24) or ``"business"``."""
        if mode == ELAPSED:
            return self if self.is_elapsed else WorkingCalendar.always(self.time_zone)
        if mode == BUSINESS:
            if self.is_elapsed:
                raise CalendarError("a 7x24 calendar has no business hours to count")
            return self
        raise ValueError(f"unknown count mode {mode!r}; expected {ELAPSED!r} or {BUSINESS!r}")

    # -- days -----------------------------------------------------------------------------------

    @property
    def is_elapsed(self) -> bool:
        return self.hours is None

    @property
    def tz(self) -> ZoneInfo:
        return self._tz

    def to_local(self, t: datetime) -> datetime:
        """``t`` in the calendar's time zone."""
        return _utc(t).astimezone(self._tz)

    def hours_on(self, day: date) -> tuple[Interval, ...]:
        """Business intervals on a local date (empty on non-working days); 7x24 → the whole day."""
        if self.hours is None:
            return (_ALL_DAY,)
        if not self.days.covers(day.year):
            raise CalendarYearNotLoaded(day.year, self.days.years or ())
        if day in self.days.holidays:
            return ()
        own = self.hours.on_weekday(day.weekday())
        if day in self.days.makeup_workdays:
            return own or self.hours.standard_day
        return own

    def is_working_day(self, day: date) -> bool:
        return bool(self._day_spans(day))

    def _instant(self, wall: datetime) -> datetime:
        """The UTC instant of a wall-clock time in this zone.

        A repeated wall time (autumn fold) is its first occurrence. A wall time skipped by a DST change
        (spring gap) is the instant of the change itself, so 01:00–02:30 on a night when 02:00 jumps
        to 03:00 means 01:00–02:00 and an interval lying wholly in the gap is empty.
        """
        wall = wall.replace(fold=0)
        after = wall.astimezone(UTC)  # fold=0 reads a skipped time with the offset before the change
        if after.astimezone(self._tz).replace(tzinfo=None) == wall.replace(tzinfo=None):
            return after
        before = wall.replace(fold=1).astimezone(UTC)
        offset_before = before.astimezone(self._tz).utcoffset()
        # The change lies in (before, after]: find its first microsecond by bisection.
        while after - before > _MICROSECOND:
            middle = before + (after - before) // 2
            if middle.astimezone(self._tz).utcoffset() == offset_before:
                before = middle
            else:
                after = middle
        return after

    def _day_spans(self, day: date) -> list[Span]:
        """A day's business intervals as UTC instants, increasing and disjoint (empty ones dropped)."""
        midnight = datetime.combine(day, _MIDNIGHT, tzinfo=self._tz)
        spans: list[Span] = []
        floor: datetime | None = None
        for interval in self.hours_on(day):
            # Aware + timedelta is wall-clock arithmetic: exactly the local times we mean.
            s = self._instant(midnight + interval.start_offset)
            e = self._instant(midnight + interval.end_offset)
            if floor is not None:
                s = max(s, floor)
            if e > s:
                spans.append((s, e))
            floor = e if floor is None else max(floor, e)
        return spans

    def _require_hours(self) -> None:
        if self.hours is not None and self.hours.is_empty:
            raise NoWorkingTime("the calendar has no business hours on any day of the week")

    def _first_working_day_after(self, day: date) -> list[Span]:
        self._require_hours()
        for _ in range(MAX_IDLE_DAYS):
            day += _DAY
            spans = self._day_spans(day)
            if spans:
                return spans
        raise NoWorkingTime(f"no working day within {MAX_IDLE_DAYS} days after {day.isoformat()}")

    def intervals_from(self, start: datetime, until: datetime | None = None) -> Iterator[Span]:
        """Business intervals (UTC) that end after ``start``, clipped to begin no earlier than it.

        Stops before any day that begins at or after ``until`` (so no later year is looked at). In
        7x24 mode there is a single interval, up to ``until`` or the end of representable time.
        """
        start = _utc(start, "start")
        if until is not None:
            until = _utc(until, "until")
        if self.hours is None:
            end = _FAR_FUTURE if until is None else until
            if end > start:
                yield start, end
            return
        self._require_hours()
        day = start.astimezone(self._tz).date()
        floor = start
        idle = 0
        while True:
            if until is not None and datetime.combine(day, _MIDNIGHT, tzinfo=self._tz) >= until:
                return
            found = False
            for s, e in self._day_spans(day):
                s = max(s, floor)
                if e > s:
                    found = True
                    yield s, e
                    floor = e
            idle = 0 if found else idle + 1
            if idle >= MAX_IDLE_DAYS:
                raise NoWorkingTime(f"no business hours in {MAX_IDLE_DAYS} days up to {day.isoformat()}")
            day += _DAY

    def is_business_time(self, t: datetime) -> bool:
        """Whether the business clock runs at ``t`` (interval start inclusive, end exclusive)."""
        t = _utc(t)
        if self.hours is None:
            return True
        return any(s <= t < e for s, e in self._day_spans(t.astimezone(self._tz).date()))

    # -- counting -------------------------------------------------------------------------------

    def _consume(self, start: datetime, amount: timedelta, pauses: Sequence[Span]) -> datetime:
        if amount == _ZERO:
            return start
        remaining = amount
        for s, e in _without(self.intervals_from(start), pauses):
            available = e - s
            if remaining <= available:
                return s + remaining
            remaining -= available
        raise OverflowError("deadline lies beyond the representable range of datetimes")

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """The instant (UTC) at which ``duration`` of counted time has passed since ``start``.

        Business mode: only time inside business intervals counts; a positive duration always ends
        inside an interval or exactly at its end. Elapsed mode: ``start + duration`` in real time.
        A zero duration returns ``start`` unchanged.
        """
        _check_duration(duration)
        return self._consume(_utc(start, "start"), duration, ())

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Counted time from ``a`` to ``b``; negative when ``b`` is before ``a``."""
        a, b = _utc(a, "a"), _utc(b, "b")
        if b < a:
            return -self.business_time_between(b, a)
        if self.hours is None:
            return b - a
        total = _ZERO
        for s, e in self.intervals_from(a, until=b):
            if s >= b:
                break
            total += min(e, b) - s
        return total

    def next_opening(self, t: datetime) -> datetime:
        """The earliest instant at or after ``t`` at which business time counts (``t`` itself when the
        clock is running at ``t``; the next interval's start otherwise). 7x24: ``t``."""
        for s, _ in self.intervals_from(t):
            return s
        raise NoWorkingTime("the calendar has no business time after " + _utc(t).isoformat())

    def clock_start(self, reported_at: datetime, start_rule: str, cutoff: time | None = None) -> datetime:
        """When a target's clock starts for a report received at ``reported_at``.

        ``"immediate"``: at ``reported_at``. ``"next_business_opening"``: at the next business opening;
        when ``cutoff`` is given and the local time of the report is strictly after it, at the first
        opening of the first working day after the report's local date (reported Friday 16:00 with a
        15:00 cut-off → Monday 09:00; a report at exactly 15:00 is before the cut-off).
        """
        reported = _utc(reported_at, "reported_at")
        if start_rule == IMMEDIATE:
            return reported
        if start_rule != NEXT_BUSINESS_OPENING:
            raise ValueError(
                f"unknown start rule {start_rule!r}; expected {IMMEDIATE!r} or {NEXT_BUSINESS_OPENING!r}"
            )
        if cutoff is not None:
            if cutoff.tzinfo is not None:
                raise ValueError("the cut-off is a local wall-clock time: pass it without tzinfo")
            local = reported.astimezone(self._tz)
            if local.time() > cutoff:
                return self._first_working_day_after(local.date())[0][0]
        return self.next_opening(reported)

    def next_business_day_close(self, clock_start: datetime) -> datetime:
        """Close of business (end of the last interval) on the first working day after the local date
        on which the clock starts. 7x24: midnight at the end of the next day."""
        day = _utc(clock_start, "clock_start").astimezone(self._tz).date()
        return self._first_working_day_after(day)[-1][1]

    # -- pauses ---------------------------------------------------------------------------------

    def deadline_with_pauses(
        self, start: datetime, target: timedelta, pauses: Iterable[tuple[datetime, datetime]] = ()
    ) -> datetime:
        """The deadline (UTC) of a clock that must count ``target`` from ``start``, not counting pauses.

        Each ``(pause_start, pause_end)`` stops the clock. A pause that begins before the unpaused
        deadline moves it by exactly the pause's counted length (business time, or elapsed time in
        7x24 mode); one that begins after the clock has run out moves nothing. Overlapping pauses
        count once; the parts of pauses before ``start`` are ignored. For a running pause pass its
        expected end (or now) as ``pause_end``. For a next-business-day rule use
        ``target = business_time_between(start, next_business_day_close(start))``.
        """
        _check_duration(target)
        begin = _utc(start, "start")
        return self._consume(begin, target, _merge_pauses(pauses, begin))

    def counted_time(
        self, start: datetime, until: datetime, pauses: Iterable[tuple[datetime, datetime]] = ()
    ) -> timedelta:
        """Counted time on a clock from ``start`` to ``until`` minus pauses (zero when ``until`` is not
        after ``start``). Remaining time is ``target - counted_time(start, now, pauses)``."""
        begin, end = _utc(start, "start"), _utc(until, "until")
        if end <= begin:
            return _ZERO
        total = _ZERO
        for s, e in _without(self.intervals_from(begin, until=end), _merge_pauses(pauses, begin)):
            if s >= end:
                break
            total += min(e, end) - s
        return total
