"""Work-order lifecycle through the API: versions under concurrency, illegal moves, access, bad input."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select, text

from core.clock import ManualClock
from core.database import make_engine, make_sessionmaker
from core.errors import VersionConflict
from core.identity.roles import Actor, Role
from dispatch.work_orders import service as work_orders
from dispatch.work_orders.models import Status, WorkOrderEvent
from tests.support.api import assert_problem, auth_headers
from tests.support.scenario import (
    asset,
    contract,
    customer_with_site,
    engineer_id,
    planned_visit,
    report,
)


@pytest.fixture(scope="module")
async def setting(client, admin):
    customer, site = await customer_with_site(client, admin)
    row = await contract(client, admin, customer, kind="7x24")
    unit = await asset(client, admin, site, row)
    return customer, site, row, unit


async def _count(db, table: str) -> int:
    async with db.connect() as conn:
        return int((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())  # noqa: S608


async def test_intake_fills_warranty_contract_and_numbers(client, dispatcher, setting):
    customer, site, row, unit = setting
    order = await report(client, dispatcher, site, unit)
    assert order["customer_id"] == customer["id"]
    assert order["contract_id"] == row["id"]
    assert order["asset_serial"] == unit["serial"]
    assert order["billable"] is False
    assert order["status"] == "new"
    assert order["archive_id"].startswith(customer["customer_number"] + "-")
    assert {c["measure"] for c in order["clocks"]} == {"response", "on_site", "restore", "permanent_fix"}


async def test_out_of_warranty_is_billable_and_unknown_asset_by_model_and_serial(
    client, admin, dispatcher, setting
):
    _, site, row, _ = setting
    expired = await asset(client, admin, site, row, warranty_end="2025-01-01")
    order = await report(client, dispatcher, site, expired)
    assert order["billable"] is True
    unknown = await report(client, dispatcher, site, None, asset_model="神秘设备", asset_serial="UNKNOWN-1")
    assert unknown["asset_id"] is None
    assert unknown["asset_serial"] == "UNKNOWN-1"


async def test_illegal_transition_names_the_allowed_ones(client, dispatcher, setting):
    _, site, _, unit = setting
    order = await report(client, dispatcher, site, unit)
    response = await client.post(
        f"/api/work-orders/{order['id']}/transitions",
        headers=dispatcher,
        json={"version": order["version"], "to": "closed"},
    )
    body = assert_problem(response, 409, "illegal-transition")
    assert body["current_status"] == "new"
    assert "triaged" in body["allowed"]
    assert "closed" not in body["allowed"]


async def test_stale_version_gets_409_with_the_current_state(client, dispatcher, setting):
    _, site, _, unit = setting
    order = await report(client, dispatcher, site, unit)
    first = await client.post(
        f"/api/work-orders/{order['id']}/transitions",
        headers=dispatcher,
        json={"version": order["version"], "to": "triaged"},
    )
    assert first.status_code == 200, first.text
    stale = await client.post(
        f"/api/work-orders/{order['id']}/transitions",
        headers=dispatcher,
        json={"version": order["version"], "to": "cancelled"},
    )
    body = assert_problem(stale, 409, "version-conflict")
    assert body["current_version"] == first.json()["version"]
    assert body["current_status"] == "triaged"


async def test_remote_fix_then_customer_confirmation_then_close_and_reopen(client, dispatcher, setting):
    _, site, _, unit = setting
    order = await report(client, dispatcher, site, unit)

    async def move(to: str, **extra):
        nonlocal order
        response = await client.post(
            f"/api/work-orders/{order['id']}/transitions",
            headers=dispatcher,
            json={"version": order["version"], "to": to, **extra},
        )
        if response.status_code == 200:
            order = response.json()
        return response

    assert (await move("remote_fix")).status_code == 200
    assert order["restored_at"] is not None
    assert_problem(await move("signed"), 422, "invalid-input")  # needs who confirmed, and how
    assert (await move("signed", confirmed_by="李伟", confirmation_channel="phone")).status_code == 200
    assert (await move("closed")).status_code == 200
    assert (await move("reopened")).status_code == 200
    assert order["repeat_faults"] == 1
    assert order["status"] == "reopened"
    statuses = [(e["from_status"], e["to_status"]) for e in order["timeline"] if e["kind"] == "status"]
    assert statuses == [
        ("new", "remote_fix"),
        ("remote_fix", "signed"),
        ("signed", "closed"),
        ("closed", "reopened"),
    ]


async def _running_clocks(db, order_id: str) -> dict[str, bool]:
    """Each clock of the order by measure: whether it is in the partial index of running clocks
    (not met, not stopped), as the SLA watch reads them."""
    async with db.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT measure::text, met_at IS NULL AND stopped_at IS NULL FROM sla_clock"
                " WHERE work_order_id = :id"
            ),
            {"id": order_id},
        )
        return {str(measure): bool(running) for measure, running in rows}


async def _moved(client, headers, order: dict[str, Any], to: str, **extra: Any) -> dict[str, Any]:
    """The order after a transition that must succeed."""
    moved = await client.post(
        f"/api/work-orders/{order['id']}/transitions",
        headers=headers,
        json={"version": order["version"], "to": to, **extra},
    )
    assert moved.status_code == 200, moved.text
    after: dict[str, Any] = moved.json()
    return after


async def test_closing_or_cancelling_stops_the_clocks_not_met_and_reopening_runs_them(
    client, dispatcher, setting, db
):
    _, site, _, unit = setting
    cancelled = await report(client, dispatcher, site, unit)
    assert any((await _running_clocks(db, cancelled["id"])).values())
    await _moved(client, dispatcher, cancelled, "cancelled")
    assert not any((await _running_clocks(db, cancelled["id"])).values())

    order = await report(client, dispatcher, site, unit)
    signed = {"confirmed_by": "李伟", "confirmation_channel": "phone"}
    for to, extra in (("remote_fix", {}), ("signed", signed), ("closed", {})):
        order = await _moved(client, dispatcher, order, to, **extra)
    # A remote fix meets no on-site target: that clock is stopped with the close, not met.
    unmet = {c["measure"] for c in order["clocks"] if c["met_at"] is None}
    assert unmet
    assert not any((await _running_clocks(db, order["id"])).values())
    await _moved(client, dispatcher, order, "reopened")
    running = await _running_clocks(db, order["id"])
    assert {m for m, on in running.items() if on} == unmet


async def test_a_listed_order_shows_what_its_own_page_shows(client, dispatcher, setting):
    """The list reads its orders past the ORM (each order's clocks as rows of binary values, their
    JSON decoded apart): an order shows there exactly what its own page shows (but the timeline),
    a clock holding the customer's confirmation included."""
    _, site, _, unit = setting
    order = await report(client, dispatcher, site, unit)
    signed = {"confirmed_by": "李伟", "confirmation_channel": "phone"}
    for to, extra in (("remote_fix", {}), ("signed", signed)):
        order = await _moved(client, dispatcher, order, to, **extra)
    listed = (await client.get("/api/work-orders", headers=dispatcher, params={"limit": 500})).json()["items"]
    confirmed = [o for o in listed if o["id"] == order["id"]]
    assert [c["confirmation"]["by"] for c in confirmed[0]["clocks"] if c["confirmation"]] != []
    for shown in [*confirmed, *listed[:8]]:
        page = (await client.get(f"/api/work-orders/{shown['id']}", headers=dispatcher)).json()
        assert shown == {**page, "timeline": None}


