"""Engineers: skills with levels and expiry, home base, weekly shifts, employer."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from core.errors import InvalidInput, NotFound
from core.geo import LonLat, to_geography
from core.identity.models import User
from core.identity.roles import Actor, Role
from core.pagination import Page, keyset_page
from core.records import apply_changes, get_or_404, get_versioned
from core.weekly_hours import overlapping
from dispatch.engineers.models import EmployerKind, Engineer, EngineerShift, EngineerSkill


def _check_shifts(shifts: list[EngineerShift]) -> None:
    if any(shift.span.empty for shift in shifts):
        raise InvalidInput(
            "A shift must not end when it starts",
            errors=[{"field": "shifts", "message": "ends must differ from starts (before it: the next day)"}],
        )
    # Regular and standby alike: an engineer is in one place at a time.
    if overlapping([s.span for s in shifts]):
        raise InvalidInput("Shifts overlap", errors=[{"field": "shifts", "message": "overlapping shifts"}])


def _check_skills(skills: list[EngineerSkill]) -> None:
    names = [s.skill for s in skills]
    if len(set(names)) != len(names):
        raise InvalidInput(
            "A skill is listed twice", errors=[{"field": "skills", "message": "duplicate skill"}]
        )


async def list_engineers(
    session: AsyncSession,
    actor: Actor,
    *,
    skill: str | None,
    employer_kind: EmployerKind | None,
    limit: int,
    cursor: str | None,
) -> Page[Engineer]:
    stmt = select(Engineer).join(User, User.id == Engineer.id)
    if skill:
        stmt = stmt.where(Engineer.skills.any(EngineerSkill.skill == skill))
    if employer_kind is not None:
        stmt = stmt.where(Engineer.employer_kind == employer_kind)
    return await keyset_page(session, stmt, [Engineer.id], limit=limit, cursor=cursor)


async def get_engineer(session: AsyncSession, actor: Actor, engineer_id: uuid.UUID) -> Engineer:
    if actor.role is Role.ENGINEER and actor.user_id != engineer_id:
        # Engineers see their own record only; others' do not exist for them.
        raise NotFound(f"No engineer with id {engineer_id}")
    return await get_or_404(session, Engineer, engineer_id, "engineer")


async def names_of(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str]]:
    rows = await session.execute(select(User.id, User.username, User.display_name).where(User.id.in_(ids)))
    return {row.id: (row.username, row.display_name) for row in rows}


async def create_engineer(
    session: AsyncSession,
    actor: Actor,
    values: dict[str, Any],
    home: LonLat,
    skills: list[EngineerSkill],
    shifts: list[EngineerShift],
) -> Engineer:
    user = await get_or_404(session, User, values["id"], "user")
    if user.role is not Role.ENGINEER:
        raise InvalidInput(
            "Only a user with the engineer role can have an engineer record",
            errors=[{"field": "id", "message": "user is not an engineer"}],
        )
    _check_skills(skills)
    _check_shifts(shifts)
    engineer = Engineer(**values, home_base=to_geography(home), skills=skills, shifts=shifts)
    session.add(engineer)
    await session.flush()
    return engineer


async def update_engineer(
    session: AsyncSession,
    actor: Actor,
    engineer_id: uuid.UUID,
    version: int,
    changes: dict[str, Any],
    home: LonLat | None,
    skills: list[EngineerSkill] | None,
    shifts: list[EngineerShift] | None,
) -> Engineer:
    engineer = await get_versioned(session, Engineer, engineer_id, version, "engineer")
    apply_changes(engineer, changes)
    if home is not None:
        engineer.home_base = to_geography(home)
    if skills is not None:
        _check_skills(skills)
        engineer.skills = skills
    if shifts is not None:
        _check_shifts(shifts)
        engineer.shifts = shifts
    if skills is not None or shifts is not None:
        flag_modified(engineer, "employer_name")  # a change of children still bumps the version
    await session.flush()
    await session.refresh(engineer)
    return engineer
