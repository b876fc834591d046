"""Object-level authorisation: every route an engineer or a customer contact may call that
takes an id (in the path, the query or the body) is called by engineer A with engineer B's ids
and by customer contact X with organisation Y's ids. Each is refused exactly as the same call
with a random id is (so the answer does not tell that the record exists), and nothing is written.
The table below must name every such route and every id it takes."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tests.api.test_route_roles import ROLE_TABLE
from tests.support.api import assert_problem, auth_headers, sign_in
from tests.support.scenario import asset, contract, customer_with_site, engineer_id, planned_visit, report

FIELD_ROLES = {"engineer", "customer_contact"}
CONTACT_PASSWORD = "contact-y-password"


@dataclass(frozen=True)
class Probe:
    """One call with one id of someone else's. Strings "{key}" in the path, the query or the
    body are the world's ids; `foreign` is the key under test, swapped for a random uuid in the
    control call. `param` names the route's id (as the coverage check spells it)."""

    who: str  # "engineer" (A) or "contact" (X)
    param: str
    foreign: str
    query: dict[str, str] = field(default_factory=dict)
    body: Any = None
    path: dict[str, str] = field(default_factory=dict)
    expect: int = 404


E, C = "engineer", "contact"
ON_A_VISIT = {"work_order_id": "{a_order}", "visit_id": "{a_visit}", "item_id": "{part}", "quantity": 1}
EMPTY_PAGE = 200
REMOTE_SIGNATURE = {
    "report_hash": "0" * 64,
    "kind": "remote",
    "signer_name": "李伟",
    "signer_role": "科长",
    "channel": "phone",
    "call_reference": "CALL-1",
}

