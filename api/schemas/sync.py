"""Offline sync: devices, push batches and outcomes, pulled changes, conflicts."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

import msgspec
from litestar.openapi.spec import OpenAPIType, Schema

from api.schemas.common import Input
from core.times import Instant

MutationName = Annotated[str, msgspec.Meta(min_length=3, max_length=64, pattern=r"^[a-z_.]+@[0-9]+$")]
Seq = Annotated[int, msgspec.Meta(ge=1, le=2**62)]


class DeviceIn(Input):
    device_id: uuid.UUID
    label: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    platform: Annotated[str, msgspec.Meta(min_length=1, max_length=40)] | None = None


class DeviceOut(msgspec.Struct):
    id: uuid.UUID
    device_id: uuid.UUID
    user_id: uuid.UUID
    label: str
    platform: str | None
    status: str
    registered_at: dt.datetime
    last_contact_at: dt.datetime
    clock_offset_s: float
    next_seq: int
    revoked_at: dt.datetime | None
    revoke_reason: str | None
    version: int
    username: str | None = None
    held_pushes: int = 0
    open_conflicts: int = 0
    # On reinstatement: what became of the pushes held while suspended.
    held_outcomes: list[dict[str, Any]] | None = None


class RevokeIn(Input):
    # suspend: refused and held for review, reinstatable; lost: refused for good, told to wipe.
    mode: Literal["suspend", "lost"]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    # The device's version as read; without one (older clients) the step applies to what is current.
    version: int | None = None


class ReinstateIn(Input):
    # apply: the held pushes are applied now, in the order received (exactly once, as any push);
    # discard: they are dropped (the device still holds its outbox and may push it again).
    held: Literal["apply", "discard"] = "apply"
    version: int | None = None


class MutationIn(Input):
    id: uuid.UUID
    seq: Seq
    name: MutationName
    args: dict[str, Any]


class PushIn(Input):
    device_id: uuid.UUID
    # The device's own clock when it sent the batch: the server measures the offset from it.
    device_time: Instant
    mutations: Annotated[list[MutationIn], msgspec.Meta(max_length=500)]


class PushOut(msgspec.Struct):
    # One per mutation sent: applied | rejected (+ problem) | conflict (+ server_view) |
    # pending_blob (+ blob) | not_processed (after a seq gap; resend from next_seq).
    outcomes: list[dict[str, Any]]
    next_seq: int
    server_time: dt.datetime


class PullOut(msgspec.Struct):
    # {"entity": "work_order", "id": ..., "op": "upsert", "data": {...}} or op "remove"; a
    # `visit_note` record comes already encoded (msgspec.Raw), written by PostgreSQL.
    changes: Annotated[
        list[dict[str, Any] | msgspec.Raw],
        # Documented as what both are on the wire, one JSON object each: the union would read as
        # `oneOf: [object, any]`, which every object matches twice.
        msgspec.Meta(extra_json_schema={"extra": {"items": Schema(type=OpenAPIType.OBJECT)}}),
    ]
    cursor: str
    has_more: bool
    bootstrap: bool
    server_time: dt.datetime


class BlobOut(msgspec.Struct):
    sha256: str
    size: int
    stored: bool
    applied_waiting: int


class ConflictOut(msgspec.Struct):
    id: uuid.UUID
    created_at: dt.datetime
    device_pk: uuid.UUID
    seq: int
    user_id: uuid.UUID
    visit_id: uuid.UUID | None
    work_order_id: uuid.UUID | None
    kind: str
    mutation_name: str
    args: dict[str, Any]
    server_view: dict[str, Any]
    resolved_at: dt.datetime | None
    resolved_by: uuid.UUID | None
    resolution: str | None


class ResolveIn(Input):
    resolution: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class DevicePage(msgspec.Struct):
    items: list[DeviceOut]
    next_cursor: str | None


class ConflictPage(msgspec.Struct):
    items: list[ConflictOut]
    next_cursor: str | None
