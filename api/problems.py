"""RFC 9457 problem details for every error the API returns.

`type` is a stable relative URI per kind of error (`/problems/<slug>`); clients
branch on it, people read `title` and `detail`. The catalogue below describes every
slug the code raises (tests/api/test_problem_catalogue.py checks that none is missing).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, cast

from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import Message
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from core.database import database_unavailable
from core.errors import DomainError

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("fieldservice.api")

CATALOGUE: dict[str, str] = {
    "invalid-input": "Fields missing, of the wrong type, or out of range; `errors` lists them.",
    "malformed-body": "The request body is not valid JSON (or not UTF-8).",
    "body-too-deep": "Arrays and objects in the JSON body nest deeper than 64 levels.",
    "body-too-large": "The request body is larger than the server accepts.",
    "not-found": "No such record, or not one you may see.",
    "route-not-found": "No such path.",
    "method-not-allowed": "The path exists but not with this HTTP method.",
    "unauthenticated": "Sign in (or refresh the access token) and send it as `Authorization: Bearer …`.",
    "forbidden": "Your role or organisation may not do this.",
    "conflict": "The request conflicts with the current state of the record.",
    "version-conflict": "The record changed since you read it; `current` holds it now.",
    "duplicate": "A record with the same unique value already exists.",
    "invalid-reference": "The request refers to a record that does not exist.",
    "in-use": "Other records still refer to this one; remove or move them first.",
    "rate-limited": "Too many attempts; wait `retry_after` seconds.",
    "busy": "Too much work at once (e.g. sign-ins checking passwords); retry after `retry_after` seconds.",
    "idempotency-key-reused": "The Idempotency-Key was first used for a different request.",
    "absence-overlap": "The engineer already has an absence for part of that time; `absence_id` names it.",
    "assignment-refused": "A hard rule refuses giving the visit to that engineer (a skill or licence, the "
    "site's whitelist or barred list); `findings` lists each. Send `override_reason` to assign anyway.",
    "not-plannable": "A stored time or rule of the visit is one no plan can use; `detail` says which.",
    "internal-error": "Something failed on the server; the request changed nothing.",
    "database-unavailable": "The database cannot be reached right now (a restart or fail-over); the "
    "request changed nothing: retry the same request after `Retry-After` seconds.",
    "too-many-plans": "Plans already running or queued fill the allowed places (yours, or the "
    "server's queue); retry after `Retry-After` seconds, or wait for a plan of yours to finish.",
    "too-many-uploads": "You have too many unfinished chunked uploads (count or bytes); finish or "
    "let one expire, then retry.",
    "device-not-registered": "This phone is not registered for you: `POST /api/sync/devices` first.",
    "device-suspended": "A dispatcher suspended this phone: keep the outbox until it is reinstated.",
    "device-lost": "This phone was reported lost: nothing more is accepted; wipe its local data.",
    "sync-cursor-expired": "The change log no longer reaches back to this cursor: pull again without one.",
    "seq-reused": "A sync push reused a `seq` for a different mutation; the first one stands.",
    "upload-offset-mismatch": "This chunk does not start where the upload stands; `received` says where.",
    "commit-failed": "The database refused to store the change; nothing was stored: retry the request.",
    "illegal-transition": "That work-order status change is not allowed from its current status.",
    "illegal-visit-step": "That step does not fit the visit's current state.",
    "illegal-stock-step": "That stock step does not fit the unit's or record's current state.",
    "calendar-not-loaded": "The contract's holiday calendar has no entries for that year; load it first.",
    "pause-overlaps": "The pause lies on another pause of the same work order (each moment pauses the "
    "clocks once); `detail` gives the other pause's span.",
    "photo-required": "A resolved repair needs a photo, unless the site bans cameras.",
    "report-signed": "A signed service report is never edited: `POST /api/reports/{id}/corrections` starts "
    "the next version.",
    "report-changed": "The service report is no longer the version the customer was shown "
    "(`current_hash`): show the current one and sign that.",
    "report-exists": "The visit already has a service report (`report_id`).",
    "survey-unknown": "No customer survey has this link (mistyped or cut short): ask the service desk "
    "for a new one.",
    "survey-expired": "The customer survey link is past its 7 days; the visit was recorded as confirmed.",
    "survey-used": "The customer survey link was already used to answer; each link answers once.",
    "report-not-signed": "The service report is not signed yet: there is nothing to verify or download.",
    "proof-mismatch": "The arrival proof (QR code or customer confirmation) does not match the site.",
    "plan-stale": "The plan was made from visits that changed since; plan again.",
    "out-of-stock": "Not enough stock at that location.",
    "unit-unavailable": "That serialized unit is not available for this step.",
    "media-retained": "A data-bearing part from this site stays with the customer (retained media).",
    "no-backup-model": "The work order names no device model, so no backup unit can be chosen.",
}

# Seconds a client waits before retrying while the database is away: a restart takes a few.
DATABASE_RETRY_AFTER = 5


def problem(status: int, slug: str, title: str, detail: str, **extra: Any) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {"type": f"/problems/{slug}", "title": title, "status": status, "detail": detail}
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = {}
    if "retry_after" in extra:
        headers["Retry-After"] = str(extra["retry_after"])
    return Response(content=body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def problem_messages(status: int, slug: str, title: str, detail: str, **extra: Any) -> list[Message]:
    """A problem as raw ASGI messages, for middleware that answers before the app runs."""
    body = json.dumps(
        {"type": f"/problems/{slug}", "title": title, "status": status, "detail": detail, **extra}
    ).encode()
    headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]
    if "retry_after" in extra:
        headers.append((b"retry-after", str(extra["retry_after"]).encode()))
    return [
        cast(
            Message,
            {"type": "http.response.start", "status": status, "headers": headers},
        ),
        cast(Message, {"type": "http.response.body", "body": body, "more_body": False}),
    ]


def _instance(request: Request[Any, Any, Any]) -> str:
    return request.url.path


def domain_error_handler(request: Request[Any, Any, Any], exc: DomainError) -> Response[dict[str, Any]]:
    return problem(exc.status, exc.slug, exc.title, exc.detail, instance=_instance(request), **exc.extra)


# A check run after decoding (core.times) names the field inside the struct at `key`.
_NAMED = re.compile(r"^`([^`]+)`: (.+)$", re.DOTALL)


def _field_errors(extra: Any) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    for item in extra if isinstance(extra, list) else []:
        if isinstance(item, dict):
            field = str(item.get("key") or item.get("source") or "body")
            message = str(item.get("message", "invalid"))
            if named := _NAMED.match(message):
                inner, message = named.groups()
                field = inner if field in {"data", "body"} else f"{field}.{inner}"
            errors.append({"field": field, "message": message})
    return errors


def validation_handler(request: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    errors = _field_errors(exc.extra)
    messages = " ".join(e["message"] for e in errors).lower()
    if "malformed" in messages:
        return problem(
            400,
            "malformed-body",
            "Malformed JSON",
            "The request body is not valid JSON",
            instance=_instance(request),
        )
    if "missing required field `data`" in str(exc.__cause__):
        return problem(
            400,
            "malformed-body",
            "Body required",
            "This request needs a JSON body",
            instance=_instance(request),
        )
    return problem(
        422,
        "invalid-input",
        "Some fields are invalid",
        "; ".join(f"{e['field']}: {e['message']}" for e in errors) or str(exc.detail),
        instance=_instance(request),
        errors=errors,
    )


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    if isinstance(exc, NotFoundException):
        return problem(404, "route-not-found", "Not found", str(exc.detail), instance=_instance(request))
    if isinstance(exc, MethodNotAllowedException):
        return problem(
            405, "method-not-allowed", "Method not allowed", str(exc.detail), instance=_instance(request)
        )
    if isinstance(exc, NotAuthorizedException):
        return problem(
            401, "unauthenticated", "Sign-in required", str(exc.detail), instance=_instance(request)
        )
    if isinstance(exc, PermissionDeniedException):
        return problem(403, "forbidden", "Not allowed", str(exc.detail), instance=_instance(request))
    if status == 413:
        return problem(
            413, "body-too-large", "Request body too large", str(exc.detail), instance=_instance(request)
        )
    if status == 400:
        return problem(400, "malformed-body", "Bad request", str(exc.detail), instance=_instance(request))
    if status >= 500:
        return internal_error_handler(request, exc)
    return problem(status, "http-error", "Request refused", str(exc.detail), instance=_instance(request))


def integrity_handler(request: Request[Any, Any, Any], exc: IntegrityError) -> Response[dict[str, Any]]:
    code = getattr(exc.orig, "sqlstate", None) or getattr(
        getattr(exc.orig, "__cause__", None), "sqlstate", None
    )
    if code == "23505":
        return problem(
            409,
            "duplicate",
            "Already exists",
            "A record with the same unique value already exists",
            instance=_instance(request),
        )
    if code == "23503" and request.method == "DELETE":
        return problem(
            409,
            "in-use",
            "Still in use",
            "Other records still refer to this one",
            instance=_instance(request),
        )
    if code == "23503":
        return problem(
            422,
            "invalid-reference",
            "Unknown reference",
            "The request refers to a record that does not exist",
            instance=_instance(request),
        )
    return problem(
        422,
        "invalid-input",
        "Some fields are invalid",
        "The values break a rule of the record",
        instance=_instance(request),
    )


def stale_handler(request: Request[Any, Any, Any], exc: StaleDataError) -> Response[dict[str, Any]]:
    return problem(
        409,
        "version-conflict",
        "The record changed since you read it",
        "Reload it and try again",
        instance=_instance(request),
    )


def dbapi_handler(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[dict[str, Any]]:
    if database_unavailable(exc):
        return database_unavailable_problem(request, exc)
    code = getattr(exc.orig, "sqlstate", None) or getattr(
        getattr(exc.orig, "__cause__", None), "sqlstate", None
    )
    if code and str(code).startswith("22"):  # data exceptions: value out of range, bad text
        # The database's words stay in the log: they may name columns and values.
        log.warning("data error on %s %s: %s", request.method, request.url.path, exc.orig)
        return problem(
            422,
            "invalid-input",
            "Some fields are invalid",
            "A value is out of range or malformed",
            instance=_instance(request),
        )
    if code in {"40001", "40P01"}:
        return problem(
            409,
            "conflict",
            "Concurrent update",
            "Another request changed the same records; retry",
            instance=_instance(request),
        )
    return internal_error_handler(request, exc)


def database_unavailable_problem(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.warning("database unavailable on %s %s: %r", request.method, request.url.path, exc)
    return problem(
        503,
        "database-unavailable",
        "Database unavailable",
        "The database cannot be reached right now; nothing was changed, retry shortly",
        instance=_instance(request),
        retry_after=DATABASE_RETRY_AFTER,
    )


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    if database_unavailable(exc):
        return database_unavailable_problem(request, exc)
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal-error",
        "Internal error",
        "Something failed on the server; the request changed nothing",
        instance=_instance(request),
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: domain_error_handler,
    ValidationException: validation_handler,
    HTTPException: http_exception_handler,
    IntegrityError: integrity_handler,
    StaleDataError: stale_handler,
    DBAPIError: dbapi_handler,
    Exception: internal_error_handler,
}

__all__ = ["CATALOGUE", "EXCEPTION_HANDLERS", "PROBLEM_JSON", "MediaType", "problem"]
