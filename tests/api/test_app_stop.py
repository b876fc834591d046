"""Stopping an app's in-process queue worker: one that misses a cancellation is cancelled again
rather than left to hang the event loop's close."""

from __future__ import annotations

import asyncio

from api.app import stop_worker


async def test_a_worker_that_misses_a_cancellation_is_cancelled_again() -> None:
    missed = 0

    async def worker() -> None:
        nonlocal missed
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                if missed:
                    raise
                missed += 1  # as procrastinate's worker may, while it starts or stops its loop

    task = asyncio.create_task(worker())
    await asyncio.sleep(0)
    assert await stop_worker(task, 5.0)
    assert task.cancelled()
    assert missed == 1
