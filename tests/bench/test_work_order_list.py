"""The list benchmark's harness runs end to end (a few requests; no timing is asserted)."""

from __future__ import annotations

import asyncio

from bench.work_order_list import run_against, seed_orders, table


def test_bench_serves_and_measures_every_route(demo_db):
    asyncio.run(seed_orders(demo_db, 3))
    results = run_against(demo_db, concurrency=2, seconds=0.5, rounds=1, limit=6, singles=3)
    assert [r.name.split()[1] for r in results] == [
        "/bench/hello",
        "/api/health",
        "/api/work-orders?limit=50",
    ]
    for result in results:
        assert result.sample.latencies, result.name
        assert result.sample.errors == 0, result.name
        assert len(result.single.server_ms) == 3, result.name
    printed = table(results, 2)
    assert "× hello" in printed
    assert "/api/work-orders?limit=50" in printed
