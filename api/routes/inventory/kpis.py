"""Stock KPIs."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from litestar import get
from litestar.params import QueryParameter

from api.auth import STAFF_ROLES
from api.params import Now, OptionalInstantQuery, Session
from api.schemas.common import out
from api.schemas.inventory.kpis import StockKpisOut
from dispatch.flows.stock_kpis import kpis as stock_kpis_between

REACH = (
    "a part is within reach of a visit when, at the visit's moment (arrival, else planned start, "
    "else when the fault was reported), the assigned engineer's van held it, one warehouse held "
    "it free, or it was reserved for the visit"
)


@get(
    "/api/stock/kpis",
    roles=STAFF_ROLES,
    tags=["stock"],
    summary="Stock-out rate (target ≤ 5 %), loans open and overdue, mean loan duration, units in repair",
)
async def stock_kpis(
    now: Now,
    session: Session,
    since: OptionalInstantQuery = None,
    until: OptionalInstantQuery = None,
    days: Annotated[int, QueryParameter(ge=1, le=366)] = 30,
) -> StockKpisOut:
    end = until or now
    found = await stock_kpis_between(session, now, since or end - dt.timedelta(days=days), end)
    return out(StockKpisOut, found, reach=REACH)


ROUTES = [stock_kpis]
