"""A lazy commit is scoped to its one transaction, and `unless_written` leaves a transaction that
has already written with its flushed commit."""

from __future__ import annotations

from sqlalchemy import text

from core.database import commit_lazily, make_engine, make_sessionmaker


async def _setting(session) -> str:
    return str((await session.execute(text("SHOW synchronous_commit"))).scalar_one())


async def test_lazy_commit_holds_for_its_transaction_only(demo_db):
    engine = make_engine(demo_db, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session:
            # The test cluster is lazy throughout; production's default is what counts here.
            await session.execute(text("SET SESSION synchronous_commit = on"))
            await session.commit()
            async with session.begin():
                assert await commit_lazily(session, unless_written=True) is True
                assert await _setting(session) == "off"
            assert await _setting(session) == "on"
            await session.commit()
            async with session.begin():
                await session.execute(text("SELECT pg_current_xact_id()"))  # as any write does
                assert await commit_lazily(session, unless_written=True) is False
                assert await _setting(session) == "on"
            async with session.begin():
                await session.execute(text("SELECT pg_current_xact_id()"))
                assert await commit_lazily(session) is True
                assert await _setting(session) == "off"
            await session.execute(text("RESET synchronous_commit"))
            await session.commit()
    finally:
        await engine.dispose()
