"""The engineer's phone app at /app/ in a real browser: Debian's Chromium through Playwright, at a
phone viewport with touch, against a real server on a loopback port, on the demo database.
Offline is Playwright's offline mode; what the server applied is checked through the API."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.api import assert_problem

WEB_APP = Path(__file__).resolve().parents[2] / "web" / "app"


# ---- serving (no browser) --------------------------------------------------------------------


async def test_the_app_shell_is_served_at_app_with_the_strict_policy(client):
    page = await client.get("/app/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="main.js">' in page.text
    assert '<link rel="manifest" href="manifest.webmanifest">' in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy
    manifest = await client.get("/app/manifest.webmanifest")
    assert manifest.status_code == 200
    body = manifest.json()
    assert (body["start_url"], body["scope"], body["display"]) == ("/app/", "/app/", "standalone")
    assert {i["type"] for i in body["icons"]} == {"image/svg+xml", "image/png"}
    worker = await client.get("/app/sw.js")
    assert worker.status_code == 200
    assert "javascript" in worker.headers["content-type"]
    for path in ("/vendor/idb/idb.js", "/vendor/signature_pad/signature_pad.js", "/dom.js"):
        assert (await client.get(path)).status_code == 200, path
    assert_problem(await client.get("/app/no-such-file.js"), 404)


def test_the_service_worker_precaches_every_file_of_the_app_under_a_versioned_cache():
    source = (WEB_APP / "sw.js").read_text()
    assert re.search(r'const VERSION = "fsd-app-[^"]+";', source)
    listed = set(re.findall(r'^\s+"([^"]+)",$', source, re.MULTILINE))
    files = {str(p.relative_to(WEB_APP)) for p in WEB_APP.rglob("*") if p.is_file() and p.name != "sw.js"}
    assert files - listed == set(), "files of web/app/ the service worker does not precache"
    assert {"./", "../dom.js", "../vendor/idb/idb.js", "../vendor/signature_pad/signature_pad.js"} <= listed
    for path in listed - {"./"}:
        assert (WEB_APP / path).resolve().is_file(), path
