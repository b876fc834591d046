"""The reference device client: what the mobile app does, as small runnable Python.

The device keeps its own store in SQLite (as a phone would): the outbox of mutations with
contiguous seqs, blobs waiting for upload, the replica of its work-order documents and the
pull cursor. `sync()` uploads blobs, pushes the outbox, then pulls. Every request is retried
with exponential backoff; a retry after a lost response is safe because the server answers
a seq it has seen with the stored outcome. An expired access token is renewed with the
device-bound refresh token; the outbox survives everything except a *lost* verdict, which
wipes the device.

Any object with httpx.Client's `request()` works as the transport: httpx itself, or
Litestar's TestClient in tests. Simulator (`--help` lists every command):

    python -m offline_sync.client --server http://127.0.0.1:8000 --user engineer01 \\
        --db phone.sqlite sync | visits | arrive VISIT_ID | note VISIT_ID TEXT | photo VISIT_ID FILE | …
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL, name TEXT NOT NULL, args TEXT NOT NULL,
    status TEXT, outcome TEXT
);
CREATE TABLE IF NOT EXISTS blob (sha256 TEXT PRIMARY KEY, data BLOB NOT NULL, uploaded INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS replica (id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS replica_note (
    id TEXT PRIMARY KEY, work_order_id TEXT NOT NULL, visit_id TEXT NOT NULL, at TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS replica_note_order ON replica_note (work_order_id);
"""
# The replica's documents are kept without their visits' notes, which are rows of their own
# (`replica_note`): a pulled page of notes is then a thousand small inserts rather than a
# rewrite of every document they belong to. Stores written before hold notes inside documents.
STORE_VERSION = "2"
NOTE = "visit_note"
# Outcomes after which the server holds the mutation for good (pending_blob: until its blob).
FINAL = frozenset({"applied", "rejected", "conflict", "pending_blob"})


# Images above this size are re-encoded on the device before they are hashed and uploaded.
COMPRESS_ABOVE = 1024 * 1024
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM")


