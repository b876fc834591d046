"""The customer's confirmation and satisfaction survey: a one-time link sent after signing.

The link carries a random token (32 bytes, URL-safe); only its SHA-256 is stored, so the database
never holds a usable link. The token finds exactly one survey, bound to one work order and its
signed report: nothing else is reachable with it. It answers once, within 7 days.

Closing rules. A signature (on site, a stamped form, or a remote confirmation) already confirms the
completion, so a signed order may be closed as before; the survey stays open for the ratings.
Confirming through the link closes a still-signed order. A complaint reopens the order for review
(signed and closed orders may move to `reopened`; an order already reopened, or elsewhere in its
lifecycle, keeps its status and the complaint is recorded on its timeline), and the supervisors
are notified. A survey unanswered for 7 days is recorded as confirmed by default by the worker
(and a still-signed order is closed), once.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from completion.errors import SurveyExpired, SurveyUnknown, SurveyUsed
from completion.models import CustomerSurvey, ReportSignature, ServiceReport
from core.clock import Clock
from core.errors import field_error
from core.identity.roles import SYSTEM, Actor, Role
from core.identity.tokens import secret_digest
from dispatch.messaging.notifications import notify
from dispatch.messaging.outbox import enqueue
from dispatch.work_orders import service as work_orders
from dispatch.work_orders.models import Status, WorkOrder

LIFETIME = dt.timedelta(days=7)
TOKEN_BYTES = 32
# Reopened for review from these; other statuses keep theirs (the complaint is still recorded).
REOPENABLE = frozenset({Status.SIGNED, Status.CLOSED, Status.RESOLVED, Status.REMOTE_FIX})
RATINGS = ("timeliness", "attitude", "result_rating", "overall")
MAX_TEXT = 2000
SWEEP_BATCH = 100


def link(token: str) -> str:
    """The page's address; FSD_PUBLIC_URL is where customers reach the server (as the PDF's QR code)."""
    base = os.environ.get("FSD_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
    return f"{base}/s/{token}"


def _recipient(order: WorkOrder, signature: ReportSignature) -> tuple[str, str]:
    """The signer's phone, else their e-mail, else the order's on-site contact: (channel, address)."""
    if signature.signer_phone:
        return "sms", signature.signer_phone
    if signature.signer_email:
        return "email", signature.signer_email
    return "sms", order.contact_phone


async def invite(
    session: AsyncSession,
    now: dt.datetime,
    order: WorkOrder,
    report: ServiceReport,
    signature: ReportSignature,
) -> str | None:
    """At the order's first signing (in its transaction): the survey and its outbox message.
    Returns the token (only ever in the message), or None when the order already has a survey
    (a corrected report signed again does not ask the customer twice)."""
    exists = await session.scalar(select(CustomerSurvey.id).where(CustomerSurvey.work_order_id == order.id))
    if exists is not None:
        return None
    token = secrets.token_urlsafe(TOKEN_BYTES)
    channel, recipient = _recipient(order, signature)
    session.add(
        CustomerSurvey(
            id=uuid.uuid4(),
            work_order_id=order.id,
            report_id=report.id,
            token_sha256=secret_digest(token),
            channel=channel,
            recipient=recipient,
            created_at=now,
            expires_at=now + LIFETIME,
        )
    )
    await enqueue(
        session,
        now,
        channel=channel,
        recipient=recipient,
        subject=f"{order.problem_number} 服务确认与满意度调查",
        body=f"{signature.signer_name}您好：您报修的问题（{order.problem_number}）已处理完毕。"
        f"请通过以下链接查看服务报告、确认完成并评价我们的服务（7 天内有效，仅可提交一次）："
        f"{link(token)}",
        order_id=order.id,
        dedupe_key=f"survey:{order.id}",
    )
    return token


@dataclass(frozen=True)
class Opened:
    survey: CustomerSurvey
    order: WorkOrder
    report: ServiceReport


async def open_survey(session: AsyncSession, now: dt.datetime, token: str, *, lock: bool = False) -> Opened:
    """The survey this token names, if it is still answerable; else the problem the page shows."""
    survey = await session.scalar(
        select(CustomerSurvey)
        .where(CustomerSurvey.token_sha256 == secret_digest(token))
        .with_for_update(of=CustomerSurvey)
        .execution_options(populate_existing=True)
        if lock
        else select(CustomerSurvey).where(CustomerSurvey.token_sha256 == secret_digest(token))
    )
    if survey is None:
        raise SurveyUnknown("No survey has this link")
    if survey.answered_at is not None and survey.outcome != "confirmed_by_default":
        raise SurveyUsed(
            "This link was already used to answer the survey; thank you", answered_at=survey.answered_at
        )
    if now >= survey.expires_at or survey.outcome == "confirmed_by_default":
        raise SurveyExpired("This link was valid for 7 days and has expired", expired_at=survey.expires_at)
    order = await session.get(WorkOrder, survey.work_order_id)
    report = await session.get(ServiceReport, survey.report_id)
    assert order is not None  # foreign keys
    assert report is not None
    return Opened(survey, order, report)


@dataclass(frozen=True)
class Answer:
    confirmed: bool
    timeliness: int | None = None
    attitude: int | None = None
    result_rating: int | None = None
    overall: int | None = None
    comment: str | None = None
    complaint: str | None = None


def _check(answer: Answer) -> None:
    complaint = (answer.complaint or "").strip()
    if answer.confirmed == bool(complaint):
        raise field_error("complaint", "either confirm the completion, or describe the complaint")
    for name in RATINGS:
        value = getattr(answer, name)
        if value is not None and not 1 <= value <= 5:
            raise field_error(name, "a rating from 1 to 5")
    if answer.confirmed and answer.overall is None:
        raise field_error("overall", "the overall rating, 1 to 5")
    for name in ("comment", "complaint"):
        text = getattr(answer, name)
        if text is not None and len(text) > MAX_TEXT:
            raise field_error(name, f"at most {MAX_TEXT} characters")


async def answer(session: AsyncSession, clock: Clock, token: str, given: Answer) -> CustomerSurvey:
    """Store the customer's answer, once; a complaint reopens the order and tells the supervisors."""
    _check(given)
    now = clock.now()
    opened = await open_survey(session, now, token, lock=True)
    survey, order = opened.survey, opened.order
    survey.answered_at = now
    survey.outcome = "confirmed" if given.confirmed else "complaint"
    survey.timeliness, survey.attitude = given.timeliness, given.attitude
    survey.result_rating, survey.overall = given.result_rating, given.overall
    survey.comment = (given.comment or "").strip() or None
    survey.complaint = (given.complaint or "").strip() or None
    data: dict[str, object] = {"survey_id": str(survey.id), "overall": given.overall}
    if given.confirmed:
        work_orders.add_event(session, order, SYSTEM, now, "survey_confirmed", data=data)
        work_orders.confirm_restore(
            session, order, SYSTEM, now, work_orders.Confirmation("survey", None, survey.channel, None)
        )
        await _close_if_signed(session, clock, order, "confirmed by the customer through the survey")
    else:
        work_orders.add_event(
            session, order, SYSTEM, now, "survey_complaint", note=survey.complaint, data=data
        )
        if order.status in REOPENABLE:
            await work_orders.transition(
                session,
                _customer(order),
                clock,
                order.id,
                order.version,
                Status.REOPENED,
                note="customer complaint",
            )
        await notify(
            session,
            now,
            kind="customer_complaint",
            audience="supervisor",
            order_id=order.id,
            message=f"{order.problem_number}: customer complaint — {(survey.complaint or '')[:200]}",
            dedupe_key=f"complaint:{survey.id}",
            data={"survey_id": str(survey.id)},
        )
    await session.flush()
    return survey


