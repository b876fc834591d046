"""Growth benchmark: what the desk, a phone, the SLA watch and the KPIs cost at 10,000, 100,000 and
1,000,000 stored work orders. Pure measurement; never part of `make test`.

    python -m bench.growth [--sizes 10000,100000,1000000] [--runs 40] [--explain] [--keep DIR]

One throwaway PostGIS cluster under ./var/, migrated, with the demo data and the generated
company of bench/growth_data.py (20,000 sites, 1,000 engineers, about 1,700 open orders whatever
the size), grown in place: each size adds older, finished orders with COPY, then VACUUM ANALYZE.
At each size it times, `--runs` times after a warm-up, through the same code paths production
uses (the app in process through Litestar's test client: routing, sign-in, unit of work, JSON):

- the dispatcher's list by deadline (open orders; open and critical; one customer's orders, a page
  of five: that customer's whole history at 10,000, so that every size reads as many orders),
- a work order's page,
- an engineer's sync pull: bootstrap (the whole scope) and incremental (20 changes since a cursor),
- one SLA watch pass (dispatch.sla.watch.sweep, rolled back so every pass does the same work),
- the KPI report for the last 7 days, everyone's and one customer's (kpis.figures.compute),

and prints p50 and p99 in ms and the time spent waiting for PostgreSQL (`db`, p50), with the
ratio of the largest size's p99 and db time to the smallest's (the goal: at most 1.5× from
10,000 to 1,000,000), and the shared buffers (hit + read) the measurement's SELECTs touch, from
EXPLAIN (ANALYZE, BUFFERS) of each: unlike times, they do not depend on the machine's load.
The list builds its page at every request (the pages an API process keeps are dropped before
each): a kept page costs one short statement at any size, what grows with history is building it.
`--explain` adds the plans of the two slowest statements each measurement ran, at each size.
`--keep DIR` keeps the loaded cluster in DIR (stopped at the end) and starts from it next time,
migrated to the current head: iterate on the queries at 1,000,000 without loading again.
Loading 1,000,000 orders takes 16-33 minutes on a loaded 2-core machine (COPY, secondary
indexes built after the large step, then VACUUM ANALYZE).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import re
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from litestar.testing import TestClient
from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bench import growth_data as data
from bench.database import bench_settings, demo_database, kept_database
from core.clock import ManualClock
from core.database import make_sessionmaker

SIZES = (10_000, 100_000, 1_000_000)
NOW = data.NOW
ENGINEER = 3  # on three open orders (scheduled yesterday, waiting on the customer), like most
INCREMENT = 20
KPI_DAYS = 7
# The order the desk searches for by part of its serial and by its customer's name (no other
# customer's name contains it): from the smallest size on, the serial 1 to 3 orders at any size.
SEARCHED = 123
CUSTOMER_PAGE = 5
GOAL = 1.5
# Loads of this many orders or more build the secondary indexes afterwards.
LARGE_LOAD = 50_000


@dataclass
class Statements:
    """The SELECTs sent to PostgreSQL while recording, with their time (for --explain)."""

    recording: bool = False
    seen: dict[str, tuple[float, tuple[Any, ...]]] = field(default_factory=dict)
    # Seconds spent waiting for PostgreSQL since the last reset: what grows with the data, apart
    # from the Python around it (which a loaded machine slows down as much as anything).
    waited: float = 0.0
    _started: float = 0.0

    def before(self, *_args: Any) -> None:
        self._started = time.perf_counter()

    def after(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        took = time.perf_counter() - self._started
        self.waited += took
        if not self.recording or not statement.lstrip().upper().startswith(("SELECT", "WITH")):
            return
        params = tuple(parameters) if isinstance(parameters, list | tuple) else ()
        if took > self.seen.get(statement, (0.0, ()))[0]:
            self.seen[statement] = (took, params)

    @contextmanager
    def record(self) -> Iterator[None]:
        self.seen, self.recording = {}, True
        try:
            yield
        finally:
            self.recording = False

    def slowest(self, count: int | None = None) -> list[tuple[str, tuple[Any, ...]]]:
        ranked = sorted(self.seen.items(), key=lambda item: -item[1][0])
        return [(statement, params) for statement, (_took, params) in ranked[:count]]


@dataclass
class Measure:
    name: str
    run: Callable[[], Any]
    runs: int
    samples: dict[int, list[float]] = field(default_factory=dict)
    database: dict[int, list[float]] = field(default_factory=dict)
    # The same SELECTs sent bare (asyncpg, no app, no ORM), one run's worth each time.
    bare: dict[int, list[float]] = field(default_factory=dict)
    plans: dict[int, list[str]] = field(default_factory=dict)
    # Shared buffers (hit + read) of those SELECTs in one run, from EXPLAIN (ANALYZE, BUFFERS).
    buffers: dict[int, int] = field(default_factory=dict)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _timed(fn: Callable[[], Any], runs: int, recorder: Statements) -> tuple[list[float], list[float]]:
    """Each run's time and the part of it spent waiting for PostgreSQL, in ms."""
    fn()  # warm-up: caches, prepared statements, the first sign-in
    wall, database = [], []
    for _ in range(runs):
        recorder.waited = 0.0
        started = time.perf_counter()
        fn()
        wall.append((time.perf_counter() - started) * 1000)
        database.append(recorder.waited * 1000)
    return wall, database


