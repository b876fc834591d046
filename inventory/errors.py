"""What can go wrong with stock, in words a client can act on."""

from __future__ import annotations

from core.errors import Conflict


class OutOfStock(Conflict):
    slug = "out-of-stock"
    title = "Not enough stock"


class UnitUnavailable(Conflict):
    slug = "unit-unavailable"
    title = "That unit is not available"


class IllegalStockStep(Conflict):
    slug = "illegal-stock-step"
    title = "That step does not fit the current state"
