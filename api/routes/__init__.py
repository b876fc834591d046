"""Every route handler of the API, one module per domain."""

from __future__ import annotations

from typing import Any

from api.openapi import document_problems
from api.routes import (
    auth,
    contracts,
    customers,
    engineers,
    health,
    inspections,
    inventory,
    kpis,
    live,
    notifications,
    planning,
    reports,
    sla,
    survey,
    sync,
    users,
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
        *engineers.ROUTES,
        *users.ROUTES,
        *inventory.ROUTES,
        *work_orders.ROUTES,
        *notifications.ROUTES,
        *live.ROUTES,
        *sla.ROUTES,
        *reports.ROUTES,
        *survey.ROUTES,
        *planning.ROUTES,
        *sync.ROUTES,
        *kpis.ROUTES,
        *inspections.ROUTES,
    ]
)