def _ok(response: Any) -> Any:
    if response.status_code >= 300:
        raise SystemExit(f"{response.request.url}: {response.status_code} {response.text[:500]}")
    return response.json()


# The measurements ----------------------------------------------------------------------------------


@dataclass
class Context:
    """What the measurements share: the app in process, a loop and engine for the services."""

    http: Any
    runner: asyncio.Runner
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    dispatcher: dict[str, str]
    phone: Any
    cursor: str


def _forget_pages(ctx: Context) -> None:
    """Drop the pages the app keeps (api.routes.work_orders.list_pages), so that each request
    builds its page: a kept page is answered after one short statement at any size, and what
    grows with the history is the building."""
    from api.context import RecentPages

    ctx.http.app.state["context"].list_pages = RecentPages(64)


def _list(ctx: Context, query: str, limit: int = 50) -> Callable[[], Any]:
    def page() -> Any:
        _forget_pages(ctx)
        return _ok(ctx.http.get(f"/api/work-orders?limit={limit}&{query}", headers=ctx.dispatcher))

    return page


def _search(ctx: Context, q: str, limit: int = 50) -> Callable[[], Any]:
    """The list searched for `q` (the desk's search box, lower case), which must find SEARCHED."""
    wanted = str(data.stable_id("wo", SEARCHED))

    def search() -> Any:
        _forget_pages(ctx)
        body = _ok(ctx.http.get("/api/work-orders", params={"limit": limit, "q": q}, headers=ctx.dispatcher))
        if wanted not in {o["id"] for o in body["items"]}:
            raise SystemExit(f"q={q} did not find order {SEARCHED}")
        return body

    return search


def _page(ctx: Context) -> Callable[[], Any]:
    open_ids = [
        data.stable_id("wo", n) for n in range(50) if data.order(n).status not in {"closed", "cancelled"}
    ]
    turn = iter(range(10**9))
    return lambda: _ok(
        ctx.http.get(f"/api/work-orders/{open_ids[next(turn) % len(open_ids)]}", headers=ctx.dispatcher)
    )


def _bootstrap(ctx: Context) -> None:
    ctx.phone._set("cursor", None)
    ctx.phone.pull()


def _incremental(ctx: Context) -> None:
    ctx.phone._set("cursor", ctx.cursor)
    ctx.phone.pull()


def _sweep(ctx: Context, *, keep: bool = False) -> Any:
    """One watch pass, rolled back so that every pass finds the same work (unless `keep`)."""
    from dispatch.sla.watch import sweep

    async def one_pass() -> int:
        async with ctx.sessions() as session, session.begin():
            report = await sweep(session, NOW)
            if not keep:
                await session.rollback()
            return report.evaluated

    return ctx.runner.run(one_pass())


