"""Stock KPIs."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec


class StockKpisOut(msgspec.Struct):
    since: dt.datetime
    until: dt.datetime
    visits_needing_parts: int
    stock_outs: int
    stock_out_rate: float | None
    stock_out_target: float
    within_target: bool | None
    stock_out_visit_ids: list[uuid.UUID]
    loans_open: int
    loans_overdue: int
    mean_loan_days: float | None
    units_in_repair: int
    # How "within reach" is defined.
    reach: str
