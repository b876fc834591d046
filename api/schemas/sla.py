"""SLA compliance reports and what the supervisor desk reads."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

import msgspec

GroupByName = Literal["customer", "region", "engineer", "severity"]


class ComplianceOut(msgspec.Struct):
    measure: str
    clocks: int
    met: int
    breached: int
    customer_excused: int
    running: int
    raw_compliance: float | None
    contractual_compliance: float | None


class ComplianceGroupOut(msgspec.Struct):
    # The customer's or engineer's id, the region code or the severity; '' for orders without one.
    key: str
    # The customer's name, the engineer's display name; the key itself for regions and severities.
    name: str
    measures: list[ComplianceOut]


class SlaComplianceOut(msgspec.Struct):
    since: dt.datetime
    until: dt.datetime
    # The zone the period's dates were read in (that of the sites in scope).
    time_zone: str
    group_by: GroupByName | None
    groups: list[ComplianceGroupOut]


class SlaClockOut(msgspec.Struct):
    measure: str
    deadline: dt.datetime | None
    met_at: dt.datetime | None
    breached_at: dt.datetime | None
    at_risk_since: dt.datetime | None
    customer_excused: bool
    escalation_level: int


class SlaOrderOut(msgspec.Struct):
    id: uuid.UUID
    problem_number: str
    status: str
    severity: str
    reported_at: dt.datetime
    customer_id: uuid.UUID
    customer_name: str
    site_id: uuid.UUID
    site_name: str
    engineer_id: uuid.UUID | None
    engineer_name: str | None
    # The clocks behind the figure: breached ones, or those at risk.
    clocks: list[SlaClockOut]


class SlaOrderPage(msgspec.Struct):
    items: list[SlaOrderOut]
    next_cursor: str | None


class OpenEscalationOut(msgspec.Struct):
    work_order_id: uuid.UUID
    problem_number: str
    status: str
    severity: str
    customer_id: uuid.UUID
    customer_name: str
    site_id: uuid.UUID
    site_name: str
    engineer_id: uuid.UUID | None
    engineer_name: str | None
    measure: str
    deadline: dt.datetime | None
    escalation_level: int
    breached: bool


class EscalationPage(msgspec.Struct):
    items: list[OpenEscalationOut]
    next_cursor: str | None


class EngineerTimeOut(msgspec.Struct):
    engineer_id: uuid.UUID
    engineer_name: str
    shift_hours: float
    on_site_hours: float
    # On site ÷ shift time (standby shifts not counted), as the engineer utilisation KPI.
    utilisation: float | None
    # Working time (travel start to finish) outside the engineer's shifts.
    overtime_hours: float
    overtime_cap_minutes_day: int
    # What this month's timesheets still allow (null: no monthly cap).
    overtime_left_month_minutes: int | None


class EngineerTimeReportOut(msgspec.Struct):
    since: dt.datetime
    until: dt.datetime
    time_zone: str
    engineers: list[EngineerTimeOut]
