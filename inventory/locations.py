"""Stock locations: warehouses, engineers' vans, sites, vendors."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound, field_error
from core.weekly_hours import WeeklySpan
from inventory.errors import expect_version
from inventory.models import Location, LocationKind


async def set_hours(
    session: AsyncSession,
    location_id: uuid.UUID,
    opens: dt.time | None,
    closes: dt.time | None,
    version: int | None = None,
) -> Location:
    """A warehouse's daily opening hours (both None: any time; `closes` before `opens`: the next day)."""
    location = await session.get(Location, location_id, with_for_update=True)
    if location is None:
        raise NotFound(f"No stock location with id {location_id}")
    expect_version(location, version, "stock location")
    if location.kind is not LocationKind.WAREHOUSE:
        raise field_error("opens", "only warehouses have opening hours")
    if (opens is None) != (closes is None):
        raise field_error(
            "closes" if closes is None else "opens", "give both opening and closing times, or neither"
        )
    if opens is not None and closes is not None and WeeklySpan(None, opens, closes).empty:
        raise field_error("closes", "must differ from the opening time")
    if (location.opens, location.closes) != (opens, closes):
        location.opens, location.closes = opens, closes
        location.version += 1
    await session.flush()
    return location
