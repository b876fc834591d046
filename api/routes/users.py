"""User accounts."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from api.auth import ADMIN, SIGNED_IN, app_context
from api.params import CurrentActor, Cursor, Limit, Now, Session
from api.schemas.common import fields_of, given, out
from api.schemas.users import PasswordChangeIn, UserIn, UserOut, UserPage, UserPatch
from core.identity import sessions, users
from core.identity.roles import Role


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
        session,
        actor,
        app.hashing,
        user_id,
        given(data, skip=("password", "version")),
        password,
        now,
        version=data.version,
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


ROUTES = [list_users, me, get_user, create_user, update_user, change_my_password]
