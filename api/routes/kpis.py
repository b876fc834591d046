"""Service KPIs per period, customer and region: JSON and CSV; the monthly service report PDF."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Annotated

from litestar import Response, get
from litestar.params import QueryParameter

from api.auth import DESK
from api.downloads import csv_download
from api.params import CurrentActor, Now, Session
from api.schemas.kpis import KpiReportOut, report_out
from completion import fonts, rendering
from core.identity.roles import Role
from kpis import export, monthly, monthly_pdf, service
from kpis.service import KpiReport

READERS = DESK | {Role.CUSTOMER_CONTACT}

_WHEN = (
    "YYYY-MM-DD (a day in the time zone of the sites in scope; `to` includes that whole day) "
    "or RFC 3339 with a UTC offset (`to` exclusive)"
)
From = Annotated[str | None, QueryParameter(name="from", max_length=40, description=f"period start: {_WHEN}")]
To = Annotated[str | None, QueryParameter(max_length=40, description=f"period end: {_WHEN}")]
CustomerId = Annotated[
    uuid.UUID | None, QueryParameter(description="one customer (a customer contact always gets their own)")
]
Region = Annotated[
    str | None,
    QueryParameter(
        min_length=1, max_length=32, description="region code of the sites' regional holiday calendar"
    ),
]


async def _report(
    now: dt.datetime,
    session: Session,
    actor: CurrentActor,
    from_: From,
    to: To,
    customer_id: CustomerId,
    region: Region,
) -> KpiReport:
    return await service.report(
        session,
        actor,
        now,
        raw_from=from_,
        raw_to=to,
        customer_id=customer_id,
        region=region,
    )


@get(
    "/api/kpis",
    roles=READERS,
    tags=["reports"],
    summary="Service KPIs of a period (SLA compliance, fixes, restores, loans, stock-outs, engineers' time)",
)
async def kpis_json(
    now: Now,
    session: Session,
    actor: CurrentActor,
    from_: From = None,
    to: To = None,
    customer_id: CustomerId = None,
    region: Region = None,
) -> KpiReportOut:
    return report_out(await _report(now, session, actor, from_, to, customer_id, region))


@get(
    "/api/kpis.csv",
    roles=READERS,
    tags=["reports"],
    media_type="text/csv",
    summary="The same KPIs as CSV (UTF-8 with BOM for Excel), one row per KPI",
)
async def kpis_csv(
    now: Now,
    session: Session,
    actor: CurrentActor,
    from_: From = None,
    to: To = None,
    customer_id: CustomerId = None,
    region: Region = None,
) -> Response[bytes]:
    report = await _report(now, session, actor, from_, to, customer_id, region)
    day = report.period.since.date().isoformat()
    return csv_download(export.to_csv(report), f"kpis-{day}")


Month = Annotated[
    str, QueryParameter(max_length=7, description="the month, YYYY-MM, in the customer's time zone")
]


@get(
    "/api/kpis/monthly.pdf",
    roles=READERS,
    tags=["reports"],
    media_type="application/pdf",
    summary="A customer's monthly service report (月度服务报告): KPIs, work orders, breaches, backup loans",
)
async def monthly_report_pdf(
    now: Now,
    session: Session,
    actor: CurrentActor,
    month: Month,
    customer_id: CustomerId = None,
) -> Response[bytes]:
    report = await monthly.monthly(session, actor, now, customer_id=customer_id, month=month)
    font = fonts.font_path(rendering.of(session).font)
    # Embedding the CJK font takes a second or more of CPU: off the event loop.
    body = await asyncio.to_thread(monthly_pdf.render, report, font=font)
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="monthly-{report.month}.pdf"'},
    )


ROUTES = [kpis_json, kpis_csv, monthly_report_pdf]