def is_image(data: bytes) -> bool:
    return data.startswith(_IMAGE_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def keep_as_is(data: bytes) -> bytes:
    """The default compressor: bytes unchanged. The mobile app re-encodes large photos with the
    platform's codec; a Python device can pass e.g. a Pillow-based function. Whatever is
    passed sees only images over COMPRESS_ABOVE; anything else is stored unchanged."""
    return data


# Back-off between retries doubles up to this many seconds.
MAX_BACKOFF = 30.0


def _retry_after(response: Any) -> float:
    """The server's `Retry-After` in seconds (0 when absent or not a number), at most MAX_BACKOFF."""
    try:
        return min(max(float(response.headers.get("retry-after", 0)), 0.0), MAX_BACKOFF)
    except ValueError:
        return 0.0


def _note_time(at: str) -> str:
    # A time that sorts as the server orders notes (time, then id): its times are UTC, with
    # microseconds only when there are any.
    return at if "." in at else at[:19] + ".000000" + at[19:]


# A pulled note updates the stored one in place, and only when it differs: a page delivered again
# (after a lost answer, or a cursor reset) rewrites nothing. REPLACE deleted and re-inserted.
_UPSERT_NOTE = (
    "INSERT INTO replica_note VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
    " work_order_id = excluded.work_order_id, visit_id = excluded.visit_id, at = excluded.at,"
    " data = excluded.data WHERE (work_order_id, visit_id, at, data)"
    " IS NOT (excluded.work_order_id, excluded.visit_id, excluded.at, excluded.data)"
)


def _note_row(order_id: str, visit_id: str, note: dict[str, Any]) -> tuple[str, str, str, str, str]:
    return note["id"], order_id, visit_id, _note_time(note["at"]), msgspec.json.encode(note).decode()


class SyncError(Exception):
    pass


class Offline(SyncError):
    """The server could not be reached (no network, server down): nothing was lost, the outbox
    waits for the next sync."""


class DeviceSuspended(SyncError):
    """Nothing was applied; the outbox waits until a dispatcher reinstates the device."""


class DeviceWiped(SyncError):
    """The device was reported lost: its local data is gone."""


class DeviceClient:
    def __init__(
        self,
        transport: Any,  # httpx.Client, or Litestar's TestClient in tests
        db_path: str,
        username: str,
        password: str,
        *,
        device_clock: Callable[[], dt.datetime] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        attempts: int = 5,
        page_size: int = 100,
        chunk_size: int = 256 * 1024,
        image_compressor: Callable[[bytes], bytes] | None = None,
    ) -> None:
        self.http = transport
        self.db = sqlite3.connect(db_path)
        self.db.executescript(SCHEMA)
        self.username, self.password = username, password
        self.clock = device_clock or (lambda: dt.datetime.now(dt.UTC))
        self.sleep, self.attempts, self.page_size = sleep, attempts, page_size
        self.chunk_size = chunk_size
        self.image_compressor = image_compressor or keep_as_is
        if self._meta("device_id") is None:
            self._set("device_id", str(uuid.uuid4()))
        self._upgrade_store()

    # Local store ---------------------------------------------------------------------------

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set(self, key: str, value: str | None) -> None:
        if value is None:
            self.db.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
        self.db.commit()

    @property
    def device_id(self) -> str:
        value = self._meta("device_id")
        assert value is not None
        return value

    def record(self, name: str, **args: Any) -> int:
        """Append a mutation to the outbox (works offline); returns its seq."""
        row = self.db.execute("SELECT coalesce(max(seq), 0) + 1 FROM outbox").fetchone()
        seq = int(row[0])
        self.db.execute(
            "INSERT INTO outbox (seq, id, name, args) VALUES (?, ?, ?, ?)",
            (seq, str(uuid.uuid4()), name, json.dumps(args, default=str)),
        )
        self.db.commit()
        return seq

    def now(self) -> str:
        return self.clock().isoformat()

    def add_blob(self, data: bytes) -> str:
        """Keep bytes for upload; returns the hash to reference them by. A large image is
        compressed first, so the hash (and the upload) is of the compressed bytes."""
        if len(data) > COMPRESS_ABOVE and is_image(data):
            data = self.image_compressor(data)
        sha = hashlib.sha256(data).hexdigest()
        self.db.execute("INSERT OR IGNORE INTO blob (sha256, data, uploaded) VALUES (?, ?, 0)", (sha, data))
        self.db.commit()
        return sha

    def pending(self) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT id, seq, name, args FROM outbox WHERE status IS NULL ORDER BY seq"
        ).fetchall()
        return [{"id": r[0], "seq": r[1], "name": r[2], "args": json.loads(r[3])} for r in rows]

    def acknowledged(self) -> dict[str, tuple[int, str]]:
        rows = self.db.execute("SELECT id, seq, status FROM outbox WHERE status IS NOT NULL").fetchall()
        return {r[0]: (int(r[1]), str(r[2])) for r in rows}

    def replica(self) -> dict[str, dict[str, Any]]:
        """The documents as the server sends them: each visit with its notes in the server's
        order. A note of a visit the store does not have (yet) is not shown: its document comes
        whole later in the pull, with the note."""
        docs = {r[0]: msgspec.json.decode(r[1]) for r in self.db.execute("SELECT id, data FROM replica")}
        visits = {v["id"]: v for d in docs.values() for v in d.get("visits", []) if isinstance(v, dict)}
        for visit in visits.values():
            visit["notes"] = []
        for visit_id, data in self.db.execute(
            "SELECT visit_id, data FROM replica_note ORDER BY visit_id, at, id"
        ):
            if visit_id in visits:
                visits[visit_id]["notes"].append(msgspec.json.decode(data))
        return docs

    def _put_document(self, key: str, doc: dict[str, Any] | None) -> None:
        """A whole document (None: removed) replaces the stored one and all its notes."""
        self.db.execute("DELETE FROM replica_note WHERE work_order_id = ?", (key,))
        if doc is None:
            self.db.execute("DELETE FROM replica WHERE id = ?", (key,))
            return
        rows = []
        if isinstance(doc.get("visits"), list):
            doc = {**doc, "visits": [dict(v) for v in doc["visits"]]}
            for visit in doc["visits"]:
                rows += [_note_row(key, visit["id"], n) for n in visit.pop("notes", [])]
        data = msgspec.json.encode(doc).decode()
        self.db.execute("INSERT OR REPLACE INTO replica (id, data) VALUES (?, ?)", (key, data))
        self.db.executemany("INSERT OR REPLACE INTO replica_note VALUES (?, ?, ?, ?, ?)", rows)

    def _upgrade_store(self) -> None:
        """Move the notes of a store written by an earlier version out of its documents."""
        if self._meta("store_version") == STORE_VERSION:
            return
        for key, data in self.db.execute("SELECT id, data FROM replica").fetchall():
            self._put_document(key, msgspec.json.decode(data))
        self._set("store_version", STORE_VERSION)  # commits the move with the version

    def wipe(self) -> None:
        for table in ("outbox", "blob", "replica", "replica_note", "meta"):
            self.db.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed names)
        self.db.commit()

    # HTTP with retries ---------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        token = self._meta("access_token")
        return {"Authorization": f"Bearer {token}"} if token else {}

    def _send(self, method: str, url: str, **kwargs: Any) -> Any:
        delay, renewed = 0.05, False
        extra = kwargs.pop("headers", {})
        unreachable = True  # every attempt failed before any answer came back
        for _attempt in range(self.attempts):
            try:
                response = self.http.request(method, url, headers={**self._headers(), **extra}, **kwargs)
            except (OSError, httpx.TransportError) as exc:  # dropped on the way there or back
                failure: Exception = exc
            else:
                unreachable = False
                if response.status_code == 401 and not renewed:
                    # The access token expired while offline: renew it with the device-bound
                    # refresh token (or sign in again) and resend; the outbox is untouched.
                    renewed = True
                    self._renew()
                    continue
                if response.status_code < 500:
                    return response
                failure = SyncError(f"{method} {url}: {response.status_code}")
                # 503 database-unavailable names its wait (a restart): never retry sooner.
                delay = max(delay, _retry_after(response))
            self.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF)
        if unreachable:
            raise Offline(
                f"{method} {url}: no answer after {self.attempts} attempts ({failure})"
            ) from failure
        raise SyncError(f"{method} {url} failed {self.attempts} times") from failure

    def _send_unsigned(self, method: str, url: str, **kwargs: Any) -> Any:
        """Sign-in or refresh, retried only on 503 (nothing was done): a lost answer to a refresh
        is not resent, as presenting a rotated refresh token again revokes the sign-in."""
        delay = 0.05
        try:
            for _attempt in range(self.attempts - 1):
                response = self.http.request(method, url, **kwargs)
                if response.status_code != 503:
                    return response
                self.sleep(max(delay, _retry_after(response)))
                delay = min(delay * 2, MAX_BACKOFF)
            return self.http.request(method, url, **kwargs)
        except (OSError, httpx.TransportError) as exc:
            raise Offline(f"{method} {url}: {exc}") from exc

    def _renew(self) -> None:
        refresh = self._meta("refresh_token")
        if refresh is not None:
            response = self._send_unsigned("POST", "/api/auth/refresh", json={"refresh_token": refresh})
            if response.status_code == 200:
                self._store_tokens(response.json())
                return
        self.sign_in()

    def _store_tokens(self, body: dict[str, Any]) -> None:
        self._set("access_token", body["access_token"])
        self._set("refresh_token", body["refresh_token"])

    def sign_in(self) -> None:
        response = self._send_unsigned(
            "POST",
            "/api/auth/login",
            json={"username": self.username, "password": self.password, "device_id": self.device_id},
        )
        if response.status_code != 200:
            raise SyncError(f"sign-in failed: {response.status_code}")
        self._store_tokens(response.json())
        registered = self._send(
            "POST",
            "/api/sync/devices",
            json={"device_id": self.device_id, "label": f"{self.username}'s phone"},
        )
        self._refused(registered)
        if registered.status_code != 201:
            raise SyncError(f"registration failed: {registered.status_code}")

    def _refused(self, response: Any) -> None:
        if response.status_code == 403:
            kind = response.json().get("type", "")
            if kind == "/problems/device-lost":
                self.wipe()
                raise DeviceWiped("the device was reported lost; local data wiped")
            if kind == "/problems/device-suspended":
                raise DeviceSuspended("the device is suspended; the outbox is kept")

    # Sync ----------------------------------------------------------------------------------

    def upload_blobs(self) -> None:
        for (sha,) in self.db.execute("SELECT sha256 FROM blob WHERE uploaded = 0").fetchall():
            head = self._send("HEAD", f"/api/sync/blobs/{sha}")
            if head.status_code != 200:
                (data,) = self.db.execute("SELECT data FROM blob WHERE sha256 = ?", (sha,)).fetchone()
                data = bytes(data)
                if len(data) <= self.chunk_size:
                    response = self._send("PUT", f"/api/sync/blobs/{sha}", content=data)
                else:
                    response = self._upload_chunks(sha, data, int(head.headers.get("x-blob-received", 0)))
                if response.status_code != 200:
                    raise SyncError(f"upload of {sha} failed: {response.status_code}")
            self.db.execute("UPDATE blob SET uploaded = 1 WHERE sha256 = ?", (sha,))
            self.db.commit()

    def _upload_chunks(self, sha: str, data: bytes, start: int) -> Any:
        """Send the blob from `start` in chunks; after a dropped connection the server says how
        much it holds (HEAD, or a 409 on a misplaced chunk) and the upload goes on from there."""
        while True:
            end = min(start + self.chunk_size, len(data))
            response = self._send(
                "PUT",
                f"/api/sync/blobs/{sha}",
                content=data[start:end],
                headers={"Content-Range": f"bytes {start}-{end - 1}/{len(data)}"},
            )
            if response.status_code == 202 or (response.status_code == 409 and "received" in response.json()):
                start = int(response.json()["received"])
                continue
            return response

    def push(self, batch: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        batch = self.pending() if batch is None else batch
        if not batch:
            return []
        response = self._send(
            "POST",
            "/api/sync/push",
            json={"device_id": self.device_id, "device_time": self.now(), "mutations": batch},
        )
        self._refused(response)
        if response.status_code != 200:
            raise SyncError(f"push refused: {response.status_code} {response.json()}")
        outcomes: list[dict[str, Any]] = response.json()["outcomes"]
        for outcome in outcomes:
            if outcome["status"] in FINAL:
                self.db.execute(
                    "UPDATE outbox SET status = ?, outcome = ? WHERE seq = ? AND id = ?",
                    (outcome["status"], json.dumps(outcome), outcome["seq"], outcome["id"]),
                )
        self.db.commit()
        return outcomes

    def pull(self) -> None:
        cursor = self._meta("cursor")
        while True:
            params: dict[str, Any] = {
                "device_id": self.device_id,
                "limit": self.page_size,
                "format": "records",
            }
            if cursor:
                params["cursor"] = cursor
            response = self._send("GET", "/api/sync/pull", params=params)
            self._refused(response)
            if response.status_code == 410:
                # Too far behind: start again from a bootstrap; the outbox is untouched.
                cursor = None
                self._set("cursor", None)
                continue
            if response.status_code != 200:
                raise SyncError(f"pull failed: {response.status_code}")
            page = msgspec.json.decode(response.content)
            if page["bootstrap"] and not cursor:
                self.db.execute("DELETE FROM replica")
                self.db.execute("DELETE FROM replica_note")
            self._apply_page(page["changes"])
            cursor = page["cursor"]
            self._set("cursor", cursor)  # commits the page with its cursor
            if not page["has_more"]:
                return

    def _apply_page(self, changes: list[dict[str, Any]]) -> None:
        """Documents replaced or removed (with their notes), notes added or replaced by id."""
        notes = []
        for change in changes:
            if change["entity"] == NOTE:
                notes.append(_note_row(change["work_order_id"], change["visit_id"], change["data"]))
            else:
                self._put_document(change["id"], change["data"] if change["op"] == "upsert" else None)
        # A page never carries an order's notes beside its whole document.
        self.db.executemany(_UPSERT_NOTE, notes)

    def sync(self) -> SyncSummary:
        """Upload blobs, push the outbox, pull; what the server answered, counted."""
        summary = SyncSummary()
        if self._meta("access_token") is None:
            self.sign_in()
        self.upload_blobs()
        while self.pending():
            before = len(self.pending())
            summary.add(self.push())
            if len(self.pending()) == before:
                break  # a gap the server reports: resend next time
        self.pull()
        summary.waiting = len(self.pending())
        return summary

    def to_look_at(self) -> list[dict[str, Any]]:
        """Mutations the server refused or kept for review, oldest first, with its answer."""
        rows = self.db.execute(
            "SELECT seq, name, outcome FROM outbox WHERE status IN ('rejected', 'conflict') ORDER BY seq"
        ).fetchall()
        return [{"seq": r[0], "name": r[1], **json.loads(r[2])} for r in rows]

    def documents(self) -> list[dict[str, Any]]:
        """The work-order documents of the replica (not the van stock and catalogue)."""
        return [d for d in self.replica().values() if "visits" in d]


@dataclass
class SyncSummary:
    """What one sync did with the outbox, by outcome."""

    applied: int = 0
    replayed: int = 0
    pending_blob: int = 0
    not_processed: int = 0
    refused: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    waiting: int = 0

    def add(self, outcomes: list[dict[str, Any]]) -> None:
        for outcome in outcomes:
            status = outcome["status"]
            if outcome.get("replayed"):
                self.replayed += 1
            if status == "applied":
                self.applied += 1
            elif status == "rejected":
                self.refused.append(outcome)
            elif status == "conflict":
                self.conflicts.append(outcome)
            elif status == "pending_blob":
                self.pending_blob += 1
            else:
                self.not_processed += 1

    @property
    def clean(self) -> bool:
        return not (self.refused or self.conflicts)


def main(argv: list[str] | None = None) -> int:
    """The simulator's command line (offline_sync.phone_cli)."""
    from offline_sync import phone_cli

    return phone_cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
