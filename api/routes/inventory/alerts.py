"""Stock alerts."""

from __future__ import annotations

from litestar import get

from api.auth import STAFF_ROLES
from api.params import Cursor, Limit, Now, Session
from api.schemas.inventory.alerts import AlertOut, AlertPage
from inventory import alerts
from inventory.paging import page_of


@get(
    "/api/stock/alerts",
    roles=STAFF_ROLES,
    tags=["loans"],
    summary="Overdue loans and units stuck at the vendor",
)
async def stock_alerts(now: Now, session: Session, limit: Limit = 100, cursor: Cursor = None) -> AlertPage:
    found = await alerts.due(session, now)
    page = page_of(
        session,
        found,
        lambda a: f"{a.kind}/{a.record_id}",
        limit=limit,
        cursor=cursor,
        purpose="stock-alerts",
    )
    return AlertPage(
        items=[
            AlertOut(
                kind=a.kind,
                work_order_id=a.work_order_id,
                serial=a.serial,
                since=a.since.isoformat(),
                record_id=a.record_id,
            )
            for a in page.items
        ],
        next_cursor=page.next_cursor,
    )


ROUTES = [stock_alerts]
