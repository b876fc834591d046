"""Sites and engineers whose stored time zone is not one (written before zones were checked)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import zones
from dispatch.customers.models import Site
from dispatch.engineers.models import Engineer


async def unknown_zones(session: AsyncSession) -> list[str]:
    """One line per record to correct: until then its times read as UTC (core.zones)."""
    found = []
    for model in (Site, Engineer):
        names = await session.scalars(select(model.time_zone).distinct())
        bad = {name for name in names if not zones.is_known(name)}
        if bad:
            ids = await session.execute(select(model.id, model.time_zone).where(model.time_zone.in_(bad)))
            found += [f"{model.__tablename__} {row_id}: time zone {zone!r}" for row_id, zone in ids]
    return found
