"""The generated history of a large service company, loaded with COPY, grown backwards in time.

A company with ten times the history does not have ten times the open work: orders arrive at a
steady `PER_DAY`, order number `n` (0 the newest) was reported `n / PER_DAY` days before `NOW`,
and only the last ten days hold open orders (about 1,700 of them). Growing the data set from
10,000 to 1,000,000 orders adds older, finished orders (closed, 2 % cancelled) with everything the
product writes for them: a visit, three SLA clocks (some breached, their notifications
acknowledged), the status timeline, change-log rows and audit rows.

The reference data is loaded once: 2,000 customers with 10 sites each (20,000 sites) and 1,000
engineers on weekday shifts, who sign in with the demo password.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

import psycopg

from dispatch.sla.models import NO_DEADLINE

NOW = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
PER_DAY = 1_000
CUSTOMERS, SITES_PER_CUSTOMER, ENGINEERS = 2_000, 10, 1_000
SITES = CUSTOMERS * SITES_PER_CUSTOMER
CHUNK = 50_000
# Change-log rows of the generated history carry transaction ids below every real one: the
# load first moves the cluster's transaction counter past this.
HISTORY_XACT = 12_000
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)


def hex_id(kind: str, n: int) -> str:
    """The id of the `n`th generated row of a kind, random-looking like the product's uuid4s, as the
    32 hex digits PostgreSQL reads as a uuid (cheaper to make a million times than UUID objects)."""
    return hashlib.md5(f"{kind}{n}".encode()).hexdigest()  # noqa: S324 (not a secret)


def stable_id(kind: str, n: int) -> uuid.UUID:
    return uuid.UUID(hex_id(kind, n))


@cache
def _ids(kind: str, count: int) -> list[str]:
    return [hex_id(kind, n) for n in range(count)]


def _random_id() -> str:
    return f"{random.getrandbits(128):032x}"


def engineer_name(e: int) -> str:
    return f"growth-eng-{e:04d}"


def customer_name(c: int) -> str:
    return f"增长客户{c:05d}"


def customer_of_site(s: int) -> int:
    return s // SITES_PER_CUSTOMER


@dataclass(frozen=True, slots=True)
class Order:
    """What the generator decides about order `n`; every table's rows are derived from it."""

    id: str
    n: int
    reported_at: dt.datetime
    status: str
    visit_status: str | None
    engineer: int
    site: int
    arrived_at: dt.datetime | None
    restored_at: dt.datetime | None
    closed_at: dt.datetime | None


# Orders of the last day by n % 10, and of the day before yesterday and the one before by n % 10
# (the rest closed); older orders are closed but for one in 97 still waiting for the customer.
_FIRST_DAY = ("new", "new", "triaged", "scheduled", "scheduled", "en_route", "on_site", "resolved",
              "signed", "closed")  # fmt: skip
_NEXT_DAYS = {0: "scheduled", 1: "resolved", 2: "signed", 3: "waiting_customer"}
_VISIT_STATUS = {"scheduled": "assigned", "waiting_customer": "assigned", "en_route": "en_route",
                 "on_site": "on_site", "resolved": "done", "signed": "done", "closed": "done"}  # fmt: skip
_ARRIVED = {"on_site", "resolved", "signed", "closed"}
_RESTORED = {"resolved", "signed", "closed"}


def _status(n: int, age: dt.timedelta) -> str:
    if age < 24 * HOUR:
        return _FIRST_DAY[n % 10]
    if age < 72 * HOUR:
        return _NEXT_DAYS.get(n % 10, "closed")
    if age < 240 * HOUR and n % 97 == 0:
        return "waiting_customer"
    return "cancelled" if n % 50 == 0 else "closed"


def order(n: int) -> Order:
    age = n * dt.timedelta(days=1) / PER_DAY + MINUTE
    reported = NOW - age
    status = _status(n, age)
    latest = NOW - 5 * MINUTE
    arrived = min(reported + 2 * HOUR, latest) if status in _ARRIVED else None
    # One in six restores misses its 48-hour target.
    restored = reported + (3 + (n * 7) % 53) * HOUR if status in _RESTORED else None
    if restored is not None and age < 72 * HOUR:
        restored = min(reported + 3 * HOUR, latest)
    closed = restored + 2 * HOUR if status == "closed" and restored else None
    visit_status, engineer, site = _VISIT_STATUS.get(status), n % ENGINEERS, (n * 7919) % SITES
    return Order(
        hex_id("wo", n), n, reported, status, visit_status, engineer, site, arrived, restored, closed
    )


