"""Whether a new plan could differ from the last one: what a plan is made of, besides the clock.

A plan answers for the open visits (each at its version: a new fault, an assignment, a refusal, a
visit started or finished all change one), the clocks at risk, the visits whose window opens
within the horizon and the stock. When none of that moved since the last plan was applied, the
routes it wrote still stand and solving again would only spend the time limit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.sla.models import SlaClock
from dispatch.work_orders import visits
from dispatch.work_orders.models import Visit
from inventory.models import StockMove


@dataclass(frozen=True)
class InputsState:
    """Compared for equality: two are equal while nothing a plan reads moved."""

    visits: str  # a digest of the open visits and their versions
    within_horizon: int  # open visits that may start before the horizon's end
    at_risk: int
    stock_moves: int


async def inputs_state(session: AsyncSession, now: dt.datetime, horizon_s: float) -> InputsState:
    """What a plan from `now` over `horizon_s` would read, besides the clock."""
    reach = now + dt.timedelta(seconds=horizon_s)
    planned = (
        await session.execute(
            select(
                func.md5(
                    func.coalesce(
                        func.string_agg(
                            func.concat(Visit.id, literal_column("':'"), Visit.version),
                            aggregate_order_by(literal_column("','"), Visit.id),
                        ),
                        "",
                    )
                ),
                func.count().filter((Visit.window_start.is_(None)) | (Visit.window_start <= reach)),
            ).where(Visit.status.in_(sorted(visits.ACTIVE)))
        )
    ).one()
    at_risk = await session.scalar(
        select(func.count(SlaClock.id)).where(
            SlaClock.at_risk_since.is_not(None), SlaClock.met_at.is_(None), SlaClock.breached_at.is_(None)
        )
    )
    moves = await session.scalar(select(func.count()).select_from(StockMove))
    return InputsState(str(planned[0]), int(planned[1]), int(at_risk or 0), int(moves or 0))
