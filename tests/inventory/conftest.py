"""Stock tests call the services on their own engine, one session per transaction."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.database import make_engine, make_sessionmaker
from core.identity.roles import Actor, Role
from inventory.models import Item, ItemKind, Location, LocationKind

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
WAREHOUSE_ACTOR = Actor(user_id=None, role=Role.WAREHOUSE, username="test-warehouse")


@pytest.fixture(scope="module")
async def engine(demo_db: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(demo_db, pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


async def new_part(sessions: async_sessionmaker[AsyncSession], kind: ItemKind = ItemKind.PART) -> uuid.UUID:
    async with sessions() as session, session.begin():
        item = Item(id=uuid.uuid4(), sku=f"T-{uuid.uuid4().hex[:12]}", name="test part", kind=kind, version=1)
        session.add(item)
    return item.id


async def warehouses(sessions: async_sessionmaker[AsyncSession]) -> list[Location]:
    async with sessions() as session:
        rows = await session.execute(
            select(Location).where(Location.kind == LocationKind.WAREHOUSE).order_by(Location.code)
        )
        return list(rows.scalars())


async def a_van(sessions: async_sessionmaker[AsyncSession], n: int = 20) -> Location:
    async with sessions() as session:
        rows = await session.execute(
            select(Location).where(Location.kind == LocationKind.VAN).order_by(Location.code)
        )
        return list(rows.scalars())[n]