# Measure, budget: the targets every generated order was reported under.
MEASURES = (("response", HOUR), ("on_site", 12 * HOUR), ("restore", 48 * HOUR))


@dataclass(frozen=True, slots=True)
class Clock:
    measure: str
    deadline: dt.datetime
    met_at: dt.datetime | None
    unconfirmed_at: dt.datetime | None

    @property
    def breached_at(self) -> dt.datetime | None:
        late = self.met_at is not None and self.met_at > self.deadline
        return self.deadline if late or (self.met_at is None and self.deadline < NOW) else None


def clocks(o: Order) -> list[Clock]:
    responded = o.reported_at + 20 * MINUTE if o.status != "new" else None
    restore_met = o.restored_at if o.status == "closed" else None
    unconfirmed = o.restored_at if o.status in {"resolved", "signed"} else None
    met = {"response": responded, "on_site": o.arrived_at, "restore": restore_met}
    if o.status == "cancelled":
        met = dict.fromkeys(met, o.reported_at + HOUR)
    return [
        Clock(name, o.reported_at + budget, met[name], unconfirmed if name == "restore" else None)
        for name, budget in MEASURES
    ]


def due_at(o: Order) -> dt.datetime:
    """The product's sort key: the nearest deadline still to meet (dispatch.sla.clocks.update_due)."""
    open_ = [c.deadline for c in clocks(o) if c.met_at is None and c.unconfirmed_at is None]
    return min(open_, default=NO_DEADLINE)


def _timeline(o: Order) -> list[tuple[dt.datetime, str, str | None, str]]:
    """(at, kind, from, to) of the order's events, as far as its status has come."""
    out: list[tuple[dt.datetime, str, str | None, str]] = [(o.reported_at, "created", None, "new")]
    if o.status == "cancelled":
        return [*out, (o.reported_at + 30 * MINUTE, "status", "new", "cancelled")]
    if o.status == "new":
        return out
    if o.visit_status is None:
        return [*out, (o.reported_at + 10 * MINUTE, "status", "new", "triaged")]
    out.append((o.reported_at + 20 * MINUTE, "status", "new", "scheduled"))
    if o.arrived_at is not None:
        out.append((o.arrived_at, "status", "scheduled", "on_site"))
    if o.restored_at is not None:
        out.append((o.restored_at, "status", "on_site", "resolved"))
    if o.closed_at is not None:
        out.append((o.closed_at, "status", "resolved", "closed"))
    return out


# Rows ---------------------------------------------------------------------------------------------

_SEVERITIES = ("critical", "high", "medium", "low")
WORK_ORDER = ("id", "problem_number", "archive_id", "customer_id", "site_id", "asset_model", "asset_serial",
              "billable", "contact_name", "contact_phone", "fault_description", "severity", "channel",
              "status", "reported_at", "restored_at", "resolved_at", "closed_at", "repeat_faults",
              "backup_needed", "due_at", "version", "created_at", "updated_at")  # fmt: skip
VISIT = ("id", "work_order_id", "kind", "status", "duration_minutes", "required_skills", "required_parts",
         "people_needed", "window_confirmed", "engineer_id", "planned_start", "pinned", "en_route_at",
         "arrived_at", "finished_at", "outcome", "version", "created_at", "updated_at")  # fmt: skip
SLA_CLOCK = ("id", "work_order_id", "measure", "target", "started_at", "base_deadline", "deadline", "met_at",
             "unconfirmed_at", "breached_at", "customer_excused", "escalation_level")  # fmt: skip
EVENT = ("work_order_id", "at", "kind", "from_status", "to_status", "data")
NOTIFICATION = ("id", "created_at", "kind", "audience", "work_order_id", "message", "data", "acknowledged_at",
                "dedupe_key")  # fmt: skip
