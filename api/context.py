"""What the API keeps per application and per request."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

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

T = TypeVar("T")


class RecentPages(Generic[T]):
    """What an API process built lately, by key; past `size` the least recently used goes."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: OrderedDict[object, T] = OrderedDict()

    def get(self, key: object) -> T | None:
        found = self._kept.get(key)
        if found is not None:
            self._kept.move_to_end(key)
        return found

    def put(self, key: object, value: T) -> None:
        self._kept[key] = value
        self._kept.move_to_end(key)
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)


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
    # The work order list's pages this process built, served again while the database says
    # nothing behind them changed.
    list_pages: RecentPages[Any] = field(default_factory=lambda: RecentPages(64))
    # Which kept page a sign-in was answered for a query string (`list_pages.answer_kept`).
    list_shortcuts: RecentPages[Any] = field(default_factory=lambda: RecentPages(1024))


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
