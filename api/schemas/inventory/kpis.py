"""Stock KPIs."""

from __future__ import annotations

from dispatch.flows.stock_kpis import StockKpis


class StockKpisOut(StockKpis, frozen=True):
    # How "within reach" is defined.
    reach: str
