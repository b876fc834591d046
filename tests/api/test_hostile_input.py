"""No client input gets a 500: cursors, dates and times, deep or undecodable bodies, time zones.

Each class is fuzzed where it enters (every paginated list and the sync pull; bodies, query
strings and sync mutations), and each answer must be a 4xx problem while the real thing
(a cursor the server gave out, a time in range) still works."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from api.app import report_unknown_zones
from api.body_checks import MAX_DEPTH, too_deep
from core.database import make_sessionmaker
from core.pagination import seal, unseal
from dispatch.customers.stored_zones import unknown_zones
from tests.api.test_list_contract import REQUIRED_QUERY
from tests.api.test_route_roles import ROLE_TABLE
from tests.support.api import assert_problem
from tests.support.scenario import asset, contract, customer_with_site, report, target

# Fuzz a running app: module fixtures are shared between examples on purpose.
FUZZ = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
async def setting(client, admin, dispatcher):
    customer, site = await customer_with_site(client, admin)
    row = await contract(client, admin, customer, kind="7x24")
    unit = await asset(client, admin, site, row)
    orders = [await report(client, dispatcher, site, unit) for _ in range(2)]
    return customer, site, unit, orders


class Phone:
    """An engineer's registered device, enough to push and pull."""

    def __init__(self, headers: dict[str, str], device_id: str) -> None:
        self.headers, self.device_id, self.seq = headers, device_id, 0

    @classmethod
    async def of(cls, client, username: str) -> Phone:
        device_id = str(uuid.uuid4())
        tokens = (
            await client.post(
                "/api/auth/login",
                json={"username": username, "password": "demo-pass", "device_id": device_id},
            )
        ).json()
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        registered = await client.post(
            "/api/sync/devices", headers=headers, json={"device_id": device_id, "label": "测试手机"}
        )
        assert registered.status_code == 201, registered.text
        return cls(headers, device_id)


@pytest.fixture(scope="module")
async def phone(client):
    return await Phone.of(client, "engineer12")


def _is_problem(response: Any) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    body: dict[str, Any] = response.json()
    assert body["type"].startswith("/problems/"), body
    return body


# Cursors -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def paginated(client, admin, dispatcher, setting):
    """Every list route of the OpenAPI document that takes a cursor, with a real cursor of it."""
    schema = (await client.get("/schema/openapi.json")).json()
    routes = sorted(
        path
        for path, ops in schema["paths"].items()
        if "{" not in path
        and any(p["name"] == "cursor" for p in ops.get("get", {}).get("parameters", []))
        and path != "/api/sync/pull"
        # Read here as admin; the engineer's own lists are walked in test_list_contract.
        and "admin" in (ROLE_TABLE.get(("GET", path)) or set())
    )
    assert {"/api/customers", "/api/sites", "/api/engineers", "/api/work-orders", "/api/users"} <= set(routes)
    real = {}
    for path in routes:
        params = REQUIRED_QUERY.get(path, {}) | {"limit": 1}
        first = await client.get(path, params=params, headers=admin)
        assert first.status_code == 200, (path, first.text)
        real[path] = first.json()["next_cursor"]
    return routes, real


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=10,
)


def cursors(real: str | None) -> st.SearchStrategy[str]:
    """Random text, forged cursors (any JSON, base64'd, unsealed) and real ones tampered with."""
    forged = json_values.map(lambda v: _b64(json.dumps(v).encode()))
    # The shape a cursor had before it was sealed: [value, id] with wrong types inside.
    old_shape = st.lists(json_values, min_size=1, max_size=3).map(lambda v: _b64(json.dumps(v).encode()))
    choices = [st.text(min_size=1, max_size=300), forged, old_shape]
    if real:
        raw = base64.urlsafe_b64decode(real + "===")
        choices.append(
            st.tuples(st.integers(0, len(raw) - 1), st.integers(1, 255)).map(
                lambda t: _b64(raw[: t[0]] + bytes([raw[t[0]] ^ t[1]]) + raw[t[0] + 1 :])
            )
        )
        choices.append(st.integers(1, len(real) - 1).map(lambda n: real[:n]))
        choices.append(st.binary(min_size=1, max_size=40).map(lambda b: real + _b64(b)))
    return st.one_of(choices)


