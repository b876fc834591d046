"""Every list the API serves is on one contract: `?limit=&cursor=` → `{"items": [...],
"next_cursor": ...}`, as README "How the API behaves" promises.

The routes come from the OpenAPI document itself: every GET whose JSON answer is an array, or an
object holding `items`, is a list route — a route added later is walked without being named
here. Each is called with limit=1 as a role the role table lets read it, and its cursor is
followed for two pages on the demo data: a page holds at most one item, the second page none of
the first's, and a bare array fails."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from tests.api.test_route_roles import ROLE_TABLE, ROLE_USERS
from tests.conftest import settings_for
from tests.support.api import auth_headers
from tests.support.scenario import asset, contract, customer_with_site, engineer_id, planned_visit, report

# Inventory's lists are being brought onto the contract in their own change; this set goes once
# both have landed (each entry must still be a list route, see the last test).
# Query parameters a list cannot be read without (a ranking needs the point it ranks from).
REQUIRED_QUERY: dict[str, dict[str, Any]] = {"/api/stock/nearest": {"lon": 113.65, "lat": 34.76}}
# The role a route is read as: the first of these the role table allows.
PREFERRED = ("admin", "supervisor", "dispatcher", "warehouse", "engineer", "customer_contact")


def _document() -> dict[str, Any]:
    """The application's OpenAPI document (no database is needed to build it)."""
    var = Path(tempfile.mkdtemp(prefix="fsd-openapi-"))
    app = create_app(settings_for("postgresql+asyncpg://nobody@localhost:1/none", var))
    return app.openapi_schema.to_schema()


DOCUMENT = _document()


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref:
        return _resolve(DOCUMENT["components"]["schemas"][ref.rsplit("/", 1)[-1]])
    return schema


def _json_answer(operation: dict[str, Any]) -> dict[str, Any] | None:
    ok = operation.get("responses", {}).get("200", {})
    content = ok.get("content", {}).get("application/json")
    return _resolve(content["schema"]) if content and "schema" in content else None


def _is_list(schema: dict[str, Any]) -> bool:
    if schema.get("type") == "array":
        return True
    items = schema.get("properties", {}).get("items")
    return items is not None and _resolve(items).get("type") == "array"


LIST_ROUTES = sorted(
    path
    for path, item in DOCUMENT["paths"].items()
    if "get" in item and (answer := _json_answer(item["get"])) is not None and _is_list(answer)
)


def _role(path: str) -> str:
    allowed = ROLE_TABLE[("GET", path)]
    assert allowed, f"{path} is a public list?"
    return next(r for r in PREFERRED if r in allowed)


@pytest.fixture(scope="module")
async def path_values(client) -> dict[str, str]:
    """Two orders with a visit each for engineer01 (the demo plans none itself): ids for the
    routes' path parameters, and two pages of that engineer's visits."""
    admin = await auth_headers(client, "admin")
    dispatcher = await auth_headers(client, "dispatcher")
    customer, site = await customer_with_site(client, admin)
    unit = await asset(client, admin, site, await contract(client, admin, customer, kind="7x24"))
    engineer = await engineer_id(client, admin, "engineer01")
    visits = []
    for _ in range(2):
        order = await report(client, dispatcher, site, unit)
        visits.append(await planned_visit(client, dispatcher, order, engineer))
    return {"order_id": visits[0]["work_order_id"], "visit_id": visits[0]["id"], "engineer_id": engineer}


@pytest.mark.parametrize("path", [pytest.param(path, id=path) for path in LIST_ROUTES])
async def test_list_route_pages_by_keyset(client, path_values, path: str) -> None:
    operation = DOCUMENT["paths"][path]["get"]
    answer = _json_answer(operation)
    assert answer is not None
    assert answer.get("type") != "array", f"{path} answers a bare array, not {{items, next_cursor}}"
    assert set(answer["properties"]) >= {"items", "next_cursor"}, path
    query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    assert {"limit", "cursor"} <= query, f"{path} takes no limit/cursor"

    role = _role(path)
    headers = await auth_headers(client, ROLE_USERS[role])
    url = path.format(**path_values)
    seen: list[str] = []
    cursor = None
    for page in range(2):
        params = REQUIRED_QUERY.get(path, {}) | {"limit": 1} | ({"cursor": cursor} if cursor else {})
        response = await client.get(url, headers=headers, params=params)
        assert response.status_code == 200, f"{path} as {role}, page {page + 1}: {response.text}"
        body = response.json()
        assert set(body) >= {"items", "next_cursor"}, body
        assert isinstance(body["items"], list)
        assert len(body["items"]) <= 1, f"{path} ignores limit=1"
        for item in body["items"]:
            text = json.dumps(item, sort_keys=True)
            assert text not in seen, f"{path}: page {page + 1} repeats an item"
            seen.append(text)
        cursor = body["next_cursor"]
        assert cursor is None or isinstance(cursor, str)
        if cursor is None:
            break
    # A cursor of one list is refused by another (sealed for its list).
    if cursor is not None:
        other = "/api/customers" if path != "/api/customers" else "/api/users"
        admin = await auth_headers(client, "admin")
        refused = await client.get(other, headers=admin, params={"limit": 1, "cursor": cursor})
        assert refused.status_code == 422, refused.text


def test_the_walker_finds_the_lists() -> None:
    # A document this test could not read would pass every route above by finding none.
    assert {"/api/work-orders", "/api/customers", "/api/reports/sla-compliance/orders"} <= set(LIST_ROUTES)
    assert {"/api/stock/units", "/api/stock/nearest", "/api/locations"} <= set(LIST_ROUTES)
    assert len(LIST_ROUTES) >= 34
