"""Where a shipment goes: a stock location, or a customer's site."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import field_error
from dispatch.flows.order_parts import site_stock
from inventory.models import Location


async def shipment_destination(
    session: AsyncSession, *, location_id: uuid.UUID | None, site_id: uuid.UUID | None
) -> Location:
    """Exactly one of the two: a location, or a site (whose stock location is made on first use)."""
    if (location_id is None) == (site_id is None):
        raise field_error("to_location_id", "name either a destination location or a site")
    if site_id is not None:
        return await site_stock(session, site_id)
    found = await session.get(Location, location_id)
    if found is None:
        raise field_error("to_location_id", "no such location")
    return found
