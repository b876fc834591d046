"""Smoke test of a running server: ready, sign in as the demo dispatcher, list sites."""

from __future__ import annotations

import argparse
import sys
import time

import httpx


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("base_url")
    parser.add_argument("--wait", type=float, default=300, help="seconds to wait for /api/ready")
    args = parser.parse_args()
    deadline = time.monotonic() + args.wait
    with httpx.Client(base_url=args.base_url, timeout=10) as client:
        while True:
            try:
                if client.get("/api/ready").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                print("server never became ready", file=sys.stderr)
                return 1
            time.sleep(1)
        print("ready:", client.get("/api/ready").json())
        login = client.post("/api/auth/login", json={"username": "dispatcher", "password": "demo-pass"})
        login.raise_for_status()
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        sites = client.get("/api/sites", params={"limit": 5}, headers=headers)
        sites.raise_for_status()
        names = [s["name"] for s in sites.json()["items"]]
        print(f"signed in as dispatcher; first sites: {', '.join(names)}")
        if not names:
            print("no sites listed", file=sys.stderr)
            return 1
        assert client.get("/schema/openapi.json").status_code == 200
    print("smoke run passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
