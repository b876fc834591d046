"""KPI benchmark: the KPI report over 100,000 work orders, against a plain COUNT(*) of the same
rows in the same run. Pure measurement; never part of `make test`.

    python -m bench.kpis [--orders 100000] [--runs 5]

Starts a throwaway PostGIS cluster under ./var/, migrates it and fills it by INSERT … SELECT
generate_series (no ORM, no per-row round trips): 20 customers with 5 sites each, one of them
large (40 % of the orders), 50 engineers on weekday shifts, and `--orders` work orders over one
year, each with its timeline (created, resolved, closed; some reopened), three SLA clocks (some
breached), a visit with travel and time on site (0.5 % needing a part), and a loan for 2 %.

For a year of the large customer, of one of the others and of everyone it times, `--runs` times each,
interleaved, and prints the median (p50): the baseline (COUNT(*) of the period's work orders by
the same index), the KPI statement over work orders alone, and the whole report
(kpis.figures.compute: that statement, SLA compliance, the stock-out replay, engineers' time).
It also says which index the KPI statement's plan reads the work orders by.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from bench.database import migrate
from core.localdb import throwaway_cluster
from core.settings import PROJECT_ROOT
from kpis import figures
from kpis.period import Period
from kpis.scope import Scope

START = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
YEAR = dt.timedelta(days=365)
NOW = START + YEAR + dt.timedelta(days=10)
LARGE = uuid.UUID(bytes=bytes.fromhex("00" * 15 + "01"))
# Each of the other 19 customers has about 3 % of the orders.
MID = uuid.UUID(hashlib.md5(b"customer7").hexdigest())  # noqa: S324 (the seed's ids, not a secret)

# Ids derived from numbers (md5 → uuid), so each statement can name the rows another made.
SEED = [
    """
    INSERT INTO customer (id, customer_number, name)
    SELECT md5('customer' || c)::uuid, 'B' || lpad(c::text, 5, '0'), '基准客户' || c
      FROM generate_series(0, 19) c
    """,
    # The large customer gets a known id.
    "UPDATE customer SET id = :large WHERE id = md5('customer0')::uuid",
    """
    INSERT INTO site (id, customer_id, name, address, point, time_zone)
    SELECT md5('site' || s)::uuid,
           CASE WHEN s / 5 = 0 THEN CAST(:large AS uuid) ELSE md5('customer' || (s / 5))::uuid END,
           '站点' || s, '郑州市', ST_GeogFromText('POINT(113.6 34.7)'), 'Asia/Shanghai'
      FROM generate_series(0, 99) s
    """,
    """
    INSERT INTO app_user (id, username, display_name, role, password_hash)
    SELECT md5('engineer' || e)::uuid, 'bench-engineer' || e, '工程师' || e, 'engineer', 'x'
      FROM generate_series(0, 49) e
    """,
    """
    INSERT INTO engineer (id, employer_kind, employer_name, home_base, time_zone)
    SELECT md5('engineer' || e)::uuid, 'company', '本公司', ST_GeogFromText('POINT(113.6 34.7)'),
           'Asia/Shanghai'
      FROM generate_series(0, 49) e
    """,
    """
    INSERT INTO engineer_shift (engineer_id, weekday, starts, ends)
    SELECT md5('engineer' || e)::uuid, d, '09:00', '17:00'
      FROM generate_series(0, 49) e, generate_series(0, 4) d
    """,
    """
    INSERT INTO work_order (id, problem_number, archive_id, customer_id, site_id, asset_model, asset_serial,
                            billable, contact_name, contact_phone, fault_description, severity, channel,
                            status, reported_at, restored_at, resolved_at, closed_at, repeat_faults,
                            backup_needed, due_at, version)
    SELECT md5('wo' || i)::uuid, 'WO-B-' || i, 'AR-B-' || i,
           CASE WHEN c = 0 THEN CAST(:large AS uuid) ELSE md5('customer' || c)::uuid END,
           CASE WHEN c = 0 THEN md5('site' || (i % 5))::uuid ELSE md5('site' || (c * 5 + i % 5))::uuid END,
           'R750', 'SN-' || (i % 40000), false, '李伟', '13800000001', '宕机',
           (ARRAY['critical', 'high', 'medium', 'low'])[1 + i % 4]::severity, 'phone',
           CASE WHEN i % 50 = 0 THEN 'cancelled' WHEN i % 20 = 0 THEN 'scheduled'
                ELSE 'closed' END::work_order_status,
           at, CASE WHEN i % 50 <> 0 AND i % 20 <> 0 THEN at + (1 + i % 60) * interval '1 hour' END,
           CASE WHEN i % 50 <> 0 AND i % 20 <> 0 THEN at + (1 + i % 60) * interval '1 hour' END,
           CASE WHEN i % 50 <> 0 AND i % 20 <> 0 THEN at + (3 + i % 60) * interval '1 hour' END,
           0, false, '2999-12-31', 1
      FROM generate_series(1, CAST(:orders AS int)) i,
           LATERAL (SELECT CASE WHEN i % 5 < 2 THEN 0 ELSE 1 + i % 19 END AS c,
                           CAST(:start AS timestamptz)
                               + i * (CAST(:year AS interval) / CAST(:orders AS int)) AS at) x
    """,
    """
    INSERT INTO work_order_event (work_order_id, at, kind, from_status, to_status, data)
    SELECT id, reported_at, 'created', NULL, 'new', '{}'::jsonb FROM work_order
    UNION ALL
    SELECT id, restored_at, 'status', 'on_site', 'resolved', '{}' FROM work_order
     WHERE restored_at IS NOT NULL
    UNION ALL
    SELECT id, closed_at, 'status', 'signed', 'closed', '{}' FROM work_order WHERE closed_at IS NOT NULL
    UNION ALL
    SELECT id, closed_at + interval '1 day', 'status', 'closed', 'reopened', '{}'
      FROM work_order WHERE closed_at IS NOT NULL AND abs(hashtext(id::text)) % 40 = 0
    UNION ALL
    SELECT id, reported_at, 'status', 'new', 'cancelled', '{}' FROM work_order WHERE status = 'cancelled'
    """,
    """
    INSERT INTO sla_clock (id, work_order_id, measure, target, started_at, base_deadline, deadline, met_at,
                           breached_at, customer_excused, escalation_level)
    SELECT gen_random_uuid(), wo.id, m.measure::sla_measure, '{}', wo.reported_at,
           wo.reported_at + m.budget, wo.reported_at + m.budget, met,
           CASE WHEN met > wo.reported_at + m.budget THEN wo.reported_at + m.budget END,
           abs(hashtext(wo.id::text)) % 100 = 0, 0
      FROM work_order wo
     CROSS JOIN (VALUES ('response', interval '1 hour'), ('on_site', interval '12 hours'),
                        ('restore', interval '48 hours')) AS m(measure, budget)
     CROSS JOIN LATERAL (SELECT CASE WHEN m.measure = 'restore' THEN wo.restored_at
                                     ELSE wo.reported_at
                                          + m.budget * ((abs(hashtext(wo.id::text)) % 10) / 8.0)
                                END AS met) t
    """,
    """
    INSERT INTO visit (id, work_order_id, kind, status, duration_minutes, required_skills, required_parts,
                       people_needed, window_confirmed, engineer_id, pinned, en_route_at, arrived_at,
                       finished_at, outcome, version)
    SELECT gen_random_uuid(), wo.id, 'repair', 'done', 90, '{}',
           CASE WHEN n % 200 = 0 THEN '[{"sku": "BENCH-PSU", "quantity": 1}]'::jsonb ELSE '[]'::jsonb END,
           1, false, md5('engineer' || (n % 50))::uuid, false,
           wo.reported_at + interval '1 hour', wo.reported_at + interval '2 hours',
           wo.reported_at + interval '210 minutes', 'resolved', 1
      FROM (SELECT id, reported_at, row_number() OVER (ORDER BY id) AS n FROM work_order
             WHERE status <> 'cancelled') wo
    """,
    """
    INSERT INTO stock_item (id, sku, name, kind, data_bearing, version)
    VALUES (md5('psu')::uuid, 'BENCH-PSU', '电源模块', 'part', false, 1),
           (md5('backup')::uuid, 'BENCH-BACKUP', '备机', 'device', true, 1)
    """,
    """
    INSERT INTO stock_unit (id, item_id, serial, state, customer_owned, version)
    SELECT md5('unit' || id)::uuid, md5('backup')::uuid, 'BK-' || id, 'available', false, 1
      FROM work_order WHERE status = 'closed' AND abs(hashtext(id::text)) % 50 = 1
    """,
    """
    INSERT INTO stock_loan (id, unit_id, work_order_id, status, cause, opened_at, returned_at, closed_at,
                            version)
    SELECT gen_random_uuid(), md5('unit' || id)::uuid, id, 'closed', 'restore at risk',
           restored_at, restored_at + interval '9 days', restored_at + interval '10 days', 1
      FROM work_order WHERE status = 'closed' AND abs(hashtext(id::text)) % 50 = 1
    """,
    # A table at rest is all-visible: index-only scans need not read it (autovacuum gets there).
    "VACUUM ANALYZE",
]

BASELINE = """
SELECT count(*) FROM work_order wo WHERE wo.reported_at >= :since AND wo.reported_at < :until {scope}
"""


async def _seed(engine: AsyncEngine, orders: int) -> None:
    params = {"large": LARGE, "orders": orders, "start": START, "year": YEAR}
    async with engine.begin() as conn:
        for statement in SEED[:-1]:
            await conn.execute(text(statement), params)
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(SEED[-1]))


def _index_names(plan: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(plan, dict):
        if plan.get("Relation Name") == "work_order" and "Index Name" in plan:
            found.add(str(plan["Index Name"]))
        for value in plan.values():
            found |= _index_names(value)
    elif isinstance(plan, list):
        for value in plan:
            found |= _index_names(value)
    return found


async def _measure(engine: AsyncEngine, period: Period, scope: Scope, runs: int) -> dict[str, Any]:
    params = {"since": period.since, "until": period.until, **scope.params()}
    orders_sql = text(figures.orders_statement(scope))
    baseline_sql = text(BASELINE.format(scope=scope.sql()))

    async def baseline(session: AsyncSession) -> Any:
        return (await session.execute(baseline_sql, params)).scalar_one()

    async def statement(session: AsyncSession) -> Any:
        await figures.without_jit(session)
        return (await session.execute(orders_sql, params)).one()

    async def report(session: AsyncSession) -> Any:
        return await figures.compute(session, NOW, period, scope)

    timings: dict[str, list[float]] = {"baseline": [], "statement": [], "report": []}
    jobs: dict[str, Callable[[AsyncSession], Awaitable[Any]]] = {
        "baseline": baseline,
        "statement": statement,
        "report": report,
    }
    rows = 0
    for _ in range(runs + 1):  # the first round warms the caches and is not counted
        for name, job in jobs.items():
            async with AsyncSession(engine) as session:
                started = time.perf_counter()
                result = await job(session)
                elapsed = (time.perf_counter() - started) * 1000
            timings[name].append(elapsed)
            if name == "baseline":
                rows = int(result)
    async with AsyncSession(engine) as session:
        await figures.without_jit(session)
        explained = (
            await session.execute(text("EXPLAIN (FORMAT JSON) " + orders_sql.text), params)
        ).scalar_one()
    plan = json.loads(explained) if isinstance(explained, str) else explained
    return {
        "orders": rows,
        **{name: statistics.median(values[1:]) for name, values in timings.items()},
        "indexes": sorted(_index_names(plan)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    cluster = throwaway_cluster(PROJECT_ROOT / "var")
    try:
        migrate(cluster.url)

        async def run() -> list[tuple[str, dict[str, Any]]]:
            engine = create_async_engine(cluster.url)
            try:
                started = time.perf_counter()
                await _seed(engine, args.orders)
                print(
                    f"{args.orders} work orders loaded in {time.perf_counter() - started:.1f} s", flush=True
                )
                period = Period(START, START + YEAR, "Asia/Shanghai")
                return [
                    ("large customer, one year", await _measure(engine, period, Scope(LARGE), args.runs)),
                    ("mid customer, one year", await _measure(engine, period, Scope(MID), args.runs)),
                    ("all customers, one year", await _measure(engine, period, Scope(), args.runs)),
                ]
            finally:
                await engine.dispose()

        results = asyncio.run(run())
    finally:
        cluster.destroy()
    print(f"\nKPI report, p50 of {args.runs} runs (ms)")
    print(f"{'scope':<26} {'orders':>7} {'COUNT(*)':>9} {'KPI stmt':>9} {'report':>9} {'×count':>7}  index")
    for name, r in results:
        ratio = r["statement"] / r["baseline"] if r["baseline"] else float("nan")
        print(
            f"{name:<26} {r['orders']:>7} {r['baseline']:>9.1f} {r['statement']:>9.1f} {r['report']:>9.1f}"
            f" {ratio:>7.1f}  {', '.join(r['indexes']) or 'none (sequential scan)'}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