@FUZZ
@given(data=st.data())
async def test_forged_and_tampered_cursors_get_4xx_on_every_list(client, admin, paginated, data):
    routes, real = paginated
    path = data.draw(st.sampled_from(routes), label="route")
    cursor = data.draw(cursors(real[path]), label="cursor")
    params = REQUIRED_QUERY.get(path, {}) | {"cursor": cursor, "limit": 2}
    response = await client.get(path, params=params, headers=admin)
    if response.status_code == 200:
        # Only a cursor the server gave out gets through (a tampered one could at most collide).
        assert cursor == real[path]
    else:
        _is_problem(response)


async def test_real_cursors_still_page_and_are_not_borrowed_between_lists(client, admin, paginated):
    routes, real = paginated
    paged = [path for path in routes if real[path]]
    assert len(paged) >= 5, real
    for path in paged:
        given = REQUIRED_QUERY.get(path, {})
        second = await client.get(path, params=given | {"cursor": real[path], "limit": 1}, headers=admin)
        assert second.status_code == 200, (path, second.text)
        first = (await client.get(path, params=given | {"limit": 1}, headers=admin)).json()
        assert second.json() != first, path
    # A cursor of one list is no cursor of another, even where the sort keys have the same types.
    borrowed = await client.get("/api/users", params={"cursor": real["/api/customers"]}, headers=admin)
    assert_problem(borrowed, 422, "invalid-input")


@pytest.fixture(scope="module")
async def pull_cursor(client, phone):
    response = await client.get(
        "/api/sync/pull", headers=phone.headers, params={"device_id": phone.device_id, "limit": 1}
    )
    assert response.status_code == 200, response.text
    return response.json()["cursor"]


@FUZZ
@given(data=st.data())
async def test_forged_and_tampered_pull_cursors_get_4xx(client, phone, pull_cursor, data):
    cursor = data.draw(cursors(pull_cursor), label="cursor")
    response = await client.get(
        "/api/sync/pull", headers=phone.headers, params={"device_id": phone.device_id, "cursor": cursor}
    )
    if response.status_code == 200:
        assert cursor == pull_cursor
    else:
        _is_problem(response)


async def test_the_pull_cursor_the_server_gave_still_works(client, phone, pull_cursor):
    response = await client.get(
        "/api/sync/pull", headers=phone.headers, params={"device_id": phone.device_id, "cursor": pull_cursor}
    )
    assert response.status_code == 200, response.text
    # The old unsealed form of a pull cursor, with a number out of any range, is refused.
    old = _b64(json.dumps({"l": 10**30, "h": None, "a": None, "b": False, "ba": None}).encode())
    refused = await client.get(
        "/api/sync/pull", headers=phone.headers, params={"device_id": phone.device_id, "cursor": old}
    )
    assert_problem(refused, 422, "invalid-input")


def test_a_seal_opens_only_with_its_key_and_purpose():
    key, other = b"k" * 32, b"o" * 32
    cursor = seal(key, ["黄河", 1], "site.name,site.id")
    assert unseal(key, cursor, "site.name,site.id") == ["黄河", 1]
    for attempt in (
        lambda: unseal(other, cursor, "site.name,site.id"),
        lambda: unseal(key, cursor, "app_user.username,app_user.id"),
        lambda: unseal(key, "é" + cursor, "site.name,site.id"),
    ):
        with pytest.raises(Exception, match="not one this server gave out"):
            attempt()


# Dates and times -----------------------------------------------------------------------------------

ZONES = [dt.UTC, dt.timezone(dt.timedelta(hours=14)), dt.timezone(dt.timedelta(hours=-12)), None]
naive = st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59))
out_of_range = st.one_of(
    st.datetimes(max_value=dt.datetime(1999, 12, 31, 23, 59, 59), timezones=st.sampled_from(ZONES[:3])),
    st.datetimes(min_value=dt.datetime(2101, 1, 1), timezones=st.sampled_from(ZONES[:3])),
    st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00Z"]),
)
bad_instants = st.one_of(naive.map(dt.datetime.isoformat), out_of_range.map(str)).map(
    lambda v: v.replace(" ", "T")
)
bad_days = st.one_of(st.dates(max_value=dt.date(1999, 12, 31)), st.dates(min_value=dt.date(2101, 1, 1))).map(
    dt.date.isoformat
)