OWNERSHIP: dict[tuple[str, str], list[Probe]] = {
    ("GET", "/api/customers/{customer_id}"): [
        Probe(C, "customer_id", "y_customer", path={"customer_id": "{y_customer}"})
    ],
    ("GET", "/api/sites"): [
        Probe(C, "customer_id", "y_customer", query={"customer_id": "{y_customer}"}, expect=EMPTY_PAGE)
    ],
    ("GET", "/api/sites/map"): [
        Probe(C, "customer_id", "y_customer", query={"customer_id": "{y_customer}"}, expect=EMPTY_PAGE)
    ],
    ("GET", "/api/sites/{site_id}"): [Probe(C, "site_id", "y_site", path={"site_id": "{y_site}"})],
    ("GET", "/api/assets"): [
        Probe(C, "site_id", "y_site", query={"site_id": "{y_site}"}, expect=EMPTY_PAGE),
        Probe(C, "customer_id", "y_customer", query={"customer_id": "{y_customer}"}, expect=EMPTY_PAGE),
    ],
    ("GET", "/api/assets/{asset_id}"): [Probe(C, "asset_id", "y_asset", path={"asset_id": "{y_asset}"})],
    ("GET", "/api/contracts"): [
        Probe(C, "customer_id", "y_customer", query={"customer_id": "{y_customer}"}, expect=EMPTY_PAGE)
    ],
    ("GET", "/api/contracts/{contract_id}"): [
        Probe(C, "contract_id", "y_contract", path={"contract_id": "{y_contract}"})
    ],
    ("GET", "/api/engineers/{engineer_id}"): [
        Probe(E, "engineer_id", "b_engineer", path={"engineer_id": "{b_engineer}"})
    ],
    ("GET", "/api/engineers/{engineer_id}/absences"): [
        Probe(E, "engineer_id", "b_engineer", path={"engineer_id": "{b_engineer}"})
    ],
    ("GET", "/api/work-orders"): [
        Probe(C, "customer_id", "y_customer", query={"customer_id": "{y_customer}"}, expect=EMPTY_PAGE),
        Probe(C, "engineer_id", "b_engineer", query={"engineer_id": "{b_engineer}"}, expect=EMPTY_PAGE),
        Probe(E, "customer_id", "b_customer", query={"customer_id": "{b_customer}"}, expect=EMPTY_PAGE),
        Probe(E, "engineer_id", "b_engineer", query={"engineer_id": "{b_engineer}"}, expect=EMPTY_PAGE),
    ],
    ("POST", "/api/work-orders"): [
        Probe(
            C, "site_id", "y_site", body={"site_id": "{y_site}", "asset_model": "R750", "asset_serial": "S1"}
        ),
        Probe(C, "asset_id", "y_asset", body={"site_id": "{x_site}", "asset_id": "{y_asset}"}),
        # Any customer but the site's own is the same mistake: Y's id tells nothing more.
        Probe(
            C,
            "customer_id",
            "y_customer",
            body={
                "site_id": "{x_site}",
                "customer_id": "{y_customer}",
                "asset_model": "R750",
                "asset_serial": "S1",
            },
            expect=422,
        ),
    ],
    ("GET", "/api/work-orders/{order_id}"): [
        Probe(C, "order_id", "y_order", path={"order_id": "{y_order}"}),
        Probe(E, "order_id", "b_order", path={"order_id": "{b_order}"}),
    ],
    ("POST", "/api/work-orders/{order_id}/transitions"): [
        Probe(C, "order_id", "y_order", path={"order_id": "{y_order}"}, body={"version": 1, "to": "closed"})
    ],
    ("POST", "/api/visits/{visit_id}/start-travel"): [
        Probe(E, "visit_id", "b_visit", path={"visit_id": "{b_visit}"}, body={})
    ],
    ("POST", "/api/work-orders/{order_id}/restore-confirmations"): [
        Probe(
            C,
            "order_id",
            "y_order",
            path={"order_id": "{y_order}"},
            body={"confirmed_by": "李伟", "channel": "phone", "call_reference": "CALL-1"},
        )
    ],
    ("POST", "/api/visits/{visit_id}/inspection-results"): [
        Probe(E, "visit_id", "b_visit", path={"visit_id": "{b_visit}"}, body={"results": []}),
    ],
    ("GET", "/api/visits/{visit_id}"): [Probe(E, "visit_id", "b_visit", path={"visit_id": "{b_visit}"})],
    ("POST", "/api/visits/{visit_id}/arrive"): [
        Probe(E, "visit_id", "b_visit", path={"visit_id": "{b_visit}"}, body={})
    ],
    ("POST", "/api/visits/{visit_id}/notes"): [
        Probe(E, "visit_id", "b_visit", path={"visit_id": "{b_visit}"}, body={"body": "not mine"})
    ],
    ("POST", "/api/visits/{visit_id}/finish"): [
        Probe(E, "visit_id", "b_visit", path={"visit_id": "{b_visit}"}, body={"outcome": "resolved"})
    ],
    ("POST", "/api/visits/{visit_id}/overrun"): [
        Probe(E, "visit_id", "b_visit", path={"visit_id": "{b_visit}"}, body={"extra_minutes": 60})
    ],
    ("POST", "/api/visits/{visit_id}/report"): [
        Probe(E, "visit_id", "b_visit", path={"visit_id": "{b_visit}"})
    ],
    ("GET", "/api/work-orders/{order_id}/reports"): [
        Probe(C, "order_id", "y_order", path={"order_id": "{y_order}"}),
        Probe(E, "order_id", "b_order", path={"order_id": "{b_order}"}),
    ],
    ("GET", "/api/reports/{report_id}"): [
        Probe(C, "report_id", "b_report", path={"report_id": "{b_report}"}),
        Probe(E, "report_id", "b_report", path={"report_id": "{b_report}"}),
    ],
    ("PATCH", "/api/reports/{report_id}"): [
        Probe(
            E,
            "report_id",
            "b_report",
            path={"report_id": "{b_report}"},
            body={"revision": 1, "diagnosis": "x"},
        )
    ],
    ("POST", "/api/reports/{report_id}/sign"): [
        Probe(E, "report_id", "b_report", path={"report_id": "{b_report}"}, body=REMOTE_SIGNATURE)
    ],
    ("POST", "/api/reports/{report_id}/corrections"): [
        Probe(E, "report_id", "b_report", path={"report_id": "{b_report}"})
    ],
    ("GET", "/api/reports/{report_id}/verify"): [
        Probe(C, "report_id", "b_report", path={"report_id": "{b_report}"}),
        Probe(E, "report_id", "b_report", path={"report_id": "{b_report}"}),
    ],
    ("GET", "/api/reports/{report_id}/pdf"): [
        Probe(C, "report_id", "b_report", path={"report_id": "{b_report}"}),
        Probe(E, "report_id", "b_report", path={"report_id": "{b_report}"}),
    ],
    ("POST", "/api/stock/consumptions"): [
        Probe(
            E, "work_order_id", "b_order", body={**ON_A_VISIT, "work_order_id": "{b_order}", "visit_id": None}
        ),
        Probe(
            E,
            "work_order_id",
            "b_order",
            body={**ON_A_VISIT, "work_order_id": "{b_order}", "visit_id": "{b_visit}"},
        ),
        Probe(E, "visit_id", "b_visit", body={**ON_A_VISIT, "visit_id": "{b_visit}"}),
        Probe(E, "visit_id", "b_visit", body={**ON_A_VISIT, "visit_id": "{b_visit}", "from_device": True}),
        Probe(
            E,
            "work_order_id",
            "b_order",
            body={**ON_A_VISIT, "work_order_id": "{b_order}", "visit_id": "{b_visit}", "from_device": True},
        ),
        Probe(E, "reservation_id", "b_reservation", body={**ON_A_VISIT, "reservation_id": "{b_reservation}"}),
    ],
    ("POST", "/api/stock/backup-requests"): [
        Probe(
            E, "work_order_id", "b_order", body={"work_order_id": "{b_order}", "reason": "cannot fix in time"}
        )
    ],
    ("POST", "/api/stock/backup-installations"): [
        Probe(
            E, "visit_id", "b_visit", body={"visit_id": "{b_visit}", "serial": "BK-1", "signed_by": "李伟"}
        ),
        Probe(
            E,
            "visit_id",
            "b_delivery",
            body={"visit_id": "{b_delivery}", "serial": "BK-1", "signed_by": "李伟"},
        ),
    ],
    ("POST", "/api/stock/swap-backs"): [Probe(E, "visit_id", "b_visit", body={"visit_id": "{b_visit}"})],
    ("POST", "/api/stock/part-swaps"): [
        Probe(
            E,
            "visit_id",
            "b_visit",
            body={"visit_id": "{b_visit}", "installed_serial": "NEW-1", "removed_serial": "OLD-1"},
        )
    ],
    ("GET", "/api/stock/counts/{count_id}"): [
        Probe(E, "count_id", "b_count", path={"count_id": "{b_count}"})
    ],
    ("POST", "/api/stock/counts/{count_id}/lines"): [
        Probe(
            E,
            "count_id",
            "b_count",
            path={"count_id": "{b_count}"},
            body={"lines": [{"item_id": "{part}", "counted": 99}]},
        )
    ],
    ("POST", "/api/stock/counts/{count_id}/submit"): [
        Probe(E, "count_id", "b_count", path={"count_id": "{b_count}"}, body={})
    ],
    # Another engineer's phone is not an outbox of mine: the same answer as a phone never registered.
    ("POST", "/api/sync/push"): [
        Probe(
            E,
            "device_id",
            "b_device",
            body={"device_id": "{b_device}", "device_time": "2026-03-02T01:00:00Z", "mutations": []},
            expect=409,
        )
    ],
    # Another organisation's figures: its id is not found, as a random one is.
    ("GET", "/api/kpis"): [Probe(C, "customer_id", "y_customer", query={"customer_id": "{y_customer}"})],
    ("GET", "/api/kpis.csv"): [Probe(C, "customer_id", "y_customer", query={"customer_id": "{y_customer}"})],
    ("GET", "/api/kpis/monthly.pdf"): [
        Probe(C, "customer_id", "y_customer", query={"customer_id": "{y_customer}", "month": "2026-03"})
    ],
    ("GET", "/api/sync/pull"): [
        Probe(E, "device_id", "b_device", query={"device_id": "{b_device}"}, expect=409)
    ],
}

