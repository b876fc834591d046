"""Password hashing (argon2id), off the event loop.

One argon2 hash takes a good fraction of a CPU second by design; run on the event
loop it stalls every other request of the process. `HashingPool` runs hashes in a
few threads (argon2-cffi releases the GIL) and refuses work beyond a bounded queue
with `HashingBusy` (503 and Retry-After) instead of letting sign-ins pile up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import DomainError

T = TypeVar("T")


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """`None` (no such account) is checked against a dummy hash, so that "no such user"
    and "wrong password" take the same time."""
    try:
        return _hasher().verify(password_hash or dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    return hash_password("no-such-user")


class HashingBusy(DomainError):
    slug = "busy"
    status = 503
    title = "Too many sign-ins at once"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)


class HashingPool:
    """At most `threads` hashes run at once and at most `max_waiting` wait for a thread."""

    def __init__(self, threads: int, max_waiting: int) -> None:
        self.threads = threads
        self.limit = threads + max_waiting
        # Made on first use and dropped on close, so an app whose lifespan runs again (tests, an
        # ASGI server restarting it) gets a fresh pool instead of a shut-down one.
        self._executor: ThreadPoolExecutor | None = None
        # Only touched from the event loop's thread, so a plain counter is enough.
        self.in_flight = 0

    async def _run(self, work: Callable[[], T]) -> T:
        if self.in_flight >= self.limit:
            raise HashingBusy("The server is busy checking passwords; retry shortly", retry_after=1)
        self.in_flight += 1
        try:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix="password-hash")
            return await asyncio.get_running_loop().run_in_executor(self._executor, work)
        finally:
            self.in_flight -= 1

    async def hash(self, password: str) -> str:
        return await self._run(lambda: hash_password(password))

    async def verify(self, password_hash: str | None, password: str) -> bool:
        return await self._run(lambda: verify_password(password_hash, password))

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
