"""List benchmark: `GET /api/work-orders?limit=50` against a hello-world route, both served by one
uvicorn process in the same run. Pure measurement; never part of `make test`.

    python -m bench.work_order_list [--orders 1000] [--concurrency 32] [--seconds 3] [--rounds 3]
                                    [--rates 300] [--rate-seconds 20] [--warm-seconds 2]
                                    [--no-pin]

Starts a throwaway PostGIS cluster under ./var/, migrates it, loads the demo data plus
`--orders` work orders (a third with a visit), then serves the app with uvicorn (one process,
loopback port) in a subprocess, with the options `make up` serves the API with
(`api.serve.SERVER_OPTIONS`: uvloop, httptools, every request line in the access log, here
written to var/bench/work_order_list-access.log). The bench server app is the real one plus a
bare Litestar route, `GET /bench/hello`, outside the API router (no unit of work, no sign-in, no
database).

The client is a small keep-alive HTTP/1.1 client on asyncio (uvloop's loop) with
`--concurrency` connections, so that the client's own cost stays small next to the server's.
Each route is driven for `--seconds` per round, routes alternating, `--rounds` times. The table
shows the requests, requests per second (median over rounds), p50 and p99 latency (all rounds
pooled) and how many times slower than hello-world the route is (rps ratio). Then one request at a time on one
connection: the client's median latency, the server's own time (`Server-Timing`, measured by the
bench server around the whole app: unit of work, sign-in, query, JSON, commit) and the server
process's CPU time for the request (what the server time comes down to on a quiet machine,
without the database's share).

Then the open loop, for each of `--rates`: requests are sent on a fixed schedule (hello-world
first, then the list, `--rate-seconds` each), whatever the answers do, and each latency is
counted from the request's scheduled send time, so a request that waits behind a slow one (for a
free connection, or in the server's queue) counts its wait: no coordinated omission. Each is
preceded by `--warm-seconds` at the same rate on the same route, not counted: on the shared
development machine the first route run at 300 req/s (hello-world) met stalls of 100-300 ms in
its first seconds, which a second and third run at that rate did not.
It prints p50/p95/p99/max, the rate achieved and the list's p99 over hello-world's.

On a machine with two cores or more the server process is pinned to core 0 together with
PostgreSQL (the postmaster and so every backend it starts), and this client to core 1, so the
load generator does not take the server's CPU and the list's cost includes the database's.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

import uvloop
from litestar import Litestar, get
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from bench.database import bench_settings, demo_database
from core.clock import ManualClock
from core.localdb import free_port
from core.settings import PROJECT_ROOT

NOW = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
HELLO = "/bench/hello"
LIST = "/api/work-orders?limit=50"
DATABASE_ENV = "FIELDSERVICE_BENCH_DATABASE_URL"
_TIMING = re.compile(rb"app;dur=([0-9.]+), cpu;dur=([0-9.]+)")


# --- the server side (runs in the uvicorn subprocess) ------------------------------------------


@get(HELLO, sync_to_thread=False)
def hello() -> dict[str, str]:
    return {"hello": "world"}


class _ServerTiming:
    """Adds `Server-Timing: app;dur=<ms>` measured from the request's arrival to the response start
    (the unit of work holds the response until its commit, so this is the whole server time)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            await self.app(scope, receive, send)
            return
        started, cpu = time.perf_counter(), time.process_time()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                ms = (time.perf_counter() - started) * 1000
                cpu_ms = (time.process_time() - cpu) * 1000
                timing = f"app;dur={ms:.3f}, cpu;dur={cpu_ms:.3f}".encode()
                headers = [*message.get("headers", []), (b"server-timing", timing)]
                message = cast(Message, {**message, "headers": headers})
            await send(message)

        await self.app(scope, receive, timed)


