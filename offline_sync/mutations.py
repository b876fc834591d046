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
from sqlalchemy.ext.asyncio import AsyncSession

from completion import signing
from completion.errors import ReportChanged, ReportSigned
from completion.models import ServiceReport
from core.clock import Clock
from core.errors import InvalidInput, NotFound
from core.identity.roles import Actor
from core.times import Instant, TimeChecked
from dispatch.work_orders import visits
from inventory import reservations
from offline_sync import conflicts, device_time
from offline_sync.models import SyncBlob, TimeEntry, VisitAttachment

Sha256 = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


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
        at=ctx.when(a.at),
        proof=a.proof,
        proof_reference=a.proof_reference,
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
    at = ctx.when(a.at)
    restored = None if a.restored_at is None else min(ctx.when(a.restored_at, main=False), at)
    visit = await visits.finish(
        ctx.session,
        ctx.actor,
        ctx.clock,
        a.visit_id,
        outcome=visits.Outcome(a.outcome),
        note=a.note,
        restored_at=restored,
        at=at,
    )
    return {"visit_id": str(visit.id), "visit_status": visit.status.value}


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
        at=ctx.when(a.at),
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


Handler = Callable[[Context, Any], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Mutation:
    args: type[Args]
    apply: Handler


REGISTRY: dict[str, Mutation] = {
    "visit.start_travel@1": Mutation(StartTravel, _start_travel),
    "visit.arrive@1": Mutation(Arrive, _arrive),
    "visit.add_note@1": Mutation(AddNote, _add_note),
    "visit.complete@1": Mutation(Complete, _complete),
    "visit.attach_photo@1": Mutation(AttachPhoto, _attach_photo),
    "visit.capture_signature@1": Mutation(CaptureSignature, _capture_signature),
    "timesheet.add@1": Mutation(TimesheetAdd, _timesheet_add),
    "visit.consume_part@1": Mutation(ConsumePart, _consume_part),
    "report.sign@1": Mutation(SignReport, _sign_report),
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
    return args.sha256 if isinstance(args, AttachPhoto | CaptureSignature) else None
