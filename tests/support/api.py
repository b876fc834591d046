"""Helpers for tests that talk HTTP."""

from __future__ import annotations

from typing import Any

import httpx

DEMO_PASSWORD = "demo-pass"


async def sign_in(client: httpx.AsyncClient, username: str, password: str = DEMO_PASSWORD) -> dict[str, Any]:
    """Works with the in-process test client and with a real server's client alike."""
    response = await client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def auth_headers(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    tokens = await sign_in(client, username)
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def assert_problem(response: Any, status: int, slug: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    if slug is not None:
        assert body["type"] == f"/problems/{slug}", body
    return body
