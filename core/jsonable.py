"""Turn column values into JSON-safe values for the audit trail and stored responses."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from typing import Any

from geoalchemy2.elements import WKBElement
from geoalchemy2.shape import to_shape


def jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, WKBElement):
        shape = to_shape(value)
        return {"type": "Point", "coordinates": [shape.x, shape.y]}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return str(value)
