"""SLA compliance reports."""

from __future__ import annotations

import uuid

from litestar import get
from litestar.params import FromQuery

from api.auth import DESK
from api.params import InstantQuery, Now, Session
from api.schemas.sla import ComplianceOut
from dispatch.sla import reports


@get(
    "/api/reports/sla-compliance",
    roles=DESK,
    tags=["reports"],
    summary="SLA compliance per target: raw and contractual (customer-excused breaches) side by side",
)
async def sla_compliance(
    now: Now,
    session: Session,
    since: InstantQuery,
    until: InstantQuery,
    customer_id: FromQuery[uuid.UUID | None] = None,
) -> list[ComplianceOut]:
    rows = await reports.compliance(session, now, since=since, until=until, customer_id=customer_id)
    return [
        ComplianceOut(
            r.measure.value, r.clocks, r.met, r.breached, r.excused, r.running, r.raw, r.contractual
        )
        for r in rows
    ]


ROUTES = [sla_compliance]
