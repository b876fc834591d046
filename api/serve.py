"""`make up`'s last step: serve the API and console until Ctrl-C, with one queue worker beside it.

`FSD_API_WORKERS=N` runs N API processes on the one port (uvicorn's workers): they share nothing
but the database, so any of them answers any request. The queue worker (`python -m
dispatch.worker`) is started as a child process and stopped with the server; `--no-worker` leaves
that to workers run elsewhere (`make worker`, on this host or others).
"""

from __future__ import annotations

import argparse
import subprocess
import sys

import uvicorn

from api import log_redaction
from core.settings import PROJECT_ROOT, load_settings
from dispatch.demo import DEMO_SIGN_INS


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
            proxy_headers=False,
            log_level="info",
        )
    finally:
        if worker is not None:
            stop_worker(worker)


if __name__ == "__main__":
    main()