def bench_app() -> ASGIApp:
    """Entry point for `uvicorn --factory bench.work_order_list:bench_app` (database from the environment)."""
    from api.app import create_app

    settings = bench_settings(os.environ[DATABASE_ENV])
    app: Litestar = create_app(settings, clock=ManualClock(NOW))
    app.register(hello)
    return _ServerTiming(app)


def serve(port: int) -> None:
    """The bench server's process: `bench_app` on the loopback `port`, served as `api.serve` serves
    the API (same options, the access log's credentials masked the same way)."""
    import uvicorn

    from api import log_redaction
    from api.serve import SERVER_OPTIONS

    log_redaction.install()
    uvicorn.run(
        "bench.work_order_list:bench_app", factory=True, host="127.0.0.1", port=port, **SERVER_OPTIONS
    )


# --- data ---------------------------------------------------------------------------------------


async def seed_orders(url: str, count: int, *, seed: int = 7) -> None:
    """`count` open work orders on the demo sites, reported over the last ten days; every third
    gets a planned visit. Made by the domain services, as the intake desk would."""
    from sqlalchemy import select

    from core.database import make_engine, make_sessionmaker
    from core.identity.models import User
    from core.identity.roles import Actor, Role
    from dispatch.contracts.models import Severity
    from dispatch.customers.models import Site
    from dispatch.work_orders import service as work_orders
    from dispatch.work_orders import visits
    from dispatch.work_orders.models import Channel, VisitKind

    rng = random.Random(seed)  # noqa: S311 (repeatable bench data, not a secret)
    clock = ManualClock(NOW)
    engine = make_engine(url, pool_size=1)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as session:
            user = (await session.execute(select(User).where(User.username == "dispatcher"))).scalar_one()
            sites = list((await session.execute(select(Site.id).order_by(Site.id))).scalars())
        actor = Actor(user_id=user.id, role=Role.DISPATCHER, username=user.username)
        severities = list(Severity)
        made = 0
        while made < count:
            async with sessions() as session, session.begin():
                for _ in range(min(100, count - made)):
                    order = await work_orders.create(
                        session,
                        actor,
                        clock,
                        work_orders.Intake(
                            site_id=rng.choice(sites),
                            contact_name="王工",
                            contact_phone=f"138{rng.randrange(10**8):08d}",
                            fault_description="服务器告警，电源模块故障灯亮",
                            severity=rng.choice(severities),
                            channel=Channel.PHONE,
                            asset_model="R750",
                            asset_serial=f"B-{uuid.UUID(int=rng.getrandbits(128)).hex[:10]}",
                            reported_at=NOW - dt.timedelta(minutes=rng.randrange(10 * 24 * 60)),
                        ),
                    )
                    if made % 3 == 0:
                        await visits.create_visit(
                            session,
                            actor,
                            clock,
                            order.id,
                            visits.VisitPlan(kind=VisitKind.REPAIR, duration_minutes=60),
                        )
                    made += 1
    finally:
        await engine.dispose()


# --- the client ---------------------------------------------------------------------------------


@dataclass
class Sample:
    latencies: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    errors: int = 0


