"""Working calendars: business hours, holidays, make-up days, 7x24, pauses (pure, no database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from dispatch.contracts.targets import OFFICE_HOURS
from dispatch.contracts.targets import WEEKDAY_KEYS as TARGET_WEEKDAY_KEYS
from dispatch.sla.calendar import (
    WEEKDAY_KEYS,
    CalendarYearNotLoaded,
    HolidaySet,
    Interval,
    NoWorkingTime,
    WeeklyHours,
    WorkingCalendar,
)

SHANGHAI = "Asia/Shanghai"
SH = ZoneInfo(SHANGHAI)
H = timedelta(hours=1)

# Mainland China public holidays and make-up working days (调休) for 2026, as published.
CN_2026_HOLIDAYS = frozenset(
    [date(2026, 1, d) for d in (1, 2, 3)]
    + [date(2026, 2, d) for d in range(15, 24)]
    + [date(2026, 4, d) for d in (4, 5, 6)]
    + [date(2026, 5, d) for d in (1, 2, 3, 4, 5)]
    + [date(2026, 6, d) for d in (19, 20, 21)]
    + [date(2026, 9, d) for d in (25, 26, 27)]
    + [date(2026, 10, d) for d in range(1, 8)]
)
CN_2026_MAKEUP = frozenset(
    date.fromisoformat(d)
    for d in ("2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10")
)
CN_2026 = HolidaySet(frozenset({2026}), CN_2026_HOLIDAYS, CN_2026_MAKEUP)

NINE_TO_FIVE = WeeklyHours.from_json({day: [["09:00", "17:00"]] for day in WEEKDAY_KEYS[:5]})
OFFICE = WeeklyHours.from_json(OFFICE_HOURS)  # 09:00–12:00, 13:00–17:00, Monday to Friday


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=SH)


def business_cn(hours: WeeklyHours = NINE_TO_FIVE, days: HolidaySet = CN_2026) -> WorkingCalendar:
    return WorkingCalendar.business(SHANGHAI, hours, days)


# -- the exact cases: critical fault reported Friday 2026-03-06 16:00 in Asia/Shanghai --------------

REPORTED = sh(2026, 3, 6, 16, 0)


def test_business_hours_contract_on_site_and_restore() -> None:
    cal = business_cn()
    start = cal.clock_start(REPORTED, "immediate")
    assert start == REPORTED
    # Fri 16–17 (1 h), Mon 09–17 (8 h), Tue 09–12 (3 h) = 12 h.
    assert cal.add_business_time(start, 12 * H) == sh(2026, 3, 10, 12, 0)
    # Fri 1 h + Mon–Fri of the next week 5 × 8 h = 41 h, then Mon 16th 09:00 + 7 h.
    assert cal.add_business_time(start, 48 * H) == sh(2026, 3, 16, 16, 0)


def test_7x24_contract_on_site_and_restore() -> None:
    cal = WorkingCalendar.always(SHANGHAI)
    assert cal.add_business_time(REPORTED, 12 * H) == sh(2026, 3, 7, 4, 0)
    assert cal.add_business_time(REPORTED, 48 * H) == sh(2026, 3, 8, 16, 0)


def test_next_business_day_contract_after_cutoff() -> None:
    cal = business_cn()
    start = cal.clock_start(REPORTED, "next_business_opening", time(15, 0))
    assert start == sh(2026, 3, 9, 9, 0)  # after the 15:00 cut-off: Monday's opening
    assert cal.next_business_day_close(start) == sh(2026, 3, 10, 17, 0)


def test_results_are_utc() -> None:
    deadline = business_cn().add_business_time(REPORTED, 12 * H)
    assert deadline.tzinfo is UTC
    assert deadline == datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
    assert business_cn().to_local(deadline).isoformat() == "2026-03-10T12:00:00+08:00"


def test_7x24_on_site_11h_meets_13h_breaches() -> None:
    cal = WorkingCalendar.always(SHANGHAI)
    deadline = cal.add_business_time(REPORTED, 12 * H)
    assert REPORTED + 11 * H <= deadline < REPORTED + 13 * H


# -- holidays, make-up days, lunch breaks, years -----------------------------------------------------


def test_makeup_saturday_counts() -> None:
    cal = business_cn()
    assert cal.is_working_day(date(2026, 2, 28))
    assert not cal.is_working_day(date(2026, 3, 7))  # an ordinary Saturday
    # Fri 2026-02-27 16:00 + 2 h: Fri 16–17, then the make-up Saturday 09–10.
    assert cal.add_business_time(sh(2026, 2, 27, 16), 2 * H) == sh(2026, 2, 28, 10)
    assert cal.business_time_between(sh(2026, 2, 28, 0), sh(2026, 3, 1, 0)) == 8 * H


def test_makeup_day_uses_the_first_weekday_with_hours() -> None:
    hours = WeeklyHours.from_json(
        {"tue": [["08:30", "12:00"], ["13:30", "17:30"]], "wed": [["10:00", "11:00"]]}
    )
    assert hours.standard_day == hours.on_weekday(1)
    cal = WorkingCalendar.business(SHANGHAI, hours, CN_2026)
    assert cal.hours_on(date(2026, 2, 28)) == hours.on_weekday(1)


def test_holiday_is_skipped() -> None:
    cal = business_cn()
    assert not cal.is_working_day(date(2026, 10, 1))
    # Wed 2026-09-30 16:00 + 2 h: Wed 16–17, then 1–7 October off, Thu 8 October 09–10.
    assert cal.add_business_time(sh(2026, 9, 30, 16), 2 * H) == sh(2026, 10, 8, 10)
    # Sat 10 October is a make-up working day.
    assert cal.add_business_time(sh(2026, 10, 9, 16), 2 * H) == sh(2026, 10, 10, 10)


def test_lunch_break_is_not_counted() -> None:
    cal = business_cn(OFFICE)
    monday = sh(2026, 3, 9, 11, 0)
    assert cal.add_business_time(monday, 2 * H) == sh(2026, 3, 9, 14, 0)
    assert cal.business_time_between(sh(2026, 3, 9, 9), sh(2026, 3, 9, 17)) == 7 * H
    assert not cal.is_business_time(sh(2026, 3, 9, 12, 30))
    assert cal.next_opening(sh(2026, 3, 9, 12, 30)) == sh(2026, 3, 9, 13, 0)


def test_deadline_at_end_of_interval_stays_there() -> None:
    cal = business_cn(OFFICE)
    assert cal.add_business_time(sh(2026, 3, 9, 11), 1 * H) == sh(2026, 3, 9, 12)
    assert cal.add_business_time(sh(2026, 3, 6, 16), 1 * H) == sh(2026, 3, 6, 17)  # Friday close


def test_year_not_loaded_is_refused() -> None:
    cal = business_cn()
    late = sh(2026, 12, 31, 16)
    assert cal.add_business_time(late, 1 * H) == sh(2026, 12, 31, 17)  # still inside 2026
    with pytest.raises(CalendarYearNotLoaded, match="2027") as caught:
        cal.add_business_time(late, 2 * H)
    assert caught.value.year == 2027
    assert caught.value.loaded == (2026,)
    with pytest.raises(CalendarYearNotLoaded):
        cal.add_business_time(sh(2027, 3, 1, 10), 1 * H)
    with pytest.raises(CalendarYearNotLoaded):
        cal.business_time_between(late, sh(2027, 1, 5, 12))
    with pytest.raises(CalendarYearNotLoaded):
        cal.next_business_day_close(late)
    with pytest.raises(CalendarYearNotLoaded):
        cal.clock_start(late, "next_business_opening", time(15))
    # Up to midnight at the end of 2026 is answerable without looking at 2027.
    assert cal.business_time_between(late, sh(2027, 1, 1, 0)) == 1 * H


def test_7x24_never_needs_a_loaded_year() -> None:
    cal = WorkingCalendar.always(SHANGHAI)
    assert cal.add_business_time(sh(2031, 12, 31, 16), 48 * H) == sh(2032, 1, 2, 16)
    assert cal.for_count_mode("elapsed") is cal
    business = business_cn()
    assert business.for_count_mode("business") is business
    assert business.for_count_mode("elapsed").add_business_time(sh(2040, 1, 1), H) == sh(2040, 1, 1, 1)


def test_regional_holidays_merge() -> None:
    regional = HolidaySet.from_days([2026], [(date(2026, 3, 9), "holiday"), (date(2026, 2, 28), "holiday")])
    merged = CN_2026.merge(regional)
    cal = business_cn(days=merged)
    assert not cal.is_working_day(date(2026, 3, 9))  # regional day off
    assert not cal.is_working_day(date(2026, 2, 28))  # a regional holiday beats a national make-up day
    assert cal.is_working_day(date(2026, 2, 14))  # other make-up days stay
    assert not cal.is_working_day(date(2026, 10, 1))  # national holidays stay
    assert cal.add_business_time(REPORTED, 12 * H) == sh(2026, 3, 11, 12, 0)
    # A year counts as loaded only when both calendars have it.
    national = HolidaySet(frozenset({2026, 2027}))
    assert national.merge(HolidaySet(frozenset({2026}))).years == frozenset({2026})
    assert national.merge(HolidaySet.unrestricted()).years == frozenset({2026, 2027})


def test_cutoff_edges() -> None:
    cal = business_cn()
    rule = "next_business_opening"
    assert cal.clock_start(sh(2026, 3, 6, 10), rule, time(15)) == sh(2026, 3, 6, 10)  # open, before cut-off
    assert cal.clock_start(sh(2026, 3, 6, 15), rule, time(15)) == sh(2026, 3, 6, 15)  # exactly at it
    assert cal.clock_start(sh(2026, 3, 6, 15, 0, 1), rule, time(15)) == sh(2026, 3, 9, 9)
    assert cal.clock_start(sh(2026, 3, 7, 10), rule, time(15)) == sh(2026, 3, 9, 9)  # Saturday morning
    assert cal.clock_start(sh(2026, 3, 9, 7), rule, time(15)) == sh(2026, 3, 9, 9)  # before opening
    assert cal.clock_start(sh(2026, 3, 9, 18), rule) == sh(2026, 3, 10, 9)  # no cut-off: next opening
    assert cal.clock_start(sh(2026, 3, 7, 10), "immediate", time(15)) == sh(2026, 3, 7, 10)
    with pytest.raises(ValueError, match="start rule"):
        cal.clock_start(REPORTED, "tomorrow")


def test_next_business_day_close_skips_holidays() -> None:
    cal = business_cn(OFFICE)
    # Clock starts Wed 30 September; 1–7 October are off; close of Thu 8 October.
    assert cal.next_business_day_close(sh(2026, 9, 30, 10)) == sh(2026, 10, 8, 17)
    assert WorkingCalendar.always(SHANGHAI).next_business_day_close(REPORTED) == sh(2026, 3, 8, 0)


def test_next_opening() -> None:
    cal = business_cn()
    assert cal.next_opening(sh(2026, 3, 9, 10)) == sh(2026, 3, 9, 10)  # open now
    assert cal.next_opening(sh(2026, 3, 9, 9)) == sh(2026, 3, 9, 9)
    assert cal.next_opening(sh(2026, 3, 6, 17)) == sh(2026, 3, 9, 9)  # Friday close → Monday
    assert cal.next_opening(sh(2026, 2, 14, 8)) == sh(2026, 2, 14, 9)  # make-up Saturday
    assert cal.next_opening(sh(2026, 2, 13, 18)) == sh(2026, 2, 14, 9)


def test_pauses_fixed_examples() -> None:
    cal = business_cn()
    # A customer-side pause of Monday 10:00–14:00 (4 business hours) moves the 12 h deadline by 4 h.
    pause = (sh(2026, 3, 9, 10), sh(2026, 3, 9, 14))
    assert cal.deadline_with_pauses(REPORTED, 12 * H, [pause]) == sh(2026, 3, 10, 16)
    # A weekend pause holds no business time and moves nothing.
    weekend = (sh(2026, 3, 7, 8), sh(2026, 3, 8, 20))
    assert cal.deadline_with_pauses(REPORTED, 12 * H, [weekend]) == sh(2026, 3, 10, 12)
    # Overlapping pauses count once; a pause after the clock ran out moves nothing.
    late = (sh(2026, 3, 11, 9), sh(2026, 3, 11, 12))
    assert cal.deadline_with_pauses(REPORTED, 12 * H, [pause, pause, late]) == sh(2026, 3, 10, 16)
    assert cal.counted_time(REPORTED, sh(2026, 3, 10, 16), [pause]) == 12 * H
    assert cal.counted_time(REPORTED, sh(2026, 3, 9, 12), [pause]) == 1 * H + 1 * H
    assert cal.counted_time(REPORTED, REPORTED - H, [pause]) == timedelta(0)
    # 7x24 pauses count elapsed time.
    always = WorkingCalendar.always(SHANGHAI)
    evening = (sh(2026, 3, 6, 20), sh(2026, 3, 7, 1))
    assert always.deadline_with_pauses(REPORTED, 12 * H, [evening]) == sh(2026, 3, 7, 9)
    # The weekend pause begins after the 7x24 clock ran out (Saturday 04:00).
    assert always.deadline_with_pauses(REPORTED, 12 * H, [weekend]) == sh(2026, 3, 7, 4)


def test_7x24_berlin_counts_real_time_across_dst() -> None:
    cal = WorkingCalendar.always("Europe/Berlin")
    berlin = ZoneInfo("Europe/Berlin")
    spring = cal.add_business_time(datetime(2026, 3, 28, 12, tzinfo=berlin), 24 * H)
    assert cal.to_local(spring).replace(tzinfo=None) == datetime(2026, 3, 29, 13)
    autumn = cal.add_business_time(datetime(2026, 10, 24, 12, tzinfo=berlin), 24 * H)
    assert cal.to_local(autumn).replace(tzinfo=None) == datetime(2026, 10, 25, 11)


def test_business_day_spanning_dst_counts_real_length() -> None:
    cal = WorkingCalendar.business("Europe/Berlin", WeeklyHours.every_day(), HolidaySet.unrestricted())
    berlin = ZoneInfo("Europe/Berlin")
    day = datetime(2026, 3, 29, tzinfo=berlin)
    assert cal.business_time_between(day, datetime(2026, 3, 30, tzinfo=berlin)) == 23 * H
    hours = WeeklyHours.from_json({k: [["01:00", "02:30"], ["02:45", "04:00"]] for k in WEEKDAY_KEYS})
    gap = WorkingCalendar.business("Europe/Berlin", hours, HolidaySet.unrestricted())
    # 02:00–03:00 does not exist that night: 01:00–02:00 CET and 03:00–04:00 CEST are all there is.
    assert gap.business_time_between(day, datetime(2026, 3, 30, tzinfo=berlin)) == 2 * H
    night = WeeklyHours.from_json({k: [["02:00", "03:00"]] for k in WEEKDAY_KEYS})
    cal_night = WorkingCalendar.business("Europe/Berlin", night, HolidaySet.unrestricted())
    assert not cal_night.is_working_day(date(2026, 3, 29))  # the whole interval is skipped
    autumn = datetime(2026, 10, 25, tzinfo=berlin)
    # 02:00–03:00 happens twice in October: the interval lasts two real hours.
    assert cal_night.business_time_between(autumn, autumn + timedelta(days=1)) == 2 * H


# -- validation and guards ----------------------------------------------------------------------------


def test_business_hours_json_round_trip() -> None:
    assert TARGET_WEEKDAY_KEYS == WEEKDAY_KEYS
    assert OFFICE.to_json() == OFFICE_HOURS
    assert OFFICE.on_weekday(0) == (Interval(time(9), time(12)), Interval(time(13), time(17)))
    assert WeeklyHours.from_json({"sun": [["00:00", "24:00"]]}).to_json() == {"sun": [["00:00", "24:00"]]}
    unsorted = WeeklyHours.from_json({"mon": [["13:00", "17:00"], ["09:00", "12:00"]]})
    assert unsorted.on_weekday(0) == OFFICE.on_weekday(0)


@pytest.mark.parametrize(
    "raw",
    [
        {"mon": [["09:00", "12:00"], ["11:00", "17:00"]]},
        {"mon": [["17:00", "09:00"]]},
        {"mon": [["09:00", "09:00"]]},
        {"mon": [["25:00", "26:00"]]},
        {"mon": [["09:00"]]},
        {"monday": [["09:00", "17:00"]]},
    ],
)
def test_bad_business_hours_are_rejected(raw: dict[str, list[list[str]]]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - several messages
        WeeklyHours.from_json(raw)


def test_guards() -> None:
    empty = WorkingCalendar.business(SHANGHAI, WeeklyHours.from_json({}), CN_2026)
    with pytest.raises(NoWorkingTime):
        empty.add_business_time(REPORTED, H)
    with pytest.raises(NoWorkingTime):
        empty.next_opening(REPORTED)
    with pytest.raises(NoWorkingTime):
        empty.next_business_day_close(REPORTED)
    # Every day a holiday and no year restriction: the walk gives up instead of running forever.
    all_off = HolidaySet(None, frozenset(date(2026, 1, 1) + timedelta(days=i) for i in range(800)))
    with pytest.raises(NoWorkingTime):
        business_cn(days=all_off).add_business_time(sh(2026, 1, 1), H)
    with pytest.raises(ValueError, match="timezone-aware"):
        business_cn().add_business_time(datetime(2026, 3, 6, 16), H)
    with pytest.raises(ValueError, match="negative"):
        business_cn().add_business_time(REPORTED, -H)
    with pytest.raises(ValueError, match="time zone"):
        WorkingCalendar.always("Mars/Olympus_Mons")
    with pytest.raises(ValueError, match="both"):
        HolidaySet(frozenset({2026}), frozenset({date(2026, 2, 28)}), frozenset({date(2026, 2, 28)}))
    with pytest.raises(ValueError, match="day kind"):
        HolidaySet.from_days([2026], [(date(2026, 2, 28), "bridge")])
    with pytest.raises(ValueError, match="pause"):
        business_cn().deadline_with_pauses(REPORTED, H, [(sh(2026, 3, 9, 12), sh(2026, 3, 9, 11))])
    with pytest.raises(ValueError, match="count mode"):
        business_cn().for_count_mode("lunar")


def test_long_walks_go_by_days_not_minutes() -> None:
    # One business minute a week: 48 business hours take 2,880 Wednesdays, some 55 years of days.
    sparse = WeeklyHours.from_json({"wed": [["10:00", "10:01"]]})
    cal = WorkingCalendar.business(SHANGHAI, sparse, HolidaySet.unrestricted())
    deadline = cal.add_business_time(REPORTED, 48 * H)
    assert deadline == sh(2026, 3, 11, 10, 1) + timedelta(weeks=2879)
    assert cal.business_time_between(REPORTED, deadline) == 48 * H


# -- properties ---------------------------------------------------------------------------------------

ZONES = ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC"]
QUARTER = timedelta(minutes=15)


@dataclass(frozen=True)
class Spec:
    """A business calendar as plain data, for an independent wall-clock oracle."""

    zone: str
    week: tuple[tuple[tuple[int, int], ...], ...]  # per weekday, (start, end) in quarter hours
    holidays: frozenset[date]
    makeup: frozenset[date]

    def calendar(self) -> WorkingCalendar:
        hours = WeeklyHours(
            tuple(tuple(Interval(_quarter(s), _quarter(e)) for s, e in day) for day in self.week)
        )
        # No year restriction: sparse random hours may need years of days (refusal is tested above).
        return WorkingCalendar.business(self.zone, hours, HolidaySet(None, self.holidays, self.makeup))

    def hours(self, day: date) -> tuple[tuple[int, int], ...]:
        if day in self.holidays:
            return ()
        own = self.week[day.weekday()]
        if day in self.makeup and not own:
            return next((d for d in (*self.week[:5], *self.week[5:]) if d), ())
        return own

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """Wall-clock oracle; exact because generated hours (06:00–22:00) never meet a DST change."""
        local = start.astimezone(ZoneInfo(self.zone)).replace(tzinfo=None)
        day, remaining = local.date(), duration
        while True:
            midnight = datetime.combine(day, time(0))
            for s, e in self.hours(day):
                begin, end = max(midnight + s * QUARTER, local), midnight + e * QUARTER
                if end <= begin:
                    continue
                if remaining <= end - begin:
                    return (begin + remaining).replace(tzinfo=ZoneInfo(self.zone))
                remaining -= end - begin
            day += timedelta(days=1)


def _quarter(n: int) -> time:
    return time(n // 4, n % 4 * 15)


@st.composite
def day_hours(draw: st.DrawFn) -> tuple[tuple[int, int], ...]:
    points = sorted(draw(st.lists(st.integers(6 * 4, 22 * 4), unique=True, max_size=6)))
    points = points[: len(points) // 2 * 2]
    return tuple(zip(points[::2], points[1::2], strict=True))


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    week = tuple(draw(day_hours()) for _ in range(7))
    if not any(week[:5]):
        week = (((9 * 4, 17 * 4),), *week[1:])
    days_2026 = st.dates(date(2026, 1, 1), date(2026, 12, 31))
    holidays = draw(st.frozensets(days_2026, max_size=30))
    weekends = st.dates(date(2026, 1, 1), date(2026, 12, 31)).filter(lambda d: d.weekday() >= 5)
    makeup = draw(st.frozensets(weekends, max_size=8)) - holidays
    return Spec(draw(st.sampled_from(ZONES)), week, holidays, makeup)


@st.composite
def instants(
    draw: st.DrawFn, zone: str, lo: date = date(2026, 1, 1), hi: date = date(2026, 10, 31)
) -> datetime:
    naive = draw(st.datetimes(datetime.combine(lo, time(0)), datetime.combine(hi, time(23, 59))))
    return naive.replace(tzinfo=ZoneInfo(zone))


durations = st.timedeltas(timedelta(microseconds=1), timedelta(hours=60))
durations_or_zero = st.timedeltas(timedelta(0), timedelta(hours=40))


@given(data=st.data(), spec=specs(), duration=durations)
def test_deadline_lies_inside_business_hours(data: st.DataObject, spec: Spec, duration: timedelta) -> None:
    cal = spec.calendar()
    start = data.draw(instants(spec.zone))
    deadline = cal.add_business_time(start, duration)
    assert deadline.tzinfo is UTC
    assert deadline == spec.add(start, duration)
    local = cal.to_local(deadline).replace(tzinfo=None)
    midnight = datetime.combine(local.date(), time(0))
    assert any(midnight + s * QUARTER < local <= midnight + e * QUARTER for s, e in spec.hours(local.date()))
    assert cal.business_time_between(start, deadline) == duration
    assert cal.is_business_time(deadline - timedelta(microseconds=1))


@given(data=st.data(), spec=specs(), a=durations_or_zero, b=durations_or_zero)
def test_adding_a_then_b_equals_adding_a_plus_b(
    data: st.DataObject, spec: Spec, a: timedelta, b: timedelta
) -> None:
    cal = spec.calendar()
    start = data.draw(instants(spec.zone))
    assert cal.add_business_time(cal.add_business_time(start, a), b) == cal.add_business_time(start, a + b)


@given(
    data=st.data(),
    spec=specs(),
    target=durations,
    offset=st.timedeltas(timedelta(0), timedelta(days=10)),
    length=st.timedeltas(timedelta(0), timedelta(days=6)),
)
def test_pause_extends_deadline_by_its_business_length(
    data: st.DataObject, spec: Spec, target: timedelta, offset: timedelta, length: timedelta
) -> None:
    cal = spec.calendar()
    start = data.draw(instants(spec.zone))
    unpaused = cal.add_business_time(start, target)
    pause_start = start.astimezone(UTC) + offset
    assume(pause_start < unpaused)
    pause = (pause_start, pause_start + length)
    paused_length = cal.business_time_between(*pause)
    deadline = cal.deadline_with_pauses(start, target, [pause])
    assert deadline == cal.add_business_time(start, target + paused_length)
    assert cal.business_time_between(unpaused, deadline) == paused_length
    assert cal.counted_time(start, deadline, [pause]) == target
    # A pause that begins once the clock has run out changes nothing.
    assert cal.deadline_with_pauses(start, target, [(unpaused, unpaused + length)]) == unpaused


@given(data=st.data(), spec=specs())
def test_non_working_days_skipped_and_makeup_days_counted(data: st.DataObject, spec: Spec) -> None:
    cal = spec.calendar()
    day = data.draw(st.dates(date(2026, 1, 1), date(2026, 12, 30)))
    tz = ZoneInfo(spec.zone)
    whole_day = cal.business_time_between(
        datetime.combine(day, time(0), tzinfo=tz),
        datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz),
    )
    weekly = sum(((e - s) * QUARTER for s, e in spec.week[day.weekday()]), timedelta(0))
    if day in spec.holidays:
        assert whole_day == timedelta(0)
        assert not cal.is_working_day(day)
    elif day in spec.makeup:
        standard = next(hours for hours in spec.week[:5] if hours)  # the first weekday with hours
        expected = weekly or sum(((e - s) * QUARTER for s, e in standard), timedelta(0))
        assert whole_day == expected > timedelta(0)
        assert cal.is_working_day(day)
    else:
        assert whole_day == weekly


@given(
    zone=st.sampled_from([*ZONES, "America/Sao_Paulo", "Pacific/Chatham", "Europe/London"]),
    naive=st.datetimes(datetime(1901, 1, 1), datetime(2099, 12, 31)),
    duration=st.timedeltas(timedelta(0), timedelta(days=1000)),
    pause_offset=st.timedeltas(timedelta(0), timedelta(days=5)),
    pause_length=st.timedeltas(timedelta(0), timedelta(days=5)),
)
def test_7x24_is_elapsed_time_on_any_date(
    zone: str,
    naive: datetime,
    duration: timedelta,
    pause_offset: timedelta,
    pause_length: timedelta,
) -> None:
    cal = WorkingCalendar.always(zone)
    start = naive.replace(tzinfo=ZoneInfo(zone))
    deadline = cal.add_business_time(start, duration)
    assert deadline - start.astimezone(UTC) == duration
    assert deadline.timestamp() - start.timestamp() == pytest.approx(duration.total_seconds(), abs=1e-5)
    assert cal.business_time_between(start, deadline) == duration
    pause_start = start.astimezone(UTC) + pause_offset
    assume(pause_start < deadline)
    pause = (pause_start, pause_start + pause_length)
    assert cal.deadline_with_pauses(start, duration, [pause]) == deadline + pause_length


@given(
    zone=st.sampled_from(["Europe/Berlin", "America/Sao_Paulo", "Australia/Lord_Howe", "Asia/Beirut"]),
    naive=st.datetimes(datetime(2010, 1, 1), datetime(2030, 12, 31)),
    duration=st.timedeltas(timedelta(0), timedelta(days=30)),
)
def test_round_the_clock_business_hours_equal_elapsed_time(
    zone: str, naive: datetime, duration: timedelta
) -> None:
    business = WorkingCalendar.business(zone, WeeklyHours.every_day(), HolidaySet.unrestricted())
    start = naive.replace(tzinfo=ZoneInfo(zone))
    assert business.add_business_time(start, duration) == WorkingCalendar.always(zone).add_business_time(
        start, duration
    )