async def test_transition_from_a_closed_order_is_refused(client, dispatcher, setting, db):
    _, site, _, unit = setting
    order = await report(client, dispatcher, site, unit)
    order = (
        await client.post(
            f"/api/work-orders/{order['id']}/transitions",
            headers=dispatcher,
            json={"version": order["version"], "to": "cancelled"},
        )
    ).json()
    events = await _count(db, "work_order_event")
    refused = await client.post(
        f"/api/work-orders/{order['id']}/transitions",
        headers=dispatcher,
        json={"version": order["version"], "to": "triaged"},
    )
    assert assert_problem(refused, 409, "illegal-transition")["allowed"] == []
    assert await _count(db, "work_order_event") == events


async def test_concurrent_transitions_have_one_winner_per_version(demo_db, db, dispatcher, client, setting):
    """20 transitions on 20 connections, released together by a barrier."""
    _, site, _, unit = setting
    order = await report(client, dispatcher, site, unit)
    engine = make_engine(demo_db, pool_size=20)
    sessions = make_sessionmaker(engine)
    barrier = asyncio.Barrier(20)
    clock = ManualClock(datetime.fromisoformat(order["reported_at"]))
    actor = Actor(
        user_id=uuid.UUID(order["timeline"][0]["actor_id"]), role=Role.DISPATCHER, username="dispatcher"
    )
    order_id, version = uuid.UUID(order["id"]), order["version"]
    targets = [Status.TRIAGED, Status.CANCELLED, Status.REMOTE_FIX, Status.SCHEDULED] * 5

    async def attempt(target: Status) -> str:
        async with sessions() as session:
            try:
                async with session.begin():
                    await session.execute(text("SELECT 1"))  # holds its own connection
                    await barrier.wait()
                    await work_orders.transition(session, actor, clock, order_id, version, target)
            except VersionConflict:
                return "conflict"
            return target.value

    try:
        outcomes = await asyncio.gather(*(attempt(t) for t in targets))
    finally:
        await engine.dispose()
    winners = [o for o in outcomes if o != "conflict"]
    assert len(winners) == 1
    assert outcomes.count("conflict") == 19
    final = (await client.get(f"/api/work-orders/{order['id']}", headers=dispatcher)).json()
    assert final["version"] == version + 1
    assert final["status"] == winners[0]
    async with db.connect() as conn:
        moves = (
            await conn.execute(
                select(func.count())
                .select_from(WorkOrderEvent)
                .where(
                    WorkOrderEvent.work_order_id == uuid.UUID(order["id"]), WorkOrderEvent.kind == "status"
                )
            )
        ).scalar_one()
    assert moves == 1


