"""What the API keeps per application and per request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.client_address import TrustedProxies
from core.clock import Clock
from core.identity.passwords import HashingPool
from core.identity.roles import Actor
from core.identity.sessions import ThrottleLimits
from core.identity.tokens import TokenConfig
from core.live.feed import LiveHub
from core.settings import Settings
from dispatch.jobs import Trigger
from dispatch.planning.plans import PlanLimits


@dataclass
class AppContext:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    tokens: TokenConfig
    throttle: ThrottleLimits
    # Password hashing, off the event loop and bounded.
    hashing: HashingPool
    # Whose X-Forwarded-For names the client.
    trusted_proxies: TrustedProxies
    # How many plans the queue takes (solved by queue workers; counted in the database).
    plans: PlanLimits
    # Changes fanned out to this process's live streams (one LISTEN connection).
    live: LiveHub
    # Queues a sweep when a request changed something (None: no sweeps configured).
    worker: Trigger | None = None


@dataclass
class RequestContext:
    session: AsyncSession
    request_id: str
    actor: Actor | None = None
    # Why a presented token was refused; raised only if the route needs a signed-in user.
    auth_error: Exception | None = None


CONTEXT_KEY = "fieldservice"


def request_context(scope: Any) -> RequestContext:
    return cast(RequestContext, scope[CONTEXT_KEY])
