"""Route roles and the guard that enforces them.

Every handler declares who may call it with `roles=` (a set of `Role`, or
`PUBLIC`). A handler that declares nothing is refused to everyone, so a
forgotten declaration fails closed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from sqlalchemy.ext.asyncio import AsyncSession

from api.context import AppContext, request_context
from core.clock import Clock
from core.errors import Forbidden, Unauthenticated
from core.identity.roles import ALL_ROLES, STAFF, Actor, Role

PUBLIC = "public"

ADMIN = frozenset({Role.ADMIN})
MANAGERS = frozenset({Role.ADMIN, Role.SUPERVISOR})
DESK = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.DISPATCHER})
STAFF_ROLES = STAFF
SIGNED_IN = ALL_ROLES
ENGINEERS = frozenset({Role.ENGINEER})
WAREHOUSE = frozenset({Role.ADMIN, Role.WAREHOUSE})
# Staff and the customer's own contacts (who see only their organisation).
CUSTOMER_READERS = STAFF | {Role.CUSTOMER_CONTACT}


async def role_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    allowed = handler.opt.get("roles")
    if allowed == PUBLIC:
        return
    if not allowed:
        raise Forbidden("This route declares no roles and is closed")
    ctx = request_context(connection.scope)
    if ctx.actor is None:
        if ctx.auth_error is not None:
            raise ctx.auth_error
        raise Unauthenticated("Sign in and send `Authorization: Bearer <access token>`")
    if ctx.actor.role not in allowed:
        raise Forbidden(f"The role {ctx.actor.role} may not do this")


async def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    actor = request_context(request.scope).actor
    if actor is None:  # only public routes get here without one, and they do not ask for it
        raise Unauthenticated("Sign-in required")
    return actor


async def provide_session(request: Request[Any, Any, Any]) -> AsyncSession:
    return request_context(request.scope).session


async def provide_clock(request: Request[Any, Any, Any]) -> Clock:
    return app_context(request).clock


async def provide_now(request: Request[Any, Any, Any]) -> dt.datetime:
    return app_context(request).clock.now()


def app_context(request: Request[Any, Any, Any]) -> AppContext:
    context: AppContext = request.app.state["context"]
    return context
