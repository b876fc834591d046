"""Indexes the KPI statements read by, declared on the tables they belong to (no model of
our own): one customer's year of work orders is a range of (customer_id, reported_at); the
visits of a period, engineers' time and travel, a range of arrived_at (and of planned_start for
those not arrived); and the few timeline
events the KPIs look at (resolutions, closes, reopens, downgrades — about two of an order's
many events) are an index of their own that answers without reading the table."""

from __future__ import annotations

from sqlalchemy import Index, text

from dispatch.work_orders.models import Visit, WorkOrder, WorkOrderEvent

CUSTOMER_REPORTED = Index("ix_work_order_customer_reported", WorkOrder.customer_id, WorkOrder.reported_at)
VISIT_ARRIVED = Index("ix_visit_arrived_at", Visit.arrived_at)
# The stock-out rate's visits of a period not yet arrived, by their planned start (the arrived ones
# are a range of arrived_at): the visits never arrived are the open ones and the few cancelled.
VISIT_PLANNED_UNARRIVED = Index(
    "ix_visit_planned_unarrived", Visit.planned_start, postgresql_where=text("arrived_at IS NULL")
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
