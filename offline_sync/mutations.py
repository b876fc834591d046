"""The named, versioned mutations a device may push, each applied with the domain services
the online API uses (dispatch.work_orders.visits, inventory.reservations): no second copy of the rules.

A name carries its version (`visit.arrive@1`); a changed meaning gets a new version and the
old one keeps working for devices that have not updated yet.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from completion import drafting, signing
from completion.errors import ReportChanged, ReportSigned
from completion.models import ServiceReport
from core.clock import Clock, ManualClock
from core.errors import InvalidInput, NotFound, VersionConflict, field_error
from core.identity.roles import Actor
from core.times import Day, Instant, TimeChecked
from dispatch.contracts.models import Severity
from dispatch.flows import backup as backup_flow
from dispatch.flows import order_parts
from dispatch.inspections import checklist
from dispatch.work_orders import visits
from dispatch.work_orders.models import Visit, WorkOrder
from inventory import reservations
from inventory.models import Loan, SwapDisposition, Unit
from offline_sync import conflicts, device_time, note_append
from offline_sync.models import SyncBlob, TimeEntry, VisitAttachment

Sha256 = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Serial = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Mac = Annotated[str, msgspec.Meta(min_length=1, max_length=32, pattern=r"^[0-9A-Fa-f:.\-]+$")]
LongText = Annotated[str, msgspec.Meta(max_length=4000)]


class BlobMissing(Exception):
    def __init__(self, sha256: str) -> None:
        super().__init__(sha256)
        self.sha256 = sha256


@dataclass
class Context:
    session: AsyncSession
    actor: Actor
    clock: Clock
    received_at: dt.datetime
    last_contact: dt.datetime
    clock_offset: dt.timedelta
    # Set when a mutation stored earlier (waiting for its blob) is applied now.
    fixed_at: dt.datetime | None = None
    device_at: dt.datetime | None = None
    effective_at: dt.datetime | None = None

    def when(self, device_at: dt.datetime, *, backdated: bool = False, main: bool = True) -> dt.datetime:
        """The time that counts for a device-reported time (see device_time)."""
        if self.fixed_at is not None and main:
            return self.fixed_at
        value = device_time.effective(
            device_at,
            clock_offset=self.clock_offset,
            last_contact=self.last_contact,
            received_at=self.received_at,
            backdated=backdated,
        )
        if main:
            self.device_at, self.effective_at = device_at, value
        return value


class Args(TimeChecked, forbid_unknown_fields=True, kw_only=True):
    """Device times carry their UTC offset (a time without one is refused, never guessed) and
    lie in the supported years, like every time a client sends (core.times)."""


class InspectionAnswer(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    asset_id: uuid.UUID
    item_key: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    passed: bool | None = None
    number: float | None = None
    text: LongText | None = None
    photo_sha256: Sha256 | None = None
    finding: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    # A failed item raises a repair work order of this severity.
    repair_severity: Severity | None = None


class InspectionRecord(Args):
    """Checklist answers of an inspection visit; a later answer to an item replaces an earlier one,
    so a replayed or repeated push changes nothing."""

    visit_id: uuid.UUID
    at: Instant
    results: Annotated[list[InspectionAnswer], msgspec.Meta(max_length=2000)]
    complete: bool = False


class StartTravel(Args):
    visit_id: uuid.UUID
    at: Instant


class Arrive(Args):
    visit_id: uuid.UUID
    at: Instant
    # [longitude, latitude] when the phone had a fix; indoors there often is none.
    location: tuple[float, float] | None = None
    # How arrival is proven where there is no GPS: the site's QR code at reception (proof_reference
    # is the scanned code, checked against the site's) or the customer (proof_reference: their name).
    proof: Literal["gps", "qr_code", "customer_confirmation", "none"] = "gps"
    proof_reference: Short | None = None
    # Recorded later (phones banned in the room): the time is kept as given, with the reason.
    backdated_reason: Short | None = None


class AddNote(Args):
    visit_id: uuid.UUID
    note_id: uuid.UUID
    body: Text
    at: Instant
    # Written later (phones banned in the room): the time is kept as given, with the reason.
    backdated_reason: Short | None = None


class Complete(Args):
    visit_id: uuid.UUID
    outcome: Literal["resolved", "backup_installed", "follow_up"]
    at: Instant
    note: Text | None = None
    restored_at: Instant | None = None
    backdated_reason: Short | None = None


class AttachPhoto(Args):
    visit_id: uuid.UUID
    photo_id: uuid.UUID
    sha256: Sha256
    at: Instant
    caption: Short | None = None


class CaptureSignature(Args):
    visit_id: uuid.UUID
    signature_id: uuid.UUID
    sha256: Sha256
    signer_name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    at: Instant


class TimesheetAdd(Args):
    entry_id: uuid.UUID
    kind: Literal["travel", "work", "waiting"]
    started_at: Instant
    ended_at: Instant
    visit_id: uuid.UUID | None = None
    note: Text | None = None
    backdated_reason: Short | None = None


class ConsumePart(Args):
    visit_id: uuid.UUID
    item_id: uuid.UUID
    quantity: Annotated[int, msgspec.Meta(ge=1, le=10_000)]
    at: Instant
    reservation_id: uuid.UUID | None = None
    # Kept with the mutation; the part's move is booked at the time given.
    backdated_reason: Short | None = None


class SignReport(Args):
    """The customer signed the report version whose canonical hash the device showed them."""

    report_id: uuid.UUID
    report_hash: Sha256
    kind: Literal["strokes", "stamped_form", "remote"]
    signer_name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    signer_role: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    at: Instant
    signer_phone: Annotated[str, msgspec.Meta(min_length=3, max_length=40)] | None = None
    signer_email: Annotated[str, msgspec.Meta(min_length=3, max_length=200)] | None = None
    location: tuple[float, float] | None = None
    image_sha256: Sha256 | None = None
    strokes: Annotated[list[list[tuple[float, float, int]]], msgspec.Meta(max_length=500)] | None = None
    channel: Annotated[str, msgspec.Meta(min_length=1, max_length=32)] | None = None
    call_reference: Short | None = None


class SwapPart(Args):
    """A serialized part swapped on the visit (POST /api/stock/part-swaps): the fitted unit leaves
    the engineer's own stock (van or backpack), the removed one takes its `disposition`."""

    visit_id: uuid.UUID
    installed_serial: Serial
    removed_serial: Serial
    at: Instant
    # The item the phone picked from van stock; when sent it must be the fitted unit's.
    item_id: uuid.UUID | None = None
    disposition: SwapDisposition | None = None
    handed_to: Name | None = None
    signature: LongText | None = None
    destruction_method: Name | None = None
    destruction_witness: Name | None = None
    return_by: Day | None = None
    asset_serial: Serial | None = None
    asset_mac: Mac | None = None
    backdated_reason: Short | None = None