# Ids that name nothing anyone owns.
NOT_OWNED: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/api/stock/consumptions"): {"item_id": "the parts catalogue is everyone's"},
    ("POST", "/api/stock/counts/{count_id}/lines"): {"lines[].item_id": "the parts catalogue is everyone's"},
    ("PUT", "/api/sync/blobs/{sha256}"): {"sha256": "a content hash names bytes, not someone's record"},
}

# Public routes are outside this walk (no one is signed in to own anything): the customer
# survey's routes take a one-time token, never an id, and are checked in tests/api/test_survey.py
# (a token reaches only its own order and report; a changed or foreign token is `survey-unknown`).
TOKEN_ROUTES = {
    ("GET", "/api/survey/{token}"),
    ("POST", "/api/survey/{token}"),
    ("GET", "/api/survey/{token}/pdf"),
}

# Checked by their own tests (below, or where named).
ELSEWHERE: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/api/sync/devices"): {"device_id": "test_another_engineers_phone_id_opens_my_own_outbox"},
    # Only an inspection visit takes answers, and only for its own assets.
    ("POST", "/api/visits/{visit_id}/inspection-results"): {
        "results[].asset_id": "test_a_failed_item_raises_a_linked_repair_order_for_the_asset"
    },
}

# What a refused call must leave as it was.
WATCHED_TABLES = (
    "audit_log",
    "customer",
    "site",
    "asset",
    "contract",
    "work_order",
    "work_order_event",
    "sla_clock",
    "sla_pause",
    "visit",
    "visit_note",
    "stock_move",
    "stock_balance",
    "stock_reservation",
    "stock_loan",
    "stock_unit",
    "stock_part_swap",
    "stock_count",
    "stock_count_line",
    "sync_conflict",
    "service_report",
    "service_report_signature",
    "notification",
    "outbox_message",
)


