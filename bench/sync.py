"""Sync benchmark: a push of 100 mutations and a pull of 5,000 changes, each against a baseline
measured in the same process. Pure measurement; never part of `make test`.

    python -m bench.sync [--rounds 5]

Starts a throwaway PostGIS cluster under ./var/, migrates it and loads the demo data, then
drives the app in process through Litestar's test client (HTTP routing, JSON, auth and
the unit of work included; no sockets).

- push: one `POST /api/sync/push` of 100 `visit.add_note@1` mutations (one transaction, a
  savepoint each, with the seq check, stored outcome and audit row). Baseline: the same 100
  notes applied by the same mutation handler through the domain services, one transaction
  each, without the sync layer or HTTP.
- pull: 5,000 captured changes (notes on the engineer's visits) read from a cursor taken
  before them, paged 1,000 at a time (the most a page takes), by the reference client
  (`format=records`: the notes themselves, added to its store as rows of their own). Baseline: a plain
  SELECT of the same change rows.
- bootstrap: a first pull of the engineer's whole scope (no baseline).

The last column is the SQL statements per item (every engine in the process, the bench's
baseline connection included); `--sql FILE` writes the statements of one push and one pull.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from litestar.testing import TestClient
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.orm import Session

from bench.database import bench_settings, demo_database
from core.clock import ManualClock
from core.identity.models import User
from core.identity.roles import Actor, Role
from offline_sync.client import DeviceClient

NOW = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
USER = "engineer01"
PUSH_SIZE, PULL_SIZE, PAGE, VISITS = 100, 5_000, 1_000, 20


def _setup_visits(http: Any, count: int) -> None:
    """`count` work orders with a visit assigned to USER, made by the dispatcher's API."""

    def auth(username: str) -> dict[str, str]:
        body = _ok(http.post("/api/auth/login", json={"username": username, "password": "demo-pass"}))
        return {"Authorization": f"Bearer {body['access_token']}"}

    admin, dispatcher = auth("admin"), auth("dispatcher")
    engineers = _ok(http.get("/api/engineers", headers=admin, params={"limit": 500}))["items"]
    engineer = next(e["id"] for e in engineers if e["username"] == USER)
    customer = _ok(
        http.post("/api/customers", headers=admin, json={"customer_number": "BENCH", "name": "基准"})
    )
    site = _ok(
        http.post(
            "/api/sites",
            headers=admin,
            json={
                "customer_id": customer["id"],
                "name": "机房",
                "address": "郑州",
                "point": {"type": "Point", "coordinates": [113.66, 34.76]},
                "time_zone": "Asia/Shanghai",
            },
        )
    )
    for _ in range(count):
        order = _ok(
            http.post(
                "/api/work-orders",
                headers=dispatcher,
                json={
                    "site_id": site["id"],
                    "contact_name": "王工",
                    "contact_phone": "13800000000",
                    "fault_description": "故障",
                    "severity": "high",
                    "channel": "phone",
                    "asset_model": "R750",
                    "asset_serial": f"B-{uuid.uuid4().hex[:10]}",
                },
            )
        )
        visit = _ok(
            http.post(
                f"/api/work-orders/{order['id']}/visits",
                headers=dispatcher,
                json={"kind": "repair", "duration_minutes": 60},
            )
        )
        _ok(
            http.put(
                f"/api/visits/{visit['id']}/assignment",
                headers=dispatcher,
                json={"version": visit["version"], "engineer_id": engineer},
            )
        )


