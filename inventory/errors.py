"""What can go wrong with stock, in words a client can act on."""

from __future__ import annotations

from typing import Any

from core.errors import Conflict, VersionConflict


class OutOfStock(Conflict):
    slug = "out-of-stock"
    title = "Not enough stock"


class UnitUnavailable(Conflict):
    slug = "unit-unavailable"
    title = "That unit is not available"


class IllegalStockStep(Conflict):
    slug = "illegal-stock-step"
    title = "That step does not fit the current state"


def expect_version(record: Any, version: int | None, what: str) -> None:
    """A lifecycle step names the version of the (locked) record it changes; a stale one is 409
    and the step changes nothing. None: a client from before steps carried versions."""
    current: int = record.version
    if version is not None and version != current:
        raise VersionConflict(
            f"You changed version {version} of this {what}, but it is at version {current}; reload it",
            current_version=current,
        )
