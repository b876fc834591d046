"""The dispatcher's web console: the files of web/ served at "/", and the settings it reads; the
engineer's phone app is the same kind of files under web/app/, served at /app/.

The console is plain ES modules (no build step) that call the API like any other
client. Its routes sit in their own router, outside the API's unit of work: serving
a file needs no database session. They are public (the sign-in form is one of
them); every call for data goes to /api with the signed-in user's token.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import msgspec
from litestar import MediaType, Request, Response, Router, get
from litestar.datastructures import CacheControlHeader
from litestar.middleware import DefineMiddleware
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.params import FromPath
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import PUBLIC, app_context, role_guard
from core.settings import PROJECT_ROOT, Settings

WEB_DIR = PROJECT_ROOT / "web"
SURVEY_PAGE = WEB_DIR / "survey.html"
APP_PAGE = WEB_DIR / "app" / "index.html"


class ConsoleConfig(msgspec.Struct):
    # Map tiles ("https://…/{z}/{x}/{y}.png"); empty: a plain background, no tile requests.
    tile_url: str


@get(
    "/console-config.json",
    roles=PUBLIC,
    tags=["console"],
    summary="Settings the web console reads when it starts (the map tile URL)",
)
async def console_config(request: Request[Any, Any, Any]) -> ConsoleConfig:
    return ConsoleConfig(tile_url=app_context(request).settings.map_tile_url)


@get(
    "/s/{token:str}",
    roles=PUBLIC,
    include_in_schema=False,
    media_type=MediaType.HTML,
    # The page is the same for every link; a shared device keeps no copy under the link's address.
    cache_control=CacheControlHeader(no_store=True),
)
async def survey_page(token: FromPath[str]) -> bytes:
    """The customer survey's page for a one-time link (the page reads the token from its address)."""
    del token
    return SURVEY_PAGE.read_bytes()


SWAGGER_UI = "/vendor/swagger-ui"


def api_docs() -> SwaggerRenderPlugin:
    """The API documentation at /schema from Swagger UI's vendored files (swagger-ui-dist from npm,
    with its licence): Litestar's default loads them from a CDN, a blank page without internet."""
    return SwaggerRenderPlugin(
        path="/",
        js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
        css_url=f"{SWAGGER_UI}/swagger-ui.css",
        standalone_preset_js_url=f"{SWAGGER_UI}/swagger-ui-standalone-preset.js",
        favicon="<link rel='icon' type='image/svg+xml' href='/favicon.svg'>",
    )


@get(
    "/app",
    roles=PUBLIC,
    include_in_schema=False,
    media_type=MediaType.HTML,
    cache_control=CacheControlHeader(no_cache=True),
)
async def engineer_app(request: Request[Any, Any, Any]) -> Response[bytes] | Redirect:
    """The engineer's phone app at /app/; the routing matches /app too, which is sent to /app/
    (the page's relative module paths and the service worker's scope need the slash)."""
    # The router strips a trailing slash from the path it matches; the raw path keeps it.
    if not bytes(request.scope.get("raw_path") or b"").split(b"?")[0].endswith(b"/"):
        return Redirect("/app/", status_code=308)
    return Response(APP_PAGE.read_bytes(), media_type=MediaType.HTML)


def tile_source(tile_url: str) -> str:
    """The CSP source that admits the configured tiles ('' when there are none)."""
    parts = urlsplit(tile_url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return ""
    host = parts.netloc.replace("{s}", "*")
    if "{" in host or "}" in host:
        return f"{parts.scheme}:"
    return f"{parts.scheme}://{host}"


def content_security_policy(settings: Settings) -> str:
    """Only this server's scripts, styles and API; images also from the tile server, if any."""
    images = " ".join(filter(None, ["'self'", "data:", tile_source(settings.map_tile_url)]))
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src {images}; connect-src 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


class HeadersMiddleware:
    """Adds fixed headers to every response (static files bypass the router's `response_headers`)."""

    def __init__(self, app: ASGIApp, headers: list[tuple[bytes, bytes]]) -> None:
        self.app = app
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *self.headers]}
            await send(message)

        await self.app(scope, receive, with_headers)


def console_router(settings: Settings) -> Router:
    files = create_static_files_router(
        path="/",
        directories=[WEB_DIR],
        html_mode=True,
        name="console",
        opt={"roles": PUBLIC},
        include_in_schema=False,
        # Revalidate every time: after an upgrade the browser must not mix old and new modules.
        cache_control=CacheControlHeader(no_cache=True),
    )
    return Router(
        path="/",
        route_handlers=[console_config, survey_page, engineer_app, files],
        guards=[role_guard],
        middleware=[
            DefineMiddleware(
                HeadersMiddleware,
                headers=[
                    (b"content-security-policy", content_security_policy(settings).encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                ],
            )
        ],
    )
