"""Answers that carry names beside ids (inventory.names)."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from api.schemas.common import out
from inventory.names import Names

S = TypeVar("S", bound=msgspec.Struct)


def named(kind: type[S], record: Any, names: Names, **extra: Any) -> S:
    """`out(kind, record)` with the name fields the kind declares filled from `names` (None when
    the record names nothing there)."""
    found = names.fields(record)
    values = {
        name: found.get(name)
        for name in kind.__struct_fields__
        if not hasattr(record, name) and name not in extra
    }
    values |= {name: found[name] for name in kind.__struct_fields__ if name in found and name not in extra}
    return out(kind, record, **values, **extra)
