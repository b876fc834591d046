"""The KPI figures of one period and scope, each computed by SQL over the recorded events.

One statement reads the work orders reported in the period (a range of the `reported_at`
index, or of `customer_id, reported_at` for one customer) with their timeline, visits and loans; the
SLA compliance comes from `dispatch.sla.reports` and the stock-out rate from
`dispatch.flows.stock_kpis`, so each keeps one definition; one more statement reads the
engineers' time.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core import zones
from dispatch.contracts.models import Measure
from dispatch.flows import stock_kpis
from dispatch.inspections import compliance as inspection_compliance
from dispatch.sla import reports
from kpis.definitions import DEFINITIONS, Definition
from kpis.indexes import KPI_EVENTS
from kpis.period import Period
from kpis.scope import Scope

# The work orders reported in the period, one row each, folded into counts. `{scope}` is one of
# kpis.scope's constant fragments; every value is a bound parameter.
ORDERS = """
WITH cohort AS MATERIALIZED (
    SELECT wo.id, wo.asset_id, wo.asset_model, wo.asset_serial, wo.reported_at, wo.restored_at,
           wo.status::text AS status, wo.severity::text AS severity
      FROM work_order wo
     WHERE wo.reported_at >= :since AND wo.reported_at < :until {scope}
),
-- The events and visits of each order of the cohort, read by the order's id (LATERAL): a join
-- planned as a merge or hash over the whole table reads every order's rows ever stored, so the
-- same period would cost more with every year of history.
timeline AS (
    SELECT c.id, x.resolved_at, x.reopened, x.first_downgrade
      FROM cohort c
     CROSS JOIN LATERAL (
        SELECT min(e.at) FILTER (WHERE e.kind = 'status' AND e.to_status IN ('resolved', 'remote_fix'))
                   AS resolved_at,
               bool_or(e.kind = 'status' AND e.to_status = 'reopened') AS reopened,
               -- Plain aggregates only (no ordered array per order).
               min(e.id) FILTER (WHERE e.kind = 'severity_change') AS first_downgrade,
               count(*) AS events
          FROM work_order_event e
         WHERE e.work_order_id = c.id AND {kpi_events_e}
     ) x
     WHERE x.events > 0
),
visits AS (
    SELECT c.id, x.made, x.done, x.done_resolved
      FROM cohort c
     CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE v.status <> 'cancelled') AS made,
               count(*) FILTER (WHERE v.status = 'done') AS done,
               count(*) FILTER (WHERE v.status = 'done' AND v.outcome = 'resolved') AS done_resolved,
               count(*) AS visits
          FROM visit v
         WHERE v.work_order_id = c.id
     ) x
     WHERE x.visits > 0
),
-- Whether an asset was reported faulty again within 7 days of a resolution. The later reports are
-- a range of `reported_at` from the cohort's first resolution to 7 days after its last (about as
-- long as the period, whatever the history), joined to the cohort by asset in one pass: probing
-- the asset's or serial's index once per order read an index as deep as the history is long.
-- Not materialized, so that a few orders (one customer's week) are still probed by asset.
repeat_window AS (
    SELECT min(resolved_at) AS opens, max(resolved_at) + interval '7 days' AS closes FROM timeline
),
later AS NOT MATERIALIZED (
    SELECT w2.id, w2.asset_id, w2.asset_serial, w2.asset_model, w2.reported_at
      FROM work_order w2
     WHERE w2.reported_at > (SELECT opens FROM repeat_window)
       AND w2.reported_at <= (SELECT closes FROM repeat_window)
),
again AS (
    SELECT c.id
      FROM cohort c
      JOIN timeline t ON t.id = c.id
      JOIN later w2 ON w2.asset_id = c.asset_id
     WHERE w2.id <> c.id
       AND w2.reported_at > t.resolved_at AND w2.reported_at <= t.resolved_at + interval '7 days'
    UNION
    SELECT c.id
      FROM cohort c
      JOIN timeline t ON t.id = c.id
      JOIN later w2 ON w2.asset_serial = c.asset_serial
           AND w2.asset_model IS NOT DISTINCT FROM c.asset_model
     WHERE c.asset_id IS NULL AND w2.id <> c.id
       AND w2.reported_at > t.resolved_at AND w2.reported_at <= t.resolved_at + interval '7 days'
),
judged AS (
    SELECT c.id, c.reported_at, c.restored_at, t.resolved_at,
           coalesce(t.reopened, false) AS reopened,
           coalesce(vi.made, 0) AS visits_made, coalesce(vi.done, 0) AS visits_done,
           coalesce(vi.done_resolved, 0) AS visits_resolved,
           c.status <> 'cancelled' AS live,
           -- The severity when reported: before the first downgrade, else the current one.
           coalesce(CASE WHEN t.first_downgrade IS NOT NULL THEN
                        (SELECT d.data ->> 'from' FROM work_order_event d WHERE d.id = t.first_downgrade) END,
                    c.severity) IN ('critical', 'high') AS major,
           -- Reopened within 7 days of a close (the lifecycle's repeat-fault rule) ...
           (coalesce(t.reopened, false) AND EXISTS (
                SELECT 1 FROM work_order_event r
                  JOIN work_order_event cl ON cl.work_order_id = r.work_order_id AND cl.kind = 'status'
                       AND cl.to_status = 'closed' AND cl.at <= r.at AND cl.at >= r.at - interval '7 days'
                 WHERE r.work_order_id = c.id AND r.kind = 'status' AND r.to_status = 'reopened'
                   AND {kpi_events_r} AND {kpi_events_cl}))
           -- ... or the same asset reported faulty again within 7 days of the first resolution.
           OR c.id IN (SELECT id FROM again) AS repeat_fault
      FROM cohort c
      LEFT JOIN timeline t ON t.id = c.id
      LEFT JOIN visits vi ON vi.id = c.id
),
loans AS (
    SELECT count(*) AS provided,
           count(*) FILTER (WHERE x.ended IS NOT NULL) AS ended,
           coalesce(sum(extract(epoch FROM x.ended - l.opened_at)), 0) / 86400.0 AS days
      FROM stock_loan l
      JOIN cohort c ON c.id = l.work_order_id
     CROSS JOIN LATERAL (SELECT coalesce(l.returned_at, l.closed_at) AS ended) x
     WHERE c.status <> 'cancelled' AND l.opened_at IS NOT NULL
)
SELECT count(*) FILTER (WHERE live) AS live,
       count(*) FILTER (WHERE live AND resolved_at IS NOT NULL) AS resolved,
       count(*) FILTER (WHERE live AND major) AS major,
       count(*) FILTER (WHERE live AND major AND resolved_at IS NOT NULL) AS major_resolved,
       count(*) FILTER (WHERE visits_done > 0) AS visited,
       -- The only visit made (so the first finished) ended resolved.
       count(*) FILTER (WHERE visits_made = 1 AND visits_resolved = 1 AND NOT reopened) AS first_time,
       count(*) FILTER (WHERE live AND restored_at IS NOT NULL) AS restored,
       coalesce(sum(extract(epoch FROM restored_at - reported_at))
                FILTER (WHERE live AND restored_at IS NOT NULL), 0) / 3600.0 AS restore_hours,
       count(*) FILTER (WHERE live AND resolved_at IS NOT NULL AND repeat_fault) AS repeats,
       (SELECT provided FROM loans) AS loans,
       (SELECT ended FROM loans) AS loans_ended,
       (SELECT days FROM loans) AS loan_days
  FROM judged
"""

# Shift time of the active engineers within the period (weekly patterns laid over the days in
# each engineer's zone; standby shifts are not working time), and their time on site.
# Per active engineer: shift time in the period (standby shifts not counted), time on site, and
# overtime — working time (travel start, else arrival, to finish) outside their shifts.
_ENGINEER_TIME = """
WITH eng AS (
    SELECT e.id, z.safe AS tz
      FROM engineer e
      JOIN unnest(CAST(:raw_zones AS text[]), CAST(:safe_zones AS text[])) AS z(raw, safe)
        ON z.raw = e.time_zone
     WHERE e.active
),
spans AS (
    SELECT eng.id AS engineer_id,
           ((d.day::date + s.starts) AT TIME ZONE eng.tz) AS s0,
           ((d.day::date + s.ends
             + CASE WHEN s.ends < s.starts THEN interval '1 day' ELSE interval '0 days' END)
                AT TIME ZONE eng.tz) AS s1
      FROM eng
     CROSS JOIN LATERAL generate_series(
           (CAST(:since AS timestamptz) AT TIME ZONE eng.tz)::date - 1,
           (CAST(:until AS timestamptz) AT TIME ZONE eng.tz)::date, interval '1 day') AS d(day)
      JOIN engineer_shift s ON s.engineer_id = eng.id AND NOT s.on_call
           AND s.weekday = extract(isodow FROM d.day)::int - 1
),
shift AS (
    SELECT engineer_id,
           sum(extract(epoch FROM least(s1, CAST(:until AS timestamptz))
                                  - greatest(s0, CAST(:since AS timestamptz)))) AS seconds
      FROM spans WHERE s1 > CAST(:since AS timestamptz) AND s0 < CAST(:until AS timestamptz)
     GROUP BY engineer_id
),
work AS (
    SELECT p.engineer_id, v.arrived_at, v.finished_at, coalesce(v.en_route_at, v.arrived_at) AS w0
      FROM visit v
     CROSS JOIN LATERAL (VALUES (v.engineer_id), (v.partner_engineer_id)) AS p(engineer_id)
      JOIN eng ON eng.id = p.engineer_id
     WHERE v.arrived_at >= CAST(:since AS timestamptz) AND v.arrived_at < CAST(:until AS timestamptz)
       AND v.finished_at IS NOT NULL
),
on_site AS (
    SELECT engineer_id, sum(extract(epoch FROM finished_at - arrived_at)) AS seconds,
           sum(extract(epoch FROM finished_at - w0)) AS worked
      FROM work GROUP BY engineer_id
),
inside AS (
    SELECT w.engineer_id,
           sum(extract(epoch FROM least(w.finished_at, sp.s1) - greatest(w.w0, sp.s0))) AS seconds
      FROM work w JOIN spans sp ON sp.engineer_id = w.engineer_id AND sp.s1 > w.w0 AND sp.s0 < w.finished_at
     GROUP BY w.engineer_id
)
SELECT eng.id AS engineer_id,
       coalesce(shift.seconds, 0) / 3600.0 AS shift_hours,
       coalesce(on_site.seconds, 0) / 3600.0 AS on_site_hours,
       greatest(coalesce(on_site.worked, 0) - coalesce(inside.seconds, 0), 0) / 3600.0 AS overtime_hours
  FROM eng
  LEFT JOIN shift ON shift.engineer_id = eng.id
  LEFT JOIN on_site ON on_site.engineer_id = eng.id
  LEFT JOIN inside ON inside.engineer_id = eng.id
"""

_TRAVEL = """
SELECT coalesce(sum(extract(epoch FROM v.arrived_at - v.en_route_at)), 0) / 3600.0 AS travel_hours,
       coalesce(sum(extract(epoch FROM v.finished_at - v.arrived_at)), 0) / 3600.0 AS on_site_hours
  FROM visit v
  {orders}
 WHERE v.arrived_at >= :since AND v.arrived_at < :until
   AND v.en_route_at IS NOT NULL AND v.finished_at IS NOT NULL {scope}
"""
# Every visit has its order: the join is there for a scope only (unscoped, it cost a read of the
# order per visit of the period, the most of what the travel figure reads).
_TRAVEL_ORDERS = "JOIN work_order wo ON wo.id = v.work_order_id"


# The customer surveys of the work orders reported in the period (one survey per order at most).
_SURVEYS = """
SELECT count(*) FILTER (WHERE s.overall IS NOT NULL) AS rated,
       count(*) FILTER (WHERE s.overall >= 4) AS satisfied,
       coalesce(sum(coalesce(s.timeliness, 0) + coalesce(s.attitude, 0)
                    + coalesce(s.result_rating, 0) + coalesce(s.overall, 0)), 0) AS points,
       coalesce(sum(num_nonnulls(s.timeliness, s.attitude, s.result_rating, s.overall)), 0) AS ratings,
       count(*) FILTER (WHERE s.outcome = 'complaint' AND wo.status <> 'cancelled') AS complaints
  FROM work_order wo
  JOIN customer_survey s ON s.work_order_id = wo.id
 WHERE wo.reported_at >= :since AND wo.reported_at < :until {scope}
"""


def _kpi_events(alias: str) -> str:
    """The partial index's predicate on `alias` (the planner uses the index only when the query
    implies it)."""
    return "(" + re.sub(r"\b(kind|to_status)\b", rf"{alias}.\1", KPI_EVENTS) + ")"


def orders_statement(scope: Scope) -> str:
    return ORDERS.format(
        # Fault KPIs: inspection work orders have their own (inspections_within_window).
        scope=scope.sql() + " AND wo.kind = 'repair'",
        kpi_events_e=_kpi_events("e"),
        kpi_events_r=_kpi_events("r"),
        kpi_events_cl=_kpi_events("cl"),
    )


@dataclass(frozen=True)
class Figure:
    definition: Definition
    numerator: float | None
    denominator: float | None
    value: float | None
    # "computed" or "not_applicable" (see definition).
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


@dataclass(frozen=True)
class EngineerTime:
    engineer_id: uuid.UUID
    shift_hours: float
    on_site_hours: float
    overtime_hours: float

    @property
    def utilisation(self) -> float | None:
        return _share(self.on_site_hours, self.shift_hours)


async def engineer_time(session: AsyncSession, period: Period) -> list[EngineerTime]:
    """Each active engineer's time in the period (the engineer utilisation KPI, per engineer)."""
    stored = list((await session.execute(text("SELECT DISTINCT time_zone FROM engineer"))).scalars())
    rows = await session.execute(
        text(_ENGINEER_TIME),
        {
            "raw_zones": stored,
            # A zone stored before zones were checked reads as UTC, as everywhere else.
            "safe_zones": [zones.usable(z) for z in stored],
            "since": period.since,
            "until": period.until,
        },
    )
    return [
        EngineerTime(r.engineer_id, float(r.shift_hours), float(r.on_site_hours), float(r.overtime_hours))
        for r in rows
    ]


async def _engineer_time(session: AsyncSession, period: Period) -> tuple[float, float]:
    every = await engineer_time(session, period)
    return sum(e.shift_hours for e in every), sum(e.on_site_hours for e in every)


async def without_jit(session: AsyncSession) -> None:
    """For the rest of the transaction. The KPI statements are many small index reads; compiling
    them (PostgreSQL's JIT, which their estimated cost sets off) took seconds where running them
    takes milliseconds."""
    await session.execute(text("SET LOCAL jit = off"))


# A figure's numerator, denominator and value.
Counted = tuple[float | None, float | None, float | None]


async def _inspections(session: AsyncSession, period: Period, scope: Scope) -> Counted:
    """Inspections due in the period (its days in its zone) done within their window."""
    tz = zones.zone(period.time_zone)
    first = period.since.astimezone(tz).date()
    last = (period.until - dt.timedelta(microseconds=1)).astimezone(tz).date()
    lines = await inspection_compliance.compliance(session, first, last, scope=scope.condition())
    return inspection_compliance.total(lines)


async def _travel(session: AsyncSession, scope: Scope, params: dict[str, Any]) -> Any:
    # The orders join only when a scope filters by them: company-wide it cost a read per visit.
    travel_sql = _TRAVEL.format(scope=scope.sql(), orders=_TRAVEL_ORDERS if scope.filtered else "")
    return (await session.execute(text(travel_sql), params)).one()


async def compute(session: AsyncSession, now: dt.datetime, period: Period, scope: Scope) -> list[Figure]:
    params: dict[str, Any] = {"since": period.since, "until": period.until, **scope.params()}
    await without_jit(session)
    orders = (await session.execute(text(orders_statement(scope)), params)).one()
    travel = await _travel(session, scope, params)
    compliance = {
        c.measure: c
        for c in await reports.compliance(
            session, now, since=period.since, until=period.until, customer_id=None, scope=scope.condition()
        )
    }
    stock = await stock_kpis.kpis(session, now, period.since, period.until, scope=scope.condition())

    values: dict[str, Counted] = {"inspections_within_window": await _inspections(session, period, scope)}
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
    surveys = (await session.execute(text(_SURVEYS.format(scope=scope.sql())), params)).one()
    values["satisfaction"] = (surveys.satisfied, surveys.rated, _share(surveys.satisfied, surveys.rated))
    values["csat"] = (surveys.points, 5 * surveys.ratings, _share(surveys.points, 5 * surveys.ratings))
    values["complaints"] = (surveys.complaints, orders.live, surveys.complaints)
    values["complaints_per_100_orders"] = (
        surveys.complaints,
        orders.live,
        _mean(100.0 * surveys.complaints, orders.live),
    )
    travel_hours, visit_hours = float(travel.travel_hours), float(travel.on_site_hours)
    values["travel_share"] = (
        round(travel_hours, 2),
        round(travel_hours + visit_hours, 2),
        _share(travel_hours, travel_hours + visit_hours),
    )

    figures: list[Figure] = []
    for definition in DEFINITIONS:
        key = definition.key
        if key == "engineer_utilisation":
            if scope.filtered:
                figures.append(Figure(definition, None, None, None, "not_applicable"))
            else:
                shift, on_site = await _engineer_time(session, period)
                figures.append(Figure(definition, round(on_site, 2), round(shift, 2), _share(on_site, shift)))
        else:
            numerator, denominator, value = values[key]
            figures.append(Figure(definition, numerator, denominator, value))
    return figures