@pytest.fixture(scope="module")
async def calendar_id(client, admin):
    calendar = await client.post(
        "/api/holiday-calendars", headers=admin, json={"name": "测试日历", "region": "CN-HA"}
    )
    assert calendar.status_code == 201, calendar.text
    return calendar.json()["id"]


def _field(problem: dict[str, Any]) -> set[str]:
    return {e["field"] for e in problem.get("errors", [])}


@FUZZ
@given(data=st.data())
async def test_naive_and_out_of_range_times_are_422_in_bodies_queries_and_sync(
    client, admin, dispatcher, setting, phone, calendar_id, data
):
    _, site, unit, _ = setting
    target = data.draw(
        st.sampled_from(
            ["reported_at", "purchase_date", "holiday", "since", "day", "device_time", "mutation"]
        ),
        label="where",
    )
    instant, day = data.draw(bad_instants, label="instant"), data.draw(bad_days, label="day")
    if target == "reported_at":
        body = {
            "site_id": site["id"],
            "asset_id": unit["id"],
            "contact_name": "王工",
            "contact_phone": "13800000000",
            "fault_description": "RAID 降级",
            "severity": "high",
            "channel": "phone",
            "reported_at": instant,
        }
        response = await client.post("/api/work-orders", headers=dispatcher, json=body)
        assert _field(assert_problem(response, 422, "invalid-input")) == {"reported_at"}
    elif target == "purchase_date":
        body = {"site_id": site["id"], "model": "R750", "serial": f"SNX{uuid.uuid4().hex[:8]}"}
        response = await client.post("/api/assets", headers=admin, json={**body, "purchase_date": day})
        assert _field(assert_problem(response, 422, "invalid-input")) == {"purchase_date"}
    elif target == "holiday":
        response = await client.put(
            f"/api/holiday-calendars/{calendar_id}/years/2027",
            headers=admin,
            json={
                "days": [
                    {"day": "2027-01-01", "kind": "holiday", "name": "元旦"},
                    {"day": day, "kind": "holiday", "name": "x"},
                ]
            },
        )
        assert _field(assert_problem(response, 422, "invalid-input")) == {"days[1].day"}
    elif target == "since":
        response = await client.get(
            "/api/reports/sla-compliance",
            headers=dispatcher,
            params={"since": instant, "until": "2026-03-02T00:00:00+08:00"},
        )
        assert _field(assert_problem(response, 422, "invalid-input")) == {"since"}
    elif target == "day":
        response = await client.get("/api/stock/restock-lists", headers=admin, params={"day": day})
        assert _field(assert_problem(response, 422, "invalid-input")) == {"day"}
    elif target == "device_time":
        body = {"device_id": phone.device_id, "device_time": instant, "mutations": []}
        response = await client.post("/api/sync/push", headers=phone.headers, json=body)
        assert _field(assert_problem(response, 422, "invalid-input")) == {"device_time"}
    else:
        phone.seq += 1
        mutation = {
            "id": str(uuid.uuid4()),
            "seq": phone.seq,
            "name": "visit.add_note@1",
            "args": {"visit_id": str(uuid.uuid4()), "note_id": str(uuid.uuid4()), "body": "x", "at": instant},
        }
        body = {
            "device_id": phone.device_id,
            "device_time": "2026-03-02T09:00:00+08:00",
            "mutations": [mutation],
        }
        response = await client.post("/api/sync/push", headers=phone.headers, json=body)
        assert response.status_code == 200, response.text
        [outcome] = response.json()["outcomes"]
        assert outcome["status"] == "rejected", outcome
        assert outcome["problem"]["type"] == "/problems/invalid-input", outcome


async def test_times_inside_the_range_still_work(client, admin, dispatcher, setting):
    _, site, unit, _ = setting
    for since in ("2000-01-01T00:00:00Z", "2026-03-01T00:00:00+08:00"):
        response = await client.get(
            "/api/reports/sla-compliance",
            headers=dispatcher,
            params={"since": since, "until": "2100-12-31T23:59:59Z"},
        )
        assert response.status_code == 200, response.text
    assert (
        await client.get("/api/stock/restock-lists", headers=admin, params={"day": "2100-12-31"})
    ).status_code == 200
    body = {
        "site_id": site["id"],
        "asset_id": unit["id"],
        "contact_name": "王工",
        "contact_phone": "13800000000",
        "fault_description": "电源告警",
        "severity": "medium",
        "channel": "phone",
        "reported_at": "2026-03-02T08:30:00+08:00",
    }
    response = await client.post("/api/work-orders", headers=dispatcher, json=body)
    assert response.status_code == 201, response.text
    reported = dt.datetime.fromisoformat(response.json()["reported_at"])
    assert reported == dt.datetime(2026, 3, 2, 0, 30, tzinfo=dt.UTC)


