"""The list benchmark's harness runs end to end (a few requests; no timing is asserted)."""

from __future__ import annotations

import asyncio

from bench.work_order_list import run_against, seed_orders, table


def test_bench_serves_and_measures_every_route(demo_db):
    asyncio.run(seed_orders(demo_db, 3))
    results = run_against(
        demo_db,
        concurrency=2,
        seconds=0.5,
        rounds=1,
        limit=6,
        singles=3,
        rates=[20],
        rate_seconds=0.5,
        warm_seconds=0.2,
    )
    assert [r.name.split()[1] for r in results] == [
        "/bench/hello",
        "/api/health",
        "/api/work-orders?limit=50",
    ]
    for result in results:
        assert result.sample.latencies, result.name
        assert result.sample.errors == 0, result.name
        assert len(result.single.server_ms) == 3, result.name
    hello, _, listed = results
    for run in (hello.open[0], listed.open[0]):
        assert len(run.latencies) == 10, "every scheduled request answered"
        assert run.errors == 0
        assert min(run.latencies) > 0
    printed = table(results, 2)
    assert "× hello" in printed
    assert "list p99 / hello-world p99" in printed
    assert "/api/work-orders?limit=50" in printed
