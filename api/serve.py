"""`make up`'s last step: serve the API and console until Ctrl-C, with one queue worker beside it.

`FSD_API_WORKERS=N` runs N API processes on the one port (uvicorn's workers): they share nothing
but the database, so any of them answers any request. Each runs on uvloop's event loop with
httptools' HTTP parser, named rather than left to uvicorn's "auto" (which quietly falls back to
the slower asyncio loop and h11 when one is missing); `SERVER_OPTIONS` are the benchmarks' too.
The queue worker (`python -m dispatch.worker`) is started as a child process and stopped with the
server; `--no-worker` leaves that to workers run elsewhere (`make worker`, on this host or others).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from typing import Any

import uvicorn

from api import log_redaction
from core.settings import PROJECT_ROOT, load_settings
from dispatch.demo import DEMO_SIGN_INS

# How an API process is served, here and by the benchmarks (bench.work_order_list): proxy headers
# are not taken from uvicorn (api.client_address decides whose X-Forwarded-For counts), and every
# request line is logged (api.log_redaction masks the credentials in them).
SERVER_OPTIONS: dict[str, Any] = {
    "loop": "uvloop",
    "http": "httptools",
    "proxy_headers": False,
    "log_level": "info",
    "access_log": True,
}


def start_worker() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "dispatch.worker"], cwd=PROJECT_ROOT)


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    """SIGTERM lets the worker finish its pass and mark a running solve stopped; then it is killed."""
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--no-worker", action="store_true", help="do not start a queue worker")
    args = parser.parse_args(argv)
    settings = load_settings()
    print(
        f"\nField-service dispatch on http://{settings.host}:{settings.port}"
        f"  ({settings.api_workers} API process(es); API docs: /schema, Ctrl-C stops)"
    )
    print(DEMO_SIGN_INS + "\n", flush=True)
    log_redaction.install()
    worker = None if args.no_worker else start_worker()
    try:
        uvicorn.run(
            "api.app:app_from_env",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.api_workers if settings.api_workers > 1 else None,
            **SERVER_OPTIONS,
        )
    finally:
        if worker is not None:
            stop_worker(worker)


if __name__ == "__main__":
    main()
