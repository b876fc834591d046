"""The customer's one-time survey link: sent through the outbox when the report is signed, it shows
the signed report, answers once, expires after 7 days, reaches nothing but its own order; a
complaint reopens the order and tells the supervisors; silence for 7 days is a confirmation by
default, once."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from typing import Any

import psycopg
import pytest

from api.log_redaction import SurveyTokenFilter, redact
from api.routes import survey as survey_routes
from tests.api.test_reports import _ok, resolved_visit, sign_strokes
from tests.api.test_sync_field import Phone
from tests.support.api import assert_problem, auth_headers
from tests.support.db import watch_once

ENGINEER = "engineer05"
LINK = re.compile(r"/s/([A-Za-z0-9_-]{43})\b")


@pytest.fixture(scope="module")
def dsn(demo_db: str) -> str:
    return demo_db.replace("postgresql+asyncpg://", "postgresql://")


@pytest.fixture(scope="module")
async def phone(client, clock) -> Phone:
    return await Phone(client, ENGINEER, clock).start()


def outbox(dsn: str, order_id: str) -> list[dict[str, Any]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT channel, recipient, subject, body, dedupe_key FROM outbox_message"
            " WHERE work_order_id = %s AND dedupe_key LIKE 'survey:%%'",
            (order_id,),
        ).fetchall()
    return [
        dict(zip(("channel", "recipient", "subject", "body", "dedupe_key"), r, strict=True)) for r in rows
    ]


def stored_survey(dsn: str, order_id: str) -> dict[str, Any]:
    with psycopg.connect(dsn) as conn:
        cursor = conn.execute("SELECT * FROM customer_survey WHERE work_order_id = %s", (order_id,))
        names = [c.name for c in cursor.description or []]
        row = cursor.fetchone()
    assert row is not None
    return dict(zip(names, row, strict=True))


def timeline_kinds(dsn: str, order_id: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT kind, to_status FROM work_order_event WHERE work_order_id = %s ORDER BY id", (order_id,)
        ).fetchall()
    return [f"{k}:{s}" if s else k for k, s in rows]


async def signed_order(
    client, admin, dispatcher, clock, phone, dsn: str, **sign_extra: Any
) -> dict[str, Any]:
    """A repair resolved, its report drafted and signed on site: returns the world and the token
    read from the message the customer was sent."""
    world = await resolved_visit(client, admin, dispatcher, clock, phone)
    draft = await _ok(
        await client.post(f"/api/visits/{world['visit']['id']}/report", headers=phone.headers), 201
    )
    world["report"] = await _ok(await sign_strokes(client, phone, draft, **sign_extra))
    messages = outbox(dsn, world["order"]["id"])
    assert len(messages) == 1, messages
    world["message"] = messages[0]
    found = LINK.search(messages[0]["body"])
    assert found, messages[0]["body"]
    world["token"] = found.group(1)
    return world


async def _status(client, headers, order_id: str) -> str:
    order = await _ok(await client.get(f"/api/work-orders/{order_id}", headers=headers))
    return str(order["status"])


RATED = {"confirmed": True, "timeliness": 5, "attitude": 4, "result": 5, "overall": 5, "comment": "很满意"}


async def test_signing_sends_one_link_whose_token_is_stored_only_hashed(
    client, admin, dispatcher, clock, phone, dsn
):
    world = await signed_order(client, admin, dispatcher, clock, phone, dsn)
    message, token = world["message"], world["token"]
    # To the signer's phone, in Chinese, with the problem number and the 7 days.
    assert (message["channel"], message["recipient"]) == ("sms", "13800000001")
    assert world["order"]["problem_number"] in message["subject"]
    assert "李伟您好" in message["body"]
    assert "7 天内有效" in message["body"]
    assert message["body"].count(f"/s/{token}") == 1
    survey = stored_survey(dsn, world["order"]["id"])
    assert survey["token_sha256"] == hashlib.sha256(token.encode()).hexdigest()
    assert survey["expires_at"] - survey["created_at"] == dt.timedelta(days=7)
    with psycopg.connect(dsn) as conn:
        # Nowhere in the database is the token itself, except the message that carries it; the
        # audit trail records the outbox row without its body.
        (in_audit,) = conn.execute(
            "SELECT count(*) FROM audit_log WHERE changes::text LIKE %s", (f"%{token}%",)
        ).fetchone() or (None,)
        assert in_audit == 0
        (actions,) = conn.execute(
            "SELECT count(*) FROM audit_log WHERE action LIKE %s", (f"%{token}%",)
        ).fetchone() or (None,)
        assert actions == 0


async def test_the_page_shows_the_signed_report_and_answers_once(
    client, admin, dispatcher, clock, phone, dsn
):
    world = await signed_order(client, admin, dispatcher, clock, phone, dsn)
    token, order = world["token"], world["order"]
    page = await client.get(f"/s/{token}")
    assert page.status_code == 200
    assert 'src="/survey.js"' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    summary = await _ok(await client.get(f"/api/survey/{token}"))
    assert summary["problem_number"] == order["problem_number"]
    assert summary["report_hash"] == world["report"]["hash"]
    assert summary["customer"] == world["report"]["content"]["customer"]["name"]
    assert summary["signed_by"] == "李伟"
    assert [e["name"] for e in summary["engineers"]] == [
        e["name"] for e in world["report"]["content"]["engineers"]
    ]
    pdf = await client.get(summary["pdf"])
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    assert pdf.headers["x-content-sha256"] == world["report"]["archive"]["sha256"]

    # Ratings out of range, or neither a confirmation nor a complaint, change nothing.
    assert_problem(
        await client.post(f"/api/survey/{token}", json={**RATED, "overall": 6}), 422, "invalid-input"
    )
    assert_problem(await client.post(f"/api/survey/{token}", json={"confirmed": False}), 422, "invalid-input")
    answered = await _ok(await client.post(f"/api/survey/{token}", json=RATED))
    assert answered["outcome"] == "confirmed"
    stored = stored_survey(dsn, order["id"])
    assert (stored["timeliness"], stored["attitude"], stored["result_rating"], stored["overall"]) == (
        5,
        4,
        5,
        5,
    )
    assert (stored["comment"], stored["outcome"]) == ("很满意", "confirmed")
    # The customer's confirmation closes the signed order, and the timeline says why.
    assert await _status(client, admin, order["id"]) == "closed"
    assert timeline_kinds(dsn, order["id"])[-2:] == ["survey_confirmed", "status:closed"]

    # The link answered once: a second answer, a read and the PDF are all refused as used.
    again = await client.post(f"/api/survey/{token}", json={**RATED, "overall": 1})
    assert_problem(again, 410, "survey-used")
    assert_problem(await client.get(f"/api/survey/{token}"), 410, "survey-used")
    assert_problem(await client.get(f"/api/survey/{token}/pdf"), 410, "survey-used")
    assert stored_survey(dsn, order["id"])["overall"] == 5


async def test_a_token_reaches_only_its_own_order(client, admin, dispatcher, clock, phone, dsn):
    a = await signed_order(client, admin, dispatcher, clock, phone, dsn)
    b = await signed_order(client, admin, dispatcher, clock, phone, dsn)
    assert a["token"] != b["token"]
    seen_a = await _ok(await client.get(f"/api/survey/{a['token']}"))
    assert seen_a["problem_number"] == a["order"]["problem_number"]
    pdf_a = await client.get(f"/api/survey/{a['token']}/pdf")
    assert pdf_a.headers["x-content-sha256"] == a["report"]["archive"]["sha256"]
    # Answering with A's link changes A only.
    await _ok(await client.post(f"/api/survey/{a['token']}", json=RATED))
    assert stored_survey(dsn, b["order"]["id"])["outcome"] is None
    assert await _status(client, admin, b["order"]["id"]) == "signed"
    # A token that is not one (a changed character, B's hash, nonsense) is unknown.
    wrong = a["token"][:-1] + ("A" if a["token"][-1] != "A" else "B")
    assert_problem(await client.get(f"/api/survey/{wrong}"), 404, "survey-unknown")
    hashed_b = stored_survey(dsn, b["order"]["id"])["token_sha256"]
    assert_problem(await client.get(f"/api/survey/{hashed_b}"), 404, "survey-unknown")
    assert_problem(await client.get("/api/survey/x"), 422)


async def test_a_retried_answer_with_its_idempotency_key_is_replayed_not_refused(
    client, admin, dispatcher, clock, phone, dsn
):
    world = await signed_order(client, admin, dispatcher, clock, phone, dsn)
    headers = {"Idempotency-Key": "survey-answer-1"}
    first = await client.post(f"/api/survey/{world['token']}", json=RATED, headers=headers)
    again = await client.post(f"/api/survey/{world['token']}", json=RATED, headers=headers)
    assert (first.status_code, again.status_code) == (200, 200), again.text
    assert again.headers["idempotency-replayed"] == "true"
    assert again.json() == first.json()
    assert timeline_kinds(dsn, world["order"]["id"]).count("survey_confirmed") == 1


async def test_a_complaint_reopens_the_order_and_tells_the_supervisors(
    client, admin, dispatcher, clock, phone, dsn
):
    world = await signed_order(client, admin, dispatcher, clock, phone, dsn)
    order_id = world["order"]["id"]
    answered = await _ok(
        await client.post(
            f"/api/survey/{world['token']}", json={"confirmed": False, "complaint": "问题未解决，设备仍报警"}
        )
    )
    assert answered["outcome"] == "complaint"
    assert await _status(client, admin, order_id) == "reopened"
    assert timeline_kinds(dsn, order_id)[-2:] == ["survey_complaint", "status:reopened"]
    supervisor = await auth_headers(client, "supervisor")
    listed = await _ok(
        await client.get(
            "/api/notifications",
            headers=supervisor,
            params={"work_order_id": order_id, "audience": "supervisor"},
        )
    )
    complaints = [n for n in listed["items"] if n["kind"] == "customer_complaint"]
    assert len(complaints) == 1, listed
    assert "问题未解决" in complaints[0]["message"]
    assert stored_survey(dsn, order_id)["complaint"] == "问题未解决，设备仍报警"


async def test_silence_for_seven_days_confirms_by_default_once(
    client, admin, dispatcher, clock, phone, dsn, demo_db
):
    world = await signed_order(client, admin, dispatcher, clock, phone, dsn)
    order_id, token = world["order"]["id"], world["token"]
    clock.advance(dt.timedelta(days=7) - dt.timedelta(minutes=1))
    await watch_once(demo_db, clock)
    assert stored_survey(dsn, order_id)["outcome"] is None
    await _ok(await client.get(f"/api/survey/{token}"))  # still open a minute before the end
    clock.advance(dt.timedelta(minutes=1))
    assert_problem(await client.get(f"/api/survey/{token}"), 410, "survey-expired")
    assert_problem(await client.post(f"/api/survey/{token}", json=RATED), 410, "survey-expired")
    await watch_once(demo_db, clock)
    await watch_once(demo_db, clock)  # a second pass changes nothing
    survey = stored_survey(dsn, order_id)
    assert survey["outcome"] == "confirmed_by_default"
    assert survey["overall"] is None
    kinds = timeline_kinds(dsn, order_id)
    assert kinds.count("survey_confirmed_by_default") == 1
    assert kinds[-2:] == ["survey_confirmed_by_default", "status:closed"]
    assert await _status(client, await auth_headers(client, "admin"), order_id) == "closed"
    assert_problem(await client.get(f"/api/survey/{token}"), 410, "survey-expired")


async def test_a_signer_without_a_phone_is_asked_by_email(client, clock, dsn):
    # After the week above the shared sign-ins have expired.
    admin, dispatcher = await auth_headers(client, "admin"), await auth_headers(client, "dispatcher")
    phone = await Phone(client, ENGINEER, clock).start()
    world = await signed_order(
        client, admin, dispatcher, clock, phone, dsn, signer_phone=None, signer_email="li.wei@example.cn"
    )
    assert (world["message"]["channel"], world["message"]["recipient"]) == ("email", "li.wei@example.cn")


def _forget_survey_counts(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute("DELETE FROM rate_window WHERE key LIKE 'survey:%'")


async def test_too_many_requests_from_one_address_are_refused(client, dsn):
    # The counts live in the database (every API process counts against one limit).
    _forget_survey_counts(dsn)
    try:
        for _ in range(survey_routes.PER_WINDOW):
            assert_problem(await client.get("/api/survey/" + "z" * 43), 404, "survey-unknown")
        limited = assert_problem(await client.get("/api/survey/" + "z" * 43), 429, "rate-limited")
        assert limited["retry_after"] >= 1
    finally:
        _forget_survey_counts(dsn)


def test_the_access_log_never_shows_a_survey_token():
    token = "Xy" * 21 + "Z"
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "POST", f"/api/survey/{token}?x=1", "1.1", 200),
        None,
    )
    assert SurveyTokenFilter().filter(record)
    assert token not in record.getMessage()
    assert '"POST /api/survey/…?x=1 HTTP/1.1" 200' in record.getMessage()
    assert token not in redact(f"/s/{token}")
