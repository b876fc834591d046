"""Field types shared by the inventory bodies."""

from __future__ import annotations

from typing import Annotated

import msgspec

from api.schemas.common import Input

Quantity = Annotated[int, msgspec.Meta(ge=1, le=100_000)]
Serial = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Sku = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._\-]+$")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Count = Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]
Waybill = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Mac = Annotated[str, msgspec.Meta(min_length=1, max_length=32, pattern=r"^[0-9A-Fa-f:.\-]+$")]
# The version of the record a lifecycle step changes: a stale one is 409 and changes nothing.
# Optional so that clients written before it keep working; the console always sends it.
Version = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]


class VersionIn(Input):
    """The body of a step that needs nothing but the version it changes."""

    version: Version | None = None
