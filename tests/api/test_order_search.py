"""The desk's text search `q`: a substring of the number, the asset serial or the customer's name,
in any language and any case, answered from trigram indexes rather than a scan of every order."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import create_async_engine

from core.identity.roles import Actor, Role
from dispatch.work_orders.queries import OrderFilter, orders_keyset
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


async def test_q_by_digits_still_matches_the_whole_text(client, dispatcher, orders):
    """The index is asked for a serial's digits alone; the rest of what was typed still counts."""
    *_rest, other = orders
    assert other["id"] in await _found(client, dispatcher, "xq-0001")
    assert other["id"] not in await _found(client, dispatcher, "zxw-0001")
    assert other["id"] not in await _found(client, dispatcher, "zxq-00012")


async def _pages(client, dispatcher, params: dict[str, str | int]) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        response = await client.get(
            "/api/work-orders",
            headers=dispatcher,
            params={**params, **({"cursor": cursor} if cursor else {})},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        ids += [o["id"] for o in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            return ids


async def test_q_by_name_pages_a_customers_whole_history_with_the_filters(client, admin, dispatcher):
    """A named customer's orders are read a page at a time: paging by two finds every one of
    them once, in the list's order, and the other filters apply before the page is cut."""
    customer, site = await customer_with_site(client, admin)
    severities = ["critical", "low", "critical", "low", "critical"]
    made = [
        await report(client, dispatcher, site, None, severity=s, asset_model="R750", asset_serial=f"PG-{n}")
        for n, s in enumerate(severities)
    ]
    whole = await _pages(client, dispatcher, {"q": customer["name"], "limit": 200})
    assert sorted(whole) == sorted(o["id"] for o in made)
    assert await _pages(client, dispatcher, {"q": customer["name"], "limit": 2}) == whole
    critical = [o["id"] for o in made if o["severity"] == "critical"]
    paged = await _pages(client, dispatcher, {"q": customer["name"], "limit": 2, "severity": "critical"})
    assert paged == [i for i in whole if i in critical]


async def test_q_takes_wildcards_literally(client, dispatcher, orders):
    assert await _found(client, dispatcher, "%") == set()
    assert await _found(client, dispatcher, "_") == set()


async def test_q_is_an_index_search(demo_db, orders):
    """Every arm of the search can be answered by an index (the planner prefers a scan of a table
    this small, so scans are turned off to see what it would do with a large one), a named
    customer's orders by `ix_work_order_customer_due` in the page's order, and Chinese text
    yields trigrams in the database's locale (else the index would be read whole)."""
    _customer, unit, found, other_customer, _other = orders
    desk = Actor(None, Role.DISPATCHER, "dispatcher")
    now = dt.datetime.now(dt.UTC)
    engine = create_async_engine(demo_db)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SET enable_seqscan = off"))
            for q in (found["problem_number"].lower(), unit["serial"][2:], other_customer["name"][1:]):
                statement = orders_keyset(desk, OrderFilter(q=q), now).first.params(keyset_limit=51)
                sql = statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
                plan = "\n".join((await conn.execute(text(f"EXPLAIN {sql}"))).scalars())
                assert "Seq Scan on work_order" not in plan, plan
                for index in ("ix_work_order_problem_number_trgm", "ix_work_order_asset_serial_trgm"):
                    assert index in plan, plan
                assert "ix_customer_name_trgm" in plan, plan
                assert "ix_work_order_customer_due" in plan, plan
            trigrams = (await conn.execute(text("SELECT show_trgm('测试客户')"))).scalar_one()
            assert len(trigrams) >= 2
    finally:
        await engine.dispose()
