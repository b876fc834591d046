"""Drafting, editing, signing and correcting reports: the engineer on the visit does each, online
or through the sync push, with the same rules.

Signing binds what was shown: the device names the hash of the canonical form it showed the
customer, and a report whose hash is no longer that one is refused (`report-changed`), never
re-bound silently. The signature is bound to the report hash, the signer's name and role, the time
and the device's location (`binding_hash`). Signing moves the work order to `signed` and archives
the PDF, made once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import uuid
from dataclasses import dataclass, field
from typing import Any

from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from completion import canonical, drafting, fonts, pdf, rendering, survey
from completion.errors import ReportChanged, ReportExists, ReportSigned
from completion.models import ReportArchive, ReportSignature, ServiceReport
from core.clock import Clock
from core.errors import Conflict, Forbidden, NotFound, VersionConflict, field_error
from core.identity.roles import Actor, Role
from dispatch.work_orders import service as work_orders
from dispatch.work_orders.models import Status, Visit, WorkOrder
from dispatch.work_orders.visits import owned_visit
from offline_sync.models import SyncBlob

PNG = b"\x89PNG\r\n\x1a\n"
JPEG = b"\xff\xd8\xff"
RETENTION = dt.timedelta(days=3 * 366)
# The confirmation channel the work order records for each kind of signature.
CHANNELS = {"strokes": "on_site_signature", "stamped_form": "stamped_form"}


@dataclass(frozen=True)
class Signing:
    """What the device sends with a signature."""

    report_hash: str
    kind: str
    signer_name: str
    signer_role: str
    signer_phone: str | None = None
    signer_email: str | None = None
    device_at: dt.datetime | None = None
    location: tuple[float, float] | None = None
    image_sha256: str | None = None
    strokes: list[Any] | None = field(default=None)
    channel: str | None = None
    call_reference: str | None = None


def _missing(report_id: uuid.UUID) -> NotFound:
    return NotFound(f"No report with id {report_id}")


async def _report(session: AsyncSession, report_id: uuid.UUID, *, lock: bool) -> ServiceReport:
    report = await session.get(ServiceReport, report_id, with_for_update=lock, populate_existing=lock)
    if report is None:
        raise _missing(report_id)
    return report


async def readable(session: AsyncSession, actor: Actor, report_id: uuid.UUID) -> ServiceReport:
    """The report if its work order is one this actor sees (staff, the engineers on it, the
    customer's own contacts); anyone else's answers like one that does not exist."""
    report = await _report(session, report_id, lock=False)
    try:
        await work_orders.visible(session, actor, report.work_order_id)
    except NotFound:
        raise _missing(report_id) from None
    return report


async def of_order(session: AsyncSession, actor: Actor, order_id: uuid.UUID) -> list[ServiceReport]:
    order = await work_orders.visible(session, actor, order_id)
    rows = await session.execute(
        select(ServiceReport)
        .where(ServiceReport.work_order_id == order.id)
        .order_by(ServiceReport.created_at, ServiceReport.version)
    )
    return list(rows.scalars())


def _require_engineer(actor: Actor, visit: Visit) -> None:
    if actor.role is not Role.ENGINEER or actor.user_id not in (visit.engineer_id, visit.partner_engineer_id):
        raise Forbidden("Only the engineers on the visit draft, edit and sign its report")


async def editable(
    session: AsyncSession, actor: Actor, report_id: uuid.UUID
) -> tuple[ServiceReport, Visit, WorkOrder]:
    """The report, locked, with its visit and order, if this actor is an engineer on the visit."""
    report = await _report(session, report_id, lock=True)
    try:
        visit, order = await owned_visit(session, actor, report.visit_id)
    except NotFound:
        raise _missing(report_id) from None
    _require_engineer(actor, visit)
    return report, visit, order


async def draft(
    session: AsyncSession,
    actor: Actor,
    clock: Clock,
    visit_id: uuid.UUID,
    *,
    report_id: uuid.UUID | None = None,
) -> ServiceReport:
    """The visit's report drafted from what it recorded; `report_id` is a phone's own id for it."""
    visit, order = await owned_visit(session, actor, visit_id)
    _require_engineer(actor, visit)
    existing = await session.scalar(
        select(ServiceReport.id).where(ServiceReport.visit_id == visit.id).order_by(ServiceReport.version)
    )
    if existing is not None:
        raise ReportExists(
            "This visit's report exists: edit it, or start a correction of a signed one",
            report_id=existing,
        )
    now = clock.now()
    report = ServiceReport(
        id=report_id or uuid.uuid4(),
        work_order_id=order.id,
        visit_id=visit.id,
        form=drafting.form_of(visit),
        version=1,
        status="draft",
        content=await drafting.draft_content(session, order, visit),
        revision=1,
        drafted_by=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(report)
    work_orders.add_event(
        session, order, actor, now, "report_drafted", data={"report_id": str(report.id), "version": 1}
    )
    await session.flush()
    return report


def _check_changes(changes: dict[str, Any]) -> None:
    unknown = set(changes) - drafting.EDITABLE
    if unknown:
        name = sorted(unknown)[0]
        raise field_error(name, "recorded by the visit, not edited in the report")
    if changes.get("result") is not None and changes["result"] not in drafting.RESULTS:
        raise field_error("result", f"one of {', '.join(drafting.RESULTS)}")


async def edit(
    session: AsyncSession,
    actor: Actor,
    clock: Clock,
    report_id: uuid.UUID,
    revision: int,
    changes: dict[str, Any],
) -> ServiceReport:
    report, _, _ = await editable(session, actor, report_id)
    if report.status == "signed":
        raise ReportSigned(
            f"Version {report.version} of this report is signed; POST …/corrections starts version "
            f"{report.version + 1}",
            current_version=report.version,
        )
    if report.revision != revision:
        raise VersionConflict(
            f"You edited revision {revision}, but the report is at revision {report.revision}; reload it",
            current_version=report.revision,
        )
    _check_changes(changes)
    report.content = {**report.content, **changes}
    report.revision += 1
    report.updated_at = clock.now()
    await session.flush()
    return report


async def correct(session: AsyncSession, actor: Actor, clock: Clock, report_id: uuid.UUID) -> ServiceReport:
    """Version n+1 of a signed report: a draft with the signed one's fields and what the visits
    recorded since; the signed version stays as it is."""
    report, visit, order = await editable(session, actor, report_id)
    if report.status != "signed":
        raise Conflict(
            "Only a signed report is corrected; edit the draft instead", current_status=report.status
        )
    newest = await session.scalar(
        select(func.max(ServiceReport.version)).where(ServiceReport.visit_id == report.visit_id)
    )
    if newest != report.version:
        raise Conflict(f"Version {newest} of this report exists: correct that one", current_version=newest)
    now = clock.now()
    correction = ServiceReport(
        id=uuid.uuid4(),
        work_order_id=report.work_order_id,
        visit_id=report.visit_id,
        form=report.form,
        version=report.version + 1,
        supersedes_id=report.id,
        status="draft",
        content={**report.content, **await drafting.recorded(session, order, visit)},
        revision=1,
        drafted_by=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(correction)
    work_orders.add_event(
        session,
        order,
        actor,
        now,
        "report_correction",
        data={"report_id": str(correction.id), "version": correction.version, "corrects": str(report.id)},
    )
    await session.flush()
    return correction


async def current_hash(session: AsyncSession, report: ServiceReport) -> tuple[dict[str, Any], str]:
    doc = await drafting.document(session, report)
    return doc, canonical.digest(doc)


async def shown(session: AsyncSession, report: ServiceReport) -> tuple[str, str]:
    """The canonical text and hash a device shows the customer: as signed once signed, else as
    the report and what its visit recorded stand now."""
    if report.signed_canonical is not None and report.signed_hash is not None:
        return report.signed_canonical, report.signed_hash
    doc, digest = await current_hash(session, report)
    return canonical.canonical_text(doc), digest


def binding(signature: ReportSignature, image_sha256: str | None) -> dict[str, Any]:
    """What the signature's binding hash covers (the image by the hash of its bytes)."""
    return {
        "report_hash": signature.report_hash,
        "kind": signature.kind,
        "signer_name": signature.signer_name,
        "signer_role": signature.signer_role,
        "signer_phone": signature.signer_phone,
        "signer_email": signature.signer_email,
        "signed_at": signature.signed_at,
        "location": [signature.longitude, signature.latitude] if signature.longitude is not None else None,
        "image_sha256": image_sha256,
        "strokes": signature.strokes,
        "channel": signature.channel,
        "call_reference": signature.call_reference,
    }


async def _image(session: AsyncSession, s: Signing) -> bytes | None:
    if s.kind == "remote":
        if not s.channel:
            raise field_error("channel", "how the customer confirmed the remote fix (phone, wechat, …)")
        if not s.call_reference:
            raise field_error("call_reference", "the call record that holds the confirmation")
        if s.image_sha256 is not None:
            raise field_error("image_sha256", "a remote confirmation has no image")
        return None
    if s.kind == "strokes" and not s.strokes:
        raise field_error("strokes", "the points drawn, with their timestamps")
    if s.kind == "stamped_form" and s.strokes:
        raise field_error("strokes", "a stamped form is a photo, not strokes")
    if s.image_sha256 is None:
        raise field_error("image_sha256", "the signature image (PNG) or the photo of the stamped form")
    blob = await session.get(SyncBlob, s.image_sha256)
    if blob is None:
        raise field_error("image_sha256", "no such image: upload it first (PUT /api/sync/blobs/{sha256})")
    kinds = (PNG,) if s.kind == "strokes" else (PNG, JPEG)
    if not blob.data.startswith(kinds) or not _readable(blob.data):
        raise field_error("image_sha256", "a PNG" if s.kind == "strokes" else "a photo in JPEG or PNG")
    return blob.data


def _readable(data: bytes) -> bool:
    """Whether the image decodes (and within Pillow's size guard), so that the PDF can embed it."""
    try:
        with Image.open(io.BytesIO(data)) as picture:
            picture.load()
            return picture.width > 0 and picture.height > 0
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return False


async def sign(
    session: AsyncSession,
    actor: Actor,
    clock: Clock,
    report_id: uuid.UUID,
    s: Signing,
    *,
    signed_at: dt.datetime,
) -> ServiceReport:
    """Bind the customer's signature to the version they were shown (`s.report_hash`)."""
    report, _, order = await editable(session, actor, report_id)
    doc, now_hash = await _shown_version(session, report, s.report_hash)
    image = await _image(session, s)
    signature = _signature(actor, report, now_hash, s, signed_at)
    session.add(signature)
    now = clock.now()
    report.status, report.signed_at, report.updated_at = "signed", signed_at, now
    report.signed_canonical, report.signed_hash = canonical.canonical_text(doc), now_hash
    await _order_signed(session, actor, clock, order, report, s, now_hash, doc.get("result"))
    await session.flush()
    if order.status is Status.SIGNED:
        # Not while a backup unit stands in: the customer is asked once the fault is fixed.
        await survey.invite(session, now, order, report, signature)
    # Loading the CJK font for embedding takes a second or more of CPU: off the event loop.
    settings = rendering.of(session)
    body = await asyncio.to_thread(
        pdf.render,
        doc,
        signature,
        image,
        verify_url=settings.verify_url(report.id, now_hash),
        font=fonts.font_path(settings.font),
    )
    session.add(
        ReportArchive(
            id=uuid.uuid4(),
            report_id=report.id,
            archive_number=f"{order.archive_id}-R{report.version}",
            pdf=body,
            sha256=hashlib.sha256(body).hexdigest(),
            size=len(body),
            created_at=now,
            retain_until=(now + RETENTION).date(),
        )
    )
    await session.flush()
    return report


async def _shown_version(
    session: AsyncSession, report: ServiceReport, shown_hash: str
) -> tuple[dict[str, Any], str]:
    """The report as it stands, refused unless it is unsigned and exactly what the customer saw."""
    if report.status == "signed":
        raise ReportSigned(
            f"Version {report.version} of this report is already signed", current_hash=report.signed_hash
        )
    doc, now_hash = await current_hash(session, report)
    if now_hash != shown_hash:
        raise ReportChanged(
            "The report is not the version the customer was shown: show it again and sign that",
            current_hash=now_hash,
            current_revision=report.revision,
        )
    return doc, now_hash


def _signature(
    actor: Actor, report: ServiceReport, report_hash: str, s: Signing, signed_at: dt.datetime
) -> ReportSignature:
    signature = ReportSignature(
        id=uuid.uuid4(),
        report_id=report.id,
        kind=s.kind,
        report_hash=report_hash,
        signer_name=s.signer_name,
        signer_role=s.signer_role,
        signer_phone=s.signer_phone,
        signer_email=s.signer_email,
        signed_at=signed_at,
        device_at=s.device_at,
        longitude=s.location[0] if s.location else None,
        latitude=s.location[1] if s.location else None,
        image_sha256=s.image_sha256,
        strokes=s.strokes,
        channel=s.channel,
        call_reference=s.call_reference,
        captured_by=actor.user_id,
        binding_hash="",
    )
    signature.binding_hash = canonical.digest(binding(signature, s.image_sha256))
    return signature


async def _order_signed(
    session: AsyncSession,
    actor: Actor,
    clock: Clock,
    order: WorkOrder,
    report: ServiceReport,
    s: Signing,
    report_hash: str,
    result: str | None,
) -> None:
    """The work order moves to `signed` (from resolved or remote fix) and its timeline says which
    version was signed and how.

    A backup unit is a temporary solution (docs/rules.md, "Backup devices"): the customer signing
    that report confirms the backup works, not that the fault is fixed, so the order stays open
    until the swap-back visit resolves it and that report is signed. The timeline records the
    confirmation as such (`temporary_solution_confirmed`); `report_signed` says the order did not
    move."""
    channel = (s.channel or "remote") if s.kind == "remote" else CHANNELS[s.kind]
    # The signature (on site, a stamped form, or remote with its call record) is the customer's
    # confirmation that service is restored, a backup unit's included: the restore clock is met.
    work_orders.confirm_restore(
        session,
        order,
        actor,
        clock.now(),
        work_orders.Confirmation(
            "remote" if s.kind == "remote" else "signed", s.signer_name[:100], channel[:32], s.call_reference
        ),
    )
    moved = order.status in {Status.RESOLVED, Status.REMOTE_FIX}
    if moved:
        await work_orders.transition(
            session,
            actor,
            clock,
            order.id,
            order.version,
            Status.SIGNED,
            note=f"service report v{report.version} signed",
            confirmed_by=s.signer_name,
            confirmation_channel=channel[:32],
        )
    data = {"report_id": str(report.id), "version": report.version, "hash": report_hash, "kind": s.kind}
    if not moved and (order.status is Status.BACKUP_INSTALLED or result == "backup_installed"):
        work_orders.add_event(
            session,
            order,
            actor,
            clock.now(),
            "temporary_solution_confirmed",
            note=f"{s.signer_name[:100]} confirmed the backup unit as a temporary solution "
            f"(service report v{report.version}); the order stays open until the swap-back",
            data={
                **data,
                "confirmed_by": s.signer_name,
                "channel": channel[:32],
                "status": order.status.value,
            },
        )
    work_orders.add_event(
        session,
        order,
        actor,
        clock.now(),
        "report_signed",
        data={**data, "order_signed": moved, "status": order.status.value},
    )


async def signature_of(session: AsyncSession, report_id: uuid.UUID) -> ReportSignature | None:
    return await session.scalar(select(ReportSignature).where(ReportSignature.report_id == report_id))


async def archive_of(session: AsyncSession, report_id: uuid.UUID) -> ReportArchive | None:
    return await session.scalar(select(ReportArchive).where(ReportArchive.report_id == report_id))
