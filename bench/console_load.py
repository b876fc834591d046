"""The console's first load with the demo day: how long until a dispatcher opening `/` sees the
orders, and until every call the page makes on opening is answered; the same for the dispatch
board. Pure measurement; never part of `make test`.

    python -m bench.console_load [--runs 7]

Starts a throwaway PostGIS cluster under ./var/, migrates it, loads the demo data and the demo
day (about sixty open work orders, routes, positions, absences) as of the bench clock, then serves
the app with uvicorn (one process, loopback port; the server of `bench.work_order_list`). Debian's
Chromium (headless, through Playwright) opens the page `--runs` times, each in a fresh browser
context — a cold cache, as a first visit — already signed in (the session in sessionStorage, as
the sign-in form leaves it), so the figures are the page's, not the password hash's.

Per run: *list shown* is from the navigation's start until the order list is drawn; *all
answered* until the last of the calls the page makes on opening (HTML, scripts, styles, Leaflet,
the district outlines, console-config, work orders, notifications, engineers, warehouses, items,
the signed-in user, sites in view, live positions) has its response in full. The board: until
its rows and queue are drawn from `GET /api/dispatch/board`. Then each API call alone, one at a
time on one keep-alive connection, `--runs` × 3 times: the client's median latency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench.database import demo_database
from bench.work_order_list import NOW, _serve
from core.localdb import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]
SESSION_KEY = "fsd.console.session"  # web/api.js
# What the console asks the server for as it opens (web/app.js startConsole and map.js).
OPENING_CALLS = (
    "/console-config.json",
    "/data/districts.geojson",
    "/api/engineers",
    "/api/locations",
    "/api/users/me",
    "/api/stock/items",
    "/api/work-orders",
    "/api/notifications",
    "/api/sites/map",
    "/api/engineers/positions",
)
API_CALLS = (
    "/api/engineers?limit=500",
    "/api/locations?kind=warehouse",
    "/api/users/me",
    "/api/stock/items?limit=500",
    "/api/work-orders?limit=100",
    "/api/notifications?limit=200",
    "/api/sites/map?bbox=113.3,34.5,114.0,35.0&limit=1000",
    "/api/engineers/positions",
    "/api/dispatch/board?days=2",
)


@dataclass
class Runs:
    list_shown: list[float] = field(default_factory=list)
    all_answered: list[float] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)
    kilobytes: list[float] = field(default_factory=list)
    board: list[float] = field(default_factory=list)
    calls: dict[str, list[float]] = field(default_factory=dict)


async def _load_day(url: str) -> int:
    from dispatch.demo_day import load

    return await load(url, NOW)


def _sign_in(base: str) -> dict[str, Any]:
    tokens: dict[str, Any] = httpx.post(
        f"{base}/api/auth/login", json={"username": "dispatcher", "password": "demo-pass"}, timeout=60
    ).json()
    return tokens


async def _console_once(browser: Any, base: str, session: str, runs: Runs) -> None:
    context = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    await context.add_init_script(f"sessionStorage.setItem({json.dumps(SESSION_KEY)}, {json.dumps(session)})")
    page = await context.new_page()
    page.set_default_timeout(60_000)
    answered: dict[str, float] = {}

    def finished(request: Any) -> None:
        answered.setdefault(urlsplit(request.url).path, time.perf_counter())

    page.on("requestfinished", finished)
    started = time.perf_counter()
    await page.goto(base + "/")
    await page.locator(".order-row").first.wait_for()
    runs.list_shown.append(time.perf_counter() - started)
    while not all(path in answered for path in OPENING_CALLS):
        if time.perf_counter() - started > 60:
            missing = [p for p in OPENING_CALLS if p not in answered]
            raise SystemExit(f"the console never asked for {missing}")
        await asyncio.sleep(0.01)
    runs.all_answered.append(max(answered.values()) - started)
    runs.requests.append(len(answered))
    size = await page.evaluate(
        "() => performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))"
        ".reduce((sum, e) => sum + (e.encodedBodySize || 0), 0)"
    )
    runs.kilobytes.append(size / 1024)
    await context.close()


async def _board_once(browser: Any, base: str, session: str, runs: Runs) -> None:
    context = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    await context.add_init_script(f"sessionStorage.setItem({json.dumps(SESSION_KEY)}, {json.dumps(session)})")
    page = await context.new_page()
    page.set_default_timeout(60_000)
    started = time.perf_counter()
    await page.goto(base + "/board.html")
    await page.locator(".board-row .visit-bar").first.wait_for()
    await page.locator(".queue-card").first.wait_for()
    runs.board.append(time.perf_counter() - started)
    await context.close()


async def _browser_runs(base: str, session: str, count: int, runs: Runs) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            await _console_once(browser, base, session, Runs())  # the server's own first time
            for _ in range(count):
                await _console_once(browser, base, session, runs)
                await _board_once(browser, base, session, runs)
        finally:
            await browser.close()


def _api_runs(base: str, token: str, count: int, runs: Runs) -> None:
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        for _ in range(count * 3):
            for path in API_CALLS:
                started = time.perf_counter()
                response = client.get(path)
                elapsed = time.perf_counter() - started
                if response.status_code != 200:
                    raise SystemExit(f"{path}: {response.status_code} {response.text[:200]}")
                runs.calls.setdefault(path, []).append(elapsed)


def _ms(values: list[float]) -> str:
    low, high = min(values) * 1000, max(values) * 1000
    return f"{statistics.median(values) * 1000:7.0f} ms (min {low:.0f}, max {high:.0f})"


def report(runs: Runs, orders: int) -> str:
    lines = [
        f"Console first load with the demo day ({orders} open work orders), {len(runs.list_shown)} runs, p50:"
    ]
    lines.append(f"  console: list shown       {_ms(runs.list_shown)}")
    lines.append(f"  console: all answered     {_ms(runs.all_answered)}")
    lines.append(
        f"  console: requests         {statistics.median(runs.requests):.0f} distinct paths, "
        f"{statistics.median(runs.kilobytes):.0f} KiB"
    )
    lines.append(f"  board: rows and queue     {_ms(runs.board)}")
    lines.append("Each API call alone (one keep-alive connection), p50:")
    for path, values in runs.calls.items():
        lines.append(f"  {path:58} {statistics.median(values) * 1000:6.1f} ms")
    return "\n".join(lines)


def run_against(url: str, count: int) -> Runs:
    port = free_port()
    server = _serve(url, port)
    base = f"http://127.0.0.1:{port}"
    runs = Runs()
    try:
        tokens = _sign_in(base)
        session = json.dumps(
            {**{k: tokens[k] for k in ("access_token", "refresh_token", "role")}, "username": "dispatcher"}
        )
        asyncio.run(_browser_runs(base, session, count, runs))
        _api_runs(base, tokens["access_token"], count, runs)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.console_load", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        raise SystemExit("Debian's chromium is required: run scripts/ensure-chromium.sh")
    with demo_database(NOW) as url:
        orders = asyncio.run(_load_day(url))
        print(f"demo day loaded as of {NOW.isoformat()}: {orders} open work orders", flush=True)
        print(report(run_against(url, args.runs), orders))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