async def test_the_request_instant_is_the_servers_and_no_query_can_set_it(client, dispatcher, clock):
    """Handlers read the time from the server's clock: a `now` in the query string is neither
    checked like a time parameter nor used."""
    for forged in ("1900-01-01T00:00:00Z", "not a time"):
        response = await client.get("/api/stock/kpis", headers=dispatcher, params={"now": forged})
        assert response.status_code == 200, response.text
        assert dt.datetime.fromisoformat(response.json()["until"]) == clock.now()


# Bodies ----------------------------------------------------------------------------------------------


def _nested(depth: int) -> bytes:
    return b'{"customer_number": "C-DEEP", "name": "x", "notes": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize(
    ("depth", "status", "slug"),
    [
        (MAX_DEPTH - 1, 422, "invalid-input"),
        (MAX_DEPTH, 400, "body-too-deep"),
        (1000, 400, "body-too-deep"),
        (200_000, 400, "body-too-deep"),
    ],
)
async def test_nesting_deeper_than_the_limit_is_refused_before_decoding(
    client, admin, db, depth, status, slug
):
    before = await _count(db, "SELECT count(*) FROM customer")
    response = await client.post(
        "/api/customers", content=_nested(depth), headers={**admin, "content-type": "application/json"}
    )
    assert_problem(response, status, slug)
    assert await _count(db, "SELECT count(*) FROM customer") == before


async def test_the_nesting_limit_counts_brackets_outside_strings_only(client, admin):
    assert not too_deep(b'{"a": "' + b"[" * 500 + b'"}')
    assert not too_deep(b'{"a": "\\"[[[[\\"", "b": [[1]]}', limit=3)
    assert too_deep(b'{"a": [[[[1]]]]}', limit=4)
    response = await client.post(
        "/api/customers",
        headers=admin,
        json={"customer_number": "C-BRACKETS", "name": "[" * 150, "notes": "{" * 3000},
    )
    assert response.status_code == 201, response.text


async def test_the_sync_push_has_the_nesting_limit_too(client, phone):
    args = b"[" * 100 + b"]" * 100
    body = (
        b'{"device_id": "' + phone.device_id.encode() + b'", "device_time": "2026-03-02T09:00:00Z", '
        b'"mutations": [{"id": "' + str(uuid.uuid4()).encode() + b'", "seq": 1, "name": "visit.add_note@1", '
        b'"args": {"x": ' + args + b"}}]}"
    )
    response = await client.post(
        "/api/sync/push", content=body, headers={**phone.headers, "content-type": "application/json"}
    )
    assert_problem(response, 400, "body-too-deep")


@pytest.mark.parametrize(
    "body",
    [
        b'{"customer_number": "C-UTF", "name": "\xff\xfe"}',
        b'{"customer_number": "C-UTF", "name": "\xe9t\xe9"}',  # Latin-1, not UTF-8
        b'{"customer_number": "C-UTF", "name": "\xed\xa0\x80"}',  # an encoded surrogate
        b'{"customer_number": "C-UTF", "name": "\xe9\xbb\x84"}'[:-1] + b'"}',  # cut mid-character
    ],
)
async def test_invalid_utf8_is_a_malformed_body(client, admin, db, body):
    before = await _count(db, "SELECT count(*) FROM customer")
    response = await client.post(
        "/api/customers", content=body, headers={**admin, "content-type": "application/json"}
    )
    assert_problem(response, 400, "malformed-body")
    assert await _count(db, "SELECT count(*) FROM customer") == before
    # Sent with any other content type the same body is refused the same way.
    response = await client.post(
        "/api/customers", content=body, headers={**admin, "content-type": "text/plain"}
    )
    assert 400 <= response.status_code < 500, response.text


async def _count(db, sql: str, **params: Any) -> int:
    async with db.connect() as conn:
        return int((await conn.execute(text(sql), params)).scalar_one())


# Time zones ----------------------------------------------------------------------------------------

