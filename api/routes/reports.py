"""Service reports: drafted by the engineer from the visit, signed by the customer, verified and
downloaded as the archived PDF by staff and by the customer's own contacts."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Response, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import DESK
from api.params import AppClock, CurrentActor, Cursor, Limit, Session
from api.schemas.common import GeoPoint, given
from api.schemas.reports import (
    ArchiveOut,
    Difference,
    ReportOut,
    ReportPage,
    ReportPatch,
    SignatureOut,
    SignIn,
    VerificationOut,
)
from completion import drafting, signing, verify
from completion.errors import ReportNotSigned
from completion.models import ServiceReport
from core.identity.roles import Role
from core.pagination import list_page

READERS = DESK | {Role.ENGINEER, Role.CUSTOMER_CONTACT}
ENGINEERS = frozenset({Role.ENGINEER})


async def report_out(session: AsyncSession, report: ServiceReport) -> ReportOut:
    text, digest = await signing.shown(session, report)
    signature = await signing.signature_of(session, report.id)
    archive = await signing.archive_of(session, report.id)
    return ReportOut(
        id=report.id,
        work_order_id=report.work_order_id,
        visit_id=report.visit_id,
        form=report.form,
        title=drafting.TITLES[report.form],
        version=report.version,
        supersedes_id=report.supersedes_id,
        status=report.status,
        revision=report.revision,
        content=report.content,
        hash=digest,
        canonical=text,
        created_at=report.created_at,
        updated_at=report.updated_at,
        signed_at=report.signed_at,
        signature=None
        if signature is None
        else SignatureOut(
            kind=signature.kind,
            report_hash=signature.report_hash,
            signer_name=signature.signer_name,
            signer_role=signature.signer_role,
            signer_phone=signature.signer_phone,
            signer_email=signature.signer_email,
            signed_at=signature.signed_at,
            device_at=signature.device_at,
            location=None
            if signature.longitude is None or signature.latitude is None
            else GeoPoint(type="Point", coordinates=(signature.longitude, signature.latitude)),
            image_sha256=signature.image_sha256,
            channel=signature.channel,
            call_reference=signature.call_reference,
            binding_hash=signature.binding_hash,
        ),
        archive=None
        if archive is None
        else ArchiveOut(
            archive_number=archive.archive_number,
            sha256=archive.sha256,
            size=archive.size,
            created_at=archive.created_at,
            retain_until=archive.retain_until,
            download=f"/api/reports/{report.id}/pdf",
        ),
    )


@post(
    "/api/visits/{visit_id:uuid}/report",
    roles=ENGINEERS,
    tags=["reports"],
    summary="Draft the visit's service report from what the visit recorded",
)
async def draft_report(
    session: Session, actor: CurrentActor, clock: AppClock, visit_id: FromPath[uuid.UUID]
) -> ReportOut:
    report = await signing.draft(session, actor, clock, visit_id)
    return await report_out(session, report)


@get(
    "/api/work-orders/{order_id:uuid}/reports",
    roles=READERS,
    tags=["reports"],
    summary="The work order's service reports, every version",
)
async def order_reports(
    session: Session,
    actor: CurrentActor,
    order_id: FromPath[uuid.UUID],
    limit: Limit = 100,
    cursor: Cursor = None,
) -> ReportPage:
    found = [await report_out(session, r) for r in await signing.of_order(session, actor, order_id)]
    page = list_page(
        session,
        found,
        # In the order the service gives them (by version), for one order at a time.
        lambda r: (found.index(r), str(r.id)),
        purpose=f"reports:{order_id}",
        limit=limit,
        cursor=cursor,
    )
    return ReportPage(page.items, page.next_cursor)


@get("/api/reports/{report_id:uuid}", roles=READERS, tags=["reports"], summary="A service report")
async def get_report(session: Session, actor: CurrentActor, report_id: FromPath[uuid.UUID]) -> ReportOut:
    return await report_out(session, await signing.readable(session, actor, report_id))


@patch(
    "/api/reports/{report_id:uuid}",
    roles=ENGINEERS,
    tags=["reports"],
    summary="Edit a draft report (a signed one: 409 report-signed)",
)
async def edit_report(
    clock: AppClock,
    session: Session,
    actor: CurrentActor,
    report_id: FromPath[uuid.UUID],
    data: JSONBody[ReportPatch],
) -> ReportOut:
    changes = {k: _plain(v) for k, v in given(data, skip=("revision",)).items()}
    report = await signing.edit(session, actor, clock, report_id, data.revision, changes)
    return await report_out(session, report)


def _plain(value: Any) -> Any:
    return msgspec.to_builtins(value)


@post(
    "/api/reports/{report_id:uuid}/sign",
    roles=ENGINEERS,
    tags=["reports"],
    status_code=200,
    summary="The customer signs the version whose hash they were shown; the work order becomes signed",
)
async def sign_report(
    clock: AppClock,
    session: Session,
    actor: CurrentActor,
    report_id: FromPath[uuid.UUID],
    data: JSONBody[SignIn],
) -> ReportOut:
    report = await signing.sign(
        session,
        actor,
        clock,
        report_id,
        signing.Signing(
            report_hash=data.report_hash,
            kind=data.kind,
            signer_name=data.signer_name,
            signer_role=data.signer_role,
            signer_phone=data.signer_phone,
            signer_email=data.signer_email,
            device_at=data.signed_at,
            location=data.location.lonlat if data.location else None,
            image_sha256=data.image_sha256,
            strokes=[[list(p) for p in stroke] for stroke in data.strokes] if data.strokes else None,
            channel=data.channel,
            call_reference=data.call_reference,
        ),
        signed_at=clock.now(),
    )
    return await report_out(session, report)


@post(
    "/api/reports/{report_id:uuid}/corrections",
    roles=ENGINEERS,
    tags=["reports"],
    summary="Start the next version of a signed report (the signed one is kept)",
)
async def correct_report(
    session: Session, actor: CurrentActor, clock: AppClock, report_id: FromPath[uuid.UUID]
) -> ReportOut:
    report = await signing.correct(session, actor, clock, report_id)
    return await report_out(session, report)


@get(
    "/api/reports/{report_id:uuid}/verify",
    roles=READERS,
    tags=["reports"],
    summary="Recompute the signed report's hashes and name whatever no longer matches",
)
async def verify_report(
    session: Session,
    actor: CurrentActor,
    report_id: FromPath[uuid.UUID],
    hash: Annotated[
        str | None,
        QueryParameter(max_length=64, description="the hash printed on the paper or PDF, to compare"),
    ] = None,
) -> VerificationOut:
    verdict = await verify.verify(session, actor, report_id)
    return VerificationOut(
        printed_hash_matches=None if hash is None else hash.lower() == verdict.signed_hash,
        report_id=verdict.report_id,
        version=verdict.version,
        valid=verdict.valid,
        signed_hash=verdict.signed_hash,
        current_hash=verdict.current_hash,
        differences=[Difference(d["field"], d["signed"], d["now"]) for d in verdict.differences],
    )


@get(
    "/api/reports/{report_id:uuid}/pdf",
    roles=READERS,
    tags=["reports"],
    media_type="application/pdf",
    summary="The PDF archived at signing (the same bytes every time)",
)
async def report_pdf(
    session: Session, actor: CurrentActor, report_id: FromPath[uuid.UUID]
) -> Response[bytes]:
    report = await signing.readable(session, actor, report_id)
    archive = await signing.archive_of(session, report.id)
    if archive is None:
        raise ReportNotSigned("The PDF is made when the report is signed", current_status=report.status)
    return Response(
        archive.pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{archive.archive_number}.pdf"',
            "X-Content-SHA256": archive.sha256,
        },
    )


ROUTES = [
    draft_report,
    order_reports,
    get_report,
    edit_report,
    sign_report,
    correct_report,
    verify_report,
    report_pdf,
]
