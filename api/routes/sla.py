"""SLA compliance reports and the rest of what the supervisor desk reads; each also as CSV."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from litestar import Response, get
from litestar.params import QueryParameter

from api.auth import DESK
from api.downloads import csv_download
from api.params import Cursor, Limit, Now, Session, SinceQuery, UntilQuery
from api.schemas.sla import (
    ComplianceGroupOut,
    ComplianceOut,
    EngineerTimeOut,
    EngineerTimeReportOut,
    EscalationPage,
    OpenEscalationOut,
    SlaClockOut,
    SlaComplianceOut,
    SlaOrderOut,
    SlaOrderPage,
)
from dispatch.contracts.models import Measure
from dispatch.sla.models import SlaClock
from dispatch.sla.reports import ClockOutcome, Compliance, GroupBy
from kpis import export, supervisor
from kpis.monthly import parse_month
from kpis.supervisor import ComplianceReport, EngineerMonth, Filters, OrderRow

CustomerId = Annotated[uuid.UUID | None, QueryParameter(description="one customer")]
Region = Annotated[
    str | None,
    QueryParameter(
        min_length=1, max_length=32, description="region code of the sites' regional holiday calendar"
    ),
]
Group = Annotated[GroupBy | None, QueryParameter(description="break the figures down by this")]
Key = Annotated[
    str | None,
    QueryParameter(max_length=64, description="the group of the breakdown (`key` of a group; '' for none)"),
]
Which = Annotated[ClockOutcome, QueryParameter(description="orders with a breached clock, or one at risk")]
OfMeasure = Annotated[Measure | None, QueryParameter(description="only this clock (default: any)")]
Month = Annotated[
    str | None,
    QueryParameter(max_length=7, description="YYYY-MM in the company's zone (default: this month)"),
]


def _filters(
    since: str | None,
    until: str | None,
    customer_id: uuid.UUID | None,
    region: str | None,
    group_by: GroupBy | None,
) -> Filters:
    return Filters(since, until, customer_id, region, group_by)


def _compliance_out(c: Compliance) -> ComplianceOut:
    return ComplianceOut(
        c.measure.value, c.clocks, c.met, c.breached, c.excused, c.running, c.raw, c.contractual
    )


def _report_out(report: ComplianceReport) -> SlaComplianceOut:
    return SlaComplianceOut(
        since=report.period.since,
        until=report.period.until,
        time_zone=report.period.time_zone,
        group_by=report.group_by.value if report.group_by else None,
        groups=[
            ComplianceGroupOut(g.key, g.name, [_compliance_out(m) for m in g.measures]) for g in report.groups
        ],
    )


@get(
    "/api/reports/sla-compliance",
    roles=DESK,
    tags=["reports"],
    summary="SLA compliance per target: raw and contractual (customer-excused breaches) side by side, "
    "overall or per customer, region, engineer or severity",
)
async def sla_compliance(
    now: Now,
    session: Session,
    since: SinceQuery = None,
    until: UntilQuery = None,
    customer_id: CustomerId = None,
    region: Region = None,
    group_by: Group = None,
) -> SlaComplianceOut:
    filters = _filters(since, until, customer_id, region, group_by)
    return _report_out(await supervisor.compliance(session, now, filters))


COMPLIANCE_COLUMNS = (
    "from",
    "to",
    "time_zone",
    "group_by",
    "key",
    "name",
    "measure",
    "clocks",
    "met",
    "breached",
    "customer_excused",
    "running",
    "raw_compliance",
    "contractual_compliance",
)


@get(
    "/api/reports/sla-compliance.csv",
    roles=DESK,
    tags=["reports"],
    media_type="text/csv",
    summary="The same compliance as CSV (UTF-8 with BOM), one row per group and target",
)
async def sla_compliance_csv(
    now: Now,
    session: Session,
    since: SinceQuery = None,
    until: UntilQuery = None,
    customer_id: CustomerId = None,
    region: Region = None,
    group_by: Group = None,
) -> Response[bytes]:
    report = _report_out(
        await supervisor.compliance(session, now, _filters(since, until, customer_id, region, group_by))
    )
    rows = [
        (
            report.since.isoformat(),
            report.until.isoformat(),
            report.time_zone,
            report.group_by or "",
            g.key,
            g.name,
            m.measure,
            m.clocks,
            m.met,
            m.breached,
            m.customer_excused,
            m.running,
            m.raw_compliance,
            m.contractual_compliance,
        )
        for g in report.groups
        for m in g.measures
    ]
    day = report.since.date().isoformat()
    return csv_download(export.table(COMPLIANCE_COLUMNS, rows), f"sla-compliance-{day}")


def _clock_out(c: SlaClock) -> SlaClockOut:
    return SlaClockOut(
        c.measure.value,
        c.deadline,
        c.met_at,
        c.breached_at,
        c.at_risk_since,
        c.customer_excused,
        c.escalation_level,
    )


def _order_out(row: OrderRow) -> SlaOrderOut:
    o = row.order
    return SlaOrderOut(
        id=o.id,
        problem_number=o.problem_number,
        status=o.status.value,
        severity=o.severity.value,
        reported_at=o.reported_at,
        customer_id=o.customer_id,
        customer_name=row.customer_name,
        site_id=o.site_id,
        site_name=row.site_name,
        engineer_id=row.engineer_id,
        engineer_name=row.engineer_name,
        clocks=[_clock_out(c) for c in row.clocks],
    )


@get(
    "/api/reports/sla-compliance/orders",
    roles=DESK,
    tags=["reports"],
    summary="The orders behind a compliance figure: breached or at risk, in one group of the breakdown",
)
async def sla_orders(
    now: Now,
    session: Session,
    since: SinceQuery = None,
    until: UntilQuery = None,
    customer_id: CustomerId = None,
    region: Region = None,
    group_by: Group = None,
    key: Key = None,
    outcome: Which = ClockOutcome.BREACHED,
    measure: OfMeasure = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> SlaOrderPage:
    page = await supervisor.orders(
        session,
        now,
        _filters(since, until, customer_id, region, group_by),
        key=key,
        outcome=outcome,
        measure=measure,
        limit=limit,
        cursor=cursor,
    )
    return SlaOrderPage([_order_out(r) for r in page.items], page.next_cursor)


ORDER_COLUMNS = (
    "problem_number",
    "status",
    "severity",
    "reported_at",
    "customer",
    "site",
    "engineer",
    "measures",
    "deadlines",
)
# A CSV file holds every order behind the figure, read a page at a time up to this many.
CSV_ROWS = 10_000


@get(
    "/api/reports/sla-compliance/orders.csv",
    roles=DESK,
    tags=["reports"],
    media_type="text/csv",
    summary="The orders behind a compliance figure as CSV (UTF-8 with BOM)",
)
async def sla_orders_csv(
    now: Now,
    session: Session,
    since: SinceQuery = None,
    until: UntilQuery = None,
    customer_id: CustomerId = None,
    region: Region = None,
    group_by: Group = None,
    key: Key = None,
    outcome: Which = ClockOutcome.BREACHED,
    measure: OfMeasure = None,
) -> Response[bytes]:
    filters = _filters(since, until, customer_id, region, group_by)
    rows: list[tuple[str | float | int | bool | None, ...]] = []
    cursor: str | None = None
    while len(rows) < CSV_ROWS:
        page = await supervisor.orders(
            session, now, filters, key=key, outcome=outcome, measure=measure, limit=500, cursor=cursor
        )
        for r in map(_order_out, page.items):
            rows.append(
                (
                    r.problem_number,
                    r.status,
                    r.severity,
                    r.reported_at.isoformat(),
                    r.customer_name,
                    r.site_name,
                    r.engineer_name,
                    " ".join(c.measure for c in r.clocks),
                    " ".join(c.deadline.isoformat() if c.deadline else "" for c in r.clocks),
                )
            )
        cursor = page.next_cursor
        if cursor is None:
            break
    return csv_download(export.table(ORDER_COLUMNS, rows), f"sla-{outcome.value}-orders")


@get(
    "/api/reports/escalations",
    roles=DESK,
    tags=["reports"],
    summary="Open escalations: escalated SLA clocks of open orders not met yet, soonest deadline first",
)
async def open_escalations(
    now: Now,
    session: Session,
    customer_id: CustomerId = None,
    region: Region = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> EscalationPage:
    page = await supervisor.escalations(
        session, now, customer_id=customer_id, region=region, limit=limit, cursor=cursor
    )
    items = []
    for e in page.items:
        o = _order_out(e.order)
        items.append(
            OpenEscalationOut(
                work_order_id=o.id,
                problem_number=o.problem_number,
                status=o.status,
                severity=o.severity,
                customer_id=o.customer_id,
                customer_name=o.customer_name,
                site_id=o.site_id,
                site_name=o.site_name,
                engineer_id=o.engineer_id,
                engineer_name=o.engineer_name,
                measure=e.clock.measure.value,
                deadline=e.clock.deadline,
                escalation_level=e.clock.escalation_level,
                breached=supervisor.is_late(e.clock, now),
            )
        )
    return EscalationPage(items, page.next_cursor)


def _engineer_out(e: EngineerMonth) -> EngineerTimeOut:
    return EngineerTimeOut(
        engineer_id=e.engineer_id,
        engineer_name=e.name,
        shift_hours=round(e.time.shift_hours, 2),
        on_site_hours=round(e.time.on_site_hours, 2),
        utilisation=e.time.utilisation,
        overtime_hours=round(e.time.overtime_hours, 2),
        overtime_cap_minutes_day=e.overtime_cap_minutes_day,
        overtime_left_month_minutes=e.overtime_left_month_minutes,
    )


async def _engineer_report(now: dt.datetime, session: Session, month: str | None) -> EngineerTimeReportOut:
    first = dt.date.fromisoformat(parse_month(month)[0]) if month else None
    span, rows = await supervisor.engineers_month(session, now, first)
    return EngineerTimeReportOut(span.since, span.until, span.time_zone, [_engineer_out(e) for e in rows])


@get(
    "/api/reports/engineer-time",
    roles=DESK,
    tags=["reports"],
    summary="Each active engineer's utilisation and overtime in a month, against their overtime caps",
)
async def engineer_time(now: Now, session: Session, month: Month = None) -> EngineerTimeReportOut:
    return await _engineer_report(now, session, month)


ENGINEER_COLUMNS = (
    "from",
    "to",
    "engineer",
    "shift_hours",
    "on_site_hours",
    "utilisation",
    "overtime_hours",
    "overtime_cap_minutes_day",
    "overtime_left_month_minutes",
)


@get(
    "/api/reports/engineer-time.csv",
    roles=DESK,
    tags=["reports"],
    media_type="text/csv",
    summary="Engineers' utilisation and overtime of a month as CSV (UTF-8 with BOM)",
)
async def engineer_time_csv(now: Now, session: Session, month: Month = None) -> Response[bytes]:
    report = await _engineer_report(now, session, month)
    rows = [
        (
            report.since.isoformat(),
            report.until.isoformat(),
            e.engineer_name,
            e.shift_hours,
            e.on_site_hours,
            e.utilisation,
            e.overtime_hours,
            e.overtime_cap_minutes_day,
            e.overtime_left_month_minutes,
        )
        for e in report.engineers
    ]
    return csv_download(
        export.table(ENGINEER_COLUMNS, rows), f"engineer-time-{report.since.date().isoformat()}"
    )


ROUTES = [
    sla_compliance,
    sla_compliance_csv,
    sla_orders,
    sla_orders_csv,
    open_escalations,
    engineer_time,
    engineer_time_csv,
]
