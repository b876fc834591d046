"""Inventory routes, one module per inventory service: locations, items and units, the ledger,
reservations, nearest stock, loans and repairs, alerts, part swaps, shipments, replenishment,
counts, KPIs.

Warehouse staff manage stock; engineers see and consume their own stock, record swaps and
count their own stock; dispatchers and supervisors read.
"""

from __future__ import annotations

from typing import Any

from api.routes.inventory import (
    alerts,
    counts,
    files,
    items,
    kpis,
    labels,
    ledger,
    loans,
    locations,
    nearest,
    replenishment,
    reservations,
    shipments,
    swaps,
)

ROUTES: list[Any] = [
    *locations.ROUTES,
    *items.ROUTES,
    *loans.ROUTES,
    *ledger.ROUTES,
    *reservations.ROUTES,
    *nearest.ROUTES,
    *alerts.ROUTES,
    *swaps.ROUTES,
    *shipments.ROUTES,
    *replenishment.ROUTES,
    *counts.ROUTES,
    *kpis.ROUTES,
    *labels.ROUTES,
    *files.ROUTES,
]
