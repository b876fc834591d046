"""Which work orders a KPI request covers: one customer, one region, or all.

A site's region is the region code of its regional holiday calendar (`site.region_calendar_id`
→ `holiday_calendar.region`, e.g. "CN-GD"): the one regional attribute a site records. The
same scope is given twice, as a SQLAlchemy condition (for the reused compliance and stock
services) and as SQL text for the KPI statement; both are built here, side by side.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, select, true

from dispatch.contracts.models import HolidayCalendar
from dispatch.customers.models import Site
from dispatch.work_orders.models import WorkOrder

# `wo` is the work order alias of every KPI statement.
_CUSTOMER_SQL = " AND wo.customer_id = :customer_id"
_REGION_SQL = (
    " AND wo.site_id IN (SELECT s.id FROM site s JOIN holiday_calendar h ON h.id = s.region_calendar_id"
    " WHERE h.region = :region)"
)


@dataclass(frozen=True)
class Scope:
    customer_id: uuid.UUID | None = None
    region: str | None = None

    @property
    def filtered(self) -> bool:
        return self.customer_id is not None or self.region is not None

    def condition(self) -> ColumnElement[bool]:
        """On `WorkOrder`."""
        parts: list[ColumnElement[bool]] = []
        if self.customer_id is not None:
            parts.append(WorkOrder.customer_id == self.customer_id)
        if self.region is not None:
            parts.append(WorkOrder.site_id.in_(self.region_sites()))
        return and_(*parts) if parts else true()

    def region_sites(self) -> Any:
        return (
            select(Site.id)
            .join(HolidayCalendar, HolidayCalendar.id == Site.region_calendar_id)
            .where(HolidayCalendar.region == self.region)
        )

    def sql(self) -> str:
        """Conditions to append to a WHERE clause on `work_order wo` (values bound by `params`)."""
        return (_CUSTOMER_SQL if self.customer_id is not None else "") + (
            _REGION_SQL if self.region is not None else ""
        )

    def params(self) -> dict[str, Any]:
        return {"customer_id": self.customer_id, "region": self.region}
