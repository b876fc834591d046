"""Stock locations: warehouses, engineers' vans, sites, vendors."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.models import Location, LocationKind


async def list_locations(session: AsyncSession, kind: LocationKind | None) -> list[Location]:
    stmt = select(Location).order_by(Location.code)
    if kind is not None:
        stmt = stmt.where(Location.kind == kind)
    return list((await session.execute(stmt)).scalars())
