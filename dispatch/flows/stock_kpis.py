"""The stock KPIs: stock-out rate against the 5 % target, replayed from the ledger."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, DateTime, Uuid, bindparam, func, select, text, union_all
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from dispatch.work_orders.models import Visit, VisitStatus, WorkOrder
from inventory.models import (
    Loan,
    LoanStatus,
    Location,
    LocationKind,
    Unit,
    UnitState,
)

STOCK_OUT_TARGET = 0.05


# For each (visit, required part) at the visit's moment: whether the part was within reach —
# in the engineer's van, free in any one warehouse, or reserved for the visit — each replayed
# from the ledger up to that moment. One statement for all the period's visits: a round trip
# per visit and part made the whole KPI report 2–3× its own statement.
_WITHIN_REACH = text(
    """
    WITH need AS (
        SELECT v.id AS visit_id, m.at, van.id AS van_id, i.id AS item_id,
               coalesce((p->>'quantity')::int, 1) AS needed
          FROM unnest(:visit_ids, :moments) AS m(visit_id, at)
          JOIN visit v ON v.id = m.visit_id
         CROSS JOIN LATERAL jsonb_array_elements(v.required_parts) AS p
          LEFT JOIN stock_location van ON van.kind = 'van' AND van.engineer_id = v.engineer_id
          LEFT JOIN stock_item i ON i.sku = p->>'sku'
    )
    SELECT need.visit_id,
           bool_and(need.item_id IS NOT NULL AND greatest(
               coalesce(held.in_van, 0), coalesce(held.best_free, 0), coalesce(mine.quantity, 0)
           ) >= need.needed) AS within_reach
      FROM need
      LEFT JOIN LATERAL (
        -- what stayed reserved for the visit (reserved, minus released, picked or consumed)
        SELECT sum(CASE WHEN kind = 'reserve' THEN quantity
                        WHEN kind = 'release' OR from_reserved THEN -quantity ELSE 0 END) AS quantity
          FROM stock_move
         WHERE item_id = need.item_id AND visit_id = need.visit_id AND at <= need.at
      ) mine ON true
      LEFT JOIN LATERAL (
        SELECT max(on_hand) FILTER (WHERE loc = need.van_id) AS in_van,
               max(on_hand - reserved) FILTER (WHERE loc IS DISTINCT FROM need.van_id) AS best_free
          FROM (
            SELECT loc, sum(d_on) AS on_hand, sum(d_res) AS reserved FROM (
                SELECT to_location_id AS loc, quantity AS d_on, 0 AS d_res FROM stock_move
                 WHERE item_id = need.item_id AND at <= need.at AND kind NOT IN ('reserve', 'release')
                   AND to_location_id IS NOT NULL
                UNION ALL
                SELECT from_location_id, -quantity, CASE WHEN from_reserved THEN -quantity ELSE 0 END
                  FROM stock_move
                 WHERE item_id = need.item_id AND at <= need.at AND kind NOT IN ('reserve', 'release')
                   AND from_location_id IS NOT NULL
                UNION ALL
                SELECT from_location_id, 0, CASE WHEN kind = 'reserve' THEN quantity ELSE -quantity END
                  FROM stock_move
                 WHERE item_id = need.item_id AND at <= need.at AND kind IN ('reserve', 'release')
            ) d
             WHERE loc = ANY(array_append(:warehouses, need.van_id))
             GROUP BY loc
          ) per_place
      ) held ON true
     GROUP BY need.visit_id
    """
).bindparams(
    bindparam("visit_ids", type_=ARRAY(Uuid)),
    bindparam("moments", type_=ARRAY(DateTime(timezone=True))),
    bindparam("warehouses", type_=ARRAY(Uuid)),
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


async def _stock_outs(
    session: AsyncSession, moments: list[tuple[uuid.UUID, dt.datetime]], warehouses: list[uuid.UUID]
) -> set[uuid.UUID]:
    """The visits for which some required part was not within reach at their moment."""
    if not moments:
        return set()
    rows = await session.execute(
        _WITHIN_REACH,
        {
            "visit_ids": [visit_id for visit_id, _ in moments],
            "moments": [at for _, at in moments],
            "warehouses": warehouses,
        },
    )
    return {row.visit_id for row in rows if not row.within_reach}


# A visit needs parts: the predicate of kpis.indexes' partial indexes on the visits of a period.
NEEDS_PARTS = "jsonb_array_length(required_parts) > 0"


def _moment_within(since: dt.datetime, until: dt.datetime) -> Any:
    """The ids of the visits needing parts (not cancelled) whose moment — arrival, else planned
    start, else when the fault was reported — falls in [since, until): one range of a partial
    index per case, so that a period reads its own visits needing parts, not every visit ever
    stored (the coalesce over two tables is no index's key: a scan of the whole history, 0.6 s at a
    million orders)."""
    # Aliases: these ids may go into a statement that reads visit and work_order too, and must
    # not correlate to them.
    visit, order = aliased(Visit, name="in_period"), aliased(WorkOrder, name="in_period_order")
    # The partial indexes' own predicate, as text: a bound parameter would not imply it.
    needs_parts = text(NEEDS_PARTS.replace("required_parts", "in_period.required_parts"))
    live = (visit.status != VisitStatus.CANCELLED) & needs_parts
    arrived = select(visit.id).where(live, visit.arrived_at >= since, visit.arrived_at < until)
    planned = select(visit.id).where(
        live, visit.arrived_at.is_(None), visit.planned_start >= since, visit.planned_start < until
    )
    reported = (
        select(visit.id)
        .join(order, order.id == visit.work_order_id)
        .where(
            live,
            visit.arrived_at.is_(None),
            visit.planned_start.is_(None),
            order.reported_at >= since,
            order.reported_at < until,
        )
    )
    return union_all(arrived, planned, reported)


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
    # The period's visits first, then those of the scope among them by id: in one statement the
    # planner started from the scope's orders when they looked few (one customer's whole history,
    # growing with it) and read every visit of each.
    in_period = list((await session.execute(_moment_within(since, until))).scalars())
    rows = (
        (
            await session.execute(
                select(Visit, moment)
                .join(WorkOrder, WorkOrder.id == Visit.work_order_id)
                .where(
                    Visit.id.in_(in_period),
                    func.jsonb_array_length(Visit.required_parts) > 0,
                    *([scope] if scope is not None else []),
                )
                .order_by(moment, Visit.id)
            )
        ).all()
        if in_period
        else []
    )
    warehouses = list(
        (await session.execute(select(Location.id).where(Location.kind == LocationKind.WAREHOUSE))).scalars()
    )
    out_of_reach = await _stock_outs(session, [(visit.id, at) for visit, at in rows], warehouses)
    outs = [visit.id for visit, _ in rows if visit.id in out_of_reach]
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
