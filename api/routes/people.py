"""Users and engineers."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from api.auth import ADMIN, SIGNED_IN, STAFF_ROLES, app_context
from api.params import CurrentActor, Cursor, Limit, Now, Session
from api.schemas.common import GeoPoint, fields_of, given, out
from api.schemas.records import (
    EngineerIn,
    EngineerOut,
    EngineerPage,
    EngineerPatch,
    PasswordChangeIn,
    ShiftIO,
    SkillIO,
    UserIn,
    UserOut,
    UserPage,
    UserPatch,
)
from core.identity import sessions, users
from core.identity.roles import Role
from dispatch.engineers import service
from dispatch.engineers.models import EmployerKind, Engineer, EngineerShift, EngineerSkill

ENGINEER_READERS = STAFF_ROLES | {Role.ENGINEER}


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


@get("/api/users", roles=ADMIN, tags=["users"], summary="List users")
async def list_users(
    session: Session,
    actor: CurrentActor,
    role: FromQuery[Role | None] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> UserPage:
    page = await users.list_users(session, actor, role=role, limit=limit, cursor=cursor)
    return UserPage(items=[out(UserOut, u) for u in page.items], next_cursor=page.next_cursor)


@get("/api/users/me", roles=SIGNED_IN, tags=["users"], summary="My account")
async def me(session: Session, actor: CurrentActor) -> UserOut:
    assert actor.user_id is not None
    return out(UserOut, await users.get_user(session, actor, actor.user_id))


@get("/api/users/{user_id:uuid}", roles=ADMIN, tags=["users"], summary="One user")
async def get_user(session: Session, actor: CurrentActor, user_id: FromPath[uuid.UUID]) -> UserOut:
    return out(UserOut, await users.get_user(session, actor, user_id))


@post("/api/users", roles=ADMIN, tags=["users"], summary="Create a user")
async def create_user(
    request: Request[Any, Any, Any], session: Session, actor: CurrentActor, data: JSONBody[UserIn]
) -> UserOut:
    hashing = app_context(request).hashing
    user = await users.create_user(
        session, actor, hashing, fields_of(data, skip=("password",)), data.password
    )
    return out(UserOut, user)


@patch(
    "/api/users/{user_id:uuid}",
    roles=ADMIN,
    tags=["users"],
    summary="Change a user (role, password, disable); a change of role, organisation, password or "
    "active flag ends the user's sign-ins",
)
async def update_user(
    request: Request[Any, Any, Any],
    now: Now,
    session: Session,
    actor: CurrentActor,
    user_id: FromPath[uuid.UUID],
    data: JSONBody[UserPatch],
) -> UserOut:
    app = app_context(request)
    password = data.password if isinstance(data.password, str) else None
    user = await users.update_user(
        session, actor, app.hashing, user_id, given(data, skip=("password",)), password, now
    )
    return out(UserOut, user)


@post(
    "/api/users/me/password",
    roles=SIGNED_IN,
    status_code=HTTP_204_NO_CONTENT,
    tags=["users"],
    summary="Change my password; my other sign-ins end, this one stays",
    description=(
        "A wrong `current_password` counts as a failed sign-in. Retrying after a lost answer is safe: "
        "the new password already in place answers 204 again. Nothing of the request is stored."
    ),
    idempotency="none",
)
async def change_my_password(
    request: Request[Any, Any, Any],
    now: Now,
    session: Session,
    actor: CurrentActor,
    data: JSONBody[PasswordChangeIn],
) -> None:
    app = app_context(request)
    await sessions.change_own_password(
        session,
        actor,
        app.throttle,
        app.hashing,
        current=data.current_password,
        new=data.new_password,
        address=app.trusted_proxies.client(request.scope),
        now=now,
    )


ROUTES = [
    list_engineers,
    my_engineer,
    get_engineer,
    create_engineer,
    update_engineer,
    list_users,
    me,
    get_user,
    create_user,
    update_user,
    change_my_password,
]
