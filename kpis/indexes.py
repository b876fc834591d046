"""Indexes the KPI statements read by, declared on the tables they belong to (no model of
our own): one customer's year of work orders is a range of (customer_id, reported_at); the
visits of a period, engineers' time and travel, a range of arrived_at (those needing parts, of
their own partial indexes); and the few timeline
events the KPIs look at (resolutions, closes, reopens, downgrades — about two of an order's
many events) are an index of their own that answers without reading the table."""

from __future__ import annotations

from sqlalchemy import Index, text

from dispatch.flows.stock_kpis import NEEDS_PARTS
from dispatch.work_orders.models import Visit, WorkOrder, WorkOrderEvent

CUSTOMER_REPORTED = Index("ix_work_order_customer_reported", WorkOrder.customer_id, WorkOrder.reported_at)
# With what the travel share and the engineers' time read of those visits, so that a period's
# visits are a range of this index alone (one customer's: joined to that customer's orders), not a
# row read per visit.
VISIT_ARRIVED = Index(
    "ix_visit_arrived_at",
    Visit.arrived_at,
    postgresql_include=["work_order_id", "en_route_at", "finished_at", "engineer_id", "partner_engineer_id"],
)
# The stock-out rate's visits of a period: those needing parts (a share of all), by arrival, and
# those not arrived by planned start (the open ones and the few cancelled).
# dispatch.flows.stock_kpis writes NEEDS_PARTS as is, so that the planner uses them.
VISIT_PARTS_ARRIVED = Index("ix_visit_parts_arrived", Visit.arrived_at, postgresql_where=text(NEEDS_PARTS))
VISIT_PARTS_UNARRIVED = Index(
    "ix_visit_parts_unarrived",
    Visit.planned_start,
    postgresql_where=text(f"arrived_at IS NULL AND {NEEDS_PARTS}"),
)

# kpis.figures repeats this predicate on each alias it reads events by, so the planner uses it.
KPI_EVENTS = (
    "kind = 'severity_change'"
    " OR (kind = 'status' AND to_status IN ('resolved', 'remote_fix', 'closed', 'reopened'))"
)
TIMELINE_KPI_EVENTS = Index(
    "ix_work_order_event_kpi",
    WorkOrderEvent.work_order_id,
    WorkOrderEvent.kind,
    WorkOrderEvent.to_status,
    WorkOrderEvent.at,
    WorkOrderEvent.id,
    postgresql_where=text(KPI_EVENTS),
)
