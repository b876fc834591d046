from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, TypeVar

import msgspec

from core.geo import LonLat, lonlat
from core.times import TimeChecked

S = TypeVar("S", bound=msgspec.Struct)

Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180)]
Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90)]
ShortText = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
LongText = Annotated[str, msgspec.Meta(max_length=4000)]
Phone = Annotated[str, msgspec.Meta(min_length=3, max_length=40, pattern=r"^[0-9+()\- ]+$")]
# An IANA zone name ("Asia/Shanghai"); the pattern keeps out paths, the models check that the
# zone exists (core.zones).
TimeZoneName = Annotated[
    str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$")
]
Limit = Annotated[int, msgspec.Meta(ge=1, le=500)]
# A wall-clock time in the engineer's or site's time zone: one with an offset of its own is refused.
WallTime = Annotated[dt.time, msgspec.Meta(tz=False)]


class Input(TimeChecked, forbid_unknown_fields=True, kw_only=True):
    """Base of every request body: unknown fields are an error, not silently dropped, and
    every date and time must have an offset and lie in the supported years (core.times)."""


class GeoPoint(msgspec.Struct, forbid_unknown_fields=True):
    """A GeoJSON Point in WGS-84: coordinates are [longitude, latitude]."""

    type: Literal["Point"]
    coordinates: tuple[Longitude, Latitude]

    @property
    def lonlat(self) -> LonLat:
        return (self.coordinates[0], self.coordinates[1])

    @classmethod
    def of(cls, value: Any) -> GeoPoint:
        return cls(type="Point", coordinates=lonlat(value))


class FieldError(msgspec.Struct):
    field: str
    message: str


class Problem(msgspec.Struct):
    """RFC 9457 problem details; some kinds add members of their own."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | msgspec.UnsetType = msgspec.UNSET
    # invalid-input: the fields at fault.
    errors: list[FieldError] | msgspec.UnsetType = msgspec.UNSET
    # version-conflict: the version the record has now.
    current_version: int | msgspec.UnsetType = msgspec.UNSET
    # version-conflict of a work order: who made its latest change, and when.
    changed_by: str | msgspec.UnsetType = msgspec.UNSET
    changed_at: str | msgspec.UnsetType = msgspec.UNSET
    # rate-limited: seconds until another attempt counts (also the Retry-After header).
    retry_after: int | msgspec.UnsetType = msgspec.UNSET


def given(struct: msgspec.Struct, *, skip: tuple[str, ...] = ("version",)) -> dict[str, Any]:
    """The fields a PATCH body actually set (UNSET ones left out)."""
    return {
        name: getattr(struct, name)
        for name in struct.__struct_fields__
        if name not in skip and getattr(struct, name) is not msgspec.UNSET
    }


def fields_of(struct: msgspec.Struct, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {name: getattr(struct, name) for name in struct.__struct_fields__ if name not in skip}


def out(kind: type[S], record: Any, **extra: Any) -> S:
    """Copy a record's attributes into a response struct (extra values win)."""
    values = {
        name: extra[name] if name in extra else getattr(record, name) for name in kind.__struct_fields__
    }
    return kind(**values)
