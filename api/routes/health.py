"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Response

from api.auth import PUBLIC
from api.context import AppContext
from core.readiness import check_ready


@get("/api/health", roles=PUBLIC, summary="Liveness: the process answers")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/api/ready", roles=PUBLIC, summary="Readiness: database reachable and migrations at head")
async def ready(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    context: AppContext = request.app.state["context"]
    report = await check_ready(context.engine)
    return Response(report.as_dict(), status_code=200 if report.ready else 503)
