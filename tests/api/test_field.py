"""Positions with consent and only on shift; customer messages; compliance raw vs contractual."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from routing.geo import wgs84_to_gcj02
from tests.support.api import assert_problem, auth_headers
from tests.support.db import watch_once
from tests.support.scenario import asset, contract, customer_with_site, engineer_id, report

SH = ZoneInfo("Asia/Shanghai")
# A Monday 10:00 in Zhengzhou: engineer02 (Mon–Fri shifts) is on shift.
MONDAY_10 = datetime(2026, 3, 9, 10, 0, tzinfo=SH)


@pytest.fixture
async def monday(clock):
    start = clock.now()
    clock.set(MONDAY_10.astimezone(UTC))
    yield clock
    clock.set(start)


async def test_positions_need_consent_and_a_shift(client, monday, db):
    engineer = await auth_headers(client, "engineer02")
    fix = {"at": MONDAY_10.isoformat(), "point": {"type": "Point", "coordinates": [113.66, 34.76]}}
    assert_problem(
        await client.post("/api/engineers/me/positions", headers=engineer, json={"positions": [fix]}),
        403,
        "forbidden",
    )
    consent = await client.post("/api/engineers/me/position-consent", headers=engineer)
    assert consent.status_code == 200
    gcj = wgs84_to_gcj02(113.66, 34.76)
    batch = [
        fix,
        {
            "at": (MONDAY_10 - timedelta(minutes=5)).isoformat(),
            "datum": "gcj02",
            "point": {"type": "Point", "coordinates": list(gcj)},
        },
        {
            "at": datetime(2026, 3, 8, 23, 0, tzinfo=SH).isoformat(),  # Sunday night: off shift
            "point": {"type": "Point", "coordinates": [113.7, 34.8]},
        },
    ]
    stored = await client.post("/api/engineers/me/positions", headers=engineer, json={"positions": batch})
    assert stored.json() == {"accepted": 2, "ignored_off_shift": 1}
    async with db.connect() as conn:
        rows = (
            await conn.execute(
                text("SELECT ST_X(point::geometry), ST_Y(point::geometry) FROM engineer_position ORDER BY at")
            )
        ).all()
    assert len(rows) == 2
    for lon, lat in rows:  # the GCJ-02 fix came back to WGS-84 within a metre or so
        assert abs(lon - 113.66) < 2e-5
        assert abs(lat - 34.76) < 2e-5
    assert (await client.delete("/api/engineers/me/position-consent", headers=engineer)).status_code == 200
    assert_problem(
        await client.post("/api/engineers/me/positions", headers=engineer, json={"positions": [fix]}), 403
    )


async def test_the_map_shows_where_consenting_engineers_on_shift_are_and_the_read_is_audited(
    client, monday, db
):
    dispatcher = await auth_headers(client, "dispatcher")
    here, silent = await auth_headers(client, "engineer05"), await auth_headers(client, "engineer06")
    assert (await client.post("/api/engineers/me/position-consent", headers=here)).status_code == 200
    fix = {"point": {"type": "Point", "coordinates": [113.70, 34.75]}, "accuracy_m": 12.0}
    for at in (MONDAY_10 - timedelta(minutes=20), MONDAY_10 - timedelta(minutes=4)):
        batch = {"positions": [{**fix, "at": at.isoformat()}]}
        assert (await client.post("/api/engineers/me/positions", headers=here, json=batch)).status_code == 200
    shown = await client.get("/api/engineers/positions", headers=dispatcher)
    assert shown.status_code == 200, shown.text
    mine = [p for p in shown.json()["items"] if p["username"] == "engineer05"]
    assert len(mine) == 1, "the latest fix only"
    assert mine[0]["name"] != "engineer05"  # the display name
    assert mine[0]["point"] == [113.70, 34.75]
    assert mine[0]["age_seconds"] == 240
    assert mine[0]["accuracy_m"] == 12.0
    assert all(p["username"] != "engineer06" for p in shown.json()["items"])  # never consented
    async with db.connect() as conn:
        reads = (
            await conn.execute(
                text("SELECT count(*) FROM audit_log WHERE reads::text LIKE '%engineer.position%'")
            )
        ).scalar_one()
    assert reads >= 1
    # Consent withdrawn: off the map at once.
    assert (await client.delete("/api/engineers/me/position-consent", headers=here)).status_code == 200
    after = (await client.get("/api/engineers/positions", headers=dispatcher)).json()["items"]
    assert all(p["username"] != "engineer05" for p in after)
    assert_problem(await client.get("/api/engineers/positions", headers=silent), 403)


async def test_appointment_confirmation_and_late_notice_go_to_the_outbox(client, monday, db, demo_db):
    admin = await auth_headers(client, "admin")
    dispatcher = await auth_headers(client, "dispatcher")
    customer, site = await customer_with_site(client, admin)
    row = await contract(client, admin, customer, kind="7x24")
    order = await report(client, dispatcher, site, await asset(client, admin, site, row))
    engineer = await engineer_id(client, dispatcher, "engineer05")
    appointment = MONDAY_10 + timedelta(hours=2)
    visit = (
        await client.post(
            f"/api/work-orders/{order['id']}/visits",
            headers=dispatcher,
            json={"kind": "repair", "duration_minutes": 60},
        )
    ).json()
    assigned = await client.put(
        f"/api/visits/{visit['id']}/assignment",
        headers=dispatcher,
        json={"version": visit["version"], "engineer_id": engineer, "planned_start": appointment.isoformat()},
    )
    assert assigned.status_code == 200, assigned.text
    async with db.connect() as conn:
        bodies = (
            (
                await conn.execute(
                    text("SELECT body FROM outbox_message WHERE work_order_id = :id ORDER BY created_at"),
                    {"id": order["id"]},
                )
            )
            .scalars()
            .all()
        )
    assert any("12:00" in b and "上门服务" in b for b in bodies)

    monday.advance(timedelta(hours=2, minutes=30))  # 30 minutes past the appointment, nobody arrived
    await watch_once(demo_db, monday)
    await watch_once(demo_db, monday)
    async with db.connect() as conn:
        late = (
            (
                await conn.execute(
                    text(
                        "SELECT body FROM outbox_message"
                        " WHERE work_order_id = :id AND dedupe_key LIKE 'late:%'"
                    ),
                    {"id": order["id"]},
                )
            )
            .scalars()
            .all()
        )
    assert len(late) == 1
    assert "抱歉" in late[0]


async def test_compliance_shows_raw_and_contractual(client, monday):
    admin = await auth_headers(client, "admin")
    dispatcher = await auth_headers(client, "dispatcher")
    customer, site = await customer_with_site(client, admin)
    row = await contract(client, admin, customer, kind="7x24")
    order = await report(client, dispatcher, site, await asset(client, admin, site, row))
    declined = await client.post(
        f"/api/work-orders/{order['id']}/backup-offers",
        headers=dispatcher,
        json={
            "unit_description": "备机 PowerEdge R740 SN-BK-01",
            "declined": True,
            "declined_by": "王经理",
            "evidence": "电话录音 REC-0309-01",
        },
    )
    assert declined.status_code == 201, declined.text
    monday.advance(timedelta(hours=49))
    dispatcher = await auth_headers(client, "dispatcher")
    rows = (
        await client.get(
            "/api/reports/sla-compliance",
            headers=dispatcher,
            params={
                "since": (MONDAY_10 - timedelta(hours=1)).isoformat(),
                "until": (MONDAY_10 + timedelta(days=3)).isoformat(),
                "customer_id": customer["id"],
            },
        )
    ).json()["groups"][0]["measures"]
    restore = next(r for r in rows if r["measure"] == "restore")
    assert restore["breached"] == 1
    assert restore["customer_excused"] == 1
    assert restore["raw_compliance"] == 0.0
    assert restore["contractual_compliance"] == 1.0