@pytest.mark.parametrize(
    "case",
    [
        "unknown_site",
        "foreign_asset",
        "bad_severity",
        "long_description",
        "unknown_field",
        "future_report",
        "no_asset_at_all",
        "customer_mismatch",
    ],
)
async def test_bad_intake_is_4xx_and_writes_nothing(client, admin, dispatcher, setting, db, case):
    _, site, _, unit = setting
    _, other_site = await customer_with_site(client, admin)
    other_contract = await contract(client, admin, {"id": other_site["customer_id"]}, kind="7x24")
    other_asset = await asset(client, admin, other_site, other_contract)
    body = {
        "site_id": site["id"],
        "asset_id": unit["id"],
        "contact_name": "李伟",
        "contact_phone": "13800000001",
        "fault_description": "宕机",
        "severity": "critical",
        "channel": "phone",
    }
    if case == "unknown_site":
        body["site_id"] = str(uuid.uuid4())
    elif case == "foreign_asset":
        body["asset_id"] = other_asset["id"]
    elif case == "bad_severity":
        body["severity"] = "apocalyptic"
    elif case == "long_description":
        body["fault_description"] = "坏" * 4001
    elif case == "unknown_field":
        body["priority"] = "asap"
    elif case == "future_report":
        body["reported_at"] = "2099-01-01T00:00:00+08:00"
    elif case == "no_asset_at_all":
        del body["asset_id"]
    elif case == "customer_mismatch":
        body["customer_id"] = other_site["customer_id"]
    before = (
        await _count(db, "work_order"),
        await _count(db, "sla_clock"),
        await _count(db, "work_order_event"),
    )
    response = await client.post("/api/work-orders", headers=dispatcher, json=body)
    assert 400 <= response.status_code < 500, response.text
    assert_problem(response, response.status_code)
    after = (
        await _count(db, "work_order"),
        await _count(db, "sla_clock"),
        await _count(db, "work_order_event"),
    )
    assert after == before


