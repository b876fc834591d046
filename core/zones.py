"""IANA time-zone names: checked when stored, and read without failing.

`zoneinfo.ZoneInfo` opens files under the system's zone directory, which also holds names
that are no zone of a place (`localtime`, `posixrules`, `Factory`) and refuses paths only
by raising. A site's or engineer's zone is therefore checked on write against the zones
`zoneinfo` lists; a bad name stored before that check reads as UTC (logged), so that one
record cannot make every list that shows it fail.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import zoneinfo

from core.errors import field_error

log = logging.getLogger("fieldservice.zones")

# The zone of times with no place of their own (the demo city's, and most customers').
DEFAULT_TIME_ZONE = "Asia/Shanghai"

# In the zone directory but not the zone of a place.
NOT_PLACES = frozenset({"localtime", "posixrules", "Factory"})


@functools.cache
def known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) - NOT_PLACES


def is_known(name: object) -> bool:
    return isinstance(name, str) and name in known_zones()


def checked(name: str, field: str = "time_zone") -> str:
    """`name` when it is an IANA zone this server can load, else InvalidInput naming `field`."""
    if not is_known(name):
        raise field_error(field, f"{name!r} is not an IANA time zone (e.g. Asia/Shanghai)")
    return name


def zone(name: str) -> zoneinfo.ZoneInfo:
    """The zone of a stored name; UTC for one that is not a zone (reported in the log)."""
    if is_known(name):
        return zoneinfo.ZoneInfo(name)
    log.warning("stored time zone %r is not an IANA zone; using UTC", name)
    return zoneinfo.ZoneInfo("UTC")


def local_minute(at: dt.datetime, tz: str) -> str:
    """`at` as "2026-03-02 21:05" on the clock of `tz`: for text people read (messages, PDFs),
    where an ISO instant in UTC with microseconds is noise."""
    return at.astimezone(zone(tz)).strftime("%Y-%m-%d %H:%M")


def usable(name: str) -> str:
    """A stored name, or "UTC" in its place when it is not a zone."""
    return zone(name).key
