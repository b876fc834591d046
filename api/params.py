"""Handler parameter types: where each value comes from, declared once."""

from __future__ import annotations

from typing import Annotated

from litestar.di import NamedDependency
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.roles import Actor

# The request's session (one transaction, committed by the unit of work).
Session = NamedDependency[AsyncSession]
# The signed-in user, as services expect it.
CurrentActor = NamedDependency[Actor]

Limit = Annotated[int, QueryParameter(ge=1, le=500, description="page size")]
Cursor = Annotated[str | None, QueryParameter(max_length=500, description="next_cursor of the previous page")]
Search = Annotated[str | None, QueryParameter(max_length=100, description="text contained in name or number")]
BBoxParam = Annotated[
    str | None, QueryParameter(max_length=200, description="map viewport: west,south,east,north (WGS-84)")
]
