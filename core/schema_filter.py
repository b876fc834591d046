"""Which database objects Alembic compares against our models."""

from __future__ import annotations

from typing import Any

from geoalchemy2 import alembic_helpers

# Tables that belong to PostGIS or to other tools, never to our models.
FOREIGN_TABLES = {"spatial_ref_sys"}
FOREIGN_PREFIXES = ("procrastinate",)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    if type_ == "table" and name in FOREIGN_TABLES:
        return False
    if reflected and compare_to is None and name and name.startswith(FOREIGN_PREFIXES):
        return False
    result: bool = alembic_helpers.include_object(  # type: ignore[no-untyped-call]
        obj, name, type_, reflected, compare_to
    )
    return result
