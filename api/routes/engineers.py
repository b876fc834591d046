"""Engineers, and their positions (with consent)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from litestar import delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from api.auth import ADMIN, DESK, ENGINEERS, STAFF_ROLES
from api.params import CurrentActor, Cursor, Limit, Now, Session
from api.schemas.common import GeoPoint, fields_of, given, out
from api.schemas.engineers import (
    AbsenceIn,
    AbsenceOut,
    AbsencePage,
    ConsentOut,
    EngineerIn,
    EngineerOut,
    EngineerPage,
    EngineerPatch,
    PositionPage,
    PositionsIn,
    PositionsOut,
    ShiftIO,
    SkillIO,
)
from core.identity.roles import Role
from core.pagination import list_page
from core.times import SUPPORTED
from dispatch.engineers import absences, positions, service
from dispatch.engineers.models import EmployerKind, Engineer, EngineerShift, EngineerSkill

ENGINEER_READERS = STAFF_ROLES | {Role.ENGINEER}
_WHEN = f"RFC 3339 with a UTC offset, in {SUPPORTED}"
AbsencesFrom = Annotated[dt.datetime | None, QueryParameter(name="from", description=f"after: {_WHEN}")]
AbsencesTo = Annotated[dt.datetime | None, QueryParameter(name="to", description=f"starting before: {_WHEN}")]


async def engineers_out(session: Session, engineers: list[Engineer]) -> list[EngineerOut]:
    names = await service.names_of(session, [e.id for e in engineers])
    return [
        out(
            EngineerOut,
            e,
            username=names[e.id][0],
            display_name=names[e.id][1],
            home_base=GeoPoint.of(e.home_base),
            skills=[SkillIO(skill=s.skill, level=s.level, valid_until=s.valid_until) for s in e.skills],
            shifts=[
                ShiftIO(weekday=s.weekday, starts=s.starts, ends=s.ends, on_call=s.on_call) for s in e.shifts
            ],
        )
        for e in engineers
    ]


def _skills(items: list[SkillIO]) -> list[EngineerSkill]:
    return [EngineerSkill(skill=s.skill, level=s.level, valid_until=s.valid_until) for s in items]


def _shifts(items: list[ShiftIO]) -> list[EngineerShift]:
    return [EngineerShift(weekday=s.weekday, starts=s.starts, ends=s.ends, on_call=s.on_call) for s in items]


@get(
    "/api/engineers",
    roles=STAFF_ROLES,
    tags=["engineers"],
    summary="List engineers (filter by skill, employer)",
)
async def list_engineers(
    session: Session,
    actor: CurrentActor,
    skill: FromQuery[str | None] = None,
    employer_kind: FromQuery[EmployerKind | None] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> EngineerPage:
    page = await service.list_engineers(
        session, actor, skill=skill, employer_kind=employer_kind, limit=limit, cursor=cursor
    )
    return EngineerPage(items=await engineers_out(session, page.items), next_cursor=page.next_cursor)


@get("/api/engineers/me", roles=frozenset({Role.ENGINEER}), tags=["engineers"], summary="My engineer record")
async def my_engineer(session: Session, actor: CurrentActor) -> EngineerOut:
    assert actor.user_id is not None
    return (await engineers_out(session, [await service.get_engineer(session, actor, actor.user_id)]))[0]


@get(
    "/api/engineers/{engineer_id:uuid}",
    roles=ENGINEER_READERS,
    tags=["engineers"],
    summary="One engineer (engineers: only themselves)",
)
async def get_engineer(
    session: Session, actor: CurrentActor, engineer_id: FromPath[uuid.UUID]
) -> EngineerOut:
    return (await engineers_out(session, [await service.get_engineer(session, actor, engineer_id)]))[0]


@post(
    "/api/engineers",
    roles=ADMIN,
    tags=["engineers"],
    summary="Create the engineer record of an engineer user",
)
async def create_engineer(session: Session, actor: CurrentActor, data: JSONBody[EngineerIn]) -> EngineerOut:
    engineer = await service.create_engineer(
        session,
        actor,
        fields_of(data, skip=("home_base", "skills", "shifts")),
        data.home_base.lonlat,
        _skills(data.skills),
        _shifts(data.shifts),
    )
    return (await engineers_out(session, [engineer]))[0]


@patch(
    "/api/engineers/{engineer_id:uuid}",
    roles=ADMIN,
    tags=["engineers"],
    summary="Change an engineer's skills, shifts, home base or employer",
)
async def update_engineer(
    session: Session, actor: CurrentActor, engineer_id: FromPath[uuid.UUID], data: JSONBody[EngineerPatch]
) -> EngineerOut:
    engineer = await service.update_engineer(
        session,
        actor,
        engineer_id,
        data.version,
        given(data, skip=("version", "home_base", "skills", "shifts")),
        data.home_base.lonlat if isinstance(data.home_base, GeoPoint) else None,
        _skills(data.skills) if isinstance(data.skills, list) else None,
        _shifts(data.shifts) if isinstance(data.shifts, list) else None,
    )
    return (await engineers_out(session, [engineer]))[0]


@post(
    "/api/engineers/me/position-consent",
    roles=ENGINEERS,
    tags=["engineers"],
    status_code=200,
    summary="Consent to position tracking while on shift",
)
async def grant_consent(now: Now, session: Session, actor: CurrentActor) -> ConsentOut:
    return out(ConsentOut, await positions.set_consent(session, actor, now, granted=True))


@delete(
    "/api/engineers/me/position-consent",
    roles=ENGINEERS,
    tags=["engineers"],
    status_code=200,
    summary="Withdraw consent: no more positions are accepted",
)
async def withdraw_consent(now: Now, session: Session, actor: CurrentActor) -> ConsentOut:
    return out(ConsentOut, await positions.set_consent(session, actor, now, granted=False))


@post(
    "/api/engineers/me/positions",
    roles=ENGINEERS,
    tags=["engineers"],
    status_code=200,
    summary="Report positions (batched); off-shift ones are dropped, GCJ-02/BD-09 converted to WGS-84",
)
async def report_positions(
    now: Now, session: Session, actor: CurrentActor, data: JSONBody[PositionsIn]
) -> PositionsOut:
    fixes = [positions.Fix(p.at, p.point.lonlat, p.accuracy_m, p.datum) for p in data.positions]
    accepted, ignored = await positions.record(session, actor, now, fixes)
    return PositionsOut(accepted=accepted, ignored_off_shift=ignored)


@get(
    "/api/engineers/positions",
    roles=DESK,
    tags=["engineers"],
    summary="Where engineers are: the latest position (last 2 h) of each consenting engineer on shift",
)
async def engineer_positions(
    now: Now, session: Session, limit: Limit = 100, cursor: Cursor = None
) -> PositionPage:
    found = await positions.on_the_map(session, now)
    page = list_page(
        session,
        found,
        lambda p: (p.name, str(p.engineer_id)),
        purpose="positions",
        limit=limit,
        cursor=cursor,
    )
    return PositionPage(page.items, page.next_cursor)


@get(
    "/api/engineers/{engineer_id:uuid}/absences",
    roles=DESK | ENGINEERS,
    tags=["engineers"],
    summary="An engineer's absences (sick, leave, training, break) touching [from, to); engineers: their own",
)
async def list_absences(
    session: Session,
    actor: CurrentActor,
    engineer_id: FromPath[uuid.UUID],
    start: AbsencesFrom = None,
    end: AbsencesTo = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> AbsencePage:
    found = [
        out(AbsenceOut, a) for a in await absences.list_absences(session, actor, engineer_id, start, end)
    ]
    page = list_page(
        session,
        found,
        lambda a: (a.starts_at.isoformat(), str(a.id)),
        purpose="absences",
        limit=limit,
        cursor=cursor,
    )
    return AbsencePage(page.items, page.next_cursor)


@post(
    "/api/engineers/{engineer_id:uuid}/absences",
    roles=DESK,
    tags=["engineers"],
    summary="Record an absence: plans, the assignment check and emergency insertion leave that time free "
    "(one overlapping another of the engineer's is refused)",
)
async def create_absence(
    session: Session, actor: CurrentActor, engineer_id: FromPath[uuid.UUID], data: JSONBody[AbsenceIn]
) -> AbsenceOut:
    absence = await absences.create_absence(
        session,
        actor,
        engineer_id,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        kind=data.kind,
        note=data.note,
    )
    return out(AbsenceOut, absence)


@delete(
    "/api/engineers/{engineer_id:uuid}/absences/{absence_id:uuid}",
    roles=DESK,
    tags=["engineers"],
    summary="Remove an absence (the version read, as `version`)",
)
async def delete_absence(
    session: Session,
    engineer_id: FromPath[uuid.UUID],
    absence_id: FromPath[uuid.UUID],
    version: Annotated[int, QueryParameter(ge=1, description="the absence's version as read")],
) -> None:
    await absences.delete_absence(session, engineer_id, absence_id, version)


ROUTES = [
    engineer_positions,
    list_absences,
    create_absence,
    delete_absence,
    list_engineers,
    my_engineer,
    get_engineer,
    create_engineer,
    update_engineer,
    grant_consent,
    withdraw_consent,
    report_positions,
]
