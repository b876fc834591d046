"""The customer survey behind the one-time link: public (the token is the credential), rate
limited per client address. The audit trail records these calls by their route template
(`/api/survey/{token}`), never the token itself."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import JSONBody, PathParameter

from api.auth import PUBLIC, app_context
from api.params import AppClock, Session
from api.schemas.survey import EngineerTimes, SurveyAnswerOut, SurveyIn, SurveyOut
from completion import signing, survey
from completion.errors import ReportNotSigned
from core import rate_limits

# A token is 43 URL-safe characters; anything else cannot be one.
Token = Annotated[str, PathParameter(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]
WINDOW_SECONDS = 60.0
PER_WINDOW = 60


# Documented in the OpenAPI: what a link that is not (or no longer) usable answers.
TOKEN_PROBLEMS = {404: ("survey-unknown", "route-not-found"), 410: ("survey-expired", "survey-used")}


async def _limit(request: Request[Any, Any, Any], session: Session, now: dt.datetime) -> None:
    """Requests per client address, counted across every API process: enough to make guessing
    tokens pointless (they are 256-bit) and to keep one client from hammering the page."""
    address = app_context(request).trusted_proxies.client(request.scope)
    await rate_limits.hit(
        session,
        f"survey:{address}",
        now,
        limit=PER_WINDOW,
        window=dt.timedelta(seconds=WINDOW_SECONDS),
        message="Too many survey requests from this address; wait a minute",
    )


@get(
    "/api/survey/{token:str}",
    roles=PUBLIC,
    tags=["survey"],
    throttled=True,
    problems=TOKEN_PROBLEMS,
    summary="The signed report's summary for the customer's one-time survey link",
)
async def read_survey(
    request: Request[Any, Any, Any], session: Session, clock: AppClock, token: Token
) -> SurveyOut:
    await _limit(request, session, clock.now())
    opened = await survey.open_survey(session, clock.now(), token)
    report = opened.report
    doc: dict[str, Any] = json.loads(report.signed_canonical or "{}") or dict(report.content)
    signature = await signing.signature_of(session, report.id)
    archive = await signing.archive_of(session, report.id)
    asset = doc.get("asset") or {}
    return SurveyOut(
        problem_number=str(doc.get("problem_number") or opened.order.problem_number),
        title=str(doc.get("title") or ""),
        customer=str((doc.get("customer") or {}).get("name") or ""),
        site=str((doc.get("site") or {}).get("name") or ""),
        asset_model=asset.get("model"),
        asset_serial=asset.get("serial"),
        fault_reported=doc.get("fault_reported"),
        result=doc.get("result"),
        engineers=[
            EngineerTimes(
                name=e.get("name", ""), arrived_at=e.get("arrived_at"), departed_at=e.get("departed_at")
            )
            for e in doc.get("engineers") or []
        ],
        signed_by=signature.signer_name if signature else None,
        signed_at=report.signed_at,
        report_hash=report.signed_hash,
        expires_at=opened.survey.expires_at,
        pdf=f"/api/survey/{token}/pdf" if archive else None,
    )


@get(
    "/api/survey/{token:str}/pdf",
    roles=PUBLIC,
    tags=["survey"],
    throttled=True,
    problems=TOKEN_PROBLEMS,
    media_type="application/pdf",
    summary="The signed report's archived PDF, for the survey link's holder",
)
async def survey_pdf(
    request: Request[Any, Any, Any], session: Session, clock: AppClock, token: Token
) -> Response[bytes]:
    await _limit(request, session, clock.now())
    opened = await survey.open_survey(session, clock.now(), token)
    archive = await signing.archive_of(session, opened.report.id)
    if archive is None:
        raise ReportNotSigned(
            "The PDF is made when the report is signed", current_status=opened.report.status
        )
    return Response(
        archive.pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{archive.archive_number}.pdf"',
            "X-Content-SHA256": archive.sha256,
        },
    )


@post(
    "/api/survey/{token:str}",
    roles=PUBLIC,
    tags=["survey"],
    throttled=True,
    problems=TOKEN_PROBLEMS,
    status_code=200,
    summary="Confirm and rate, or complain: once per link, within 7 days",
)
async def answer_survey(
    request: Request[Any, Any, Any],
    session: Session,
    clock: AppClock,
    token: Token,
    data: JSONBody[SurveyIn],
) -> SurveyAnswerOut:
    await _limit(request, session, clock.now())
    stored = await survey.answer(
        session,
        clock,
        token,
        survey.Answer(
            confirmed=data.confirmed,
            timeliness=data.timeliness,
            attitude=data.attitude,
            result_rating=data.result,
            overall=data.overall,
            comment=data.comment,
            complaint=data.complaint,
        ),
    )
    assert stored.outcome is not None
    assert stored.answered_at is not None
    return SurveyAnswerOut(outcome=stored.outcome, answered_at=stored.answered_at)


ROUTES = [read_survey, survey_pdf, answer_survey]
