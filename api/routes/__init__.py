"""Every route handler of the API, one module per domain."""

from __future__ import annotations

from typing import Any

from api.openapi import document_problems
from api.routes import (
    auth,
    contracts,
    customers,
    field,
    health,
    inventory,
    kpis,
    notifications,
    people,
    planning,
    reports,
    stock,
    stock_ops,
    sync,
    work_orders,
)

ROUTE_HANDLERS: list[Any] = document_problems(
    [
        health.health,
        health.ready,
        auth.login,
        auth.refresh,
        auth.logout,
        *customers.ROUTES,
        *contracts.ROUTES,
        *people.ROUTES,
        *inventory.ROUTES,
        *stock.ROUTES,
        *stock_ops.ROUTES,
        *work_orders.ROUTES,
        *notifications.ROUTES,
        *field.ROUTES,
        *reports.ROUTES,
        *planning.ROUTES,
        *sync.ROUTES,
        *kpis.ROUTES,
    ]
)