class _Statements:
    """SQL statements sent by every engine in this process (the app's and the bench's own),
    so a measurement can report its round trips per item."""

    def __init__(self) -> None:
        self.count = 0
        self.log: list[str] | None = None
        event.listen(Engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.count += 1
        if self.log is not None:
            self.log.append(statement)


STATEMENTS = _Statements()


def _timed(name: str, items: int, fn: Callable[[], Any], rounds: int) -> Result:
    """`fn` run `rounds` times: its times, and the SQL statements of one run."""
    out = []
    before = STATEMENTS.count
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return name, items, out, (STATEMENTS.count - before) / rounds


def _ok(response: Any) -> Any:
    if response.status_code >= 300:
        raise SystemExit(
            f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
        )
    return response.json()


# name, items, seconds per round, SQL statements per round
Result = tuple[str, int, list[float], float]


@dataclass
class _Bench:
    """What the phases share: the app in process, the engineer's phone and the database."""

    url: str
    clock: ManualClock
    phone: DeviceClient
    orm: Engine
    user: User
    visit_ids: list[str]
    rounds: int
    # Where to write the SQL statements of one untimed push and one pull, if anywhere.
    sql_log: str | None = None

    def notes(self) -> list[dict[str, Any]]:
        """PUSH_SIZE new `visit.add_note@1` arguments spread over the engineer's visits."""
        return [
            {
                "visit_id": self.visit_ids[i % len(self.visit_ids)],
                "note_id": str(uuid.uuid4()),
                "body": f"记录 {i}",
                "at": self.clock.now().isoformat(),
            }
            for i in range(PUSH_SIZE)
        ]


def run(rounds: int, sql_log: str | None = None) -> list[Result]:
    """Every measurement, in order: bootstrap, push and its baseline, pull and its baseline."""
    from api.app import create_app

    clock = ManualClock(NOW)
    with demo_database(NOW) as url:
        settings = bench_settings(url)
        orm = create_engine(url.replace("postgresql+asyncpg://", "postgresql+psycopg://"))
        try:
            with TestClient(app=create_app(settings, clock=clock), raise_server_exceptions=False) as http:
                _setup_visits(http, VISITS)
                phone = DeviceClient(
                    http, ":memory:", USER, "demo-pass", sleep=lambda _s: None, page_size=PAGE
                )
                bootstrap, visit_ids = _measure_bootstrap(phone)
                with Session(orm) as session:
                    user = session.execute(select(User).where(User.username == USER)).scalar_one()
                bench = _Bench(url, clock, phone, orm, user, visit_ids, rounds, sql_log)
                return [bootstrap, *_measure_push(bench), *_measure_pull(bench)]
        finally:
            orm.dispose()


def _measure_bootstrap(phone: DeviceClient) -> tuple[Result, list[str]]:
    """The phone's first pull of its whole scope, and the ids of the visits assigned to it."""
    started, before = time.perf_counter(), STATEMENTS.count
    phone.pull()
    statements = STATEMENTS.count - before
    docs = phone.replica()
    elapsed = time.perf_counter() - started
    visit_ids = [v["id"] for d in docs.values() for v in d.get("visits", []) if v["status"] == "assigned"]
    if not visit_ids:
        raise SystemExit(f"{USER} has no open visits ({len(docs)} documents)")
    return ("bootstrap (whole scope, documents)", len(docs), [elapsed], statements), visit_ids


def _log_sql(bench: _Bench, label: str, fn: Callable[[], Any]) -> None:
    """Run `fn` once more, untimed, writing its SQL statements to the log file (`--sql`)."""
    if bench.sql_log is None:
        return
    STATEMENTS.log = []
    try:
        fn()
        with open(bench.sql_log, "a", encoding="utf-8") as out:
            out.write(f"-- {label}: {len(STATEMENTS.log)} statements\n")
            out.writelines(" ".join(s.split()) + "\n" for s in STATEMENTS.log)
    finally:
        STATEMENTS.log = None


def _measure_push(bench: _Bench) -> list[Result]:
    """One push of PUSH_SIZE notes through the sync API, then the same notes applied by the
    mutation handler through the domain services (a transaction each, no sync layer, no HTTP)."""

    def push() -> None:
        for args in bench.notes():
            bench.phone.record("visit.add_note@1", **args)
        outcomes = bench.phone.push()
        assert len(outcomes) == PUSH_SIZE
        assert all(o["status"] == "applied" for o in outcomes), outcomes[:3]

    _log_sql(bench, "push", push)
    actor = Actor(user_id=bench.user.id, role=Role.ENGINEER, username=USER)
    return [
        _timed(f"push {PUSH_SIZE} mutations (sync API)", PUSH_SIZE, push, bench.rounds),
        _timed(
            f"  baseline: same {PUSH_SIZE} via domain services",
            PUSH_SIZE,
            lambda: asyncio.run(_apply_directly(bench, actor)),
            bench.rounds,
        ),
    ]


async def _apply_directly(bench: _Bench, actor: Actor) -> None:
    from core.database import make_engine, make_sessionmaker
    from offline_sync import mutations

    engine = make_engine(bench.url, pool_size=2)
    sessions = make_sessionmaker(engine)
    try:
        for args in bench.notes():
            async with sessions() as session, session.begin():
                ctx = mutations.Context(
                    session=session,
                    actor=actor,
                    clock=bench.clock,
                    received_at=bench.clock.now(),
                    last_contact=bench.clock.now(),
                    clock_offset=dt.timedelta(0),
                )
                mutation, typed = mutations.parse("visit.add_note@1", args)
                await mutation.apply(ctx, typed)
    finally:
        await engine.dispose()


def _measure_pull(bench: _Bench) -> list[Result]:
    """PULL_SIZE changes written behind the phone's cursor (dispatch's notes on its visits),
    pulled again from that cursor each round, then a plain SELECT of the same change rows."""
    from dispatch.work_orders.models import VisitNote

    bench.phone.pull()
    cursor = bench.phone._meta("cursor")
    with psycopg.connect(
        bench.url.replace("postgresql+asyncpg://", "postgresql://"), autocommit=True
    ) as conn:
        (first_change,) = conn.execute("SELECT coalesce(max(id), 0) FROM sync_change").fetchone() or (0,)
        with Session(bench.orm) as session, session.begin():
            session.add_all(
                VisitNote(
                    id=uuid.uuid4(),
                    visit_id=uuid.UUID(bench.visit_ids[i % len(bench.visit_ids)]),
                    at=bench.clock.now(),
                    author_id=bench.user.id,
                    body=f"调度 {i}",
                )
                for i in range(PULL_SIZE)
            )

        def pull() -> None:
            bench.phone._set("cursor", cursor)
            bench.phone.pull()

        def select_rows() -> None:
            rows = conn.execute(
                "SELECT * FROM sync_change WHERE id > %s ORDER BY id", (first_change,)
            ).fetchall()
            assert len(rows) >= PULL_SIZE, len(rows)

        _log_sql(bench, "pull", pull)
        return [
            _timed(f"pull {PULL_SIZE} changes (sync API, {PAGE}/page)", PULL_SIZE, pull, bench.rounds),
            _timed(
                f"  baseline: SELECT of the {PULL_SIZE} change rows", PULL_SIZE, select_rows, bench.rounds
            ),
        ]


def table(results: list[Result]) -> str:
    lines = [
        f"{'measurement':52} {'items':>6} {'median ms':>10} {'items/s':>9} {'sync ÷ base':>11}"
        f" {'SQL/item':>9}"
    ]
    previous: float | None = None
    for name, items, samples, statements in results:
        median = statistics.median(samples)
        ratio = ""
        if name.startswith("  baseline") and previous is not None:
            ratio = f"{previous / median:10.2f}×"
        rate = f"{items / median:9.0f}" if items else f"{'':>9}"
        per_item = f"{statements / items:9.2f}" if items else f"{'':>9}"
        lines.append(f"{name:52} {items:6d} {median * 1000:10.1f} {rate} {ratio:>11} {per_item}")
        previous = median
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sync", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sql", metavar="FILE", help="append the SQL of one push and one pull to FILE")
    args = parser.parse_args(argv)
    print(table(run(args.rounds, args.sql)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
