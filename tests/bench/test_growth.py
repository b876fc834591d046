"""The growth benchmark's generated company is consistent, and its harness runs end to end on a
tiny size (a run or two; no timing is asserted), so the benchmark cannot rot unnoticed."""

from __future__ import annotations

import secrets
import shutil

import psycopg
import pytest

from bench import growth, growth_data
from core.localdb import LocalCluster, data_home
from core.settings import PROJECT_ROOT
from dispatch.sla.models import NO_DEADLINE

# Each counts the generated rows that break a rule the product keeps.
VIOLATIONS = {
    "an order without its three clocks": """
        SELECT count(*) FROM work_order wo
         WHERE wo.problem_number LIKE 'WO-G-%%'
           AND (SELECT count(*) FROM sla_clock c WHERE c.work_order_id = wo.id) <> 3
    """,
    "an order without its creation in the timeline": """
        SELECT count(*) FROM work_order wo WHERE wo.problem_number LIKE 'WO-G-%%' AND NOT EXISTS
            (SELECT FROM work_order_event e WHERE e.work_order_id = wo.id AND e.kind = 'created')
    """,
    "a scheduled or finished order without a visit": """
        SELECT count(*) FROM work_order wo
         WHERE wo.problem_number LIKE 'WO-G-%%'
           AND wo.status IN ('scheduled', 'en_route', 'on_site', 'closed')
           AND NOT EXISTS (SELECT FROM visit v WHERE v.work_order_id = wo.id)
    """,
    # As the clock service keeps it: the nearest deadline still to meet.
    "a sort key other than the nearest open deadline": """
        SELECT count(*) FROM work_order wo
         WHERE wo.problem_number LIKE 'WO-G-%%' AND wo.due_at IS DISTINCT FROM coalesce(
            (SELECT min(deadline) FROM sla_clock c
              WHERE c.work_order_id = wo.id AND c.met_at IS NULL AND c.unconfirmed_at IS NULL),
            %(no_deadline)s)
    """,
    "a met clock breached other than when met late": """
        SELECT count(*) FROM sla_clock WHERE met_at IS NOT NULL
           AND (met_at > deadline) <> (breached_at IS NOT NULL)
    """,
    "a finished order with a clock still running": """
        SELECT count(*) FROM work_order wo JOIN sla_clock c ON c.work_order_id = wo.id
         WHERE wo.problem_number LIKE 'WO-G-%%' AND wo.status IN ('closed', 'cancelled') AND c.met_at IS NULL
    """,
    "a change row of no order": """
        SELECT count(*) FROM sync_change sc
         WHERE sc.entity IN ('work_order', 'visit')
           AND NOT EXISTS (SELECT FROM work_order wo WHERE wo.id = sc.work_order_id)
    """,
}


def test_the_generated_orders_are_consistent_and_every_measurement_runs(demo_db: str) -> None:
    table, loads = growth.measure_on(demo_db, [150, 300], runs=1, explain=True)
    assert set(loads) == {150, 300}
    for measure in table:
        assert set(measure.samples) == {150, 300}, measure.name
        assert measure.plans[300], measure.name
        # Every measurement reads something, and its blocks are counted from its plans.
        assert measure.buffers[300] > 0, measure.name
    printed = growth.report(table, [150, 300])
    assert "SLA watch: one pass" in printed
    assert "p99 ×" in printed
    assert "bare ×" in printed
    assert "buf ×" in printed
    assert "q = a customer" in printed

    with psycopg.connect(demo_db.replace("postgresql+asyncpg://", "postgresql://")) as conn:
        counted = conn.execute(
            "SELECT count(*) FROM work_order wo WHERE wo.problem_number LIKE 'WO-G-%%'"
        ).fetchone()
        assert counted == (300,)
        broken = {
            rule: conn.execute(sql, {"no_deadline": NO_DEADLINE}).fetchone()
            for rule, sql in VIOLATIONS.items()
        }
        assert broken == dict.fromkeys(VIOLATIONS, (0,))
        # The history's change rows lie behind every real transaction: no cursor re-reads them.
        current = conn.execute("SELECT pg_current_xact_id()::text::bigint").fetchone()
        assert current is not None
        assert current[0] > growth_data.HISTORY_XACT


def test_a_kept_database_is_grown_from_where_the_last_run_left_it() -> None:
    datadir = data_home(PROJECT_ROOT / "var") / f"test-growth-kept-{secrets.token_hex(3)}"
    try:
        _table, loads = growth.run([150], runs=1, explain=False, keep=datadir)
        assert loads[150] > 0
        # The next run loads only what is missing, on the same data (the cluster was stopped).
        _table, loads = growth.run([150, 200], runs=1, explain=False, keep=datadir)
        assert loads[150] == 0.0
        assert loads[200] > 0
        assert (datadir / "growth-orders").read_text() == "200"
        with pytest.raises(SystemExit, match="cannot shrink"):
            growth.run([150], runs=1, explain=False, keep=datadir)
        assert not LocalCluster(datadir, 0, "").running()
    finally:
        LocalCluster(datadir, 0, "").stop()
        shutil.rmtree(datadir, ignore_errors=True)
