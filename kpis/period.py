"""The period a KPI request covers: `from` and `to` as plain dates or RFC 3339 instants.

A plain date is a day in the time zone of the sites in scope — the customer's sites (or the
region's, or all) — the zone most of them use, ties broken by the zone's name; UTC when there
is no site. `from` as a date starts at that day's midnight; `to` as a date includes the whole
day (the period ends at the next midnight), so `from=2026-03-01&to=2026-03-31` is March. An
instant (with its UTC offset) is taken as it is; `to` as an instant is exclusive. Without
`to` the period ends now; without `from` it starts 30 days before its end.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import zones
from core.errors import field_error
from core.times import refusal
from dispatch.customers.models import Site
from kpis.scope import Scope

DEFAULT_DAYS = 30
# A year of data, with room for a leap year and the zone's offset; longer asks are refused.
MAX_PERIOD = dt.timedelta(days=400)
_PLAIN_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Period:
    since: dt.datetime
    until: dt.datetime
    time_zone: str


def _parse(field: str, raw: str) -> dt.date | dt.datetime:
    kind: type[dt.date] = dt.date if _PLAIN_DATE.fullmatch(raw) else dt.datetime
    try:
        value = msgspec.convert(raw, kind, strict=False)
    except msgspec.ValidationError:
        raise field_error(field, "a date (YYYY-MM-DD) or an RFC 3339 time with a UTC offset") from None
    why = refusal(value)
    if why is not None:
        raise field_error(field, why)
    return value


async def scope_zone(session: AsyncSession, scope: Scope) -> str:
    stmt = (
        select(Site.time_zone).group_by(Site.time_zone).order_by(func.count().desc(), Site.time_zone).limit(1)
    )
    if scope.customer_id is not None:
        stmt = stmt.where(Site.customer_id == scope.customer_id)
    if scope.region is not None:
        stmt = stmt.where(Site.id.in_(scope.region_sites()))
    name = (await session.execute(stmt)).scalar_one_or_none()
    return zones.usable(name) if name else "UTC"


async def resolve(
    session: AsyncSession, scope: Scope, now: dt.datetime, raw_from: str | None, raw_to: str | None
) -> Period:
    start = _parse("from", raw_from) if raw_from else None
    end = _parse("to", raw_to) if raw_to else None
    name = await scope_zone(session, scope)
    zone = zones.zone(name)

    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)

    if end is None:
        until = now
    elif isinstance(end, dt.datetime):
        until = end
    else:
        until = midnight(end + dt.timedelta(days=1))
    if start is None:
        since = until - dt.timedelta(days=DEFAULT_DAYS)
    elif isinstance(start, dt.datetime):
        since = start
    else:
        since = midnight(start)
    if since >= until:
        raise field_error("to", "must end after `from`")
    if until - since > MAX_PERIOD:
        raise field_error("from", f"a period of at most {MAX_PERIOD.days} days")
    return Period(since.astimezone(dt.UTC), until.astimezone(dt.UTC), name)
