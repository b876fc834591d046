"""Every route in the OpenAPI document, called by every role: the role table below is
the specification. No token → 401, a role not listed → 403, never a 5xx."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.support.api import assert_problem, sign_in

ADMIN = {"admin"}
DESK = {"admin", "supervisor", "dispatcher"}
STAFF = {"admin", "supervisor", "dispatcher", "warehouse"}
CUSTOMER_READERS = STAFF | {"customer_contact"}
EVERYONE = STAFF | {"engineer", "customer_contact"}
PUBLIC = None

ROLE_TABLE: dict[tuple[str, str], set[str] | None] = {
    ("GET", "/api/inspection-plans"): DESK,
    ("POST", "/api/inspection-plans"): {"admin", "supervisor"},
    ("GET", "/api/inspection-plans/{plan_id}"): DESK,
    ("PATCH", "/api/inspection-plans/{plan_id}"): {"admin", "supervisor"},
    ("POST", "/api/inspection-plans/{plan_id}/generate"): {"admin", "supervisor"},
    ("GET", "/api/inspections"): DESK,
    ("POST", "/api/inspections/{inspection_id}/set-aside"): DESK,
    ("POST", "/api/visits/{visit_id}/inspection-results"): DESK | {"engineer"},
    ("GET", "/api/health"): PUBLIC,
    ("GET", "/api/ready"): PUBLIC,
    ("GET", "/console-config.json"): PUBLIC,
    ("POST", "/api/auth/login"): PUBLIC,
    ("POST", "/api/auth/refresh"): PUBLIC,
    ("POST", "/api/auth/logout"): EVERYONE,
    ("GET", "/api/customers"): CUSTOMER_READERS,
    ("POST", "/api/customers"): ADMIN,
    ("GET", "/api/customers/{customer_id}"): CUSTOMER_READERS,
    ("DELETE", "/api/customers/{customer_id}"): ADMIN,
    ("PATCH", "/api/customers/{customer_id}"): ADMIN,
    ("GET", "/api/sites"): CUSTOMER_READERS,
    ("POST", "/api/sites"): ADMIN,
    ("GET", "/api/sites/map"): CUSTOMER_READERS,
    ("GET", "/api/sites/{site_id}"): CUSTOMER_READERS,
    ("DELETE", "/api/sites/{site_id}"): ADMIN,
    ("PATCH", "/api/sites/{site_id}"): ADMIN,
    ("GET", "/api/assets"): CUSTOMER_READERS,
    ("POST", "/api/assets"): ADMIN,
    ("GET", "/api/assets/{asset_id}"): CUSTOMER_READERS,
    ("DELETE", "/api/assets/{asset_id}"): ADMIN,
    ("PATCH", "/api/assets/{asset_id}"): ADMIN,
    ("GET", "/api/contracts"): DESK | {"customer_contact"},
    ("POST", "/api/contracts"): ADMIN,
    ("GET", "/api/contracts/{contract_id}"): DESK | {"customer_contact"},
    ("PATCH", "/api/contracts/{contract_id}"): ADMIN,
    ("GET", "/api/holiday-calendars"): STAFF,
    ("POST", "/api/holiday-calendars"): ADMIN,
    ("GET", "/api/holiday-calendars/{calendar_id}"): STAFF,
    ("PUT", "/api/holiday-calendars/{calendar_id}/years/{year}"): ADMIN,
    ("GET", "/api/engineers"): STAFF,
    ("POST", "/api/engineers"): ADMIN,
    ("GET", "/api/engineers/me"): {"engineer"},
    ("GET", "/api/engineers/{engineer_id}"): STAFF | {"engineer"},
    ("PATCH", "/api/engineers/{engineer_id}"): ADMIN,
    ("GET", "/api/users"): ADMIN,
    ("POST", "/api/users"): ADMIN,
    ("GET", "/api/users/me"): EVERYONE,
    ("POST", "/api/users/me/password"): EVERYONE,
    ("GET", "/api/users/{user_id}"): ADMIN,
    ("PATCH", "/api/users/{user_id}"): ADMIN,
    ("GET", "/api/locations"): STAFF | {"engineer"},
    ("PUT", "/api/locations/{location_id}/hours"): {"admin", "warehouse"},
    ("POST", "/api/work-orders"): DESK | {"customer_contact"},
    ("POST", "/api/work-orders/imports"): DESK,
    ("POST", "/api/work-orders/{order_id}/restore-confirmations"): DESK | {"customer_contact"},
    ("GET", "/api/work-orders"): DESK | {"engineer", "customer_contact"},
    ("GET", "/api/work-orders/{order_id}"): DESK | {"engineer", "customer_contact"},
    ("POST", "/api/work-orders/{order_id}/transitions"): DESK | {"customer_contact"},
    ("POST", "/api/work-orders/{order_id}/contacts"): DESK,
    ("POST", "/api/work-orders/{order_id}/pauses"): DESK,
    ("POST", "/api/work-orders/{order_id}/resume"): DESK,
    ("POST", "/api/work-orders/{order_id}/backup-offers"): DESK,
    ("POST", "/api/work-orders/{order_id}/restored-degraded"): DESK,
    ("GET", "/api/work-orders/{order_id}/next-statuses"): DESK,
    ("POST", "/api/work-orders/{order_id}/visits"): DESK,
    ("PUT", "/api/visits/{visit_id}/assignment"): DESK,
    ("POST", "/api/visits/{visit_id}/assignment/check"): DESK,
    ("GET", "/api/visits/{visit_id}/candidates"): DESK,
    ("GET", "/api/dispatch/board"): DESK,
    ("GET", "/api/engineers/positions"): DESK,
    ("GET", "/api/engineers/{engineer_id}/absences"): DESK | {"engineer"},
    ("POST", "/api/engineers/{engineer_id}/absences"): DESK,
    ("DELETE", "/api/engineers/{engineer_id}/absences/{absence_id}"): DESK,
    ("GET", "/api/dispatch/plans/{plan_id}/comparison"): DESK,
    ("GET", "/api/engineers/me/visits"): {"engineer"},
    ("GET", "/api/visits/{visit_id}"): STAFF | {"engineer"},
    ("POST", "/api/visits/{visit_id}/start-travel"): {"engineer"},
    ("POST", "/api/visits/{visit_id}/arrive"): {"engineer"},
    ("POST", "/api/visits/{visit_id}/notes"): {"engineer"},
    ("POST", "/api/visits/{visit_id}/report"): {"engineer"},
    ("GET", "/api/work-orders/{order_id}/reports"): DESK | {"engineer", "customer_contact"},
    ("GET", "/api/reports/{report_id}"): DESK | {"engineer", "customer_contact"},
    ("PATCH", "/api/reports/{report_id}"): {"engineer"},
    ("POST", "/api/reports/{report_id}/sign"): {"engineer"},
    ("POST", "/api/reports/{report_id}/corrections"): {"engineer"},
    ("GET", "/api/reports/{report_id}/verify"): DESK | {"engineer", "customer_contact"},
    ("GET", "/api/reports/{report_id}/pdf"): DESK | {"engineer", "customer_contact"},
    # The customer survey's one-time link: no sign-in, the token in the path is the credential
    # (tests/api/test_survey.py: it reaches only its own order, once, for 7 days).
    ("GET", "/api/survey/{token}"): PUBLIC,
    ("POST", "/api/survey/{token}"): PUBLIC,
    ("GET", "/api/survey/{token}/pdf"): PUBLIC,
    ("POST", "/api/live/tickets"): STAFF,
    # The single-use ticket is the credential (the stream cannot send a header).
    ("GET", "/api/live"): PUBLIC,
    ("POST", "/api/visits/{visit_id}/finish"): {"engineer"},
    ("GET", "/api/notifications"): STAFF,
    ("POST", "/api/notifications/{notification_id}/acknowledge"): STAFF,
    ("POST", "/api/notifications/acknowledge"): STAFF,
    ("POST", "/api/engineers/me/position-consent"): {"engineer"},
    ("DELETE", "/api/engineers/me/position-consent"): {"engineer"},
    ("POST", "/api/engineers/me/positions"): {"engineer"},
    ("GET", "/api/reports/sla-compliance"): DESK,
    ("GET", "/api/reports/sla-compliance.csv"): DESK,
    ("GET", "/api/reports/sla-compliance/orders"): DESK,
    ("GET", "/api/reports/sla-compliance/orders.csv"): DESK,
    ("GET", "/api/reports/escalations"): DESK,
    ("GET", "/api/reports/engineer-time"): DESK,
    ("GET", "/api/reports/engineer-time.csv"): DESK,
    ("GET", "/api/kpis"): DESK | {"customer_contact"},
    ("GET", "/api/kpis.csv"): DESK | {"customer_contact"},
    ("GET", "/api/kpis/monthly.pdf"): DESK | {"customer_contact"},
    ("GET", "/api/stock/items"): STAFF | {"engineer"},
    ("POST", "/api/stock/items"): {"admin", "warehouse"},
    ("POST", "/api/stock/items/{item_id}/compatibility"): {"admin", "warehouse"},
    ("GET", "/api/stock/units"): STAFF,
    ("POST", "/api/stock/units"): {"admin", "warehouse"},
    ("GET", "/api/stock/units/{unit_id}/history"): STAFF,
    ("POST", "/api/stock/units/{unit_id}/back-in-stock"): {"admin", "warehouse"},
    ("POST", "/api/stock/units/{unit_id}/wipe"): {"admin", "warehouse"},
    ("GET", "/api/stock/balances"): STAFF,
    ("GET", "/api/stock/my-stock"): {"engineer"},
    ("GET", "/api/stock/moves"): STAFF,
    ("POST", "/api/stock/moves"): {"admin", "warehouse"},
    ("POST", "/api/stock/reservations"): STAFF,
    ("POST", "/api/stock/reservations/{reservation_id}/release"): STAFF,
    ("POST", "/api/stock/consumptions"): {"engineer"},
    ("GET", "/api/stock/nearest"): STAFF,
    ("POST", "/api/stock/backup-requests"): DESK | {"engineer"},
    ("GET", "/api/stock/loans"): STAFF,
    ("POST", "/api/stock/loans/{loan_id}/approve"): DESK,
    ("POST", "/api/stock/backup-installations"): {"engineer"},
    ("POST", "/api/stock/swap-backs"): {"engineer"},
    ("GET", "/api/stock/repairs"): STAFF,
    ("POST", "/api/stock/repairs/{case_id}/ship"): {"admin", "warehouse"},
    ("POST", "/api/stock/repairs/{case_id}/vendor-received"): {"admin", "warehouse"},
    ("POST", "/api/stock/repairs/{case_id}/returned"): {"admin", "warehouse"},
    ("POST", "/api/stock/repairs/{case_id}/write-off"): {"admin", "warehouse"},
    ("GET", "/api/stock/alerts"): STAFF,
    ("POST", "/api/stock/part-swaps"): {"engineer"},
    ("GET", "/api/stock/part-swaps"): STAFF,
    ("POST", "/api/stock/part-swaps/{swap_id}/return"): {"admin", "warehouse"},
    ("POST", "/api/stock/part-swaps/{swap_id}/destruction"): {"admin", "warehouse"},
    ("POST", "/api/stock/shipments"): {"admin", "warehouse"},
    ("GET", "/api/stock/shipments"): STAFF,
    ("POST", "/api/stock/shipments/{shipment_id}/arrival"): {"admin", "warehouse"},
    ("PUT", "/api/stock/levels"): {"admin", "warehouse"},
    ("GET", "/api/stock/levels"): STAFF,
    ("GET", "/api/stock/reorder-suggestions"): STAFF,
    ("GET", "/api/stock/restock-lists"): STAFF,
    ("POST", "/api/stock/transfers"): {"admin", "warehouse"},
    ("GET", "/api/stock/counts"): STAFF,
    ("POST", "/api/stock/counts"): {"admin", "warehouse"},
    ("GET", "/api/stock/counts/{count_id}"): STAFF | {"engineer"},
    ("POST", "/api/stock/counts/{count_id}/lines"): {"admin", "warehouse", "engineer"},
    ("POST", "/api/stock/counts/{count_id}/submit"): {"admin", "warehouse", "engineer"},
    ("POST", "/api/stock/counts/{count_id}/approve"): {"admin", "warehouse"},
    ("POST", "/api/stock/engineers/{engineer_id}/hand-in"): {"admin", "warehouse"},
    ("GET", "/api/stock/kpis"): STAFF,
    ("GET", "/api/stock/labels/units.pdf"): {"admin", "warehouse"},
    ("GET", "/api/stock/labels/items.pdf"): {"admin", "warehouse"},
    ("POST", "/api/stock/imports/{kind}"): {"admin", "warehouse"},
    ("GET", "/api/stock/balances.csv"): {"admin", "warehouse"},
    ("GET", "/api/stock/moves.csv"): {"admin", "warehouse"},
    ("POST", "/api/dispatch/plans"): DESK,
    ("GET", "/api/dispatch/plans/{plan_id}"): DESK,
    ("GET", "/api/dispatch/plans/{plan_id}/stream"): DESK,
    ("POST", "/api/dispatch/plans/{plan_id}/apply"): DESK,
    ("POST", "/api/dispatch/emergency-insertion"): DESK,
    ("POST", "/api/dispatch/engineers/{engineer_id}/unavailable"): DESK,
    ("POST", "/api/visits/{visit_id}/overrun"): DESK | {"engineer"},
    ("POST", "/api/sync/devices"): {"engineer"},
    ("GET", "/api/sync/devices"): DESK,
    ("POST", "/api/sync/devices/{device_pk}/revoke"): DESK,
    ("POST", "/api/sync/devices/{device_pk}/reinstate"): DESK,
    ("POST", "/api/sync/push"): {"engineer"},
    ("GET", "/api/sync/pull"): {"engineer"},
    ("PUT", "/api/sync/blobs/{sha256}"): {"engineer"},
    ("GET", "/api/sync/conflicts"): DESK,
    ("POST", "/api/sync/conflicts/{conflict_id}/resolve"): DESK,
}

ROLE_USERS = {
    "admin": "admin",
    "supervisor": "supervisor",
    "dispatcher": "dispatcher",
    "warehouse": "warehouse",
    "engineer": "engineer01",
    "customer_contact": "customer01",
}


@pytest.fixture(scope="module")
async def operations(client) -> list[tuple[str, str]]:
    document = (await client.get("/schema/openapi.json")).json()
    return [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    ]


@pytest.fixture(scope="module")
async def tokens(client) -> dict[str, str]:
    return {role: (await sign_in(client, user))["access_token"] for role, user in ROLE_USERS.items()}


def _concrete(path: str) -> str:
    path = path.replace("{year}", "2026")
    return re.sub(r"\{[a-z_]+\}", str(uuid.UUID(int=7)), path)


async def _call(client, method: str, path: str, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body: dict[str, object] | None = {} if method in {"POST", "PUT", "PATCH"} else None
    return await client.request(method, _concrete(path), headers=headers, json=body)


async def test_the_table_covers_every_documented_route(operations):
    assert set(operations) == set(ROLE_TABLE)


async def test_without_a_token_only_public_routes_answer(client, operations):
    for method, path in operations:
        response = await _call(client, method, path, None)
        assert response.status_code < 500, (method, path, response.text)
        if ROLE_TABLE[(method, path)] is not PUBLIC:
            assert_problem(response, 401, "unauthenticated")


async def test_each_role_gets_exactly_its_routes(client, operations, tokens):
    for method, path in operations:
        allowed = ROLE_TABLE[(method, path)]
        if allowed is PUBLIC:
            continue
        for role, token in tokens.items():
            if (method, path) == ("POST", "/api/auth/logout") and role in allowed:
                token = (await sign_in(client, ROLE_USERS[role]))["access_token"]  # keep the shared one alive
            response = await _call(client, method, path, token)
            assert response.status_code < 500, (role, method, path, response.text)
            if role in allowed:
                assert response.status_code not in {401, 403}, (role, method, path, response.text)
            else:
                assert_problem(response, 403, "forbidden")
