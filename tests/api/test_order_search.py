"""The desk's text search `q`: a substring of the number, the asset serial or the customer's name,
in any language and any case, answered from trigram indexes rather than a scan of every order."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import create_async_engine

from dispatch.work_orders.models import WorkOrder
from dispatch.work_orders.queries import _text_matches
from tests.support.scenario import asset, contract, customer_with_site, report


@pytest.fixture(scope="module")
async def orders(client, admin, dispatcher):
    customer, site = await customer_with_site(client, admin)
    unit = await asset(client, admin, site, await contract(client, admin, customer, kind="7x24"))
    found = await report(client, dispatcher, site, unit)
    other_customer, other_site = await customer_with_site(client, admin)
    other = await report(client, dispatcher, other_site, None, asset_model="R750", asset_serial="ZXQ-0001")
    return customer, unit, found, other_customer, other


async def _found(client, dispatcher, q: str) -> set[str]:
    response = await client.get("/api/work-orders", headers=dispatcher, params={"q": q, "limit": 200})
    assert response.status_code == 200, response.text
    return {o["id"] for o in response.json()["items"]}


async def test_q_finds_a_chinese_customer_name_by_any_part(client, dispatcher, orders):
    customer, _unit, found, other_customer, other = orders
    name = customer["name"]  # 测试客户<n>
    assert found["id"] in await _found(client, dispatcher, name[2:])
    assert other["id"] not in await _found(client, dispatcher, name)
    assert other["id"] in await _found(client, dispatcher, other_customer["name"][1:])


async def test_q_ignores_case_of_numbers_and_serials(client, dispatcher, orders):
    _customer, unit, found, _other_customer, other = orders
    assert await _found(client, dispatcher, found["problem_number"].lower()) == {found["id"]}
    by_serial = await _found(client, dispatcher, unit["serial"][1:].lower())
    assert found["id"] in by_serial
    assert other["id"] not in by_serial


async def test_q_takes_wildcards_literally(client, dispatcher, orders):
    assert await _found(client, dispatcher, "%") == set()
    assert await _found(client, dispatcher, "_") == set()


async def test_q_is_an_index_search(demo_db, orders):
    """Every arm of the search can be answered by an index (the planner prefers a scan of a table
    this small, so scans are turned off to see what it would do with a large one), and Chinese
    text yields trigrams in the database's locale (else the index would be read whole)."""
    _customer, unit, found, other_customer, _other = orders
    engine = create_async_engine(demo_db)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SET enable_seqscan = off"))
            for q in (found["problem_number"].lower(), unit["serial"][2:], other_customer["name"][1:]):
                statement = select(WorkOrder.id).where(_text_matches(q))
                sql = statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
                plan = "\n".join((await conn.execute(text(f"EXPLAIN {sql}"))).scalars())
                assert "Seq Scan" not in plan, plan
                for index in ("ix_work_order_problem_number_trgm", "ix_work_order_asset_serial_trgm"):
                    assert index in plan, plan
                assert "ix_customer_name_trgm" in plan, plan
            trigrams = (await conn.execute(text("SELECT show_trgm('测试客户')"))).scalar_one()
            assert len(trigrams) >= 2
    finally:
        await engine.dispose()
