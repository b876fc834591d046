"""The reference client uploads a large photo in chunks and resumes after a dropped response."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from offline_sync.client import DeviceClient


class DropsSecondChunkAnswer:
    def __init__(self, inner: TestClient[Any]) -> None:
        self.inner, self.chunks, self.puts = inner, 0, 0

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        response = self.inner.request(method, url, **kwargs)
        if method == "PUT" and "Content-Range" in kwargs.get("headers", {}):
            self.puts += 1
            if self.puts == 2:
                raise OSError("connection reset after the server stored the chunk")
        return response


@pytest.fixture(scope="module")
def http(app: Litestar) -> Iterator[TestClient[Any]]:
    with TestClient(app=app, raise_server_exceptions=False) as client:
        yield client


def test_a_photo_upload_resumes_after_a_dropped_chunk(http: TestClient[Any]) -> None:
    transport = DropsSecondChunkAnswer(http)
    phone = DeviceClient(
        transport, ":memory:", "engineer05", "demo-pass", sleep=lambda _s: None, chunk_size=64_000
    )
    phone.sign_in()
    data = bytes(range(256)) * 1000
    sha = phone.add_blob(data)
    phone.upload_blobs()
    assert transport.puts == 5  # four chunks, the second sent twice
    head = http.head(f"/api/sync/blobs/{sha}", headers=phone._headers())
    assert (head.status_code, head.headers["x-blob-size"]) == (200, str(len(data)))
    assert hashlib.sha256(data).hexdigest() == sha


def test_a_large_image_is_compressed_before_it_is_hashed_and_uploaded(http: TestClient[Any]) -> None:
    seen: list[int] = []

    def shrink(data: bytes) -> bytes:
        seen.append(len(data))
        return data[:1000]

    phone = DeviceClient(
        http, ":memory:", "engineer05", "demo-pass", sleep=lambda _s: None, image_compressor=shrink
    )
    phone.sign_in()
    jpeg = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 5000  # over 1 MB
    sha = phone.add_blob(jpeg)
    assert seen == [len(jpeg)]
    assert sha == hashlib.sha256(jpeg[:1000]).hexdigest()
    # Small images and other large files are stored as they are.
    assert phone.add_blob(jpeg[:5000]) == hashlib.sha256(jpeg[:5000]).hexdigest()
    log = b"not an image " * 100_000
    assert phone.add_blob(log) == hashlib.sha256(log).hexdigest()
    assert seen == [len(jpeg)]
    phone.upload_blobs()
    head = http.head(f"/api/sync/blobs/{sha}", headers=phone._headers())
    assert (head.status_code, head.headers["x-blob-size"]) == (200, "1000")


def test_the_default_compressor_leaves_bytes_unchanged(http: TestClient[Any]) -> None:
    phone = DeviceClient(http, ":memory:", "engineer05", "demo-pass")
    jpeg = b"\xff\xd8\xff\xe0" + bytes(2_000_000)
    assert phone.add_blob(jpeg) == hashlib.sha256(jpeg).hexdigest()
