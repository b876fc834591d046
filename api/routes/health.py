"""Liveness and readiness."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from litestar import Request, get
from litestar.response import Response

from api.auth import PUBLIC
from api.context import AppContext
from api.problems import DATABASE_RETRY_AFTER
from core.readiness import check_ready


class HealthOut(msgspec.Struct):
    status: Literal["ok"]


class ReadyOut(msgspec.Struct):
    status: Literal["ready", "not-ready"]
    database: bool
    schema_revision: str | None
    expected_revision: str


_OK = HealthOut("ok")


@get("/api/health", roles=PUBLIC, summary="Liveness: the process answers")
async def health() -> HealthOut:
    return _OK


@get("/api/ready", roles=PUBLIC, summary="Readiness: database reachable and migrations at head")
async def ready(request: Request[Any, Any, Any]) -> Response[ReadyOut]:
    context: AppContext = request.app.state["context"]
    report = await check_ready(context.engine)
    body = ReadyOut(
        "ready" if report.ready else "not-ready",
        report.database,
        report.schema_revision,
        report.expected_revision,
    )
    if report.ready:
        return Response(body, status_code=200)
    # Load balancers and clients back off: a restart or a migration takes a few seconds.
    return Response(body, status_code=503, headers={"Retry-After": str(DATABASE_RETRY_AFTER)})
