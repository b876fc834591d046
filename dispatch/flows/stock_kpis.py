"""The stock KPIs: stock-out rate against the 5 % target, replayed from the ledger."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.work_orders.models import Visit, VisitStatus, WorkOrder
from inventory.models import (
    Item,
    Loan,
    LoanStatus,
    Location,
    LocationKind,
    Unit,
    UnitState,
)

STOCK_OUT_TARGET = 0.05


# On hand and reserved of one item per location at a moment, replayed from the ledger.
_HELD_AT = text(
    """
    SELECT loc, sum(d_on)::int AS on_hand, sum(d_res)::int AS reserved FROM (
        SELECT to_location_id AS loc, quantity AS d_on, 0 AS d_res FROM stock_move
         WHERE item_id = :item AND at <= :at AND kind NOT IN ('reserve', 'release')
           AND to_location_id IS NOT NULL
        UNION ALL
        SELECT from_location_id, -quantity, CASE WHEN from_reserved THEN -quantity ELSE 0 END
          FROM stock_move
         WHERE item_id = :item AND at <= :at AND kind NOT IN ('reserve', 'release')
           AND from_location_id IS NOT NULL
        UNION ALL
        SELECT from_location_id, 0, CASE WHEN kind = 'reserve' THEN quantity ELSE -quantity END
          FROM stock_move
         WHERE item_id = :item AND at <= :at AND kind IN ('reserve', 'release')
    ) d
     WHERE loc = ANY(:locations)
     GROUP BY loc
    """
)


# What stayed reserved for one visit at a moment (reserved, minus released, picked or consumed).
_FOR_VISIT_AT = text(
    """
    SELECT coalesce(sum(CASE WHEN kind = 'reserve' THEN quantity
                             WHEN kind = 'release' OR from_reserved THEN -quantity ELSE 0 END), 0)::int
      FROM stock_move
     WHERE item_id = :item AND visit_id = :visit AND at <= :at
    """
)


class StockKpis(msgspec.Struct, frozen=True):
    """The stock figures of a period; the API answers with this shape as it is."""

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


async def _within_reach(
    session: AsyncSession, visit: Visit, at: dt.datetime, warehouses: list[uuid.UUID]
) -> bool:
    van = None
    if visit.engineer_id is not None:
        van = (
            await session.execute(
                select(Location.id).where(
                    Location.kind == LocationKind.VAN, Location.engineer_id == visit.engineer_id
                )
            )
        ).scalar_one_or_none()
    for part in visit.required_parts:
        needed = int(part.get("quantity", 1))
        item_id = (
            await session.execute(select(Item.id).where(Item.sku == str(part["sku"])))
        ).scalar_one_or_none()
        if item_id is None:
            return False
        for_visit = (
            await session.execute(_FOR_VISIT_AT, {"item": item_id, "visit": visit.id, "at": at})
        ).scalar_one()
        places = [*warehouses, *([van] if van else [])]
        held = {
            r.loc: (r.on_hand, r.reserved)
            for r in await session.execute(_HELD_AT, {"item": item_id, "at": at, "locations": places})
        }
        in_van = held.get(van, (0, 0))[0] if van else 0
        best_free = max(
            (on_hand - reserved for loc, (on_hand, reserved) in held.items() if loc != van), default=0
        )
        if max(in_van, best_free, for_visit) < needed:
            return False
    return True


async def kpis(
    session: AsyncSession,
    now: dt.datetime,
    since: dt.datetime,
    until: dt.datetime,
    *,
    scope: ColumnElement[bool] | None = None,
) -> StockKpis:
    """Stock-out rate: of the visits needing parts whose moment (arrival, else planned start,
    else when the fault was reported) falls in [since, until) — of the work orders `scope` admits
    (a condition on WorkOrder; default all) —, those for which some required part was not
    within reach at that moment — not in the engineer's van, not free in any one warehouse,
    and not reserved for the visit. Loans open and overdue now, mean duration of the loans
    that ended (installed → collected), units at repair now."""
    moment = func.coalesce(Visit.arrived_at, Visit.planned_start, WorkOrder.reported_at)
    rows = (
        await session.execute(
            select(Visit, moment)
            .join(WorkOrder, WorkOrder.id == Visit.work_order_id)
            .where(
                func.jsonb_array_length(Visit.required_parts) > 0,
                Visit.status != VisitStatus.CANCELLED,
                moment >= since,
                moment < until,
                *([scope] if scope is not None else []),
            )
            .order_by(moment, Visit.id)
        )
    ).all()
    warehouses = list(
        (await session.execute(select(Location.id).where(Location.kind == LocationKind.WAREHOUSE))).scalars()
    )
    outs = [visit.id for visit, at in rows if not await _within_reach(session, visit, at, warehouses)]
    needing = len(rows)
    rate = len(outs) / needing if needing else None
    loans_open = int(
        (await session.execute(select(func.count()).where(Loan.status == LoanStatus.OPEN))).scalar_one()
    )
    overdue = int(
        (
            await session.execute(
                select(func.count()).where(Loan.status == LoanStatus.OPEN, Loan.return_by < now.date())
            )
        ).scalar_one()
    )
    ended = func.coalesce(Loan.returned_at, Loan.closed_at)
    mean_seconds = (
        await session.execute(
            select(func.avg(func.extract("epoch", ended - Loan.opened_at))).where(
                Loan.opened_at.is_not(None), ended.is_not(None)
            )
        )
    ).scalar_one()
    in_repair = int(
        (await session.execute(select(func.count()).where(Unit.state == UnitState.IN_REPAIR))).scalar_one()
    )
    return StockKpis(
        since=since,
        until=until,
        visits_needing_parts=needing,
        stock_outs=len(outs),
        stock_out_rate=round(rate, 4) if rate is not None else None,
        stock_out_target=STOCK_OUT_TARGET,
        within_target=rate <= STOCK_OUT_TARGET if rate is not None else None,
        stock_out_visit_ids=outs,
        loans_open=loans_open,
        loans_overdue=overdue,
        mean_loan_days=round(float(mean_seconds) / 86400, 2) if mean_seconds is not None else None,
        units_in_repair=in_repair,
    )
