"""Customers' and sites' names by id: what answers naming a record carry beside its id."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.customers.models import Customer, Site


async def customer_names(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(wanted)))
    return {row.id: row.name for row in rows}


async def site_names(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.execute(select(Site.id, Site.name).where(Site.id.in_(wanted)))
    return {row.id: row.name for row in rows}
