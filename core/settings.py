"""Settings from environment variables, with safe local defaults.

Nothing here runs at import time: `load_settings()` is called by the app factory
and the command-line entry points, so tests can build apps with their own values.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, kw_only=True)
class Settings:
    database_url: str
    jwt_secret: str
    jwt_issuer: str = "fieldservice"
    jwt_audience: str = "fieldservice-api"
    access_token_seconds: int = 15 * 60
    refresh_token_seconds: int = 30 * 24 * 3600
    host: str = "127.0.0.1"
    port: int = 8000
    # Requests larger than this are refused before they reach a handler.
    max_body_bytes: int = 1_000_000
    # Failed sign-ins: free attempts per (account, address) before delays of 1 s, 2 s, 4 s …
    # (at most the cap); per address over all names; per account from everywhere, where the
    # delay stays short so that nobody can lock the owner out. Counters are forgotten after
    # `login_window_seconds` without a failure.
    login_failures_per_account: int = 5
    login_pair_delay_cap_seconds: int = 15 * 60
    login_failures_per_address: int = 30
    login_failures_account_wide: int = 20
    login_account_delay_cap_seconds: int = 30
    login_window_seconds: int = 3600
    # A retried refresh (same refresh token, same Idempotency-Key) within this many seconds
    # gets a fresh pair instead of ending the sign-in as a stolen token would.
    refresh_retry_grace_seconds: int = 30
    # Password hashes run in this many threads; beyond that many waiting, sign-ins get 503.
    # One argon2 hash already works on four lanes (threads): one hash per four cores leaves
    # the event loop a core to answer everything else.
    password_hash_threads: int = max(1, (os.cpu_count() or 1) // 4)
    password_hash_max_waiting: int = 8
    # Peers (CIDRs) whose X-Forwarded-For is believed, e.g. the reverse proxy's address;
    # empty: the TCP peer is the client.
    trusted_proxies: tuple[str, ...] = ()
    idempotency_ttl_seconds: int = 24 * 3600
    # A GET whose only write is the audit row of a staff read commits without waiting for the disk
    # (core.database.commit_lazily: a database crash within ~0.6 s may lose that row); true: every
    # read's audit row is flushed before the answer, at the cost of a disk flush per read.
    durable_read_audit: bool = False
    db_pool_size: int = 10
    # The sweeps (SLA watch, chores) and message delivery run on the job queue every this many
    # seconds (0: only when a test calls them); whole seconds below a minute, else whole minutes.
    watch_interval_seconds: float = 30.0
    # Run the queue's worker inside the API process too (tests, a one-process demo); `make up`
    # runs it as a process of its own (`python -m dispatch.worker`).
    worker_in_process: bool = False
    # API processes `python -m api.serve` starts on its one port (uvicorn workers).
    api_workers: int = 1
    # Engineers' position history is kept this long (PIPL: a retention limit).
    position_retention_days: int = 30
    # The sync change log is kept this long; a phone whose cursor is older pulls a fresh bootstrap
    # (410 sync-cursor-expired; its outbox is untouched).
    sync_change_retention_days: int = 30
    # Customer e-mail goes through this SMTP relay; unset: messages are only logged.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "service@fieldservice.local"
    # The console's map tiles, e.g. "https://tiles.example.com/{z}/{x}/{y}.png"; empty: no tiles
    # (a plain background with a graticule), so the console works without any tile server.
    map_tile_url: str = ""
    # An OSRM server for road travel times in plans (its /table service), e.g.
    # "http://osrm.internal:5000"; empty: great-circle distance × detour at an average speed.
    osrm_url: str = ""
    var_dir: Path = PROJECT_ROOT / "var"
    # The address customers reach the API at, printed in a service report's verification QR code.
    public_url: str = "http://127.0.0.1:8000"
    # A TrueType CJK font for report PDFs; None: WenQuanYi Micro Hei from Debian (make setup).
    report_font: Path | None = None
    # Plans one worker process solves at once (each solve takes one core and up to ~100 MB; queue
    # positions count this many places), plans waiting for a place (beyond: 429), plans queued or
    # running per dispatcher (both counted in the database, across all API processes), and the
    # longest time limit a plan may ask for.
    plan_workers: int = 1
    plan_queue: int = 4
    plans_per_user: int = 2
    plan_max_seconds: float = 120.0
    # The worker solving a plan touches its row (and the queue its worker row) this often; a running
    # plan untouched for three times as long belongs to a worker that died, and reads as failed.
    plan_heartbeat_seconds: float = 10.0
    # Unfinished chunked uploads: at most this many per user, holding this many bytes together;
    # one idle this long is deleted and must start again.
    upload_partials_per_user: int = 4
    upload_partial_bytes_per_user: int = 32 * 1024 * 1024
    upload_expiry_hours: float = 24.0
    # A console's live stream ends after this long and reconnects with a new ticket, so that a
    # signed-out or disabled account stops receiving within it; a ping this often keeps proxies
    # from closing an idle stream.
    live_stream_seconds: float = 300.0
    live_ping_seconds: float = 15.0


def _local_jwt_secret(var_dir: Path) -> str:
    """A per-checkout secret kept under var/, made on first use; never a hard-coded one."""
    path = var_dir / "jwt-secret"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _local_database_url(var_dir: Path) -> str:
    path = var_dir / "database-url"
    if path.exists():
        return path.read_text().strip()
    raise RuntimeError("FSD_DATABASE_URL is not set and no local cluster is running (try `make setup`)")


def load_settings(env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Read `FSD_*` variables; anything unset falls back to the local ./var/ set-up."""
    env = os.environ if env is None else env
    var_dir = Path(env.get("FSD_VAR_DIR", str(PROJECT_ROOT / "var")))
    values: dict[str, object] = {
        "var_dir": var_dir,
        "host": env.get("FSD_HOST", "127.0.0.1"),
        "port": int(env.get("FSD_PORT", "8000")),
    }
    for name, field in (
        ("access_token_seconds", "FSD_ACCESS_TOKEN_SECONDS"),
        ("refresh_token_seconds", "FSD_REFRESH_TOKEN_SECONDS"),
        ("max_body_bytes", "FSD_MAX_BODY_BYTES"),
        ("db_pool_size", "FSD_DB_POOL_SIZE"),
        ("position_retention_days", "FSD_POSITION_RETENTION_DAYS"),
        ("sync_change_retention_days", "FSD_SYNC_CHANGE_RETENTION_DAYS"),
        ("password_hash_threads", "FSD_PASSWORD_HASH_THREADS"),
        ("password_hash_max_waiting", "FSD_PASSWORD_HASH_MAX_WAITING"),
        ("refresh_retry_grace_seconds", "FSD_REFRESH_RETRY_GRACE_SECONDS"),
        ("plan_workers", "FSD_PLAN_WORKERS"),
        ("plan_queue", "FSD_PLAN_QUEUE"),
        ("plans_per_user", "FSD_PLANS_PER_USER"),
        ("upload_partials_per_user", "FSD_UPLOAD_PARTIALS_PER_USER"),
        ("upload_partial_bytes_per_user", "FSD_UPLOAD_PARTIAL_BYTES_PER_USER"),
        ("api_workers", "FSD_API_WORKERS"),
    ):
        if field in env:
            values[name] = int(env[field])
    for name, field in (
        ("plan_max_seconds", "FSD_PLAN_MAX_SECONDS"),
        ("plan_heartbeat_seconds", "FSD_PLAN_HEARTBEAT_SECONDS"),
        ("upload_expiry_hours", "FSD_UPLOAD_EXPIRY_HOURS"),
        ("live_stream_seconds", "FSD_LIVE_STREAM_SECONDS"),
        ("live_ping_seconds", "FSD_LIVE_PING_SECONDS"),
    ):
        if field in env:
            values[name] = float(env[field])
    if "FSD_SMTP_HOST" in env:
        values["smtp_host"] = env["FSD_SMTP_HOST"]
        values["smtp_port"] = int(env.get("FSD_SMTP_PORT", "25"))
        values["smtp_from"] = env.get("FSD_SMTP_FROM", "service@fieldservice.local")
    if "FSD_MAP_TILE_URL" in env:
        values["map_tile_url"] = env["FSD_MAP_TILE_URL"].strip()
    if "FSD_OSRM_URL" in env:
        values["osrm_url"] = env["FSD_OSRM_URL"].strip()
    if env.get("FSD_PUBLIC_URL", "").strip():
        values["public_url"] = env["FSD_PUBLIC_URL"].strip()
    if env.get("FSD_REPORT_FONT", "").strip():
        values["report_font"] = Path(env["FSD_REPORT_FONT"].strip())
    if "FSD_TRUSTED_PROXIES" in env:
        values["trusted_proxies"] = tuple(
            part.strip() for part in env["FSD_TRUSTED_PROXIES"].split(",") if part.strip()
        )
    if "FSD_WORKER_IN_PROCESS" in env:
        values["worker_in_process"] = env["FSD_WORKER_IN_PROCESS"].strip().lower() in {"1", "true", "yes"}
    if "FSD_DURABLE_READ_AUDIT" in env:
        values["durable_read_audit"] = env["FSD_DURABLE_READ_AUDIT"].strip().lower() in {"1", "true", "yes"}
    if "FSD_WATCH_INTERVAL_SECONDS" in env:
        values["watch_interval_seconds"] = float(env["FSD_WATCH_INTERVAL_SECONDS"])
    values.update(overrides)
    if "database_url" not in values:
        values["database_url"] = env.get("FSD_DATABASE_URL") or _local_database_url(var_dir)
    if "jwt_secret" not in values:
        values["jwt_secret"] = env.get("FSD_JWT_SECRET") or _local_jwt_secret(var_dir)
    return Settings(**values)  # type: ignore[arg-type]
