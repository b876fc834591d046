"""The device registry: each engineer's phones, one outbox per (phone, user), and revocation.

A *suspended* device is refused with nothing applied and its pushes are held for review
(it keeps its outbox and resumes when reinstated); a *lost* device is refused for good,
its sign-ins end, and it is told to wipe its local data at next contact.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, Forbidden, InvalidInput, NotFound, VersionConflict
from core.identity.models import RefreshToken, User
from core.identity.roles import Actor, Role
from offline_sync.models import SyncConflict, SyncDevice, SyncHeldPush


class DeviceNotRegistered(Conflict):
    slug = "device-not-registered"
    title = "Register this device first"


class DeviceSuspended(Forbidden):
    slug = "device-suspended"
    title = "This device is suspended"


class DeviceLost(Forbidden):
    slug = "device-lost"
    title = "This device was reported lost"


async def register(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    *,
    device_id: uuid.UUID,
    label: str,
    platform: str | None,
) -> SyncDevice:
    """The user's outbox on this phone; registering again returns the same one."""
    if actor.role is not Role.ENGINEER or actor.user_id is None:
        raise Forbidden("Devices are registered by the engineers who carry them")
    found = (
        await session.execute(
            select(SyncDevice).where(SyncDevice.device_id == device_id, SyncDevice.user_id == actor.user_id)
        )
    ).scalar_one_or_none()
    if found is not None:
        if found.status == "lost":
            raise DeviceLost("This device was reported lost; it cannot be registered again", wipe=True)
        return found
    device = SyncDevice(
        id=uuid.uuid4(),
        device_id=device_id,
        user_id=actor.user_id,
        label=label,
        platform=platform,
        status="active",
        registered_at=now,
        last_contact_at=now,
        clock_offset_s=0.0,
        next_seq=1,
    )
    session.add(device)
    await session.flush()
    return device


async def of_user(
    session: AsyncSession, actor: Actor, device_id: uuid.UUID, *, lock: bool = False
) -> SyncDevice:
    """The signed-in user's outbox on this phone, or 409 when it was never registered."""
    stmt = select(SyncDevice).where(SyncDevice.device_id == device_id, SyncDevice.user_id == actor.user_id)
    if lock:
        stmt = stmt.with_for_update()
    device = (await session.execute(stmt)).scalar_one_or_none()
    if device is None:
        raise not_registered(device_id)
    return device


def not_registered(device_id: uuid.UUID) -> DeviceNotRegistered:
    return DeviceNotRegistered(
        "This device is not registered for you: POST /api/sync/devices first", device_id=str(device_id)
    )


async def reported_lost(session: AsyncSession, device_id: uuid.UUID) -> bool:
    found = await session.execute(
        select(SyncDevice.device_id).where(SyncDevice.device_id == device_id, SyncDevice.status == "lost")
    )
    return found.first() is not None


def refuse_lost_refresh() -> DeviceLost:
    return DeviceLost("This device was reported lost: its sign-in ended; wipe its local data", wipe=True)


def check_usable(device: SyncDevice) -> None:
    check_status(device.status)


def check_status(status: str) -> None:
    """Refuse a lost or suspended device."""
    if status == "lost":
        raise DeviceLost(
            "This device was reported lost: nothing more is accepted; wipe its local data", wipe=True
        )
    if status == "suspended":
        raise DeviceSuspended(
            "This device is suspended: nothing was applied; keep the outbox until a dispatcher reinstates it",
            wipe=False,
        )


# A pull records the device's contact when it moved by at least this much (or went back): a pull
# of several pages, or pulls seconds apart, write the row once rather than on every request.
CONTACT_STEP = dt.timedelta(minutes=1)


def contact_due(last_contact: dt.datetime, now: dt.datetime) -> bool:
    return not last_contact <= now < last_contact + CONTACT_STEP


async def record_contact(session: AsyncSession, device_pk: uuid.UUID, now: dt.datetime) -> None:
    """The device's contact time is now, unless a push holds its row: that push writes its own."""
    free = select(SyncDevice.id).where(SyncDevice.id == device_pk).with_for_update(skip_locked=True)
    await session.execute(
        update(SyncDevice).where(SyncDevice.id.in_(free.scalar_subquery())).values(last_contact_at=now)
    )


def hold(
    session: AsyncSession, device: SyncDevice, now: dt.datetime, mutations: list[dict[str, Any]]
) -> None:
    session.add(SyncHeldPush(id=uuid.uuid4(), device_pk=device.id, received_at=now, mutations=mutations))


async def listing(session: AsyncSession, user_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    held = select(SyncHeldPush.device_pk, func.count().label("n")).group_by(SyncHeldPush.device_pk).subquery()
    conflicts = (
        select(SyncConflict.device_pk, func.count().label("n"))
        .where(SyncConflict.resolved_at.is_(None))
        .group_by(SyncConflict.device_pk)
        .subquery()
    )
    stmt = (
        select(SyncDevice, User.username, held.c.n, conflicts.c.n)
        .join(User, User.id == SyncDevice.user_id)
        .outerjoin(held, held.c.device_pk == SyncDevice.id)
        .outerjoin(conflicts, conflicts.c.device_pk == SyncDevice.id)
        .order_by(User.username, SyncDevice.registered_at)
    )
    if user_id is not None:
        stmt = stmt.where(SyncDevice.user_id == user_id)
    return [
        {"device": d, "username": name, "held_pushes": int(h or 0), "open_conflicts": int(c or 0)}
        for d, name, h, c in (await session.execute(stmt)).all()
    ]


async def _by_pk(session: AsyncSession, device_pk: uuid.UUID, version: int | None = None) -> SyncDevice:
    """The device, locked; with `version`, only if the desk's copy is current (else 409)."""
    device = await session.get(SyncDevice, device_pk, with_for_update=True)
    if device is None:
        raise NotFound(f"No device with id {device_pk}")
    if version is not None and version != device.version:
        raise VersionConflict(
            f"You changed version {version} of this device, but it is at version {device.version}; reload it",
            current_version=device.version,
        )
    return device


async def revoke(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    device_pk: uuid.UUID,
    *,
    mode: str,
    reason: str,
    version: int | None = None,
) -> SyncDevice:
    if mode not in {"suspend", "lost"}:
        raise InvalidInput("mode: suspend or lost", errors=[{"field": "mode", "message": "suspend or lost"}])
    device = await _by_pk(session, device_pk, version)
    if device.status == "lost":
        raise Conflict("A lost device stays lost", current_status=device.status)
    device.status = "suspended" if mode == "suspend" else "lost"
    device.version += 1
    device.revoked_at, device.revoked_by, device.revoke_reason = now, actor.user_id, reason
    if mode == "lost":
        # Its sign-ins end too: the phone may be in someone else's hands.
        await session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.user_id == device.user_id,
                RefreshToken.device_id == device.device_id,
                RefreshToken.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
    await session.flush()
    return device


async def by_pk(session: AsyncSession, device_pk: uuid.UUID) -> SyncDevice:
    device = await session.get(SyncDevice, device_pk)
    if device is None:
        raise NotFound(f"No device with id {device_pk}")
    return device


async def reinstate(session: AsyncSession, device_pk: uuid.UUID, version: int | None = None) -> SyncDevice:
    device = await _by_pk(session, device_pk, version)
    if device.status != "suspended":
        raise Conflict(f"Only a suspended device is reinstated, not a {device.status} one")
    device.status, device.revoked_at, device.revoked_by, device.revoke_reason = "active", None, None, None
    device.version += 1
    await session.flush()
    return device