SYNC_CHANGE = ("xact_id", "entity", "entity_id", "work_order_id", "users", "at")
AUDIT = ("at", "actor_role", "action", "changes", "reads")


def _order_row(o: Order) -> tuple[Any, ...]:
    updated = o.closed_at or o.restored_at or o.arrived_at or o.reported_at
    return (
        o.id, f"WO-G-{o.n:07d}", f"AR-G-{o.n:07d}", _ids("customer", CUSTOMERS)[customer_of_site(o.site)],
        _ids("site", SITES)[o.site], "R750", f"SN-G-{o.n % 400_000:06d}", False, "李伟", "13800000001",
        "服务器宕机，电源模块告警", _SEVERITIES[o.n % 4], "phone", o.status, o.reported_at, o.restored_at,
        o.restored_at, o.closed_at, 0, False, due_at(o), 1 + len(_timeline(o)), o.reported_at, updated,
    )  # fmt: skip


def _visit_row(o: Order, visit_id: str) -> tuple[Any, ...]:
    planned = o.reported_at + HOUR if o.arrived_at else max(o.reported_at + HOUR, NOW + HOUR)
    finished = o.restored_at
    return (
        visit_id, o.id, "repair", o.visit_status, 90, "{}", "[]", 1, False,
        _ids("engineer", ENGINEERS)[o.engineer], planned, False, o.arrived_at and o.arrived_at - HOUR,
        o.arrived_at, finished, "resolved" if finished else None, 3, o.reported_at + 20 * MINUTE,
        finished or o.reported_at,
    )  # fmt: skip


def _clock_rows(o: Order) -> Iterator[tuple[Any, ...]]:
    for c in clocks(o):
        yield (_random_id(), o.id, c.measure, "{}", o.reported_at, c.deadline, c.deadline, c.met_at,
               c.unconfirmed_at, c.breached_at, False, 0)  # fmt: skip


def _notification_rows(o: Order) -> Iterator[tuple[Any, ...]]:
    """The breach notifications the watch raised for a finished order, acknowledged since."""
    if o.status not in {"closed", "cancelled"}:
        return
    for c in clocks(o):
        if c.breached_at is not None:
            yield (_random_id(), c.deadline, "breach", "dispatcher", o.id, f"WO-G-{o.n:07d}: target missed",
                   "{}", c.deadline + 10 * MINUTE, f"{o.id}:{c.measure}:breach")  # fmt: skip


def _change_rows(o: Order, visit_id: str | None) -> Iterator[tuple[Any, ...]]:
    xact = HISTORY_XACT - 1 - o.n // 128
    yield (xact, "work_order", o.id, o.id, "{}", o.reported_at)
    if visit_id is not None:
        yield (
            xact,
            "visit",
            visit_id,
            o.id,
            "{" + _ids("engineer", ENGINEERS)[o.engineer] + "}",
            o.reported_at,
        )
    if o.closed_at is not None:
        yield (xact, "work_order", o.id, o.id, "{}", o.closed_at)


def _audit_rows(o: Order) -> Iterator[tuple[Any, ...]]:
    created = [
        {"entity": "work_order", "id": str(uuid.UUID(o.id)), "op": "insert", "after": {"status": "new"}}
    ]
    yield (o.reported_at, "dispatcher", "POST /api/work-orders", json.dumps(created), "[]")
    if o.closed_at is not None:
        change = {"op": "update", "before": {"status": "signed"}, "after": {"status": "closed"}}
        closed = [{"entity": "work_order", "id": str(uuid.UUID(o.id)), **change}]
        yield (
            o.closed_at,
            "dispatcher",
            "POST /api/work-orders/{order_id}/transitions",
            json.dumps(closed),
            "[]",
        )


def _chunk_rows(start: int, stop: int) -> dict[str, list[tuple[Any, ...]]]:
    tables: dict[str, list[tuple[Any, ...]]] = {
        "work_order": [], "visit": [], "sla_clock": [], "work_order_event": [], "notification": [],
        "sync_change": [], "audit_log": [],
    }  # fmt: skip
    for n in range(start, stop):
        o = order(n)
        visit_id = hex_id("visit", n) if o.visit_status else None
        tables["work_order"].append(_order_row(o))
        if visit_id is not None:
            tables["visit"].append(_visit_row(o, visit_id))
        tables["sla_clock"] += _clock_rows(o)
        tables["work_order_event"] += (
            (o.id, at, kind, src, dst, "{}") for at, kind, src, dst in _timeline(o)
        )
        tables["notification"] += _notification_rows(o)
        tables["sync_change"] += _change_rows(o, visit_id)
        tables["audit_log"] += _audit_rows(o)
    return tables


