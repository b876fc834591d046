"""Handler parameter types: where each value comes from, declared once."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Annotated, Any

import msgspec
from litestar import Request
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from core import zones
from core.clock import Clock
from core.errors import field_error
from core.identity.roles import Actor
from core.times import SUPPORTED, WHEN_HELP, refusal, when_instant

# The request's session (one transaction, committed by the unit of work).
Session = NamedDependency[AsyncSession]
# The signed-in user, as services expect it.
CurrentActor = NamedDependency[Actor]
# The application's clock (tests set it by hand), for services that read the time more than once.
AppClock = NamedDependency[Clock]
# The request's instant, read once from that clock.
Now = NamedDependency[dt.datetime]

Limit = Annotated[int, QueryParameter(ge=1, le=500, description="page size")]
# Sealed cursors of long sort keys (a site's name in Chinese) run to several hundred characters.
Cursor = Annotated[
    str | None, QueryParameter(max_length=2000, description="next_cursor of the previous page")
]
Search = Annotated[str | None, QueryParameter(max_length=100, description="text contained in name or number")]
BBoxParam = Annotated[
    str | None, QueryParameter(max_length=200, description="map viewport: west,south,east,north (WGS-84)")
]

_INSTANT = f"RFC 3339 with a UTC offset (e.g. 2026-03-02T09:00:00+08:00), in {SUPPORTED}"
InstantQuery = Annotated[dt.datetime, QueryParameter(description=_INSTANT)]
OptionalInstantQuery = Annotated[dt.datetime | None, QueryParameter(description=_INSTANT)]
OptionalDayQuery = Annotated[dt.date | None, QueryParameter(description=f"YYYY-MM-DD, in {SUPPORTED}")]

# Every query filter that takes a time declares one of these and reads it with `when` (or, for
# a period whose dates are days in the zone of the sites in scope, kpis.period.resolve): a
# plain date or an RFC 3339 instant, checked like every other time a client sends.
_WHEN = f"{WHEN_HELP}, in {SUPPORTED}"
_WHEN_MAX = 40
SinceQuery = Annotated[str | None, QueryParameter(max_length=_WHEN_MAX, description=f"from: {_WHEN}")]
UntilQuery = Annotated[
    str | None,
    QueryParameter(
        max_length=_WHEN_MAX,
        description=f"until (a date includes that whole day, a time is exclusive): {_WHEN}",
    ),
]


def when(
    field: str, raw: str | None, *, end: bool = False, zone: str = zones.DEFAULT_TIME_ZONE
) -> dt.datetime | None:
    """A `SinceQuery`/`UntilQuery` value as an instant (None when not given): a date is that
    day's midnight in `zone` (the company's default zone unless the route knows the sites')."""
    return when_instant(field, raw, zones.zone(zone), end=end) if raw else None


def _time_kind(annotation: Any, inner: tuple[Any, ...]) -> type[dt.date] | None:
    for kind in (annotation, *inner):
        if kind in (dt.datetime, dt.date):
            return kind  # type: ignore[no-any-return]
    return None


@functools.cache
def _time_parameters(handler: BaseRouteHandler) -> tuple[tuple[str, type[dt.date]], ...]:
    """(query key, type) of each date or time parameter a handler declares: worked out once per
    handler, not on every request."""
    found = []
    provided = handler.resolve_dependencies()
    for name, field in handler.parsed_fn_signature.parameters.items():
        if name in provided:
            continue  # the request's instant (`now`) is no query parameter
        kind = _time_kind(field.annotation, tuple(i.annotation for i in field.inner_types))
        if kind is not None:
            found.append((getattr(field.kwarg_definition, "query", None) or name, kind))
    return tuple(found)


async def check_query_times(request: Request[Any, Any, Any]) -> None:
    """Every date or time in a query string obeys core.times, like those in bodies.

    Query parameters are parsed by the framework without the body types' checks, so this
    hook (run for every route, before its parameters are parsed) checks each one a handler
    declares as a date or time; one it cannot parse is left to the framework's own 422."""
    for key, kind in _time_parameters(request.route_handler):
        for raw in request.query_params.getall(key, []):
            try:
                value = msgspec.convert(raw, kind, strict=False)
            except msgspec.ValidationError:
                continue
            why = refusal(value)
            if why is not None:
                raise field_error(key, why)
