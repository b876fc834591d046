"""Domain errors: what went wrong, in words a client can act on.

Each kind has a stable `slug`; the API turns it into an RFC 9457 problem whose
`type` is `/problems/<slug>`. Services raise these; they never build HTTP responses.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    slug: ClassVar[str] = "domain-error"
    status: ClassVar[int] = 400
    title: ClassVar[str] = "The request cannot be carried out"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidInput(DomainError):
    slug = "invalid-input"
    status = 422
    title = "Some fields are invalid"

    def __init__(self, detail: str, errors: list[dict[str, str]] | None = None, **extra: Any) -> None:
        super().__init__(detail, errors=errors or [], **extra)


def field_error(field: str, message: str) -> InvalidInput:
    """One bad field, named in `errors` so that a form can point at it."""
    return InvalidInput(f"{field}: {message}", errors=[{"field": field, "message": message}])


class NotFound(DomainError):
    slug = "not-found"
    status = 404
    title = "Not found"


class Unauthenticated(DomainError):
    slug = "unauthenticated"
    status = 401
    title = "Sign-in required"


class Forbidden(DomainError):
    slug = "forbidden"
    status = 403
    title = "Not allowed"


class Conflict(DomainError):
    slug = "conflict"
    status = 409
    title = "Conflicts with the current state"


class VersionConflict(Conflict):
    slug = "version-conflict"
    title = "The record changed since you read it"


class RateLimited(DomainError):
    slug = "rate-limited"
    status = 429
    title = "Too many attempts"

    def __init__(self, detail: str, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, retry_after=retry_after, **extra)
        self.retry_after = retry_after
