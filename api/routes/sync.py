"""Offline sync: device registry, push, pull, blobs and the conflicts inbox.

Push, pull and blob uploads manage their own transactions (`own_transactions=True`):
a push applies each mutation in its own transaction, a pull reads in one REPEATABLE READ
snapshot, and an upload applies the mutations that waited for the blob one by one.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Annotated, Any, Literal

from litestar import Request, Response, get, head, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from api.auth import DESK, ENGINEERS, app_context
from api.context import request_context
from api.params import AppClock, CurrentActor, Cursor, Limit, Now, Session
from api.schemas.common import out
from api.schemas.sync import (
    BlobOut,
    ConflictOut,
    ConflictPage,
    DeviceIn,
    DeviceOut,
    DevicePage,
    PullOut,
    PushIn,
    PushOut,
    ReinstateIn,
    ResolveIn,
    RevokeIn,
)
from core.errors import InvalidInput
from core.pagination import list_page
from core.settings import Settings
from offline_sync import blobs, conflicts, devices, transactions, uploads
from offline_sync import push as pushing
from offline_sync.models import SyncDevice

BLOB_USERS = DESK | ENGINEERS
SHA256 = re.compile(r"^[0-9a-f]{64}$")
PullLimit = Annotated[int, QueryParameter(ge=1, le=1000, description="work-order documents per page")]
# What an app that predates `records` does not send, so it keeps receiving whole documents only.
PullFormat = Annotated[
    Literal["documents", "records"],
    QueryParameter(
        name="format",
        description="`records`: an order whose only changes are notes gets those notes "
        '(`{"entity": "visit_note", "work_order_id", "visit_id", "data"}`) instead of its whole document',
    ),
]


def _device_out(device: SyncDevice, **extra: Any) -> DeviceOut:
    defaults = {"username": None, "held_pushes": 0, "open_conflicts": 0, "held_outcomes": None}
    return out(DeviceOut, device, **{**defaults, **extra})


@post("/api/sync/devices", roles=ENGINEERS, tags=["sync"], summary="Register this phone for my outbox")
async def register_device(
    now: Now, session: Session, actor: CurrentActor, data: JSONBody[DeviceIn]
) -> DeviceOut:
    device = await devices.register(
        session,
        actor,
        now,
        device_id=data.device_id,
        label=data.label,
        platform=data.platform,
    )
    return _device_out(device, username=actor.username)


@get(
    "/api/sync/devices",
    roles=DESK,
    tags=["sync"],
    summary="Engineers' devices, with held pushes and conflicts",
)
async def list_devices(
    session: Session,
    user_id: FromQuery[uuid.UUID | None] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> DevicePage:
    found = [
        _device_out(
            row["device"],
            username=row["username"],
            held_pushes=row["held_pushes"],
            open_conflicts=row["open_conflicts"],
        )
        for row in await devices.listing(session, user_id)
    ]
    # By engineer, then as registered: a handful of phones each.
    page = list_page(
        session,
        found,
        lambda d: (d.username or "", d.registered_at.isoformat(), str(d.id)),
        purpose="devices",
        limit=limit,
        cursor=cursor,
    )
    return DevicePage(page.items, page.next_cursor)


@post(
    "/api/sync/devices/{device_pk:uuid}/revoke",
    roles=DESK,
    tags=["sync"],
    status_code=200,
    summary="Suspend a device (pushes held for review) or mark it lost (refused, told to wipe)",
)
async def revoke_device(
    now: Now,
    session: Session,
    actor: CurrentActor,
    device_pk: FromPath[uuid.UUID],
    data: JSONBody[RevokeIn],
) -> DeviceOut:
    device = await devices.revoke(
        session, actor, now, device_pk, mode=data.mode, reason=data.reason, version=data.version
    )
    return _device_out(device)


@post(
    "/api/sync/devices/{device_pk:uuid}/reinstate",
    roles=DESK,
    own_transactions=True,
    tags=["sync"],
    status_code=200,
    summary="Let a suspended device push again; apply (default) or discard the pushes held meanwhile",
)
async def reinstate_device(
    request: Request[Any, Any, Any],
    clock: AppClock,
    actor: CurrentActor,
    device_pk: FromPath[uuid.UUID],
    data: JSONBody[ReinstateIn | None] = None,
) -> DeviceOut:
    context = app_context(request)
    asked = data or ReinstateIn()
    device, outcomes = await transactions.reinstate(
        context.sessionmaker,
        clock,
        request_context(request.scope).request_id,
        device_pk,
        reviewer=actor,
        apply=asked.held == "apply",
        version=asked.version,
    )
    return _device_out(device, held_outcomes=outcomes)


@post(
    "/api/sync/push",
    roles=ENGINEERS,
    own_transactions=True,
    tags=["sync"],
    status_code=200,
    summary="Push mutations from the device outbox: one outcome per mutation, exactly once",
)
async def push(
    request: Request[Any, Any, Any], clock: AppClock, actor: CurrentActor, data: JSONBody[PushIn]
) -> PushOut:
    context = app_context(request)
    result = await pushing.push(
        context.sessionmaker,
        clock,
        actor,
        request_context(request.scope).request_id,
        device_id=data.device_id,
        device_now=data.device_time,
        batch=[pushing.Pushed(id=m.id, seq=m.seq, name=m.name, args=m.args) for m in data.mutations],
    )
    if context.worker is not None:
        context.worker.poke()
    return PushOut(outcomes=result.outcomes, next_seq=result.next_seq, server_time=result.server_time)


@get(
    "/api/sync/pull",
    roles=ENGINEERS,
    own_transactions=True,
    problems={409: ("device-not-registered",), 410: ("sync-cursor-expired",)},
    tags=["sync"],
    summary="Changes in my scope after the cursor (no cursor: bootstrap); 410 when the cursor is too old",
)
async def pull(
    request: Request[Any, Any, Any],
    clock: AppClock,
    actor: CurrentActor,
    device_id: FromQuery[uuid.UUID],
    cursor: Cursor = None,
    limit: PullLimit = 200,
    shape: PullFormat = "documents",
) -> PullOut:
    pulled = await transactions.pull(
        app_context(request).sessionmaker, clock, actor, device_id, cursor, limit, records=shape == "records"
    )
    page = pulled.page
    return PullOut(
        changes=page.changes,
        cursor=page.cursor,
        has_more=page.has_more,
        bootstrap=page.bootstrap,
        server_time=pulled.server_time,
    )


def upload_limits(settings: Settings) -> uploads.UploadLimits:
    return uploads.UploadLimits(
        per_user=settings.upload_partials_per_user,
        bytes_per_user=settings.upload_partial_bytes_per_user,
        expiry=timedelta(hours=settings.upload_expiry_hours),
    )


def _sha(value: str) -> str:
    if not SHA256.match(value):
        raise InvalidInput(
            "sha256: 64 lowercase hex digits",
            errors=[{"field": "sha256", "message": "64 lowercase hex digits"}],
        )
    return value


@head(
    "/api/sync/blobs/{sha256:str}", roles=BLOB_USERS, tags=["sync"], summary="Is this blob stored? (200/404)"
)
async def blob_exists(
    request: Request[Any, Any, Any], session: Session, actor: CurrentActor, sha256: FromPath[str]
) -> Response[None]:
    sha = _sha(sha256)
    size = await blobs.size_of(session, sha)
    if size is None:
        # Not stored yet: how much of the caller's chunked upload arrived (resume from there).
        assert actor.user_id is not None
        have = await uploads.received(session, actor.user_id, sha)
        return Response(content=None, status_code=404, headers={"x-blob-received": str(have)})
    return Response(content=None, status_code=200, headers={"x-blob-size": str(size)})


@put(
    "/api/sync/blobs/{sha256:str}",
    roles=ENGINEERS,
    own_transactions=True,
    request_max_body_size=uploads.MAX_BLOB_BYTES,
    tags=["sync"],
    summary="Upload a photo or signature by its SHA-256 (verified), whole or in resumable chunks "
    "(Content-Range); applies the mutations waiting for it",
)
async def put_blob(
    request: Request[Any, Any, Any], clock: AppClock, actor: CurrentActor, sha256: FromPath[str]
) -> BlobOut | Response[dict[str, Any]]:
    context = app_context(request)
    sha = _sha(sha256)
    received = await transactions.receive_blob(
        context.sessionmaker,
        clock,
        actor,
        request_context(request.scope).request_id,
        sha=sha,
        data=await request.body(),
        content_type=request.headers.get("content-type", "application/octet-stream"),
        content_range=request.headers.get("content-range"),
        limits=upload_limits(context.settings),
    )
    if isinstance(received, transactions.Partial):
        return Response(content={"sha256": sha, "received": received.received}, status_code=202)
    return BlobOut(
        sha256=sha, size=received.size, stored=received.stored, applied_waiting=received.applied_waiting
    )


@get(
    "/api/sync/conflicts",
    roles=DESK,
    tags=["sync"],
    summary="The conflicts inbox: offline work kept for review",
)
async def list_conflicts(
    session: Session,
    open_only: FromQuery[bool] = True,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> ConflictPage:
    page = await conflicts.inbox(session, open_only=open_only, limit=limit, cursor=cursor)
    return ConflictPage([out(ConflictOut, c) for c in page.items], page.next_cursor)


@post(
    "/api/sync/conflicts/{conflict_id:uuid}/resolve",
    roles=DESK,
    tags=["sync"],
    status_code=200,
    summary="Mark a conflict reviewed, with what was decided",
)
async def resolve_conflict(
    now: Now,
    session: Session,
    actor: CurrentActor,
    conflict_id: FromPath[uuid.UUID],
    data: JSONBody[ResolveIn],
) -> ConflictOut:
    row = await conflicts.resolve(session, actor, now, conflict_id, data.resolution)
    return out(ConflictOut, row)


ROUTES = [
    register_device,
    list_devices,
    revoke_device,
    reinstate_device,
    push,
    pull,
    blob_exists,
    put_blob,
    list_conflicts,
    resolve_conflict,
]

__all__ = ["ROUTES"]