def _kpis(ctx: Context, customer: uuid.UUID | None) -> Any:
    from kpis import figures
    from kpis.period import Period
    from kpis.scope import Scope

    period = Period(NOW - dt.timedelta(days=KPI_DAYS), NOW, "Asia/Shanghai")

    async def report() -> Any:
        async with ctx.sessions() as session, session.begin():
            return await figures.compute(session, NOW, period, Scope(customer))

    return ctx.runner.run(report())


def measures(ctx: Context, runs: int) -> list[Measure]:
    busy = data.stable_id("customer", data.customer_of_site(data.order(0).site))
    named = data.customer_of_site(data.order(SEARCHED).site)
    slow = max(3, runs // 8)
    return [
        Measure("list: open orders by deadline", _list(ctx, "open_only=true"), runs),
        Measure("list: open critical orders", _list(ctx, "open_only=true&severity=critical"), runs),
        # A page as long as that customer's whole history at 10,000 (five orders): a page of 50 would
        # hold 5 orders at 10,000 and 50 at 1,000,000, ten times the rows, not the cost of history.
        Measure(
            f"list: one customer's first {CUSTOMER_PAGE}",
            _list(ctx, f"customer_id={busy}", limit=CUSTOMER_PAGE),
            runs,
        ),
        # What the desk types: part of a serial (one to three orders at any size), a customer's
        # name (a page of five, that customer's whole history at 10,000, as above).
        Measure("list: q = part of a serial", _search(ctx, f"n-g-{SEARCHED:06d}"), runs),
        Measure(
            f"list: q = a customer's name, first {CUSTOMER_PAGE}",
            _search(ctx, data.customer_name(named), limit=CUSTOMER_PAGE),
            runs,
        ),
        Measure("work order page", _page(ctx), runs),
        Measure("sync pull: bootstrap", lambda: _bootstrap(ctx), runs),
        Measure(f"sync pull: {INCREMENT} changes", lambda: _incremental(ctx), runs),
        Measure("SLA watch: one pass", lambda: _sweep(ctx), slow),
        Measure(f"KPIs: last {KPI_DAYS} days, everyone", lambda: _kpis(ctx, None), slow),
        Measure(f"KPIs: last {KPI_DAYS} days, one customer", lambda: _kpis(ctx, busy), slow),
    ]


# Setup -------------------------------------------------------------------------------------------------


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def _grow(url: str, loaded: int, size: int) -> float:
    started = time.perf_counter()
    with psycopg.connect(_plain(url), autocommit=True) as conn:
        # History, as the historical import loads it: no live-update event per row written.
        conn.execute("SET fsd.live_quiet = 'on'")
        if loaded == 0:
            data.load_reference(conn)
        if size - loaded >= LARGE_LOAD:
            with data.indexes_built_after(conn):
                data.load_orders(conn, loaded, size)
        else:
            data.load_orders(conn, loaded, size)
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def _changes_since(ctx: Context, url: str, loaded: int) -> str:
    """The phone's cursor now, then INCREMENT notes written on its visits behind it."""
    ctx.phone.pull()
    cursor: str | None = ctx.phone._meta("cursor")
    assert cursor is not None
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from dispatch.work_orders.models import VisitNote

    engineer = data.stable_id("engineer", ENGINEER)
    visits = [
        data.stable_id("visit", n)
        for n in range(ENGINEER, min(3_000, loaded), data.ENGINEERS)
        if data.order(n).visit_status
    ]
    orm = create_engine(url.replace("postgresql+asyncpg://", "postgresql+psycopg://"))
    try:
        with Session(orm) as session, session.begin():
            session.add_all(
                VisitNote(
                    id=uuid.uuid4(),
                    visit_id=visits[i % len(visits)],
                    at=NOW,
                    author_id=engineer,
                    body=f"记录 {i}",
                )
                for i in range(INCREMENT)
            )
    finally:
        orm.dispose()
    return cursor


@contextmanager
def context(url: str) -> Iterator[Context]:
    from api.app import create_app
    from offline_sync.client import DeviceClient

    settings = bench_settings(url)
    with (
        TestClient(app=create_app(settings, clock=ManualClock(NOW)), raise_server_exceptions=False) as http,
        asyncio.Runner() as runner,
    ):
        engine = create_async_engine(url, pool_size=2)
        body = _ok(http.post("/api/auth/login", json={"username": "dispatcher", "password": "demo-pass"}))
        phone = DeviceClient(
            http, ":memory:", data.engineer_name(ENGINEER), "demo-pass", sleep=lambda _s: None, page_size=100
        )
        ctx = Context(
            http,
            runner,
            engine,
            make_sessionmaker(engine),
            {"Authorization": f"Bearer {body['access_token']}"},
            phone,
            "",
        )
        try:
            yield ctx
        finally:
            runner.run(engine.dispose())


# Plans -------------------------------------------------------------------------------------------------

_PLAN_WORDS = ("Scan", "Sort", "Join", "Loop", "Limit", "Aggregate", "Execution Time", "SubPlan", "Buffers")
_BLOCKS = re.compile(r"(hit|read)=(\d+)")


def _blocks(line: str) -> int:
    """Shared blocks hit and read on a plan's `Buffers:` line (its temp and local blocks aside)."""
    shared = line.split("shared", 1)[1].split(",", 1)[0] if "shared" in line else ""
    return sum(int(count) for _kind, count in _BLOCKS.findall(shared))


async def _explain(engine: AsyncEngine, statement: str, params: tuple[Any, ...]) -> tuple[int, list[str]]:
    """The shared blocks the statement touched (its plan's first `Buffers:` line, the whole tree's)
    and its plan, shortened to the nodes and their buffers."""
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        await driver.execute("SET jit = off")
        try:
            rows = await driver.fetch("EXPLAIN (ANALYZE, BUFFERS) " + statement, *params)
        except Exception as exc:
            return 0, [f"(not explained: {type(exc).__name__})"]
        finally:
            await conn.rollback()
        lines = [str(r[0]) for r in rows]
    total = next((_blocks(line) for line in lines if line.strip().startswith("Buffers:")), 0)
    first = " ".join(statement.split())[:150]
    shown = [f"    {line}" for line in lines if any(w in line for w in _PLAN_WORDS)]
    return total, [f"  {first}… ({total:,} buffers)", *shown]


async def _bare(engine: AsyncEngine, statements: list[tuple[str, tuple[Any, ...]]], runs: int) -> list[float]:
    """Each run's time for sending `statements` one after the other on one connection, in ms:
    what the database costs without the app around it."""
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        for statement, params in statements:  # warm-up: prepared statements, caches
            await driver.fetch(statement, *params)
        took = []
        for _ in range(runs):
            started = time.perf_counter()
            for statement, params in statements:
                await driver.fetch(statement, *params)
            took.append((time.perf_counter() - started) * 1000)
        await conn.rollback()
    return took


def _measure(ctx: Context, recorder: Statements, measure: Measure, size: int, explain: bool) -> None:
    measure.samples[size], measure.database[size] = _timed(measure.run, measure.runs, recorder)
    with recorder.record():
        measure.run()
    statements = recorder.slowest()
    measure.bare[size] = ctx.runner.run(_bare(ctx.engine, statements, measure.runs))
    # Every SELECT of one run, explained: the shared blocks it touches do not depend on the load.
    explained = [ctx.runner.run(_explain(ctx.engine, statement, params)) for statement, params in statements]
    measure.buffers[size] = sum(blocks for blocks, _plan in explained)
    if explain:
        # The two slowest in full, then every other one's first line (its buffers).
        measure.plans[size] = [line for _blocks, plan in explained[:2] for line in plan]
        measure.plans[size] += [plan[0] for _blocks, plan in explained[2:]]


def measure_on(
    url: str,
    sizes: list[int],
    runs: int,
    explain: bool,
    loaded: int = 0,
    grown: Callable[[int], None] = lambda _size: None,
) -> tuple[list[Measure], dict[int, float]]:
    """Grow the database at `url` (migrated, with the demo data and `loaded` generated orders) to
    each size in turn and measure there, calling `grown` after each load; returns the measurements
    and each size's load time in seconds (0 for a size already loaded)."""
    if loaded > sizes[0]:
        raise SystemExit(f"the database holds {loaded:,} orders already: it cannot shrink to {sizes[0]:,}")
    recorder = Statements()
    event.listen(Engine, "before_cursor_execute", recorder.before)
    event.listen(Engine, "after_cursor_execute", recorder.after)
    loads: dict[int, float] = {}
    try:
        loads[sizes[0]] = 0.0
        if sizes[0] > loaded:
            loads[sizes[0]] = _grow(url, loaded, sizes[0])
            grown(sizes[0])
            print(f"{sizes[0]:>9,} work orders loaded in {loads[sizes[0]]:.0f} s", flush=True)
        with context(url) as ctx:
            ctx.cursor = _changes_since(ctx, url, sizes[0])
            # The watch has run before, as it does every 30 s: what it raised once is raised.
            _sweep(ctx, keep=True)
            table = measures(ctx, runs)
            for previous, size in zip([0, *sizes], sizes, strict=False):
                if previous:
                    loads[size] = _grow(url, previous, size)
                    grown(size)
                    print(f"{size:>9,} work orders loaded in {loads[size]:.0f} s", flush=True)
                for measure in table:
                    _measure(ctx, recorder, measure, size, explain)
                print(f"{size:>9,} measured", flush=True)
    finally:
        event.remove(Engine, "before_cursor_execute", recorder.before)
        event.remove(Engine, "after_cursor_execute", recorder.after)
    return table, loads


def run(
    sizes: list[int], runs: int, explain: bool, keep: Path | None = None
) -> tuple[list[Measure], dict[int, float]]:
    if keep is None:
        with demo_database(NOW) as url:
            return measure_on(url, sizes, runs, explain)
    # A kept database remembers its size beside its data, so that the next run starts from it.
    marker = keep / "growth-orders"
    with kept_database(NOW, keep) as (url, fresh):
        loaded = 0 if fresh or not marker.exists() else int(marker.read_text())

        def grown(size: int) -> None:
            marker.write_text(str(size))

        return measure_on(url, sizes, runs, explain, loaded, grown)


def report(table: list[Measure], sizes: list[int]) -> str:
    """p50, p99, the database's share (p50), the same SELECTs sent bare (p50) and the shared
    buffers they touch per size; the last size's p99, database time, bare time and buffers over
    the first size's."""
    first, last = sizes[0], sizes[-1]
    head = "".join(f"{f'{s:,}: p50':>16}{'p99':>8}{'db':>7}{'bare':>7}{'buffers':>9}" for s in sizes)
    lines = [f"{'measurement (ms)':36}{head}{'p99 ×':>8}{'db ×':>7}{'bare ×':>8}{'buf ×':>7}"]
    for m in table:
        cells = "".join(
            f"{statistics.median(m.samples[s]):>16.1f}{percentile(m.samples[s], 0.99):>8.1f}"
            f"{statistics.median(m.database[s]):>7.1f}{statistics.median(m.bare[s]):>7.1f}{m.buffers[s]:>9,}"
            for s in sizes
        )
        ratio = percentile(m.samples[last], 0.99) / percentile(m.samples[first], 0.99)
        db_ratio = statistics.median(m.database[last]) / max(statistics.median(m.database[first]), 1e-3)
        bare_ratio = statistics.median(m.bare[last]) / max(statistics.median(m.bare[first]), 1e-3)
        buffer_ratio = m.buffers[last] / max(m.buffers[first], 1)
        flag = "" if ratio <= GOAL else "  over"
        lines.append(
            f"{m.name:36}{cells}{ratio:>7.2f}×{db_ratio:>6.2f}×{bare_ratio:>7.2f}×{buffer_ratio:>6.2f}×{flag}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.growth", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="keep the loaded cluster in DIR and reuse it next time (only sizes at least as large as "
        "what it holds); DIR must be enterable by PostgreSQL's service user",
    )
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    table, _loads = run(sizes, args.runs, args.explain, args.keep)
    print(f"\nGrowth: p50 and p99 of {args.runs} runs ({max(3, args.runs // 8)} for the watch and KPIs); "
          f"p99 × = the largest size's p99 over the smallest's (goal ≤ {GOAL}×)")  # fmt: skip
    print(report(table, sizes))
    for m in table:
        for size, plan in m.plans.items():
            print(f"\n{m.name} at {size:,}:")
            print("\n".join(plan))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
