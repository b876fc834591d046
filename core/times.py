"""Dates and times a client may send: with a UTC offset, inside the years the system supports.

Python's datetime ends at year 9999 and PostgreSQL stores year 1 as `-infinity`, so a
deadline computed from year 9999 overflows and a visit window of year 1 comes back as
a value no plan can use. Holiday calendars are published for the years 2000–2100
(`PUT …/years/{year}`), so every date and time from a client must lie in those years:
enough room for any arithmetic the SLA clocks and plans do on it, and far from the
limits of either side.

`Instant` and `Day` are the types request bodies, query parameters and sync mutation
arguments declare; `TimeChecked` is the base of their structs and checks every date and
time they hold when decoded, whatever the field's declared type.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, TypeGuard

import msgspec

from core.errors import field_error

FIRST_YEAR, LAST_YEAR = 2000, 2100
EARLIEST = dt.datetime(FIRST_YEAR, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(LAST_YEAR + 1, 1, 1, tzinfo=dt.UTC)  # exclusive
SUPPORTED = f"the years {FIRST_YEAR}–{LAST_YEAR}"

Instant = Annotated[
    dt.datetime,
    msgspec.Meta(
        tz=True,
        description=f"RFC 3339 with a UTC offset (e.g. 2026-03-02T09:00:00+08:00), in {SUPPORTED}",
    ),
]
Day = Annotated[dt.date, msgspec.Meta(description=f"YYYY-MM-DD, in {SUPPORTED}")]


def refusal(value: object) -> str | None:
    """Why a date or time from a client is refused, or None when it is fine."""
    if isinstance(value, dt.datetime):
        if value.utcoffset() is None:
            return "needs a UTC offset (RFC 3339, e.g. 2026-03-02T09:00:00+08:00)"
        # The year as written and the instant itself: an offset must not step outside either.
        if not FIRST_YEAR <= value.year <= LAST_YEAR or not EARLIEST <= value < LATEST:
            return f"must lie in {SUPPORTED}"
    elif isinstance(value, dt.date) and not FIRST_YEAR <= value.year <= LAST_YEAR:
        return f"must lie in {SUPPORTED}"
    return None


def usable(value: dt.datetime | None) -> TypeGuard[dt.datetime]:
    """A stored time that a computation may use (aware and inside the supported years)."""
    return value is not None and refusal(value) is None


# What may hold a date or time; anything else (text, numbers, ids) is passed over quickly.
_HOLDERS = (dt.date, msgspec.Struct, list, tuple, dict)


def _check(value: Any, name: str) -> None:
    if isinstance(value, dt.date):  # a datetime is a date too
        why = refusal(value)
        if why is not None:
            # "`name`: …": the API names the field from this (api.problems).
            raise ValueError(f"`{name}`: {why}")
    elif isinstance(value, TimeChecked):
        return  # checked when it was decoded
    elif isinstance(value, msgspec.Struct):
        for field in value.__struct_fields__:
            _check(getattr(value, field), f"{name}.{field}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            if isinstance(item, _HOLDERS):
                _check(item, f"{name}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(key, name)
            if isinstance(item, _HOLDERS):
                _check(item, f"{name}.{key}")


class TimeChecked(msgspec.Struct):
    """Base of decoded input: every date and time in it is checked (`refusal`), so a field
    declared as a plain datetime cannot let a naive or out-of-range one through."""

    def __post_init__(self) -> None:
        for field in self.__struct_fields__:
            _check(getattr(self, field), field)


# A query filter's date or time: `2026-11-01` or an RFC 3339 instant.
WHEN_HELP = (
    "a date (YYYY-MM-DD: that day's midnight in the zone of the sites in scope, else the company's "
    "default zone) or an RFC 3339 time with a UTC offset"
)
_PLAIN_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_when(field: str, raw: str) -> dt.date | dt.datetime:
    """A query filter's value: a plain date, or an instant with its offset; anything else (or
    outside the supported years) is InvalidInput naming `field`."""
    kind: type[dt.date] = dt.date if _PLAIN_DATE.fullmatch(raw) else dt.datetime
    try:
        value = msgspec.convert(raw, kind, strict=False)
    except msgspec.ValidationError:
        raise field_error(field, "a date (YYYY-MM-DD) or an RFC 3339 time with a UTC offset") from None
    why = refusal(value)
    if why is not None:
        raise field_error(field, why)
    return value


def midnight(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    """The start of `day` on the clock of `zone`, in UTC."""
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)


def when_instant(field: str, raw: str, zone: dt.tzinfo, *, end: bool = False) -> dt.datetime:
    """`raw` as an instant: a date is its midnight in `zone`; as the `end` of a period a date
    includes that whole day (the next midnight), so `until=2026-11-30` ends November."""
    value = parse_when(field, raw)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    return midnight(value + dt.timedelta(days=1) if end else value, zone)
