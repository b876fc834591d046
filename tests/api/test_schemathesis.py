"""Schemathesis over the whole OpenAPI document, as each role, on this module's throwaway database.

For every operation a role may call, its boundary values, generated requests (valid and
invalid ones, a fixed seed, derandomised, a few per operation) and then chains of calls along the
links schemathesis infers between operations (an id a POST returned, used by a GET …) must get:
no 5xx, only documented statuses, the documented content type, and a body that matches the
documented schema.

A role's forbidden operations are left to tests/api/test_route_roles.py (always 403, checked
there for every route). The app runs in-process on its own event loop (schemathesis' ASGI
transport), so this module uses the `app` fixture and never the `client` one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any, cast

import pytest
import schemathesis
from litestar import Litestar
from litestar.routes import HTTPRoute
from schemathesis.engine import events
from schemathesis.python import asgi

from api.auth import PUBLIC
from core.identity.roles import Role
from tests.api.test_route_roles import ROLE_USERS
from tests.support.api import DEMO_PASSWORD

SEED = 20261202
# The coverage phase sends each operation its boundary and wrong-type values (missing fields,
# empty strings, out-of-range numbers, unexpected members); then MAX_EXAMPLES generated requests per
# operation, and state-machine runs of at most STATEFUL_STEPS calls. About 17,000 requests in about
# two minutes on two cores. FUZZ_EXAMPLES=15 looks deeper (about ten minutes); FUZZ_VERBOSE=1 prints
# the phases and how many links between operations were inferred.
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))
STATEFUL_STEPS = 6
VERBOSE = bool(os.environ.get("FUZZ_VERBOSE"))

# Operations no role fuzzes, and why.
NOT_FUZZED = {
    # Ends the sign-in whose token the run itself uses.
    ("POST", "/api/auth/logout"),
    # Each accepted call starts a solver process that runs up to its time limit next to the run and
    # starves it of the two cores; tests/api/test_planning.py covers planning.
    ("POST", "/api/dispatch/plans"),
}


@pytest.fixture(scope="module")
def fuzzed_app(app: Litestar) -> Iterator[Litestar]:
    try:
        yield app
    finally:
        asgi.shutdown_lifespans()  # stops the app (and its database pool) before the database is dropped


@pytest.fixture(scope="module")
def tokens(fuzzed_app: Litestar) -> dict[str, str]:
    """Everyone signs in before any fuzzing: failed sign-ins the fuzzer makes count against the address."""
    result = {}
    with client_of(fuzzed_app) as client:
        for role, username in ROLE_USERS.items():
            response = client.post("/api/auth/login", json={"username": username, "password": DEMO_PASSWORD})
            assert response.status_code == 200, response.text
            result[role] = response.json()["access_token"]
    return result


def client_of(app: Litestar) -> asgi.ASGIClient:
    return asgi.get_client(cast(Any, app))  # an ASGI app; Litestar's scope types are narrower


def declared_roles(app: Litestar) -> dict[tuple[str, str], Any]:
    return {
        (method, route.path_format): handler.opt.get("roles")
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
        for method in handler.http_methods
    }


def config(token: str | None) -> schemathesis.Config:
    checks = [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "cache": {"enabled": False},
            "workers": 1,
            "request-timeout": 30,
            "headers": {"Authorization": f"Bearer {token}"} if token else {},
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
            "checks": {
                "enabled": False,
                **{name: {"enabled": True} for name in checks},
            },
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": True, "max-steps": STATEFUL_STEPS},
            },
        }
    )


def run(app: Litestar, role: str | None, token: str | None) -> tuple[int, int, list[str]]:
    """Operations and requests covered, and the failures found, formatted to be reproduced."""
    declared = declared_roles(app)

    def wanted(ctx: Any) -> bool:
        key = (ctx.operation.method.upper(), ctx.operation.path)
        roles = declared[key]
        if key in NOT_FUZZED:
            return False
        if role is None:
            return bool(roles == PUBLIC)
        return bool(roles != PUBLIC and Role(role) in set(roles or ()))

    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app, config=config(token)).include(wanted)
    operations = sum(1 for _ in schema.get_all_operations())
    failures: list[str] = []
    requests = 0
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            requests += len(event.recorder.interactions)
            for checks in event.recorder.checks.values():
                for check in checks:
                    info = check.failure_info
                    if info is not None:
                        failures.append(
                            f"{event.recorder.label} [{check.name}] {info.failure.title}\n"
                            f"{info.failure.message}\n{info.code_sample}"
                        )
        elif isinstance(event, events.NonFatalError):
            failures.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.PhaseStarted | events.PhaseFinished) and VERBOSE:
            print(role, event.phase.name, getattr(event, "status", "started"), event.payload)
        elif isinstance(event, events.FatalError):
            raise event.exception
    return operations, requests, failures


@pytest.mark.parametrize("role", list(ROLE_USERS))
def test_each_role_gets_documented_answers(fuzzed_app: Litestar, tokens: dict[str, str], role: str) -> None:
    started = time.monotonic()
    operations, requests, failures = run(fuzzed_app, role, tokens[role])
    print(f"{role}: {operations} operations, {requests} requests, {time.monotonic() - started:.0f} s")
    assert operations > 0
    assert not failures, "\n\n".join(failures)


def test_public_operations_get_documented_answers(fuzzed_app: Litestar, tokens: dict[str, str]) -> None:
    operations, requests, failures = run(fuzzed_app, None, None)
    print(f"signed out: {operations} operations, {requests} requests")
    assert operations > 0
    assert not failures, "\n\n".join(failures)


def test_the_document_describes_errors_as_problems(fuzzed_app: Litestar) -> None:
    with client_of(fuzzed_app) as client:
        document = client.get("/schema/openapi.json").json()
    operations = {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    for key, operation in operations.items():
        errors = {status: r for status, r in operation["responses"].items() if status.startswith("4")}
        for status, response in errors.items():
            assert list(response["content"]) == ["application/problem+json"], (key, status)
            assert response["content"]["application/problem+json"]["schema"] == {
                "$ref": "#/components/schemas/Problem"
            }
    signed_in = operations[("GET", "/api/customers/{customer_id}")]["responses"]
    assert {"401", "403", "404"} <= set(signed_in)
    assert "429" in operations[("POST", "/api/auth/login")]["responses"]
    assert "409" in operations[("PATCH", "/api/customers/{customer_id}")]["responses"]
    stream = operations[("GET", "/api/dispatch/plans/{plan_id}/stream")]["responses"]["200"]
    assert list(stream["content"]) == ["text/event-stream"]
    # msgspec reads and writes `datetime.time` as HH:MM:SS, not as an ISO 8601 duration.
    starts = document["components"]["schemas"]["ShiftIO"]["properties"]["starts"]
    assert "format" not in starts
    assert starts["examples"] == ["08:30:00"]