def _customer(order: WorkOrder) -> Actor:
    """The link's holder acts as the order's customer: the moves a customer contact may make
    (close, reopen), under the same rules, with no user of ours named on the timeline."""
    return Actor(
        user_id=None, role=Role.CUSTOMER_CONTACT, username="customer survey", customer_id=order.customer_id
    )


async def _close_if_signed(session: AsyncSession, clock: Clock, order: WorkOrder, note: str) -> None:
    if order.status is Status.SIGNED:
        await work_orders.transition(
            session, _customer(order), clock, order.id, order.version, Status.CLOSED, note=note
        )


async def confirm_unanswered(session: AsyncSession, clock: Clock, actor: Actor = SYSTEM) -> int:
    """Surveys past their 7 days without an answer are recorded as confirmed by default (once:
    the outcome is set in the same transaction); a still-signed order closes."""
    now = clock.now()
    rows = await session.execute(
        select(CustomerSurvey)
        .where(CustomerSurvey.outcome.is_(None), CustomerSurvey.expires_at <= now)
        .order_by(CustomerSurvey.expires_at)
        .limit(SWEEP_BATCH)
        .with_for_update(skip_locked=True)
    )
    done = 0
    for survey in rows.scalars():
        survey.outcome, survey.answered_at = "confirmed_by_default", now
        order = await session.get(WorkOrder, survey.work_order_id, with_for_update=True)
        assert order is not None
        work_orders.add_event(
            session,
            order,
            actor,
            now,
            "survey_confirmed_by_default",
            note="no answer to the customer survey in 7 days: confirmed by default",
            data={"survey_id": str(survey.id)},
        )
        await _close_if_signed(session, clock, order, "confirmed by default (no answer in 7 days)")
        done += 1
    await session.flush()
    return done
