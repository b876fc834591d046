"""Engineer absences: time an engineer is away (ill, on leave, in training, a long break).

Plans, the assignment dry run and emergency insertion take an absence out of the engineer's
shifts; the board shows it. Two absences of one engineer never overlap: the second is refused,
so what the desk sees is one period per stretch of time away.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, NotFound, field_error
from core.identity.roles import Actor, Role
from core.records import get_versioned, locked_or_404
from dispatch.engineers.models import AbsenceKind, Engineer, EngineerAbsence

# Longer than this is not an absence to plan around but a leaver (set the engineer inactive).
LONGEST = dt.timedelta(days=366)


class AbsenceOverlap(Conflict):
    slug = "absence-overlap"
    title = "The engineer is already away for part of that time"


def _may_read(actor: Actor, engineer_id: uuid.UUID) -> None:
    if actor.role is Role.ENGINEER and actor.user_id != engineer_id:
        # Engineers see their own absences only; others' do not exist for them.
        raise NotFound(f"No engineer with id {engineer_id}")


async def absences_of(
    session: AsyncSession,
    engineer_ids: Sequence[uuid.UUID],
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> dict[uuid.UUID, list[EngineerAbsence]]:
    """Engineer -> their absences touching [start, end), in time order."""
    stmt = select(EngineerAbsence).where(EngineerAbsence.engineer_id.in_(list(engineer_ids)))
    if start is not None:
        stmt = stmt.where(EngineerAbsence.ends_at > start)
    if end is not None:
        stmt = stmt.where(EngineerAbsence.starts_at < end)
    rows = await session.execute(stmt.order_by(EngineerAbsence.starts_at, EngineerAbsence.id))
    found: dict[uuid.UUID, list[EngineerAbsence]] = {}
    for absence in rows.scalars():
        found.setdefault(absence.engineer_id, []).append(absence)
    return found


async def list_absences(
    session: AsyncSession,
    actor: Actor,
    engineer_id: uuid.UUID,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> list[EngineerAbsence]:
    _may_read(actor, engineer_id)
    if await session.get(Engineer, engineer_id) is None:
        raise NotFound(f"No engineer with id {engineer_id}")
    return (await absences_of(session, [engineer_id], start, end)).get(engineer_id, [])


async def create_absence(
    session: AsyncSession,
    actor: Actor,
    engineer_id: uuid.UUID,
    *,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    kind: AbsenceKind,
    note: str | None,
) -> EngineerAbsence:
    if ends_at <= starts_at:
        raise field_error("ends_at", "must be after starts_at")
    if ends_at - starts_at > LONGEST:
        raise field_error("ends_at", "an absence lasts at most 366 days; set a leaver inactive instead")
    # The engineer's row lock makes the overlap check and the insert one step for that engineer.
    await locked_or_404(session, Engineer, engineer_id, "engineer")
    clash = (
        await session.execute(
            select(EngineerAbsence)
            .where(
                EngineerAbsence.engineer_id == engineer_id,
                EngineerAbsence.starts_at < ends_at,
                EngineerAbsence.ends_at > starts_at,
            )
            .order_by(EngineerAbsence.starts_at)
            .limit(1)
        )
    ).scalar_one_or_none()
    if clash is not None:
        raise AbsenceOverlap(
            f"The engineer is away ({clash.kind.value}) from {clash.starts_at.isoformat()} "
            f"to {clash.ends_at.isoformat()}",
            absence_id=str(clash.id),
            errors=[{"field": "starts_at", "message": "overlaps another absence of this engineer"}],
        )
    absence = EngineerAbsence(
        engineer_id=engineer_id,
        starts_at=starts_at,
        ends_at=ends_at,
        kind=kind,
        note=note,
        created_by=actor.user_id,
    )
    session.add(absence)
    await session.flush()
    return absence


async def delete_absence(
    session: AsyncSession, engineer_id: uuid.UUID, absence_id: uuid.UUID, version: int
) -> None:
    absence = await get_versioned(session, EngineerAbsence, absence_id, version, "absence")
    if absence.engineer_id != engineer_id:
        raise NotFound(f"No absence with id {absence_id}")
    await session.delete(absence)
    await session.flush()
