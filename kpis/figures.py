"""The KPI figures of one period and scope, each computed by SQL over the recorded events.

One statement reads the work orders reported in the period (index range on `reported_at`,
or on `customer_id, reported_at` for one customer) with their timeline, visits and loans; the
SLA compliance comes from `dispatch.sla.reports` and the stock-out rate from
`dispatch.flows.stock_kpis`, so each keeps one definition; one more statement reads the
engineers' time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core import zones
from dispatch.contracts.models import Measure
from dispatch.flows import stock_kpis
from dispatch.sla import reports
from kpis.definitions import DEFINITIONS, PENDING_SURVEY, Definition
from kpis.period import Period
from kpis.scope import Scope

# The work orders reported in the period, one row each, folded into counts. `{scope}` is one of
# kpis.scope's constant fragments; every value is a bound parameter.
_ORDERS = """
WITH cohort AS MATERIALIZED (
    SELECT wo.id, wo.asset_id, wo.asset_model, wo.asset_serial, wo.reported_at, wo.restored_at,
           wo.status::text AS status,
           coalesce(ev.first_severity, wo.severity::text) AS intake_severity,
           ev.resolved_at, coalesce(ev.reopened, false) AS reopened,
           coalesce(vi.made, 0) AS visits_made, coalesce(vi.done, 0) AS visits_done, vi.first_outcome
      FROM work_order wo
      LEFT JOIN LATERAL (
           SELECT min(e.at) FILTER (WHERE e.kind = 'status' AND e.to_status IN ('resolved', 'remote_fix'))
                      AS resolved_at,
                  bool_or(e.kind = 'status' AND e.to_status = 'reopened') AS reopened,
                  (array_agg(e.data ->> 'from' ORDER BY e.id) FILTER (WHERE e.kind = 'severity_change'))[1]
                      AS first_severity
             FROM work_order_event e
            WHERE e.work_order_id = wo.id) ev ON true
      LEFT JOIN LATERAL (
           SELECT count(*) FILTER (WHERE v.status <> 'cancelled') AS made,
                  count(*) FILTER (WHERE v.status = 'done') AS done,
                  (array_agg(v.outcome ORDER BY v.arrived_at, v.id) FILTER (WHERE v.status = 'done'))[1]
                      AS first_outcome
             FROM visit v
            WHERE v.work_order_id = wo.id) vi ON true
     WHERE wo.reported_at >= :since AND wo.reported_at < :until {scope}
),
judged AS (
    SELECT c.*,
           c.status <> 'cancelled' AS live,
           c.intake_severity IN ('critical', 'high') AS major,
           -- Reopened within 7 days of a close (the lifecycle's repeat-fault rule) ...
           (c.reopened AND EXISTS (
                SELECT 1 FROM work_order_event r
                  JOIN work_order_event cl ON cl.work_order_id = r.work_order_id AND cl.kind = 'status'
                       AND cl.to_status = 'closed' AND cl.at <= r.at AND cl.at >= r.at - interval '7 days'
                 WHERE r.work_order_id = c.id AND r.kind = 'status' AND r.to_status = 'reopened'))
           -- ... or the same asset reported faulty again within 7 days of the first resolution.
           OR (c.resolved_at IS NOT NULL AND CASE
                WHEN c.asset_id IS NOT NULL THEN EXISTS (
                    SELECT 1 FROM work_order w2
                     WHERE w2.asset_id = c.asset_id AND w2.id <> c.id
                       AND w2.reported_at > c.resolved_at
                       AND w2.reported_at <= c.resolved_at + interval '7 days')
                WHEN c.asset_serial IS NOT NULL THEN EXISTS (
                    SELECT 1 FROM work_order w2
                     WHERE w2.asset_serial = c.asset_serial
                       AND w2.asset_model IS NOT DISTINCT FROM c.asset_model AND w2.id <> c.id
                       AND w2.reported_at > c.resolved_at
                       AND w2.reported_at <= c.resolved_at + interval '7 days')
                ELSE false END) AS repeat_fault
      FROM cohort c
)
SELECT count(*) FILTER (WHERE live) AS live,
       count(*) FILTER (WHERE live AND resolved_at IS NOT NULL) AS resolved,
       count(*) FILTER (WHERE live AND major) AS major,
       count(*) FILTER (WHERE live AND major AND resolved_at IS NOT NULL) AS major_resolved,
       count(*) FILTER (WHERE visits_done > 0) AS visited,
       count(*) FILTER (WHERE visits_done > 0 AND first_outcome = 'resolved' AND visits_made = 1
                        AND NOT reopened) AS first_time,
       count(*) FILTER (WHERE live AND restored_at IS NOT NULL) AS restored,
       coalesce(sum(extract(epoch FROM restored_at - reported_at))
                FILTER (WHERE live AND restored_at IS NOT NULL), 0) / 3600.0 AS restore_hours,
       count(*) FILTER (WHERE live AND resolved_at IS NOT NULL AND repeat_fault) AS repeats,
       (SELECT count(*) FROM stock_loan l JOIN judged j ON j.id = l.work_order_id
         WHERE j.live AND l.opened_at IS NOT NULL) AS loans,
       (SELECT count(*) FROM stock_loan l JOIN judged j ON j.id = l.work_order_id
         WHERE j.live AND l.opened_at IS NOT NULL AND coalesce(l.returned_at, l.closed_at) IS NOT NULL)
           AS loans_ended,
       (SELECT coalesce(sum(extract(epoch FROM coalesce(l.returned_at, l.closed_at) - l.opened_at)), 0)
          FROM stock_loan l JOIN judged j ON j.id = l.work_order_id
         WHERE j.live AND l.opened_at IS NOT NULL AND coalesce(l.returned_at, l.closed_at) IS NOT NULL)
           / 86400.0 AS loan_days
  FROM judged
"""

# Shift time of the active engineers within the period (weekly patterns laid over the days in
# each engineer's zone; standby shifts are not working time), and their time on site.
_ENGINEER_TIME = """
WITH eng AS (
    SELECT e.id, z.safe AS tz
      FROM engineer e
      JOIN unnest(CAST(:raw_zones AS text[]), CAST(:safe_zones AS text[])) AS z(raw, safe)
        ON z.raw = e.time_zone
     WHERE e.active
),
spans AS (
    SELECT ((d.day::date + s.starts) AT TIME ZONE eng.tz) AS s0,
           ((d.day::date + s.ends
             + CASE WHEN s.ends < s.starts THEN interval '1 day' ELSE interval '0 days' END)
                AT TIME ZONE eng.tz) AS s1
      FROM eng
     CROSS JOIN LATERAL generate_series(
           (CAST(:since AS timestamptz) AT TIME ZONE eng.tz)::date - 1,
           (CAST(:until AS timestamptz) AT TIME ZONE eng.tz)::date, interval '1 day') AS d(day)
      JOIN engineer_shift s ON s.engineer_id = eng.id AND NOT s.on_call
           AND s.weekday = extract(isodow FROM d.day)::int - 1
)
SELECT (SELECT coalesce(sum(extract(epoch FROM least(s1, CAST(:until AS timestamptz))
                                    - greatest(s0, CAST(:since AS timestamptz)))), 0)
          FROM spans WHERE s1 > CAST(:since AS timestamptz) AND s0 < CAST(:until AS timestamptz)) / 3600.0
           AS shift_hours,
       (SELECT coalesce(sum(extract(epoch FROM v.finished_at - v.arrived_at)), 0)
          FROM visit v
         CROSS JOIN LATERAL (VALUES (v.engineer_id), (v.partner_engineer_id)) AS p(engineer_id)
          JOIN eng ON eng.id = p.engineer_id
         WHERE v.arrived_at >= CAST(:since AS timestamptz) AND v.arrived_at < CAST(:until AS timestamptz)
           AND v.finished_at IS NOT NULL) / 3600.0 AS on_site_hours
"""

_TRAVEL = """
SELECT coalesce(sum(extract(epoch FROM v.arrived_at - v.en_route_at)), 0) / 3600.0 AS travel_hours,
       coalesce(sum(extract(epoch FROM v.finished_at - v.arrived_at)), 0) / 3600.0 AS on_site_hours
  FROM visit v
  JOIN work_order wo ON wo.id = v.work_order_id
 WHERE v.arrived_at >= :since AND v.arrived_at < :until
   AND v.en_route_at IS NOT NULL AND v.finished_at IS NOT NULL {scope}
"""


@dataclass(frozen=True)
class Figure:
    definition: Definition
    numerator: float | None
    denominator: float | None
    value: float | None
    # "computed", "pending_survey" (needs the customer survey) or "not_applicable" (see definition).
    status: str = "computed"

    @property
    def within_target(self) -> bool | None:
        target, kind, value = self.definition.target, self.definition.target_kind, self.value
        if target is None or value is None:
            return None
        if kind == "min":
            return value >= target
        if kind == "max":
            return value <= target
        return value > target


def _share(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _mean(total: float, count: float, digits: int = 2) -> float | None:
    return round(total / count, digits) if count else None


async def _engineer_time(session: AsyncSession, period: Period) -> tuple[float, float]:
    stored = list((await session.execute(text("SELECT DISTINCT time_zone FROM engineer"))).scalars())
    row = (
        await session.execute(
            text(_ENGINEER_TIME),
            {
                "raw_zones": stored,
                # A zone stored before zones were checked reads as UTC, as everywhere else.
                "safe_zones": [zones.usable(z) for z in stored],
                "since": period.since,
                "until": period.until,
            },
        )
    ).one()
    return float(row.shift_hours), float(row.on_site_hours)


async def compute(session: AsyncSession, now: dt.datetime, period: Period, scope: Scope) -> list[Figure]:
    params: dict[str, Any] = {"since": period.since, "until": period.until, **scope.params()}
    orders = (await session.execute(text(_ORDERS.format(scope=scope.sql())), params)).one()
    travel = (await session.execute(text(_TRAVEL.format(scope=scope.sql())), params)).one()
    compliance = {
        c.measure: c
        for c in await reports.compliance(
            session, now, since=period.since, until=period.until, customer_id=None, scope=scope.condition()
        )
    }
    stock = await stock_kpis.kpis(session, now, period.since, period.until, scope=scope.condition())

    values: dict[str, tuple[float | None, float | None, float | None]] = {}
    for key, measure in (
        ("first_response", Measure.RESPONSE),
        ("on_site", Measure.ON_SITE),
        ("restored", Measure.RESTORE),
    ):
        c = compliance.get(measure)
        decided = (c.met + c.breached) if c else 0
        values[key] = (c.met if c else 0, decided, _share(c.met, decided) if c else None)
        values[f"{key}_contractual"] = (
            (c.met + c.excused) if c else 0,
            decided,
            _share(c.met + c.excused, decided) if c else None,
        )
    values["backup_devices_provided"] = (orders.loans, orders.live, orders.loans)
    values["mean_loan_days"] = (
        round(float(orders.loan_days), 2),
        orders.loans_ended,
        _mean(float(orders.loan_days), orders.loans_ended),
    )
    values["first_time_fix_rate"] = (
        orders.first_time,
        orders.visited,
        _share(orders.first_time, orders.visited),
    )
    values["mean_time_to_restore"] = (
        round(float(orders.restore_hours), 2),
        orders.restored,
        _mean(float(orders.restore_hours), orders.restored),
    )
    values["resolution_rate"] = (orders.resolved, orders.live, _share(orders.resolved, orders.live))
    values["resolution_rate_major"] = (
        orders.major_resolved,
        orders.major,
        _share(orders.major_resolved, orders.major),
    )
    values["repeat_fault_rate"] = (orders.repeats, orders.resolved, _share(orders.repeats, orders.resolved))
    values["stock_out_rate"] = (stock.stock_outs, stock.visits_needing_parts, stock.stock_out_rate)
    travel_hours, visit_hours = float(travel.travel_hours), float(travel.on_site_hours)
    values["travel_share"] = (
        round(travel_hours, 2),
        round(travel_hours + visit_hours, 2),
        _share(travel_hours, travel_hours + visit_hours),
    )

    figures: list[Figure] = []
    for definition in DEFINITIONS:
        key = definition.key
        if key in PENDING_SURVEY:
            figures.append(Figure(definition, None, None, None, "pending_survey"))
        elif key == "engineer_utilisation":
            if scope.filtered:
                figures.append(Figure(definition, None, None, None, "not_applicable"))
            else:
                shift, on_site = await _engineer_time(session, period)
                figures.append(Figure(definition, round(on_site, 2), round(shift, 2), _share(on_site, shift)))
        else:
            numerator, denominator, value = values[key]
            figures.append(Figure(definition, numerator, denominator, value))
    return figures