BAD_ZONES = [
    "Not/AZone",
    "localtime",
    "../etc",
    "/etc/localtime",
    "posix/Asia/Shanghai",
    "Factory",
    "asia/shanghai",
    "",
]


@pytest.mark.parametrize("zone", BAD_ZONES)
async def test_a_zone_that_is_not_an_iana_zone_is_refused_on_every_write(
    client, admin, dispatcher, setting, zone
):
    customer, site, _, orders = setting
    created = await client.post(
        "/api/sites",
        headers=admin,
        json={
            "customer_id": customer["id"],
            "name": "坏时区站点",
            "address": "郑州",
            "point": {"type": "Point", "coordinates": [113.6, 34.7]},
            "time_zone": zone,
        },
    )
    assert "time_zone" in _field(assert_problem(created, 422, "invalid-input"))
    current = (await client.get(f"/api/sites/{site['id']}", headers=admin)).json()
    patched = await client.patch(
        f"/api/sites/{site['id']}", headers=admin, json={"version": current["version"], "time_zone": zone}
    )
    assert "time_zone" in _field(assert_problem(patched, 422, "invalid-input"))
    engineers = (await client.get("/api/engineers", headers=admin, params={"limit": 1})).json()["items"]
    patched = await client.patch(
        f"/api/engineers/{engineers[0]['id']}",
        headers=admin,
        json={"version": engineers[0]["version"], "time_zone": zone},
    )
    assert "time_zone" in _field(assert_problem(patched, 422, "invalid-input"))
    # Nothing was stored: the site's work orders answer as before.
    order = await client.get(f"/api/work-orders/{orders[0]['id']}", headers=dispatcher)
    assert order.status_code == 200, order.text
    assert order.json()["site"]["time_zone"] == "Asia/Shanghai"


class _Listener(logging.Handler):
    def __init__(self, said: list[logging.LogRecord]) -> None:
        super().__init__(logging.WARNING)
        self.said = said

    def emit(self, record: logging.LogRecord) -> None:
        self.said.append(record)


async def test_a_bad_zone_stored_earlier_reads_as_utc_and_is_reported(client, admin, dispatcher, db, app):
    customer, site = await customer_with_site(client, admin)
    row = await contract(client, admin, customer, kind="7x24")
    unit = await asset(client, admin, site, row)
    order = await report(client, dispatcher, site, unit)
    async with db.begin() as conn:
        await conn.execute(text("UPDATE site SET time_zone = 'Not/AZone' WHERE id = :id"), {"id": site["id"]})
    try:
        one = await client.get(f"/api/work-orders/{order['id']}", headers=dispatcher)
        assert one.status_code == 200, one.text
        assert one.json()["reported_at_local"].endswith("+00:00")
        listed = await client.get("/api/work-orders", headers=dispatcher, params={"limit": 500})
        assert listed.status_code == 200, listed.text
        assert (await report(client, dispatcher, site, unit))["site"]["id"] == site["id"]
        sessions = make_sessionmaker(db)
        async with sessions() as session:
            assert f"site {site['id']}: time zone 'Not/AZone'" in await unknown_zones(session)
        said: list[logging.LogRecord] = []
        listener = _Listener(said)
        logging.getLogger("fieldservice.api").addHandler(listener)
        try:
            await report_unknown_zones(sessions)
        finally:
            logging.getLogger("fieldservice.api").removeHandler(listener)
        assert any(site["id"] in r.getMessage() for r in said)
    finally:
        async with db.begin() as conn:
            await conn.execute(
                text("UPDATE site SET time_zone = 'Asia/Shanghai' WHERE id = :id"), {"id": site["id"]}
            )


async def test_a_cut_off_with_an_offset_of_its_own_is_refused(client, admin, setting):
    customer = setting[0]
    body = {
        "customer_id": customer["id"],
        "contract_number": "SC-CUTOFF-1",
        "name": "截止时间",
        "calendar_kind": "business_hours",
        "starts_on": "2026-01-01",
        "ends_on": "2026-12-31",
        "targets": [
            target("low", "on_site", rule="next_business_day", count_mode="business", cutoff="15:00:00+08:00")
        ],
    }
    response = await client.post("/api/contracts", headers=admin, json=body)
    assert _field(assert_problem(response, 422, "invalid-input")) == {"targets[0].cutoff"}
