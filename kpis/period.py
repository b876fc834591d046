"""The period a KPI request covers: `from` and `to` as plain dates or RFC 3339 instants.

A plain date is a day in the time zone of the sites in scope — the customer's sites (or the
region's, or all) — the zone most of them use, ties broken by the zone's name; the company's
default zone (core.zones.DEFAULT_TIME_ZONE) when there is no site. `from` as a date starts at
that day's midnight; `to` as a date includes the whole day (the period ends at the next
midnight), so `from=2026-03-01&to=2026-03-31` is March. An instant (with its UTC offset) is
taken as it is; `to` as an instant is exclusive. Without `to` the period ends now; without
`from` it starts 30 days before its end. The parsing is core.times.when_instant, shared by
every query filter that takes a time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import zones
from core.errors import field_error
from core.times import when_instant
from dispatch.customers.models import Site
from kpis.scope import Scope

DEFAULT_DAYS = 30
# A year of data, with room for a leap year and the zone's offset; longer asks are refused.
MAX_PERIOD = dt.timedelta(days=400)


@dataclass(frozen=True)
class Period:
    since: dt.datetime
    until: dt.datetime
    time_zone: str


async def scope_zone(session: AsyncSession, scope: Scope) -> str:
    stmt = (
        select(Site.time_zone).group_by(Site.time_zone).order_by(func.count().desc(), Site.time_zone).limit(1)
    )
    if scope.customer_id is not None:
        stmt = stmt.where(Site.customer_id == scope.customer_id)
    if scope.region is not None:
        stmt = stmt.where(Site.id.in_(scope.region_sites()))
    name = (await session.execute(stmt)).scalar_one_or_none()
    return zones.usable(name) if name else zones.DEFAULT_TIME_ZONE


async def resolve(
    session: AsyncSession,
    scope: Scope,
    now: dt.datetime,
    raw_from: str | None,
    raw_to: str | None,
    *,
    names: tuple[str, str] = ("from", "to"),
    longest: dt.timedelta | None = MAX_PERIOD,
) -> Period:
    """`names` are the query keys the two ends came in (for the problem's field names)."""
    name = await scope_zone(session, scope)
    zone = zones.zone(name)
    until = when_instant(names[1], raw_to, zone, end=True) if raw_to else now
    since = when_instant(names[0], raw_from, zone) if raw_from else until - dt.timedelta(days=DEFAULT_DAYS)
    if since >= until:
        raise field_error(names[1], f"must end after `{names[0]}`")
    if longest is not None and until - since > longest:
        raise field_error(names[0], f"a period of at most {longest.days} days")
    return Period(since, until, name)