COLUMNS = {"work_order": WORK_ORDER, "visit": VISIT, "sla_clock": SLA_CLOCK, "work_order_event": EVENT,
           "notification": NOTIFICATION, "sync_change": SYNC_CHANGE, "audit_log": AUDIT}  # fmt: skip


def _copy(conn: psycopg.Connection[Any], table: str, rows: list[tuple[Any, ...]]) -> None:
    with conn.cursor().copy(f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


# Indexes not backing a constraint on the tables a load writes: dropped before a large load and built
# again after it, which is faster than keeping them up to date row by row.
_SECONDARY = """
SELECT i.indexname, i.indexdef FROM pg_indexes i
 WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
   AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conname = i.indexname)
"""


@contextmanager
def indexes_built_after(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """Drop the secondary indexes of the loaded tables, then (even when the load fails) build them again."""
    indexes = conn.execute(_SECONDARY, (list(COLUMNS),)).fetchall()
    for name, _definition in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        for _name, definition in indexes:
            conn.execute(definition)


def load_orders(conn: psycopg.Connection[Any], start: int, stop: int) -> None:
    """Orders `start` ≤ n < `stop` with everything written for them, a transaction per chunk (on an
    autocommit connection)."""
    for chunk in range(start, stop, CHUNK):
        rows = _chunk_rows(chunk, min(stop, chunk + CHUNK))
        with conn.transaction():
            for table in COLUMNS:
                _copy(conn, table, rows[table])


# Reference data -------------------------------------------------------------------------------------


def _point(i: int) -> str:
    # Spread over about 1.5° around Zhengzhou.
    return f"SRID=4326;POINT({112.9 + (i * 37 % 1000) / 666:.5f} {34.0 + (i * 91 % 1000) / 666:.5f})"


def load_reference(conn: psycopg.Connection[Any]) -> None:
    """Customers, sites and engineers (signing in with engineer01's password), then the
    transaction counter moved past the generated history's. On an autocommit connection."""
    (password_hash,) = conn.execute(
        "SELECT password_hash FROM app_user WHERE username = 'engineer01'"
    ).fetchone() or ("",)
    with conn.transaction(), conn.cursor() as cur:
        with cur.copy("COPY customer (id, customer_number, name) FROM STDIN") as copy:
            for c in range(CUSTOMERS):
                copy.write_row((stable_id("customer", c), f"G{c:05d}", customer_name(c)))
        with cur.copy("COPY site (id, customer_id, name, address, point, time_zone) FROM STDIN") as copy:
            for s in range(SITES):
                copy.write_row((stable_id("site", s), stable_id("customer", customer_of_site(s)), f"机房{s}",
                                f"郑州市{s}号", _point(s), "Asia/Shanghai"))  # fmt: skip
        with cur.copy("COPY app_user (id, username, display_name, role, password_hash) FROM STDIN") as copy:
            for e in range(ENGINEERS):
                copy.write_row(
                    (stable_id("engineer", e), engineer_name(e), f"工程师{e}", "engineer", password_hash)
                )
        with cur.copy(
            "COPY engineer (id, employer_kind, employer_name, home_base, time_zone) FROM STDIN"
        ) as copy:
            for e in range(ENGINEERS):
                copy.write_row(
                    (stable_id("engineer", e), "company", "本公司", _point(e * 17), "Asia/Shanghai")
                )
        with cur.copy("COPY engineer_shift (engineer_id, weekday, starts, ends) FROM STDIN") as copy:
            for e in range(ENGINEERS):
                for day in range(5):
                    copy.write_row((stable_id("engineer", e), day, dt.time(8), dt.time(18)))
    while int(str(conn.execute("SELECT pg_current_xact_id()").fetchone()[0])) < HISTORY_XACT:  # type: ignore[index]
        pass
