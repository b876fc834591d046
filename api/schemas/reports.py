"""Service reports: the draft's editable fields, the signature, and what clients read."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

import msgspec

from api.schemas.common import GeoPoint, Input, LongText, Phone

Sha256 = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Result = Literal["restored", "temporary_fix", "backup_installed", "not_fixed"]
# [x, y, t_ms since the first point]: one list of points per stroke.
Stroke = Annotated[list[tuple[float, float, int]], msgspec.Meta(min_length=1, max_length=2000)]


class ConfigurationBackup(msgspec.Struct, forbid_unknown_fields=True):
    done: bool | None
    where: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class OnSiteContact(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    phone: Phone | None = None


class ReportPatch(Input):
    """The fields the engineer edits until the customer signs; `revision` is the one read."""

    revision: int
    diagnosis: LongText | msgspec.UnsetType = msgspec.UNSET
    actions_taken: LongText | msgspec.UnsetType = msgspec.UNSET
    configuration_backup: ConfigurationBackup | msgspec.UnsetType = msgspec.UNSET
    result: Result | msgspec.UnsetType = msgspec.UNSET
    follow_up_needed: bool | msgspec.UnsetType = msgspec.UNSET
    billable: bool | msgspec.UnsetType = msgspec.UNSET
    customer_remarks: LongText | msgspec.UnsetType = msgspec.UNSET
    on_site_contact: OnSiteContact | msgspec.UnsetType = msgspec.UNSET


class SignIn(Input):
    """The customer's confirmation of the version whose `report_hash` the device showed.

    `strokes`: the PNG (`image_sha256`, uploaded with PUT /api/sync/blobs/{sha256}) and the points;
    `stamped_form`: the photo of the stamped 服务确认单 (`image_sha256`); `remote`: `channel` and
    `call_reference`, no image."""

    report_hash: Sha256
    kind: Literal["strokes", "stamped_form", "remote"]
    signer_name: Name
    signer_role: Name
    signed_at: dt.datetime | None = None
    signer_phone: Phone | None = None
    signer_email: (
        Annotated[str, msgspec.Meta(min_length=3, max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")] | None
    ) = None
    location: GeoPoint | None = None
    image_sha256: Sha256 | None = None
    strokes: Annotated[list[Stroke], msgspec.Meta(min_length=1, max_length=500)] | None = None
    channel: Annotated[str, msgspec.Meta(min_length=1, max_length=32)] | None = None
    call_reference: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None


class SignatureOut(msgspec.Struct):
    kind: str
    report_hash: str
    signer_name: str
    signer_role: str
    signer_phone: str | None
    signer_email: str | None
    signed_at: dt.datetime
    device_at: dt.datetime | None
    location: GeoPoint | None
    image_sha256: str | None
    channel: str | None
    call_reference: str | None
    binding_hash: str


class ArchiveOut(msgspec.Struct):
    archive_number: str
    sha256: str
    size: int
    created_at: dt.datetime
    retain_until: dt.date
    download: str


class ReportOut(msgspec.Struct):
    id: uuid.UUID
    work_order_id: uuid.UUID
    visit_id: uuid.UUID
    form: str
    title: str
    version: int
    supersedes_id: uuid.UUID | None
    status: str
    revision: int
    content: dict[str, Any]
    # The SHA-256 of `canonical`: for a draft, the current version (what a signature must name);
    # for a signed report, what was signed.
    hash: str
    canonical: str
    created_at: dt.datetime
    updated_at: dt.datetime
    signed_at: dt.datetime | None
    signature: SignatureOut | None
    archive: ArchiveOut | None


class Difference(msgspec.Struct):
    field: str
    signed: Any
    now: Any


class VerificationOut(msgspec.Struct):
    report_id: uuid.UUID
    version: int
    valid: bool
    signed_hash: str
    current_hash: str
    differences: list[Difference]
    # With ?hash= (the verification QR code's URL carries it): whether it is the hash that was signed.
    printed_hash_matches: bool | None = None


class ReportPage(msgspec.Struct):
    items: list[ReportOut]
    next_cursor: str | None
