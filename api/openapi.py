"""What the OpenAPI document says about errors and wall-clock times, for every route at once.

Litestar documents one generic 400 in its own JSON shape; this API answers every error
as an RFC 9457 problem (`application/problem+json`), and with more statuses than 400.
`document_problems` gives each route handler the problem responses it can produce,
derived from what the handler declares (roles, path parameters, a body, its method),
so no handler lists them by hand and a new route is documented like the others.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.plugins import OpenAPISchemaPlugin

from api.auth import PUBLIC
from api.problems import CATALOGUE, PROBLEM_JSON
from api.schemas.common import Problem

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.handlers import HTTPRouteHandler
    from litestar.typing import FieldDefinition


def _spec(*slugs: str) -> ResponseSpec:
    description = " ".join(f"`/problems/{slug}`: {CATALOGUE[slug]}" for slug in slugs)
    return ResponseSpec(
        data_container=Problem, media_type=PROBLEM_JSON, description=description, generate_examples=False
    )


WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# Handler parameters that come from the app or the request, not from client input.
DEPENDENCIES = frozenset({"session", "actor", "clock", "now", "request", "data", "state", "scope"})


def problem_slugs(handler: HTTPRouteHandler) -> dict[int, tuple[str, ...]]:
    """The problem types a handler can answer with, per status, from what it declares."""
    public = handler.opt.get("roles") == PUBLIC
    signature = inspect.signature(handler.fn)
    takes_body = "data" in signature.parameters
    has_path_params = any("{" in path for path in handler.paths)
    # Anything the handler reads from the request beyond its dependencies can be invalid.
    reads_input = takes_body or any(name not in DEPENDENCIES for name in signature.parameters)
    slugs: dict[int, tuple[str, ...]] = {}
    if reads_input:
        slugs[400] = ("malformed-body",)
    if not public or takes_body:  # a public route with a body takes credentials
        slugs[401] = ("unauthenticated",)
    if not public:
        slugs[403] = ("forbidden",)
    if has_path_params or not public:
        # A path's records, and records a body or query names, may be missing or out of sight.
        slugs[404] = ("not-found", "route-not-found")
    if handler.http_methods & WRITES:
        slugs[409] = ("conflict", "version-conflict", "duplicate", "in-use")
    if takes_body:
        slugs[413] = ("body-too-large",)
    if reads_input or handler.http_methods & WRITES:
        slugs[422] = ("invalid-input", "invalid-reference", "idempotency-key-reused")
    if handler.opt.get("throttled"):
        slugs[429] = ("rate-limited",)
    # Problems particular to one route, named by the route: `problems={410: ("sync-cursor-expired",)}`,
    # documented beside the ones every such route can give.
    for status, own in handler.opt.get("problems", {}).items():
        slugs[status] = (*slugs.get(status, ()), *(s for s in own if s not in slugs.get(status, ())))
    return slugs


def problem_responses(handler: HTTPRouteHandler) -> dict[int, ResponseSpec]:
    return {status: _spec(*slugs) for status, slugs in problem_slugs(handler).items()}


def document_problems(handlers: Iterable[Any]) -> list[Any]:
    """The handlers, each with its problem responses documented (its own `responses=` win)."""
    documented = []
    for handler in handlers:
        handler.responses = {**problem_responses(handler), **(handler.responses or {})}
        documented.append(handler)
    return documented


class WallTimeSchema(OpenAPISchemaPlugin):
    """`datetime.time` as the `HH:MM:SS` string msgspec reads and writes.

    Litestar documents it as an ISO 8601 duration, which no client should send."""

    @staticmethod
    def is_plugin_supported_type(value: Any) -> bool:
        return value is dt.time

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        return Schema(
            type=OpenAPIType.STRING,
            pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?$",
            description="Local wall-clock time, HH:MM:SS",
            examples=["08:30:00"],
        )
