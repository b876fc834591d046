"""Work-order routes: the orders (intake, lifecycle, clocks) and their visits."""

from __future__ import annotations

from typing import Any

from api.routes.work_orders import orders, visits

ROUTES: list[Any] = [*orders.ROUTES, *visits.ROUTES]
