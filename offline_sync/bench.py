"""Sync benchmark: a push of 100 mutations and a pull of 5,000 changes, each against a baseline
measured in the same process. Pure measurement; never part of `make test`.

    python -m offline_sync.bench [--rounds 5]

Starts a throwaway PostGIS cluster under ./var/, migrates it and loads the demo data, then
drives the app in process through Litestar's test client (HTTP routing, JSON, auth and
the unit of work included; no sockets).

- push: one `POST /api/sync/push` of 100 `visit.add_note@1` mutations (each in its own
  transaction with the device lock, seq check, stored outcome and audit row). Baseline: the
  same 100 notes applied by the same mutation handler through the domain services, one
  transaction each, without the sync layer or HTTP.
- pull: 5,000 captured changes (notes on the engineer's visits) read from a cursor taken
  before them, paged 500 at a time. Baseline: a plain SELECT of the same change rows.
- bootstrap: a first pull of the engineer's whole scope (no baseline).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
from litestar.testing import TestClient
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from core.clock import ManualClock
from core.identity.models import User
from core.identity.roles import Actor, Role
from core.localdb import throwaway_cluster
from core.settings import PROJECT_ROOT, load_settings

NOW = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
USER = "engineer01"
PUSH_SIZE, PULL_SIZE, PAGE, VISITS = 100, 5_000, 500, 20


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


def _timed(fn: Callable[[], Any], rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def _ok(response: Any) -> Any:
    if response.status_code >= 300:
        raise SystemExit(
            f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
        )
    return response.json()


def run(rounds: int) -> list[tuple[str, int, list[float]]]:
    from alembic import command
    from alembic.config import Config

    from api.app import create_app
    from dispatch.demo import load_demo
    from dispatch.work_orders.models import VisitNote
    from offline_sync import mutations
    from offline_sync.client import DeviceClient

    cluster = throwaway_cluster(PROJECT_ROOT / "var")
    try:
        url = cluster.url
        config = Config(str(PROJECT_ROOT / "alembic.ini"))
        config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
        config.attributes["database_url"] = url
        config.attributes["configure_logging"] = False
        command.upgrade(config, "head")
        asyncio.run(load_demo(url, now=NOW))
        clock = ManualClock(NOW)
        settings = load_settings(
            env={},
            database_url=url,
            jwt_secret="bench-secret-" + "x" * 32,
            var_dir=PROJECT_ROOT / "var" / "bench",
            watch_interval_seconds=0.0,
        )
        results: list[tuple[str, int, list[float]]] = []
        sync_url = url.replace("postgresql+asyncpg://", "postgresql+psycopg://")
        orm = create_engine(sync_url)
        with TestClient(app=create_app(settings, clock=clock), raise_server_exceptions=False) as http:
            _setup_visits(http, VISITS)
            phone = DeviceClient(http, ":memory:", USER, "demo-pass", sleep=lambda _s: None, page_size=PAGE)
            started = time.perf_counter()
            phone.pull()
            docs = phone.replica()
            results.append(("bootstrap (whole scope, documents)", len(docs), [time.perf_counter() - started]))
            visit_ids = [
                v["id"] for d in docs.values() for v in d.get("visits", []) if v["status"] == "assigned"
            ]
            if not visit_ids:
                raise SystemExit(f"{USER} has no open visits ({len(docs)} documents)")
            with Session(orm) as session:
                user = session.execute(select(User).where(User.username == USER)).scalar_one()
            actor = Actor(user_id=user.id, role=Role.ENGINEER, username=USER)

            def batch() -> list[dict[str, Any]]:
                return [
                    {
                        "visit_id": visit_ids[i % len(visit_ids)],
                        "note_id": str(uuid.uuid4()),
                        "body": f"记录 {i}",
                        "at": clock.now().isoformat(),
                    }
                    for i in range(PUSH_SIZE)
                ]

            def push() -> None:
                for args in batch():
                    phone.record("visit.add_note@1", **args)
                outcomes = phone.push()
                assert len(outcomes) == PUSH_SIZE
                assert all(o["status"] == "applied" for o in outcomes), outcomes[:3]

            results.append((f"push {PUSH_SIZE} mutations (sync API)", PUSH_SIZE, _timed(push, rounds)))

            async def direct() -> None:
                from core.database import make_engine, make_sessionmaker

                engine = make_engine(url, pool_size=2)
                sessions = make_sessionmaker(engine)
                try:
                    for args in batch():
                        async with sessions() as session, session.begin():
                            ctx = mutations.Context(
                                session=session,
                                actor=actor,
                                clock=clock,
                                received_at=clock.now(),
                                last_contact=clock.now(),
                                clock_offset=dt.timedelta(0),
                            )
                            mutation, typed = mutations.parse("visit.add_note@1", args)
                            await mutation.apply(ctx, typed)
                finally:
                    await engine.dispose()

            results.append(
                (
                    f"  baseline: same {PUSH_SIZE} via domain services",
                    PUSH_SIZE,
                    _timed(lambda: asyncio.run(direct()), rounds),
                )
            )

            phone.pull()
            cursor = phone._meta("cursor")
            with psycopg.connect(
                url.replace("postgresql+asyncpg://", "postgresql://"), autocommit=True
            ) as conn:
                (first_change,) = conn.execute("SELECT coalesce(max(id), 0) FROM sync_change").fetchone() or (
                    0,
                )
                with Session(orm) as session, session.begin():
                    session.add_all(
                        VisitNote(
                            id=uuid.uuid4(),
                            visit_id=uuid.UUID(visit_ids[i % len(visit_ids)]),
                            at=clock.now(),
                            author_id=user.id,
                            body=f"调度 {i}",
                        )
                        for i in range(PULL_SIZE)
                    )

                def pull() -> None:
                    phone._set("cursor", cursor)
                    phone.pull()

                results.append(
                    (f"pull {PULL_SIZE} changes (sync API, {PAGE}/page)", PULL_SIZE, _timed(pull, rounds))
                )

                def select_rows() -> None:
                    rows = conn.execute(
                        "SELECT * FROM sync_change WHERE id > %s ORDER BY id", (first_change,)
                    ).fetchall()
                    assert len(rows) >= PULL_SIZE, len(rows)

                results.append(
                    (
                        f"  baseline: SELECT of the {PULL_SIZE} change rows",
                        PULL_SIZE,
                        _timed(select_rows, rounds),
                    )
                )
        orm.dispose()
        return results
    finally:
        cluster.destroy()


def table(results: list[tuple[str, int, list[float]]]) -> str:
    lines = [f"{'measurement':52} {'items':>6} {'median ms':>10} {'items/s':>9} {'sync ÷ base':>11}"]
    previous: float | None = None
    for name, items, samples in results:
        median = statistics.median(samples)
        ratio = ""
        if name.startswith("  baseline") and previous is not None:
            ratio = f"{previous / median:10.1f}×"
        rate = f"{items / median:9.0f}" if items else f"{'':>9}"
        lines.append(f"{name:52} {items:6d} {median * 1000:10.1f} {rate} {ratio:>11}")
        previous = median
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline_sync.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    print(table(run(args.rounds)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