class CannotFix(Args):
    """The engineer declares the repair cannot finish within the deadline: a backup is proposed."""

    visit_id: uuid.UUID
    # Stored as the loan's cause after "engineer: " (200 characters at most).
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=190)]
    at: Instant


class BackupUnit(Args):
    """A backup unit put in on its delivery visit (`install`, POST /api/stock/backup-installations)
    or taken out on the swap-back visit (`remove`, POST /api/stock/swap-backs), by serial."""

    visit_id: uuid.UUID
    action: Literal["install", "remove"]
    serial: Serial
    at: Instant
    # The loan form 借用单: who signed it (install), its number, a photo of it (a blob).
    signed_by: Name | None = None
    loan_form_reference: Short | None = None
    loan_form_sha256: Sha256 | None = None
    configuration: LongText | None = None
    return_by: Day | None = None
    faulty_serial: Serial | None = None
    restored_at: Instant | None = None
    note: Text | None = None


class ConfigurationBackup(msgspec.Struct, forbid_unknown_fields=True):
    done: bool | None
    where: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class OnSiteContact(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    phone: Annotated[str, msgspec.Meta(min_length=3, max_length=40, pattern=r"^[0-9+()\- ]+$")] | None = None


class EditReport(Args):
    """Edit the visit's draft report at the `revision` the phone saw (PATCH /api/reports/{id}).
    With `visit_id` a visit without a report gets one drafted here first, from what was recorded
    (`report_id`, when sent, becomes its id), so a phone offline all day still produces it."""

    at: Instant
    report_id: uuid.UUID | None = None
    visit_id: uuid.UUID | None = None
    # The revision the phone edited; omitted: the first revision of the draft.
    revision: Annotated[int, msgspec.Meta(ge=1)] | None = None
    diagnosis: LongText | msgspec.UnsetType = msgspec.UNSET
    actions_taken: LongText | msgspec.UnsetType = msgspec.UNSET
    configuration_backup: ConfigurationBackup | msgspec.UnsetType = msgspec.UNSET
    result: Literal["restored", "temporary_fix", "backup_installed", "not_fixed"] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    follow_up_needed: bool | msgspec.UnsetType = msgspec.UNSET
    billable: bool | msgspec.UnsetType = msgspec.UNSET
    customer_remarks: LongText | msgspec.UnsetType = msgspec.UNSET
    on_site_contact: OnSiteContact | msgspec.UnsetType = msgspec.UNSET


async def _start_travel(ctx: Context, a: StartTravel) -> dict[str, Any]:
    await conflicts.gate(ctx.session, ctx.actor, a.visit_id)
    visit = await visits.start_travel(ctx.session, ctx.actor, ctx.clock, a.visit_id, at=ctx.when(a.at))
    return {"visit_id": str(visit.id), "visit_status": visit.status.value}


async def _arrive(ctx: Context, a: Arrive) -> dict[str, Any]:
    await conflicts.gate(ctx.session, ctx.actor, a.visit_id)
    if a.location is not None and not (-180 <= a.location[0] <= 180 and -90 <= a.location[1] <= 90):
        raise InvalidInput(
            "location: not a WGS-84 point", errors=[{"field": "location", "message": "lon, lat"}]
        )
    visit = await visits.arrive(
        ctx.session,
        ctx.actor,
        ctx.clock,
        a.visit_id,
        location=a.location,
        at=ctx.when(a.at, backdated=a.backdated_reason is not None),
        proof=a.proof,
        proof_reference=a.proof_reference,
        backdated_reason=a.backdated_reason,
    )
    return {"visit_id": str(visit.id), "visit_status": visit.status.value, "proof": a.proof}


async def _add_note(ctx: Context, a: AddNote) -> dict[str, Any]:
    await conflicts.gate(ctx.session, ctx.actor, a.visit_id)
    note = await visits.add_note(
        ctx.session,
        ctx.actor,
        ctx.clock,
        a.visit_id,
        body=a.body,
        note_id=a.note_id,
        at=ctx.when(a.at, backdated=a.backdated_reason is not None),
    )
    return {"note_id": str(note.id)}


async def _complete(ctx: Context, a: Complete) -> dict[str, Any]:
    await conflicts.gate(ctx.session, ctx.actor, a.visit_id)
    backdated = a.backdated_reason is not None
    at = ctx.when(a.at, backdated=backdated)
    restored = None
    if a.restored_at is not None:
        restored = min(ctx.when(a.restored_at, backdated=backdated, main=False), at)
    visit = await visits.finish(
        ctx.session,
        ctx.actor,
        ctx.clock,
        a.visit_id,
        outcome=visits.Outcome(a.outcome),
        note=a.note,
        restored_at=restored,
        at=at,
        backdated_reason=a.backdated_reason,
    )
    return {"visit_id": str(visit.id), "visit_status": visit.status.value}


async def _inspection_record(ctx: Context, a: InspectionRecord) -> dict[str, Any]:
    await conflicts.gate(ctx.session, ctx.actor, a.visit_id)
    answers = [checklist.Answer(**msgspec.structs.asdict(r)) for r in a.results]
    inspection, stored = await checklist.record(
        ctx.session, ctx.actor, ctx.clock, a.visit_id, answers, at=ctx.when(a.at), complete=a.complete
    )
    return {
        "inspection_id": str(inspection.id),
        "status": inspection.status.value,
        "repairs": [str(r.repair_work_order_id) for r in stored if r.repair_work_order_id],
    }


async def _blob(ctx: Context, sha256: str) -> None:
    if await ctx.session.get(SyncBlob, sha256) is None:
        raise BlobMissing(sha256)


async def _attach(ctx: Context, a: AttachPhoto | CaptureSignature) -> dict[str, Any]:
    await conflicts.gate(ctx.session, ctx.actor, a.visit_id)
    at = ctx.when(a.at)  # before waiting for the blob: the time counts from receipt
    await _blob(ctx, a.sha256)
    assert ctx.actor.user_id is not None
    photo = isinstance(a, AttachPhoto)
    row = VisitAttachment(
        id=a.photo_id if isinstance(a, AttachPhoto) else a.signature_id,
        visit_id=a.visit_id,
        kind="photo" if photo else "signature",
        blob_sha256=a.sha256,
        at=at,
        author_id=ctx.actor.user_id,
        caption=a.caption if isinstance(a, AttachPhoto) else None,
        signer_name=a.signer_name if isinstance(a, CaptureSignature) else None,
    )
    ctx.session.add(row)
    await ctx.session.flush()
    return {"attachment_id": str(row.id)}


async def _attach_photo(ctx: Context, a: AttachPhoto) -> dict[str, Any]:
    return await _attach(ctx, a)


async def _capture_signature(ctx: Context, a: CaptureSignature) -> dict[str, Any]:
    return await _attach(ctx, a)


async def _timesheet_add(ctx: Context, a: TimesheetAdd) -> dict[str, Any]:
    if a.visit_id is not None:
        await conflicts.gate(ctx.session, ctx.actor, a.visit_id)
    backdated = a.backdated_reason is not None
    ended = ctx.when(a.ended_at, backdated=backdated)
    started = ctx.when(a.started_at, backdated=backdated, main=False)
    if not started < ended:
        raise InvalidInput(
            "ended_at: after started_at", errors=[{"field": "ended_at", "message": "after started_at"}]
        )
    assert ctx.actor.user_id is not None
    row = TimeEntry(
        id=a.entry_id,
        engineer_id=ctx.actor.user_id,
        visit_id=a.visit_id,
        kind=a.kind,
        started_at=started,
        ended_at=ended,
        note=a.note,
        backdated_reason=a.backdated_reason,
    )
    ctx.session.add(row)
    await ctx.session.flush()
    return {"entry_id": str(row.id)}


async def _consume_part(ctx: Context, a: ConsumePart) -> dict[str, Any]:
    visit, order = await conflicts.gate(ctx.session, ctx.actor, a.visit_id)
    assert ctx.actor.user_id is not None
    # from_device: a part used in the field is never refused; a shortfall is booked to the
    # engineer's discrepancy location for the warehouse to resolve.
    lines = await reservations.consume(
        ctx.session,
        ctx.actor,
        ctx.clock.now(),
        engineer_id=ctx.actor.user_id,
        item_id=a.item_id,
        quantity=a.quantity,
        work_order_id=order.id,
        visit_id=visit.id,
        reservation_id=a.reservation_id,
        from_device=True,
        at=ctx.when(a.at, backdated=a.backdated_reason is not None),
    )
    return {"stock_moves": [str(line.id) for line in lines]}


async def _sign_report(ctx: Context, a: SignReport) -> dict[str, Any]:
    report = await ctx.session.get(ServiceReport, a.report_id)
    if report is None:
        raise NotFound(f"No report with id {a.report_id}")
    visit, order = await conflicts.gate(ctx.session, ctx.actor, report.visit_id)
    at = ctx.when(a.at)
    if a.image_sha256 is not None:
        await _blob(ctx, a.image_sha256)
    try:
        signed = await signing.sign(
            ctx.session,
            ctx.actor,
            ctx.clock,
            a.report_id,
            signing.Signing(
                report_hash=a.report_hash,
                kind=a.kind,
                signer_name=a.signer_name,
                signer_role=a.signer_role,
                signer_phone=a.signer_phone,
                signer_email=a.signer_email,
                device_at=a.at,
                location=a.location,
                image_sha256=a.image_sha256,
                strokes=[[list(p) for p in stroke] for stroke in a.strokes] if a.strokes else None,
                channel=a.channel,
                call_reference=a.call_reference,
            ),
            signed_at=at,
        )
    except (ReportChanged, ReportSigned) as exc:
        # What the customer signed is no longer the report (or it was signed meanwhile, e.g. from
        # another device): kept for review, never re-bound.
        kind = "report_signed" if isinstance(exc, ReportSigned) else "report_changed"
        conflict = conflicts.FieldConflict(kind, visit, order)
        conflict.server_view["report"] = {
            "id": str(report.id),
            "status": report.status,
            "version": report.version,
            "revision": report.revision,
            "hash": exc.extra.get("current_hash"),
            "signed_hash": a.report_hash,
        }
        raise conflict from exc
    return {"report_id": str(signed.id), "report_hash": signed.signed_hash, "status": signed.status}


def _at(ctx: Context, at: dt.datetime, *, backdated: bool = False) -> Clock:
    """The services take "now" from a clock: for a device's entry it is the time that counts."""
    return ManualClock(ctx.when(at, backdated=backdated))


async def _swap_part(ctx: Context, a: SwapPart) -> dict[str, Any]:
    await conflicts.gate(ctx.session, ctx.actor, a.visit_id)
    swap = await order_parts.record_part_swap(
        ctx.session,
        ctx.actor,
        _at(ctx, a.at, backdated=a.backdated_reason is not None),
        order_parts.SwapInput(
            visit_id=a.visit_id,
            installed_serial=a.installed_serial,
            removed_serial=a.removed_serial,
            disposition=a.disposition,
            handed_to=a.handed_to,
            signature=a.signature,
            destruction_method=a.destruction_method,
            destruction_witness=a.destruction_witness,
            return_by=a.return_by,
            asset_serial=a.asset_serial,
            asset_mac=a.asset_mac,
        ),
    )
    if a.item_id is not None and a.item_id != swap.item_id:
        # Raised after the swap: the savepoint rolls all of it back.
        raise field_error("item_id", f"unit {a.installed_serial} is not of this item")
    return {
        "swap_id": str(swap.id),
        "item_id": str(swap.item_id),
        "installed_serial": swap.installed_serial,
        "removed_serial": swap.removed_serial,
        "disposition": swap.disposition.value,
        "return_by": swap.return_by.isoformat() if swap.return_by else None,
    }


async def _cannot_fix(ctx: Context, a: CannotFix) -> dict[str, Any]:
    _, order = await conflicts.gate(ctx.session, ctx.actor, a.visit_id)
    # Asking again while a loan is active returns that loan: a second declaration reserves nothing.
    proposal = await backup_flow.request_backup(
        ctx.session, ctx.actor, _at(ctx, a.at), order.id, reason=f"engineer: {a.reason}"
    )
    return {
        "loan_id": str(proposal.loan.id),
        "loan_status": proposal.loan.status.value,
        "delivery_visit_id": str(proposal.visit.id),
        "window_end": proposal.visit.window_end.isoformat() if proposal.visit.window_end else None,
        "serial": proposal.source.serial if proposal.source else None,
        "from_location": proposal.source.code if proposal.source else None,
    }


async def _backup_unit(ctx: Context, a: BackupUnit) -> dict[str, Any]:
    visit, _ = await conflicts.gate(ctx.session, ctx.actor, a.visit_id)
    clock = _at(ctx, a.at)
    if a.loan_form_sha256 is not None:
        await _blob(ctx, a.loan_form_sha256)
    if a.action == "install":
        if a.signed_by is None:
            raise field_error("signed_by", "the customer who signed the loan form")
        restored = None if a.restored_at is None else min(ctx.when(a.restored_at, main=False), clock.now())
        loan = await backup_flow.install_backup(
            ctx.session,
            ctx.actor,
            clock,
            a.visit_id,
            serial=a.serial,
            signed_by=a.signed_by,
            configuration=a.configuration,
            return_by=a.return_by,
            faulty_serial=a.faulty_serial,
            restored_at=restored,
        )
    else:
        loan = await _swap_back(ctx, clock, a)
    if a.loan_form_sha256 is not None or a.loan_form_reference is not None:
        await _loan_form(ctx, visit, clock.now(), a)
    return {
        "loan_id": str(loan.id),
        "loan_status": loan.status.value,
        "serial": a.serial,
        "return_by": loan.return_by.isoformat() if loan.return_by else None,
    }


async def _swap_back(ctx: Context, clock: Clock, a: BackupUnit) -> Loan:
    """The swap-back visit's loan must be for the serial the engineer takes out."""
    loan = await ctx.session.scalar(select(Loan).where(Loan.swap_back_visit_id == a.visit_id))
    if loan is not None:
        unit = await ctx.session.get(Unit, loan.unit_id)
        if unit is not None and unit.serial != a.serial:
            raise field_error("serial", f"the loan is for unit {unit.serial}, not {a.serial}")
    return await backup_flow.complete_swap_back(ctx.session, ctx.actor, clock, a.visit_id, note=a.note)


async def _loan_form(ctx: Context, visit: Visit, at: dt.datetime, a: BackupUnit) -> None:
    caption = f"借用单 loan form {a.loan_form_reference or ''}".strip()
    assert ctx.actor.user_id is not None
    if a.loan_form_sha256 is not None:
        ctx.session.add(
            VisitAttachment(
                id=uuid.uuid5(visit.id, f"loan-form:{a.action}:{a.loan_form_sha256}"),
                visit_id=visit.id,
                kind="photo",
                blob_sha256=a.loan_form_sha256,
                at=at,
                author_id=ctx.actor.user_id,
                caption=caption[:500],
            )
        )
    else:
        await visits.add_note(ctx.session, ctx.actor, ManualClock(at), visit.id, body=caption, at=at)
    await ctx.session.flush()


def _report_conflict(
    kind: str, visit: Visit, order: WorkOrder, report: ServiceReport, **extra: Any
) -> conflicts.FieldConflict:
    conflict = conflicts.FieldConflict(kind, visit, order)
    conflict.server_view["report"] = {
        "id": str(report.id),
        "status": report.status,
        "version": report.version,
        "revision": report.revision,
        **extra,
    }
    return conflict


async def _report_to_edit(ctx: Context, a: EditReport) -> tuple[ServiceReport | None, uuid.UUID]:
    """The report named, or the visit's newest; None (and the visit) when it is still to draft."""
    if a.report_id is not None:
        report = await ctx.session.get(ServiceReport, a.report_id)
        if report is not None:
            if a.visit_id is not None and a.visit_id != report.visit_id:
                raise field_error("visit_id", "the report is another visit's")
            return report, report.visit_id
        if a.visit_id is None:
            raise NotFound(f"No report with id {a.report_id}")
    if a.visit_id is None:
        raise field_error("report_id", "name the report, or the visit to draft its report")
    report = await ctx.session.scalar(
        select(ServiceReport)
        .where(ServiceReport.visit_id == a.visit_id)
        .order_by(ServiceReport.version.desc())
        .limit(1)
    )
    return report, a.visit_id


async def _edit_report(ctx: Context, a: EditReport) -> dict[str, Any]:
    report, visit_id = await _report_to_edit(ctx, a)
    visit, order = await conflicts.gate(ctx.session, ctx.actor, visit_id)
    clock = _at(ctx, a.at)
    drafted = report is None
    if report is None:
        report = await signing.draft(ctx.session, ctx.actor, clock, visit_id, report_id=a.report_id)
    changes = {
        name: msgspec.to_builtins(value)
        for name in sorted(drafting.EDITABLE)
        if (value := getattr(a, name, msgspec.UNSET)) is not msgspec.UNSET
    }
    if changes:
        try:
            report = await signing.edit(ctx.session, ctx.actor, clock, report.id, a.revision or 1, changes)
        except ReportSigned as exc:
            # Signed meanwhile (on another phone, or online): the edit is kept for review.
            raise _report_conflict("report_signed", visit, order, report, edited_revision=a.revision) from exc
        except VersionConflict as exc:
            # Someone changed the report after the phone read it: never a silent overwrite.
            raise _report_conflict(
                "report_changed", visit, order, report, edited_revision=a.revision or 1
            ) from exc
    return {
        "report_id": str(report.id),
        "revision": report.revision,
        "status": report.status,
        "drafted": drafted,
    }


Handler = Callable[[Context, Any], Awaitable[dict[str, Any]]]
# Applies the mutation in one statement that writes all or nothing, or answers None having
# written nothing (then `apply` runs, in a savepoint, and says why).
FastHandler = Callable[[Context, Any], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True)
class Mutation:
    args: type[Args]
    apply: Handler
    fast: FastHandler | None = None


REGISTRY: dict[str, Mutation] = {
    "visit.start_travel@1": Mutation(StartTravel, _start_travel),
    "visit.arrive@1": Mutation(Arrive, _arrive),
    "visit.add_note@1": Mutation(AddNote, _add_note, fast=note_append.append),
    "visit.complete@1": Mutation(Complete, _complete),
    "visit.attach_photo@1": Mutation(AttachPhoto, _attach_photo),
    "visit.capture_signature@1": Mutation(CaptureSignature, _capture_signature),
    "timesheet.add@1": Mutation(TimesheetAdd, _timesheet_add),
    "visit.consume_part@1": Mutation(ConsumePart, _consume_part),
    "report.sign@1": Mutation(SignReport, _sign_report),
    "visit.swap_part@1": Mutation(SwapPart, _swap_part),
    "visit.cannot_fix@1": Mutation(CannotFix, _cannot_fix),
    "visit.backup_unit@1": Mutation(BackupUnit, _backup_unit),
    "report.edit@1": Mutation(EditReport, _edit_report),
    "inspection.record@1": Mutation(InspectionRecord, _inspection_record),
}


def parse(name: str, args: dict[str, Any]) -> tuple[Mutation, Args]:
    """The mutation and its typed arguments, or InvalidInput (the outcome is `rejected`)."""
    mutation = REGISTRY.get(name)
    if mutation is None:
        raise InvalidInput(
            f"name: no mutation {name!r}; known: {', '.join(sorted(REGISTRY))}",
            errors=[{"field": "name", "message": "unknown mutation"}],
        )
    try:
        return mutation, msgspec.convert(args, mutation.args, strict=False)
    except msgspec.ValidationError as exc:
        raise InvalidInput(f"args: {exc}", errors=[{"field": "args", "message": str(exc)}]) from exc


def blob_of(args: Args) -> str | None:
    if isinstance(args, SignReport):
        return args.image_sha256
    if isinstance(args, BackupUnit):
        return args.loan_form_sha256
    return args.sha256 if isinstance(args, AttachPhoto | CaptureSignature) else None
