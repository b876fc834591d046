"""Work orders, visits, SLA clocks, notifications."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

import msgspec

from api.schemas.common import GeoPoint, Input, LongText, Phone, ShortText
from core.times import Day, Instant
from dispatch.contracts.models import Measure, Severity
from dispatch.sla.models import ClockState, PauseReason
from dispatch.work_orders.models import Channel, Status, VisitKind, WorkOrderKind
from dispatch.work_orders.queries import NoteView, VisitView
from dispatch.work_orders.visits import Outcome

Description = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
PersonName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
ChannelName = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
Version = Annotated[int, msgspec.Meta(ge=1)]


class WorkOrderIn(Input):
    site_id: uuid.UUID
    contact_name: PersonName
    contact_phone: Phone
    fault_description: Description
    severity: Severity
    channel: Channel
    customer_id: uuid.UUID | None = None
    asset_id: uuid.UUID | None = None
    asset_model: ShortText | None = None
    asset_serial: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None
    purchase_date: Day | None = None
    impact_scope: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    # The first receipt on any channel (e.g. the after-hours duty phone); default: now.
    reported_at: Instant | None = None


class HistoricalOrderIn(WorkOrderIn, kw_only=True):
    """A report older than live intake takes, with what became of it (each time optional)."""

    reported_at: Instant  # required here
    responded_at: Instant | None = None
    arrived_at: Instant | None = None
    restored_at: Instant | None = None
    closed_at: Instant | None = None


class ImportIn(Input):
    """Historical work orders: `items`, or `csv` with a header row naming the same fields."""

    items: Annotated[list[HistoricalOrderIn], msgspec.Meta(max_length=1000)] | None = None
    csv: Annotated[str, msgspec.Meta(max_length=2_000_000)] | None = None


class ImportedOut(msgspec.Struct):
    id: uuid.UUID
    problem_number: str
    status: Status


class ImportOut(msgspec.Struct):
    imported: int
    items: list[ImportedOut]


class TransitionIn(Input):
    version: Version
    to: Status
    note: LongText | None = None
    # Signing without the on-site signature: who confirmed, and how.
    confirmed_by: PersonName | None = None
    confirmation_channel: ChannelName | None = None


class ContactIn(Input):
    person_name: PersonName
    channel: ChannelName
    note: LongText | None = None
    at: Instant | None = None


class PauseIn(Input):
    version: Version
    reason: PauseReason
    customer_name: PersonName
    channel: ChannelName
    call_reference: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    until: Instant | None = None
    # Entered after the fact: when the pause began (default now) and, if it is over, when it ended.
    started_at: Instant | None = None
    resumed_at: Instant | None = None


class VersionIn(Input):
    version: Version


class ResumeIn(Input):
    version: Version
    # When the clocks resumed, if earlier than now (entered after the fact).
    resumed_at: Instant | None = None


class BackupOfferIn(Input):
    unit_description: ShortText
    declined: bool
    declined_by: PersonName | None = None
    evidence: ShortText | None = None


class DegradedIn(Input):
    version: Version
    severity: Severity
    note: LongText
    # The customer's confirmation of the workaround, when the desk has it already (all three).
    confirmed_by: PersonName | None = None
    confirmation_channel: ChannelName | None = None
    call_reference: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None


class RestoreConfirmationIn(Input):
    """The customer confirmed remotely that service is restored: who, how, and the call record."""

    confirmed_by: PersonName
    channel: ChannelName
    call_reference: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class PartNeed(Input):
    sku: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    quantity: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 1


class VisitIn(Input):
    kind: VisitKind
    duration_minutes: Annotated[int, msgspec.Meta(ge=5, le=24 * 60)]
    required_skills: dict[
        Annotated[str, msgspec.Meta(max_length=64)], Annotated[int, msgspec.Meta(ge=1, le=5)]
    ] = {}
    required_parts: list[PartNeed] = []
    people_needed: Annotated[int, msgspec.Meta(ge=1, le=4)] = 1
    window_start: Instant | None = None
    window_end: Instant | None = None
    window_confirmed: bool = False


class AssignmentIn(Input):
    version: Version
    engineer_id: uuid.UUID | None
    partner_engineer_id: uuid.UUID | None = None
    planned_start: Instant | None = None
    pinned: bool = False
    # Assign although a hard rule refuses it (a skill or licence, the site's admission): why.
    override_reason: Annotated[str, msgspec.Meta(min_length=3, max_length=500)] | None = None


class TravelIn(Input):
    at: Instant | None = None
    # The visit's version this step changes: a stale one is 409 (checked when given).
    version: int | None = None


class ArriveIn(Input):
    location: GeoPoint | None = None
    at: Instant | None = None
    # qr_code: the code scanned at reception; customer_confirmation: the customer's name.
    proof: Literal["gps", "qr_code", "customer_confirmation", "none"] = "gps"
    proof_reference: Annotated[str, msgspec.Meta(min_length=1, max_length=500)] | None = None
    # The visit's version this step changes: a stale one is 409 (checked when given).
    version: int | None = None


class NoteIn(Input):
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
    id: uuid.UUID | None = None
    at: Instant | None = None


class FinishIn(Input):
    outcome: Outcome
    note: LongText | None = None
    restored_at: Instant | None = None
    at: Instant | None = None
    # The visit's version this step changes: a stale one is 409 (checked when given).
    version: int | None = None


class RestoreConfirmationOut(msgspec.Struct):
    """How the customer confirmed a restore: `kind` is signed (a signature: the report, the loan
    form, the order), remote, survey, by_default or imported; `at` when it was recorded."""

    kind: str
    at: dt.datetime | None = None
    by: str | None = None
    channel: str | None = None
    call_reference: str | None = None


class ClockOut(msgspec.Struct):
    measure: Measure
    state: ClockState
    started_at: dt.datetime
    deadline: dt.datetime | None
    deadline_local: str | None
    remaining_seconds: float | None
    met_at: dt.datetime | None
    breached_at: dt.datetime | None
    customer_excused: bool
    target: dict[str, Any]
    # Restore recorded but not confirmed by the customer yet ("restored, awaiting confirmation").
    unconfirmed_at: dt.datetime | None = None
    # How the customer confirmed: kind (signature, remote, survey, by_default), by, channel, …
    confirmation: RestoreConfirmationOut | None = None


# The list page decodes its visits and notes straight from the database into these views;
# the answers are the same fields, under the API's names.
class NoteOut(NoteView):
    pass


class VisitOut(VisitView):
    # Notes under their API name; the same fields as the view's (so the invariant list is safe).
    notes: list[NoteOut]  # type: ignore[assignment]


class EventOut(msgspec.Struct):
    id: int
    at: dt.datetime
    actor_id: uuid.UUID | None
    actor_name: str | None
    kind: str
    from_status: str | None
    to_status: str | None
    note: str | None
    location: GeoPoint | None
    data: dict[str, Any]


class SiteBrief(msgspec.Struct):
    id: uuid.UUID
    name: str
    address: str
    point: GeoPoint
    time_zone: str


class WorkOrderOut(msgspec.Struct):
    id: uuid.UUID
    problem_number: str
    archive_id: str
    customer_id: uuid.UUID
    site: SiteBrief
    asset_id: uuid.UUID | None
    contract_id: uuid.UUID | None
    asset_model: str | None
    asset_serial: str | None
    purchase_date: dt.date | None
    warranty_end: dt.date | None
    billable: bool
    contact_name: str
    contact_phone: str
    fault_description: str
    impact_scope: str | None
    severity: Severity
    channel: Channel
    status: Status
    reported_at: dt.datetime
    reported_at_local: str
    restored_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    confirmed_by: str | None
    repeat_faults: int
    backup_needed: bool
    # Entered through the historical import: a record, not live work.
    imported: bool
    # repair (a fault, with its SLA clocks) or inspection (preventive, clocked by its window)
    kind: WorkOrderKind
    version: int
    clocks: list[ClockOut]
    visits: list[VisitOut]
    timeline: list[EventOut] | None = None


class NextStatusesOut(msgspec.Struct):
    status: Status
    version: int
    targets: list[Status]


class WorkOrderPage(msgspec.Struct):
    items: list[WorkOrderOut]
    next_cursor: str | None


class VisitPage(msgspec.Struct):
    items: list[VisitOut]
    next_cursor: str | None