# The world: two engineers, two organisations ---------------------------------------------------------


@pytest.fixture(scope="module")
def dsn(demo_db: str) -> str:
    return demo_db.replace("postgresql+asyncpg://", "postgresql://")


ROWS = sql.SQL("SELECT count(*) || md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {} t")


def fingerprint(dsn: str) -> dict[str, str]:
    """Every watched table's rows, hashed: equal fingerprints, nothing written."""
    with psycopg.connect(dsn) as conn:
        return {
            table: str(conn.execute(ROWS.format(sql.Identifier(table))).fetchone())
            for table in WATCHED_TABLES
        }


async def _ok(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return response.json()


@pytest.fixture(scope="module")
async def world(client) -> dict[str, Any]:
    h = {
        n: await auth_headers(client, n)
        for n in ("admin", "dispatcher", "warehouse", "engineer01", "engineer02", "customer01")
    }
    admin, dispatcher, warehouse = h["admin"], h["dispatcher"], h["warehouse"]
    w: dict[str, Any] = {"h": h}
    a = await engineer_id(client, dispatcher, "engineer01")
    b = await engineer_id(client, dispatcher, "engineer02")
    w["a_engineer"], w["b_engineer"] = a, b

    async def on_site(engineer: str, name: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        customer, site = await customer_with_site(client, admin)
        row = await contract(client, admin, customer, kind="7x24")
        device = await asset(client, admin, site, row)
        order = await report(client, dispatcher, site, device)
        visit = await planned_visit(client, dispatcher, order, engineer)
        await _ok(await client.post(f"/api/visits/{visit['id']}/arrive", headers=h[name], json={}), 200)
        return customer, order, visit

    _, order, visit = await on_site(a, "engineer01")
    w["a_order"], w["a_visit"] = order["id"], visit["id"]
    _, order2, visit2 = await on_site(a, "engineer01")
    w["a_order2"], w["a_visit2"] = order2["id"], visit2["id"]
    b_customer, order, visit = await on_site(b, "engineer02")
    w["b_customer"], w["b_order"], w["b_visit"] = b_customer["id"], order["id"], visit["id"]
    await _ok(
        await client.post(
            f"/api/visits/{visit['id']}/notes", headers=h["engineer02"], json={"body": "B's note"}
        )
    )
    b_report = await _ok(await client.post(f"/api/visits/{visit['id']}/report", headers=h["engineer02"]))
    w["b_report"] = b_report["id"]

    # B's backup delivery: the loan is proposed, the delivery visit is B's.
    proposal = await _ok(
        await client.post(
            "/api/stock/backup-requests",
            headers=h["engineer02"],
            json={"work_order_id": w["b_order"], "reason": "board to the vendor"},
        )
    )
    await _ok(
        await client.put(
            f"/api/visits/{proposal['visit_id']}/assignment",
            headers=dispatcher,
            json={"version": 1, "engineer_id": b},
        ),
        200,
    )
    w["b_delivery"] = proposal["visit_id"]

    # A part in both vans; B's is partly reserved for B's order.
    sku = f"OWN-{uuid.uuid4().hex[:8]}"
    part = await _ok(
        await client.post(
            "/api/stock/items", headers=warehouse, json={"sku": sku, "name": sku, "kind": "part"}
        )
    )
    w["part"] = part["id"]
    vans = await _ok(await client.get("/api/locations", headers=warehouse, params={"kind": "van"}), 200)
    van = {v["engineer_id"]: v["id"] for v in vans["items"]}
    for engineer in (a, b):
        await _ok(
            await client.post(
                "/api/stock/moves",
                headers=warehouse,
                json={
                    "kind": "receive",
                    "item_id": part["id"],
                    "quantity": 5,
                    "to_location_id": van[engineer],
                },
            )
        )
    reservation = await _ok(
        await client.post(
            "/api/stock/reservations",
            headers=dispatcher,
            json={"item_id": part["id"], "location_id": van[b], "quantity": 2, "work_order_id": w["b_order"]},
        )
    )
    w["b_reservation"] = reservation["id"]
    count = await _ok(await client.post("/api/stock/counts", headers=warehouse, json={"engineer_id": b}))
    w["b_count"] = count["id"]
    w["b_device"] = str(uuid.uuid4())
    await _ok(
        await client.post(
            "/api/sync/devices",
            headers=h["engineer02"],
            json={"device_id": w["b_device"], "label": "B's phone"},
        )
    )

    # Organisation X (customer01's) and organisation Y with its own contact, order and engineer B on it.
    x_sites = await _ok(await client.get("/api/sites", headers=h["customer01"]), 200)
    w["x_site"] = x_sites["items"][0]["id"]
    y_customer, y_site = await customer_with_site(client, admin)
    y_contract = await contract(client, admin, y_customer, kind="7x24")
    y_asset = await asset(client, admin, y_site, y_contract)
    username = f"contact-{uuid.uuid4().hex[:6]}"
    await _ok(
        await client.post(
            "/api/users",
            headers=admin,
            json={
                "username": username,
                "display_name": "Y's contact",
                "role": "customer_contact",
                "password": CONTACT_PASSWORD,
                "customer_id": y_customer["id"],
            },
        )
    )
    tokens = await sign_in(client, username, CONTACT_PASSWORD)
    h["contact_y"] = {"Authorization": f"Bearer {tokens['access_token']}"}
    y_order = await report(client, h["contact_y"], y_site, y_asset)
    await planned_visit(client, dispatcher, y_order, b)
    w.update(
        y_customer=y_customer["id"],
        y_site=y_site["id"],
        y_contract=y_contract["id"],
        y_asset=y_asset["id"],
        y_order=y_order["id"],
    )
    return w


# The walk ------------------------------------------------------------------------------------------


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return re.sub(r"\{([a-z0-9_]+)\}", lambda m: str(ids[m.group(1)]), value)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


INTAKE = {
    "contact_name": "李伟",
    "contact_phone": "13800000001",
    "fault_description": "宕机",
    "severity": "high",
    "channel": "web",
}


async def _send(client, w: dict[str, Any], method: str, path: str, probe: Probe, ids: dict[str, str]):
    headers = w["h"]["engineer01" if probe.who == E else "customer01"]
    concrete = path
    for name, value in probe.path.items():
        concrete = concrete.replace("{" + name + "}", _fill(value, ids))
    body = _fill(probe.body, ids)
    if (method, path) == ("POST", "/api/work-orders"):
        body = {**INTAKE, **body}
    return await client.request(
        method,
        concrete,
        headers=headers,
        params=_fill(probe.query, ids),
        json=body if method != "GET" else None,
    )


def _answer(response: Any, used: str) -> Any:
    """The answer with the id it was asked about blanked out."""
    return json.loads(response.text.replace(used, "<id>"))


def _probes() -> Iterator[tuple[str, str, int, Probe]]:
    for (method, path), probes in OWNERSHIP.items():
        for n, probe in enumerate(probes):
            yield method, path, n, probe


@pytest.mark.parametrize(
    ("method", "path", "n", "probe"),
    list(_probes()),
    ids=[f"{m} {p} #{n} {pr.who}:{pr.param}" for m, p, n, pr in _probes()],
)
async def test_someone_elses_id_is_refused_like_a_random_one_and_writes_nothing(
    client, world, dsn, method, path, n, probe
):
    ids = {k: v for k, v in world.items() if k != "h"}
    before = fingerprint(dsn)
    theirs = await _send(client, world, method, path, probe, ids)
    assert theirs.status_code == probe.expect, theirs.text
    assert fingerprint(dsn) == before, "a refused call wrote something"
    random_id = str(uuid.uuid4())
    control = await _send(client, world, method, path, probe, {**ids, probe.foreign: random_id})
    assert fingerprint(dsn) == before
    assert _answer(theirs, ids[probe.foreign]) == _answer(control, random_id)
    if probe.expect == EMPTY_PAGE:
        body = theirs.json()
        assert body.get("items", body.get("features")) == [], body
    else:
        problem = assert_problem(theirs, probe.expect, "not-found" if probe.expect == 404 else None)
        if probe.expect == 422:
            assert [e["field"] for e in problem["errors"]] == [probe.param], problem


# Coverage: every id-taking route open to engineers or customer contacts -----------------------------


def _ids_in(schema: dict[str, Any], components: dict[str, Any], prefix: str = "") -> Iterator[str]:
    """Body fields naming ids, spelled like `lines[].item_id`."""
    if "$ref" in schema:
        yield from _ids_in(components[schema["$ref"].rsplit("/", 1)[-1]], components, prefix)
        return
    for key in ("oneOf", "anyOf", "allOf"):
        for part in schema.get(key, []):
            yield from _ids_in(part, components, prefix)
    if schema.get("type") == "array" and "items" in schema:
        yield from _ids_in(schema["items"], components, prefix.removesuffix(".") + "[].")
    for name, prop in schema.get("properties", {}).items():
        if name.endswith(("_id", "_ids")):
            yield prefix + name
        yield from _ids_in(prop, components, prefix + name + ".")


def _route_ids(operation: dict[str, Any], components: dict[str, Any]) -> set[str]:
    found = {
        p["name"]
        for p in operation.get("parameters", [])
        if p["in"] == "path" or (p["in"] == "query" and p["name"].endswith(("_id", "_ids")))
    }
    for content in operation.get("requestBody", {}).get("content", {}).values():
        found |= set(_ids_in(content["schema"], components))
    return found


async def test_the_table_covers_every_id_taking_route_open_to_engineers_and_customers(client):
    document = (await client.get("/schema/openapi.json")).json()
    components = document.get("components", {}).get("schemas", {})
    wanted: dict[tuple[str, str], set[str]] = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            key = (method.upper(), path)
            roles = ROLE_TABLE.get(key)
            if roles is None or not roles & FIELD_ROLES:
                continue
            if ids := _route_ids(operation, components):
                wanted[key] = ids
    covered: dict[tuple[str, str], set[str]] = {}
    for key, probes in OWNERSHIP.items():
        covered.setdefault(key, set()).update(p.param for p in probes)
    for source in (NOT_OWNED, ELSEWHERE):
        for key, reasons in source.items():
            covered.setdefault(key, set()).update(reasons)
    missing = {
        key: ids - covered.get(key, set()) for key, ids in wanted.items() if ids - covered.get(key, set())
    }
    assert not missing, (
        f"id-taking routes open to engineers or customers without an ownership entry: {missing}"
    )
    stale = set(covered) - set(wanted)
    assert not stale, f"entries for routes that take no id or are no longer open to them: {stale}"


async def test_token_routes_are_public_and_take_only_their_token(client):
    document = (await client.get("/schema/openapi.json")).json()
    components = document.get("components", {}).get("schemas", {})
    for method, path in TOKEN_ROUTES:
        assert ROLE_TABLE[(method, path)] is None, (method, path)
        assert _route_ids(document["paths"][path][method.lower()], components) == {"token"}, (method, path)


# What the walk cannot say by itself ----------------------------------------------------------------


async def test_an_engineer_books_parts_on_their_own_visit_and_only_on_the_named_order(client, world, dsn):
    engineer = world["h"]["engineer01"]
    ids = {k: v for k, v in world.items() if k != "h"}
    before = fingerprint(dsn)
    # A visit of mine, but of another of my work orders: refused, nothing booked.
    mismatch = await client.post(
        "/api/stock/consumptions", headers=engineer, json=_fill({**ON_A_VISIT, "visit_id": "{a_visit2}"}, ids)
    )
    body = assert_problem(mismatch, 422, "invalid-input")
    assert body["errors"][0]["field"] == "visit_id"
    assert fingerprint(dsn) == before
    # The same call with the visit of that order is booked: the refusals above are about ownership.
    booked = await _ok(
        await client.post("/api/stock/consumptions", headers=engineer, json=_fill(ON_A_VISIT, ids))
    )
    assert [(m["kind"], m["work_order_id"], m["visit_id"]) for m in booked] == [
        ("consume", world["a_order"], world["a_visit"])
    ]


async def test_a_contact_reports_on_their_own_site_and_asset(client, world):
    own_asset = (await _ok(await client.get("/api/assets", headers=world["h"]["customer01"]), 200))["items"][
        0
    ]
    sites = {own_asset["site_id"]}
    order = await _ok(
        await client.post(
            "/api/work-orders",
            headers=world["h"]["customer01"],
            json={**INTAKE, "site_id": sites.pop(), "asset_id": own_asset["id"]},
        )
    )
    assert order["asset_id"] == own_asset["id"]


async def test_another_engineers_phone_id_opens_my_own_outbox(client, world, dsn):
    """A phone id is chosen by the phone: registering B's id gives A an outbox of A's own and
    leaves B's as it was."""
    phone = str(uuid.uuid4())
    theirs = await _ok(
        await client.post(
            "/api/sync/devices", headers=world["h"]["engineer02"], json={"device_id": phone, "label": "B's"}
        )
    )
    query = (
        "SELECT id, user_id, status, next_seq, label FROM sync_device WHERE device_id = %s AND user_id = %s"
    )
    with psycopg.connect(dsn) as conn:
        before = conn.execute(query, (phone, world["b_engineer"])).fetchall()
    mine = await _ok(
        await client.post(
            "/api/sync/devices", headers=world["h"]["engineer01"], json={"device_id": phone, "label": "A's"}
        )
    )
    assert (mine["user_id"], mine["label"]) == (world["a_engineer"], "A's")
    assert mine["id"] != theirs["id"]
    with psycopg.connect(dsn) as conn:
        assert conn.execute(query, (phone, world["b_engineer"])).fetchall() == before


async def test_a_reservation_names_a_visit_of_its_own_work_order(client, world, dsn):
    """The desk sees every order, so a mismatch is a plain field error: but it is refused."""
    vans = await _ok(
        await client.get("/api/locations", headers=world["h"]["warehouse"], params={"kind": "van"}), 200
    )
    van = next(v["id"] for v in vans["items"] if v["engineer_id"] == world["a_engineer"])
    before = fingerprint(dsn)
    wrong = await client.post(
        "/api/stock/reservations",
        headers=world["h"]["dispatcher"],
        json={
            "item_id": world["part"],
            "location_id": van,
            "work_order_id": world["a_order"],
            "visit_id": world["b_visit"],
        },
    )
    problem = assert_problem(wrong, 422, "invalid-input")
    assert [e["field"] for e in problem["errors"]] == ["visit_id"]
    assert fingerprint(dsn) == before
    held = await _ok(
        await client.post(
            "/api/stock/reservations",
            headers=world["h"]["dispatcher"],
            json={
                "item_id": world["part"],
                "location_id": van,
                "work_order_id": world["a_order"],
                "visit_id": world["a_visit"],
            },
        )
    )
    assert (held["work_order_id"], held["visit_id"]) == (world["a_order"], world["a_visit"])
