"""What planning costs the database, counted statement by statement on PostGIS: a plan reads its
inputs once (when its solve starts), and applying a plan writes its assignments in one flush —
a few statements for all its visits besides each visit's and order's own row update — while
the phones still learn every assignment and the audit trail still holds each one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tests.api.test_planning import _open_visits
from tests.api.test_sync import Phone
from tests.support.plans import run_plan
from tests.support.scenario import engineer_id

# The statement that reads the open visits into a routing problem (planning.problem.load).
READS_OPEN_VISITS = "FROM visit JOIN work_order ON work_order.id = visit.work_order_id JOIN site ON"


@contextmanager
def counted() -> Iterator[tuple[list[str], list[int]]]:
    """Every statement sent to the database meanwhile (by any engine of this process: the app's
    and its in-process queue worker's), and one entry per ORM flush."""
    statements: list[str] = []
    flushes: list[int] = []

    def sent(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(" ".join(statement.split()))

    def flushed(_session: Any, _context: Any) -> None:
        flushes.append(1)

    event.listen(Engine, "before_cursor_execute", sent)
    event.listen(Session, "after_flush", flushed)
    try:
        yield statements, flushes
    finally:
        event.remove(Engine, "before_cursor_execute", sent)
        event.remove(Session, "after_flush", flushed)


async def test_a_plan_reads_its_inputs_once(client, admin, dispatcher):
    made = await _open_visits(client, admin, dispatcher, 2)
    with counted() as (statements, _):
        plan = await run_plan(client, dispatcher, {"time_limit_seconds": 1, "horizon_hours": 24})
    assert plan["status"] == "done", plan
    planned = {s["visit_id"] for r in plan["result"]["routes"] for s in r["stops"]}
    assert {visit["id"] for _, visit in made} <= planned
    assert sum(READS_OPEN_VISITS in s for s in statements) == 1


async def test_applying_a_plan_writes_every_assignment_in_one_flush(client, admin, dispatcher, db):
    crew = {name: await engineer_id(client, admin, name) for name in ("engineer03", "engineer04")}
    made = await _open_visits(client, admin, dispatcher, 8)
    phones = {name: await Phone(client, name).start() for name in crew}
    cursors = {name: (await phone.pull_all())[1] for name, phone in phones.items()}
    body = {"time_limit_seconds": 2, "horizon_hours": 48, "engineer_ids": list(crew.values())}
    plan = await run_plan(client, dispatcher, body)
    assert plan["status"] == "done", plan
    stops = {
        s["visit_id"]: (r["engineer_id"], s["start"]) for r in plan["result"]["routes"] for s in r["stops"]
    }
    ours = {visit["id"]: order["id"] for order, visit in made}
    assert set(ours) <= set(stops), plan["result"]["unassigned"]

    with counted() as (statements, flushes):
        applied = await client.post(f"/api/dispatch/plans/{plan['id']}/apply", headers=dispatcher)
    assert applied.status_code == 200, applied.text
    n = len(stops)
    # Each visit and its work order is one versioned row update; nothing else grows with the plan:
    # the timeline events, the phones' change rows and the customers' confirmations go in one
    # statement each. (One flush per visit took 63 statements and 18 flushes for eight visits.)
    updates = [s for s in statements if s.startswith(("UPDATE visit ", "UPDATE work_order "))]
    assert len(updates) <= 2 * n
    assert len(statements) - len(updates) <= 20, statements
    for table in ("work_order_event", "sync_change", "outbox_message"):
        assert sum(s.startswith(f"INSERT INTO {table} ") for s in statements) == 1, table
    # The assignments, the plan's own row and the request's audit row.
    assert len(flushes) <= 3
    async with db.connect() as conn:
        trail = (
            await conn.execute(text("SELECT changes FROM audit_log ORDER BY id DESC LIMIT 1"))
        ).scalar_one()
    audited = {c["id"]: c["after"] for c in trail if c["entity"] == "visit" and c["op"] == "update"}
    assert {v: audited[v]["engineer_id"] for v in ours} == {v: stops[v][0] for v in ours}

    for name, phone in phones.items():
        docs, _, _ = await phone.pull_all(cursors[name])
        mine = {v: o for v, o in ours.items() if stops[v][0] == crew[name]}
        for visit_id, order_id in mine.items():
            (visit,) = [v for v in docs[order_id]["visits"] if v["id"] == visit_id]
            assert visit["status"] == "assigned"
    for visit_id, order_id in ours.items():
        order = await client.get(f"/api/work-orders/{order_id}", headers=dispatcher)
        assert order.status_code == 200, order.text
        assert [
            e["data"]["engineer_id"] for e in order.json()["timeline"] if e["kind"] == "visit_assignment"
        ] == [stops[visit_id][0]]
