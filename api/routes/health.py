"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Response

from api.auth import PUBLIC
from api.context import AppContext
from api.problems import DATABASE_RETRY_AFTER
from core.readiness import check_ready


@get("/api/health", roles=PUBLIC, summary="Liveness: the process answers")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/api/ready", roles=PUBLIC, summary="Readiness: database reachable and migrations at head")
async def ready(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    context: AppContext = request.app.state["context"]
    report = await check_ready(context.engine)
    if report.ready:
        return Response(report.as_dict(), status_code=200)
    # Load balancers and clients back off: a restart or a migration takes a few seconds.
    return Response(report.as_dict(), status_code=503, headers={"Retry-After": str(DATABASE_RETRY_AFTER)})