async def test_customer_contact_reports_and_reads_only_their_own(client, admin, dispatcher):
    contact = await auth_headers(client, "customer01")
    me = (await client.get("/api/users/me", headers=contact)).json()
    own_site = (await client.get("/api/sites", headers=contact, params={"limit": 1})).json()["items"][0]
    mine = await report(client, contact, own_site, None, asset_model="S5735", asset_serial="CUST-SELF-1")
    assert mine["customer_id"] == me["customer_id"]
    _, foreign_site = await customer_with_site(client, admin)
    refused = await client.post(
        "/api/work-orders",
        headers=contact,
        json={
            "site_id": foreign_site["id"],
            "asset_model": "x",
            "asset_serial": "y",
            "contact_name": "a",
            "contact_phone": "13800000000",
            "fault_description": "z",
            "severity": "low",
            "channel": "web",
        },
    )
    assert_problem(refused, 404, "not-found")
    foreign = await report(client, dispatcher, foreign_site, None, asset_model="m", asset_serial="FOREIGN-1")
    assert_problem(await client.get(f"/api/work-orders/{foreign['id']}", headers=contact), 404)
    listed = (await client.get("/api/work-orders", headers=contact, params={"limit": 500})).json()["items"]
    assert listed
    assert {o["customer_id"] for o in listed} == {me["customer_id"]}
    # customers confirm and close, they do not dispatch
    cancel = await client.post(
        f"/api/work-orders/{mine['id']}/transitions",
        headers=contact,
        json={"version": mine["version"], "to": "cancelled"},
    )
    assert_problem(cancel, 403, "forbidden")


async def test_engineer_sees_only_orders_with_their_visits(client, dispatcher, setting):
    _, site, _, unit = setting
    assigned = await report(client, dispatcher, site, unit)
    other = await report(client, dispatcher, site, unit)
    engineer = await engineer_id(client, dispatcher, "engineer03")
    visit = await planned_visit(client, dispatcher, assigned, engineer)
    headers = await auth_headers(client, "engineer03")
    ids = {o["id"] for o in (await client.get("/api/work-orders", headers=headers)).json()["items"]}
    assert assigned["id"] in ids
    assert other["id"] not in ids
    assert_problem(await client.get(f"/api/work-orders/{other['id']}", headers=headers), 404)
    assert (await client.get(f"/api/work-orders/{assigned['id']}", headers=headers)).status_code == 200
    mine = (await client.get("/api/engineers/me/visits", headers=headers)).json()["items"]
    assert [v["id"] for v in mine] == [visit["id"]]
    # another engineer cannot act on it
    intruder = await auth_headers(client, "engineer04")
    assert_problem(await client.post(f"/api/visits/{visit['id']}/arrive", headers=intruder, json={}), 404)


async def test_list_filters_and_sorts_by_deadline(client, admin, dispatcher, setting):
    _, site, _, unit = setting
    low = await report(client, dispatcher, site, unit, severity="medium")
    critical = await report(client, dispatcher, site, unit, severity="critical")
    items = (
        await client.get(
            "/api/work-orders",
            headers=dispatcher,
            params={"customer_id": setting[0]["id"], "open_only": "true", "limit": 500},
        )
    ).json()
    ids = [o["id"] for o in items["items"]]
    assert ids.index(critical["id"]) < ids.index(low["id"])
    by_number = (
        await client.get("/api/work-orders", headers=dispatcher, params={"q": critical["problem_number"]})
    ).json()["items"]
    assert [o["id"] for o in by_number] == [critical["id"]]
    by_serial = (
        await client.get("/api/work-orders", headers=dispatcher, params={"q": unit["serial"]})
    ).json()
    assert critical["id"] in {o["id"] for o in by_serial["items"]}
    severe = (
        await client.get(
            "/api/work-orders",
            headers=dispatcher,
            params={"severity": "medium", "customer_id": setting[0]["id"]},
        )
    ).json()["items"]
    assert {o["severity"] for o in severe} == {"medium"}
    lon, lat = site["point"]["coordinates"]
    near = (
        await client.get(
            "/api/work-orders",
            headers=dispatcher,
            params={"bbox": f"{lon - 0.01},{lat - 0.01},{lon + 0.01},{lat + 0.01}", "limit": 500},
        )
    ).json()["items"]
    assert critical["id"] in {o["id"] for o in near}
    far = (
        await client.get("/api/work-orders", headers=dispatcher, params={"bbox": "100,20,100.1,20.1"})
    ).json()["items"]
    assert far == []