class _Connection:
    """One keep-alive HTTP/1.1 connection; just enough protocol for these GETs."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> _Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def get(self, request: bytes) -> tuple[int, bytes, bytes]:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
        body = await self.reader.readexactly(int(length.group(1))) if length else b""
        return status, head, body

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


def _request(path: str, token: str | None) -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\r\n".encode()


async def drive(port: int, request: bytes, *, concurrency: int, seconds: float, limit: int) -> Sample:
    """`concurrency` connections sending `request` back to back until `seconds` or `limit` requests."""
    sample = Sample()
    deadline = time.perf_counter() + seconds
    sent = 0

    async def worker() -> None:
        nonlocal sent
        conn = await _Connection.open(port)
        try:
            while sent < limit and time.perf_counter() < deadline:
                sent += 1
                started = time.perf_counter()
                status, head, _ = await conn.get(request)
                sample.latencies.append(time.perf_counter() - started)
                if status != 200:
                    sample.errors += 1
                found = _TIMING.search(head)
                if found:
                    sample.server_ms.append(float(found.group(1)))
                    sample.cpu_ms.append(float(found.group(2)))
        finally:
            await conn.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return sample


@dataclass
class OpenLoop:
    """Latencies of requests sent on a fixed schedule, each from its scheduled send time."""

    rate: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0
    connections: int = 0

    @property
    def achieved(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0


async def open_loop(
    port: int, request: bytes, *, rate: float, seconds: float, max_connections: int = 512
) -> OpenLoop:
    """`rate` requests per second for `seconds`, sent when due whether or not earlier ones were
    answered: each takes an idle keep-alive connection or opens one (up to `max_connections`,
    then waits for one; the wait counts, it is part of the latency from the schedule)."""
    result = OpenLoop(rate=rate)
    idle: list[_Connection] = []
    slots = asyncio.Semaphore(max_connections)

    async def one(scheduled: float) -> None:
        # uvloop's timers count whole milliseconds and may wake a little before the schedule: a
        # request sent early counts from when it went (it once came back "before" its time).
        since = min(scheduled, time.perf_counter())
        async with slots:
            while True:
                reused = bool(idle)
                if reused:
                    conn = idle.pop()
                else:
                    conn = await _Connection.open(port)
                    result.connections += 1
                try:
                    status, _, _ = await conn.get(request)
                    break
                except (OSError, asyncio.IncompleteReadError):
                    if not reused:
                        result.errors += 1
                        return
                    # The server closed an idle keep-alive connection: resend on another, as clients do.
            result.latencies.append(time.perf_counter() - since)
            if status != 200:
                result.errors += 1
            idle.append(conn)

    count = max(1, round(rate * seconds))
    start = time.perf_counter() + 0.01
    tasks = []
    for i in range(count):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled)))
    await asyncio.gather(*tasks)
    result.elapsed = time.perf_counter() - start
    for conn in idle:
        await conn.close()
    return result


async def sign_in(port: int, username: str) -> str:
    body = json.dumps({"username": username, "password": "demo-pass"}).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            b"POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        head = await reader.readuntil(b"\r\n\r\n")
        length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
        assert length, head
        answer = json.loads(await reader.readexactly(int(length.group(1))))
    finally:
        writer.close()
        await writer.wait_closed()
    token: str = answer["access_token"]
    return token


# --- the run ------------------------------------------------------------------------------------


@dataclass
class RouteResult:
    name: str
    rps: list[float] = field(default_factory=list)
    sample: Sample = field(default_factory=Sample)
    single: Sample = field(default_factory=Sample)
    open: list[OpenLoop] = field(default_factory=list)


SERVER_CORE, CLIENT_CORE = 0, 1


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        found.append(parent)
        for task in os.listdir(f"/proc/{parent}/task"):
            with open(f"/proc/{parent}/task/{task}/children") as children:
                todo += [int(c) for c in children.read().split()]
    return found


def _pin_database(core: int) -> int:
    """Pins this run's PostgreSQL (its data directory is named after this process) to `core`: the
    postmaster and its processes; the backends it starts later inherit it. How many were pinned."""
    marker = f"test-pg-{os.getpid()}-".encode()
    pinned = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                args = cmdline.read().split(b"\0")
            if not (args[0].endswith(b"postgres") and any(marker in a for a in args)):
                continue
            for pid in _descendants(int(entry)):
                os.sched_setaffinity(pid, {core})
                pinned += 1
        except OSError:  # gone meanwhile
            continue
    return pinned


def pin(server_pid: int) -> str:
    """Server and PostgreSQL on one core, this client on the other; what was done, in words."""
    if len(os.sched_getaffinity(0)) < 2:
        return "not pinned (one core)"
    os.sched_setaffinity(server_pid, {SERVER_CORE})
    database = _pin_database(SERVER_CORE)
    os.sched_setaffinity(0, {CLIENT_CORE})
    return (
        f"server and PostgreSQL ({database} processes) pinned to core {SERVER_CORE}, "
        f"the client to core {CLIENT_CORE}"
    )


ACCESS_LOG = PROJECT_ROOT / "var" / "bench" / "work_order_list-access.log"


def _serve(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, DATABASE_ENV: url}
    ACCESS_LOG.parent.mkdir(parents=True, exist_ok=True)
    # uvicorn writes its access log to stdout: to a file, as a production server's goes to its log.
    with ACCESS_LOG.open("wb") as access_log:
        process = subprocess.Popen(  # noqa: S603 (this interpreter, fixed arguments)
            [sys.executable, "-c", f"from bench.work_order_list import serve; serve({port})"],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=access_log,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the bench server exited with {process.returncode}")
        try:
            asyncio.run(_probe(port))
            return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("the bench server did not start within 60 s")


async def _probe(port: int) -> None:
    conn = await _Connection.open(port)
    try:
        await conn.get(_request(HELLO, None))
    finally:
        await conn.close()


async def measure(
    port: int,
    *,
    concurrency: int,
    seconds: float,
    rounds: int,
    limit: int,
    singles: int,
    rates: Sequence[float] = (),
    rate_seconds: float = 20.0,
    warm_seconds: float = 0.0,
) -> list[RouteResult]:
    token = await sign_in(port, "dispatcher")
    routes = [
        (f"GET {HELLO} (hello world)", _request(HELLO, None)),
        ("GET /api/health", _request("/api/health", None)),
        (f"GET {LIST} (dispatcher)", _request(LIST, token)),
    ]
    results = [RouteResult(name) for name, _ in routes]
    for _, request in routes:  # warm up: connections, caches, the first queries
        await drive(port, request, concurrency=min(4, concurrency), seconds=0.5, limit=min(20, limit))
    for _ in range(rounds):
        for result, (_, request) in zip(results, routes, strict=True):
            started = time.perf_counter()
            sample = await drive(port, request, concurrency=concurrency, seconds=seconds, limit=limit)
            elapsed = time.perf_counter() - started
            result.rps.append(len(sample.latencies) / elapsed)
            result.sample.latencies += sample.latencies
            result.sample.server_ms += sample.server_ms
            result.sample.errors += sample.errors
    for result, (_, request) in zip(results, routes, strict=True):
        result.single = await drive(port, request, concurrency=1, seconds=60, limit=singles)
    for rate in rates:
        for i in (0, 2):  # hello-world, then the list, at the same rate
            if warm_seconds > 0:
                await open_loop(port, routes[i][1], rate=rate, seconds=warm_seconds)
            results[i].open.append(await open_loop(port, routes[i][1], rate=rate, seconds=rate_seconds))
    return results


def _pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def open_table(results: list[RouteResult]) -> list[str]:
    """The open loop's lines: each rate, hello-world then the list, and the list's p99 ratio."""
    hello, listed = results[0], results[2]
    lines = [
        "",
        "open loop (fixed rate; latency from the scheduled send time, ms):",
        f"{'route':46} {'rate':>5} {'achieved':>8} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7} "
        f"{'errors':>6} {'conns':>5}",
    ]
    for base, run in zip(hello.open, listed.open, strict=True):
        for name, r in ((hello.name, base), (listed.name, run)):
            lat = r.latencies
            lines.append(
                f"{name:46} {r.rate:5.0f} {r.achieved:8.1f} {_pct(lat, 0.5) * 1000:7.2f} "
                f"{_pct(lat, 0.95) * 1000:7.2f} {_pct(lat, 0.99) * 1000:7.2f} "
                f"{max(lat, default=float('nan')) * 1000:7.1f} {r.errors:6d} {r.connections:5d}"
            )
        ratio = _pct(run.latencies, 0.99) / _pct(base.latencies, 0.99)
        lines.append(f"{'':46} {run.rate:5.0f} list p99 / hello-world p99 = {ratio:.1f}×")
    return lines


def table(results: list[RouteResult], concurrency: int) -> str:
    lines = [
        f"{concurrency} connections:",
        f"{'route':46} {'requests':>8} {'rps':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'× hello':>8}",
    ]
    base = statistics.median(results[0].rps) if results[0].rps else float("nan")
    for r in results:
        if not r.rps:
            continue
        rps = statistics.median(r.rps)
        lat = r.sample.latencies
        lines.append(
            f"{r.name:46} {len(lat):8d} {rps:7.0f} {_pct(lat, 0.5) * 1000:7.2f} "
            f"{_pct(lat, 0.99) * 1000:7.2f} {r.sample.errors:6d} {base / rps:7.1f}×"
        )
    lines += [
        "",
        "one request at a time:",
        f"{'route':46} {'requests':>8} {'client p50':>10} {'server p50':>10} {'server p99':>10} "
        f"{'CPU p50':>8} {'CPU min':>8}  (ms)",
    ]
    for r in results:
        s = r.single
        lines.append(
            f"{r.name:46} {len(s.latencies):8d} {_pct(s.latencies, 0.5) * 1000:10.2f} "
            f"{_pct(s.server_ms, 0.5):10.2f} {_pct(s.server_ms, 0.99):10.2f} "
            f"{_pct(s.cpu_ms, 0.5):8.2f} {min(s.cpu_ms, default=float('nan')):8.2f}"
        )
    if results[0].open:
        lines += open_table(results)
    return "\n".join(lines)


def run_against(
    url: str,
    *,
    concurrency: int,
    seconds: float,
    rounds: int,
    limit: int,
    singles: int,
    rates: Sequence[float] = (),
    rate_seconds: float = 20.0,
    warm_seconds: float = 0.0,
    pinned: bool = False,
) -> list[RouteResult]:
    """Serve the database at `url` and measure (the database is not changed by the requests
    except for the audit rows of the staff reads). `pinned`: see `pin`."""
    port = free_port()
    server = _serve(url, port)
    affinity = os.sched_getaffinity(0)
    try:
        if pinned:
            print(pin(server.pid), flush=True)
        # The client on uvloop too: its own cost per request stays well below the server's.
        return uvloop.run(
            measure(
                port,
                concurrency=concurrency,
                seconds=seconds,
                rounds=rounds,
                limit=limit,
                singles=singles,
                rates=rates,
                rate_seconds=rate_seconds,
                warm_seconds=warm_seconds,
            )
        )
    finally:
        os.sched_setaffinity(0, affinity)
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.work_order_list", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=3.0, help="per route and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--singles", type=int, default=200, help="sequential requests per route")
    parser.add_argument(
        "--rates", default="300", help="open-loop rates, requests/s, comma-separated ('' for none)"
    )
    parser.add_argument("--rate-seconds", type=float, default=20.0, help="per route and rate")
    parser.add_argument(
        "--warm-seconds", type=float, default=2.0, help="at each rate before it is measured (not counted)"
    )
    parser.add_argument("--no-pin", action="store_true", help="leave the processes where the OS puts them")
    args = parser.parse_args(argv)
    rates = [float(r) for r in args.rates.split(",") if r.strip()]

    with demo_database(NOW) as url:
        started = time.perf_counter()
        asyncio.run(seed_orders(url, args.orders))
        print(f"{args.orders} work orders made in {time.perf_counter() - started:.0f} s", flush=True)
        results = run_against(
            url,
            concurrency=args.concurrency,
            seconds=args.seconds,
            rounds=args.rounds,
            limit=10**9,
            singles=args.singles,
            rates=rates,
            rate_seconds=args.rate_seconds,
            warm_seconds=args.warm_seconds,
            pinned=not args.no_pin,
        )
        print(table(results, args.concurrency))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
