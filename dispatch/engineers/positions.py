"""Engineers' positions: only with their consent, only on shift, kept for a limited time (PIPL).

Phones report WGS-84; positions taken from a Chinese map SDK come in GCJ-02 or BD-09
and are converted here, at the edge. The latest position feeds predictions.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit, zones
from core.errors import Forbidden, NotFound
from core.geo import LonLat, lonlat, to_geography
from core.identity.models import User
from core.identity.roles import Actor
from dispatch.engineers.models import Engineer, EngineerPosition, PositionConsent
from routing.geo import bd09_to_wgs84, gcj02_to_wgs84

TO_WGS84 = {"wgs84": lambda lon, lat: (lon, lat), "gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}


@dataclass(frozen=True)
class Fix:
    at: dt.datetime
    point: LonLat
    accuracy_m: float | None
    datum: str = "wgs84"


async def _engineer(session: AsyncSession, actor: Actor) -> Engineer:
    engineer = await session.get(Engineer, actor.engineer_id) if actor.engineer_id else None
    if engineer is None:
        raise NotFound("You have no engineer record")
    return engineer


async def set_consent(
    session: AsyncSession, actor: Actor, now: dt.datetime, granted: bool
) -> PositionConsent:
    engineer = await _engineer(session, actor)
    consent = await session.get(PositionConsent, engineer.id)
    if consent is None:
        consent = PositionConsent(engineer_id=engineer.id, granted_at=now)
        session.add(consent)
    if granted:
        consent.granted_at, consent.withdrawn_at = now, None
    else:
        consent.withdrawn_at = now
    await session.flush()
    return consent


def on_shift(engineer: Engineer, at: dt.datetime) -> bool:
    """On a regular shift, one begun the day before included. Standby periods are spent
    mostly at home: no tracking there."""
    local = at.astimezone(zones.zone(engineer.time_zone))
    today, yesterday, now = local.weekday(), (local.weekday() - 1) % 7, local.time()
    return any(
        (s.weekday == today and s.starts <= now and (s.overnight or now < s.ends))
        or (s.weekday == yesterday and s.overnight and now < s.ends)
        for s in engineer.shifts
        if not s.on_call
    )


async def record(
    session: AsyncSession, actor: Actor, now: dt.datetime, fixes: Sequence[Fix]
) -> tuple[int, int]:
    """Store the on-shift fixes; returns (accepted, ignored off shift). Without consent: 403."""
    engineer = await _engineer(session, actor)
    consent = await session.get(PositionConsent, engineer.id)
    if consent is None or consent.withdrawn_at is not None:
        raise Forbidden(
            "Position tracking needs your consent first (POST /api/engineers/me/position-consent)"
        )
    accepted = ignored = 0
    for fix in fixes:
        if fix.at > now + dt.timedelta(minutes=5) or not on_shift(engineer, fix.at):
            ignored += 1
            continue
        lon, lat = TO_WGS84[fix.datum](*fix.point)
        session.add(
            EngineerPosition(
                engineer_id=engineer.id, at=fix.at, point=to_geography((lon, lat)), accuracy_m=fix.accuracy_m
            )
        )
        accepted += 1
    await session.flush()
    return accepted, ignored


async def latest_positions(
    session: AsyncSession, engineer_ids: Sequence[uuid.UUID], since: dt.datetime | None = None
) -> dict[uuid.UUID, LonLat]:
    """Each engineer's most recent reported position (taken at or after `since`, when given)."""
    latest = select(EngineerPosition.engineer_id, func.max(EngineerPosition.at).label("at")).where(
        EngineerPosition.engineer_id.in_(engineer_ids)
    )
    if since is not None:
        latest = latest.where(EngineerPosition.at >= since)
    newest = latest.group_by(EngineerPosition.engineer_id).subquery()
    rows = await session.execute(
        select(EngineerPosition).join(
            newest,
            (EngineerPosition.engineer_id == newest.c.engineer_id) & (EngineerPosition.at == newest.c.at),
        )
    )
    return {p.engineer_id: lonlat(p.point) for p in rows.scalars()}


async def forget_older_than(session: AsyncSession, cutoff: dt.datetime) -> int:
    result = await session.execute(delete(EngineerPosition).where(EngineerPosition.at < cutoff))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def van_points(session: AsyncSession, engineer_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, LonLat]:
    """Where each engineer's stock is: their latest position, else their home base."""
    engineers = list((await session.execute(select(Engineer).where(Engineer.id.in_(engineer_ids)))).scalars())
    live = await latest_positions(session, engineer_ids)
    return {e.id: live.get(e.id) or lonlat(e.home_base) for e in engineers}


# How old a position may be to show on the dispatcher's map.
SHOWN_FOR = dt.timedelta(hours=2)


class LivePosition(msgspec.Struct):
    engineer_id: uuid.UUID
    name: str
    username: str
    point: LonLat
    at: dt.datetime
    age_seconds: int
    accuracy_m: float | None


async def on_the_map(session: AsyncSession, now: dt.datetime) -> list[LivePosition]:
    """Where engineers are: the latest position of each one on shift now who consents to
    tracking, from the last two hours. Their locations are personal data: the read is audited."""
    newest = (
        select(EngineerPosition.engineer_id, func.max(EngineerPosition.at).label("at"))
        .where(EngineerPosition.at >= now - SHOWN_FOR)
        .group_by(EngineerPosition.engineer_id)
        .subquery()
    )
    rows = await session.execute(
        select(EngineerPosition, Engineer, User.display_name, User.username)
        .join(
            newest,
            (EngineerPosition.engineer_id == newest.c.engineer_id) & (EngineerPosition.at == newest.c.at),
        )
        .join(Engineer, Engineer.id == EngineerPosition.engineer_id)
        .join(User, User.id == Engineer.id)
        .join(PositionConsent, PositionConsent.engineer_id == Engineer.id)
        .where(PositionConsent.withdrawn_at.is_(None), Engineer.active.is_(True))
        .order_by(User.display_name)
    )
    shown = [
        LivePosition(
            engineer.id,
            name,
            username,
            lonlat(fix.point),
            fix.at,
            max(0, int((now - fix.at).total_seconds())),
            fix.accuracy_m,
        )
        for fix, engineer, name, username in rows
        if on_shift(engineer, now)
    ]
    audit.note_read(session.sync_session, "engineer.position", [p.engineer_id for p in shown])
    return shown
