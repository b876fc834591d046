"""KPI report: the period, the scope and one entry per KPI."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

import msgspec

from kpis.service import KpiReport


class KpiOut(msgspec.Struct):
    key: str
    label: str
    unit: Literal["ratio", "count", "per_100", "days", "hours"]
    numerator: float | None
    denominator: float | None
    value: float | None
    target: float | None
    # min: value ≥ target; max: value ≤ target; above: value > target.
    target_kind: Literal["min", "max", "above"] | None
    within_target: bool | None
    # not_applicable: see the definition.
    status: Literal["computed", "not_applicable"]
    definition: str


class KpiReportOut(msgspec.Struct):
    from_: dt.datetime = msgspec.field(name="from")
    to: dt.datetime
    time_zone: str
    customer_id: uuid.UUID | None
    customer_name: str | None
    region: str | None
    computed_at: dt.datetime
    kpis: list[KpiOut]


def report_out(report: KpiReport) -> KpiReportOut:
    return KpiReportOut(
        from_=report.period.since,
        to=report.period.until,
        time_zone=report.period.time_zone,
        customer_id=report.scope.customer_id,
        customer_name=report.customer_name,
        region=report.scope.region,
        computed_at=report.computed_at,
        kpis=[
            KpiOut(
                key=f.definition.key,
                label=f.definition.label,
                unit=f.definition.unit,  # type: ignore[arg-type]
                numerator=f.numerator,
                denominator=f.denominator,
                value=f.value,
                target=f.definition.target,
                target_kind=f.definition.target_kind,  # type: ignore[arg-type]
                within_target=f.within_target,
                status=f.status,  # type: ignore[arg-type]
                definition=f.definition.definition,
            )
            for f in report.figures
        ],
    )
