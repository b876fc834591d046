"""Supervisor desk benchmark: SLA compliance of a year, overall and per customer, region,
engineer and severity, and the first page of breached orders behind a figure, on the KPI
benchmark's data (bench.kpis: 100,000 work orders, three clocks each). Pure measurement; never
part of `make test`.

    python -m bench.supervisor [--orders 100000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import true
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from bench.database import migrate
from bench.kpis import LARGE, NOW, START, YEAR, _seed
from core.localdb import throwaway_cluster
from core.settings import PROJECT_ROOT
from dispatch.sla import reports
from dispatch.sla.reports import ClockOutcome, GroupBy
from dispatch.work_orders.models import WorkOrder


async def _p50(session: AsyncSession, runs: int, call: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = await call()
        times.append((time.perf_counter() - started) * 1000)
        await session.rollback()
    return statistics.median(times), result


async def _measure(url: str, runs: int) -> list[tuple[str, float, int]]:
    engine = create_async_engine(url)
    rows: list[tuple[str, float, int]] = []
    try:
        async with AsyncSession(engine) as session:
            for scope_name, scope in (("all", true()), ("large customer", WorkOrder.customer_id == LARGE)):
                for group_by in (None, *GroupBy):

                    async def grouped(g: GroupBy | None = group_by, s: Any = scope) -> Any:
                        return await reports.grouped_compliance(
                            session, NOW, since=START, until=START + YEAR, scope=s, group_by=g
                        )

                    ms, found = await _p50(session, runs, grouped)
                    rows.append((f"{scope_name}, compliance by {group_by or 'nothing'}", ms, len(found)))

                async def behind(s: Any = scope) -> Any:
                    return await reports.orders_behind(
                        session,
                        NOW,
                        since=START,
                        until=START + YEAR,
                        scope=s,
                        group_by=None,
                        key=None,
                        outcome=ClockOutcome.BREACHED,
                        measure=None,
                        limit=50,
                        cursor=None,
                    )

                ms, page = await _p50(session, runs, behind)
                rows.append((f"{scope_name}, first 50 breached orders", ms, len(page.items)))
    finally:
        await engine.dispose()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    cluster = throwaway_cluster(PROJECT_ROOT / "var")
    try:
        migrate(cluster.url)

        async def run() -> list[tuple[str, float, int]]:
            engine = create_async_engine(cluster.url)
            try:
                started = time.perf_counter()
                await _seed(engine, args.orders)
                print(
                    f"{args.orders} work orders loaded in {time.perf_counter() - started:.1f} s", flush=True
                )
            finally:
                await engine.dispose()
            return await _measure(cluster.url, args.runs)

        results = asyncio.run(run())
    finally:
        cluster.destroy()
    print(f"\nSupervisor reports over one year, p50 of {args.runs} runs")
    for name, ms, n in results:
        print(f"{name:<48} {ms:>9.1f} ms  {n:>5} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
