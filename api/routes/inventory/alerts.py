"""Stock alerts."""

from __future__ import annotations

from litestar import get

from api.auth import STAFF_ROLES
from api.params import Now, Session
from api.schemas.inventory.alerts import AlertOut
from inventory import alerts


@get(
    "/api/stock/alerts",
    roles=STAFF_ROLES,
    tags=["loans"],
    summary="Overdue loans and units stuck at the vendor",
)
async def stock_alerts(now: Now, session: Session) -> list[AlertOut]:
    found = await alerts.due(session, now)
    return [
        AlertOut(
            kind=a.kind,
            work_order_id=a.work_order_id,
            serial=a.serial,
            since=a.since.isoformat(),
            record_id=a.record_id,
        )
        for a in found
    ]


ROUTES = [stock_alerts]
