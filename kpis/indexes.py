"""Indexes the KPI statements read by, declared on the tables they belong to (no model of
our own): one customer's year of work orders is a range of (customer_id, reported_at); the
visits of a period, engineers' time and travel, a range of arrived_at."""

from __future__ import annotations

from sqlalchemy import Index

from dispatch.work_orders.models import Visit, WorkOrder

CUSTOMER_REPORTED = Index("ix_work_order_customer_reported", WorkOrder.customer_id, WorkOrder.reported_at)
VISIT_ARRIVED = Index("ix_visit_arrived_at", Visit.arrived_at)
