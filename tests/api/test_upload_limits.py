"""Unfinished chunked uploads: kept in the database, bounded per user (count and bytes), and
deleted by the worker once idle past the expiry, after which the device starts again."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from api.app import create_app
from core.clock import ManualClock
from tests.conftest import settings_for
from tests.support.api import assert_problem, auth_headers
from tests.support.db import watch_once

PER_USER = 2
BYTES_PER_USER = 500_000


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("var")


@pytest.fixture(scope="module")
def app(demo_db: str, clock: ManualClock, var_dir: Path) -> Litestar:
    settings = settings_for(
        demo_db, var_dir, upload_partials_per_user=PER_USER, upload_partial_bytes_per_user=BYTES_PER_USER
    )
    return create_app(settings, clock=clock)


def _blob(tag: int, size: int) -> tuple[bytes, str]:
    data = (bytes([tag]) + bytes(range(255))) * (size // 256)
    return data, hashlib.sha256(data).hexdigest()


async def _chunk(client: Any, headers: dict[str, str], data: bytes, sha: str, start: int, end: int) -> Any:
    range_ = {"Content-Range": f"bytes {start}-{end - 1}/{len(data)}"}
    return await client.put(f"/api/sync/blobs/{sha}", headers={**headers, **range_}, content=data[start:end])


async def _received(client: Any, headers: dict[str, str], sha: str) -> int:
    head = await client.head(f"/api/sync/blobs/{sha}", headers=headers)
    assert head.status_code == 404, head.text
    return int(head.headers["x-blob-received"])


async def test_an_idle_partial_upload_expires_and_the_upload_starts_again(
    client: Any, clock: ManualClock, demo_db: str
) -> None:
    phone = await auth_headers(client, "engineer05")
    data, sha = _blob(1, 200_192)
    assert (await _chunk(client, phone, data, sha, 0, 100_000)).status_code == 202
    # The partial bytes are a database row, not a file beside the database: a database reset or
    # restore takes them along.
    engine = create_async_engine(demo_db)
    try:
        async with engine.connect() as conn:
            stored = await conn.scalar(
                text("SELECT length(data) FROM sync_upload WHERE sha256 = :s"), {"s": sha}
            )
    finally:
        await engine.dispose()
    assert stored == 100_000

    clock.advance(dt.timedelta(hours=23))
    await watch_once(demo_db, clock)
    phone = await auth_headers(client, "engineer05")  # the access token expired meanwhile
    assert await _received(client, phone, sha) == 100_000  # not idle long enough yet

    clock.advance(dt.timedelta(hours=2))
    await watch_once(demo_db, clock)
    phone = await auth_headers(client, "engineer05")
    assert await _received(client, phone, sha) == 0
    refused = assert_problem(
        await _chunk(client, phone, data, sha, 100_000, len(data)), 409, "upload-offset-mismatch"
    )
    assert refused["received"] == 0
    # From byte 0 the upload goes through.
    assert (await _chunk(client, phone, data, sha, 0, 100_000)).status_code == 202
    done = await _chunk(client, phone, data, sha, 100_000, len(data))
    assert done.status_code == 200, done.text
    assert done.json()["stored"] is True


async def test_partial_uploads_per_user_are_capped_in_count_and_bytes(
    client: Any, clock: ManualClock
) -> None:
    phone = await auth_headers(client, "engineer04")
    blobs = [_blob(10 + n, 100_096) for n in range(PER_USER + 1)]
    for data, sha in blobs[:PER_USER]:
        assert (await _chunk(client, phone, data, sha, 0, 50_000)).status_code == 202
    data, sha = blobs[PER_USER]
    refused = await _chunk(client, phone, data, sha, 0, 50_000)
    body = assert_problem(refused, 429, "too-many-uploads")
    assert body["unfinished"] == PER_USER
    # The oldest unfinished upload expires within a day: that is the longest wait.
    assert 1 <= int(refused.headers["retry-after"]) <= 24 * 3600
    assert await _received(client, phone, sha) == 0
    # Going on with an upload already started is not refused, and finishing one frees a place.
    first, first_sha = blobs[0]
    assert (await _chunk(client, phone, first, first_sha, 50_000, len(first))).status_code == 200
    assert (await _chunk(client, phone, data, sha, 0, 50_000)).status_code == 202
    # Another engineer's uploads are not counted against this one.
    other = await auth_headers(client, "engineer06")
    mine, mine_sha = _blob(30, 100_096)
    assert (await _chunk(client, other, mine, mine_sha, 0, 50_000)).status_code == 202
    # Bytes: the declared sizes of unfinished uploads together stay under the cap.
    big, big_sha = _blob(40, BYTES_PER_USER - 50_000)
    assert_problem(await _chunk(client, other, big, big_sha, 0, 50_000), 429, "too-many-uploads")
    fits, fits_sha = _blob(41, BYTES_PER_USER - 200_192)
    assert (await _chunk(client, other, fits, fits_sha, 0, 50_000)).status_code == 202
