"""What planning costs the database, counted statement by statement on PostGIS: a plan reads its
inputs once (when its solve starts)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tests.api.test_planning import _open_visits
from tests.support.plans import run_plan

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
