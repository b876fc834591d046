"""The first-load benchmark's harness runs end to end against the demo day (one run; no timing is
asserted)."""

from __future__ import annotations

import asyncio

from bench.console_load import API_CALLS, _load_day, report, run_against


def test_bench_opens_the_console_and_the_board_and_times_every_call(demo_db):
    orders = asyncio.run(_load_day(demo_db))
    assert orders > 50
    runs = run_against(demo_db, 1)
    assert len(runs.list_shown) == len(runs.all_answered) == len(runs.board) == 1
    assert runs.requests[0] >= 10
    assert set(runs.calls) == set(API_CALLS)
    assert all(len(values) == 3 for values in runs.calls.values())
    printed = report(runs, orders)
    assert "board: rows and queue" in printed
    assert "/api/dispatch/board?days=2" in printed
