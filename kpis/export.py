"""The KPI report as CSV: one row per KPI.

UTF-8 with a byte-order mark, so that Excel (which reads a CSV without one in the system's
legacy code page, GBK on Chinese Windows) shows Chinese customer names; CRLF line ends as RFC
4180 has them. Text cells that a spreadsheet would run as a formula (starting with = + - @ or
a tab or carriage return) get a leading apostrophe.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence

from core import zones
from kpis.service import KpiReport

BOM = "\ufeff"
COLUMNS = (
    "customer",
    "region",
    "from",
    "to",
    "time_zone",
    "kpi",
    "label",
    "numerator",
    "denominator",
    "value",
    "unit",
    "target",
    "target_kind",
    "within_target",
    "status",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str | None) -> str:
    if value is None:
        return ""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _flag(value: bool | None) -> str:
    return "" if value is None else str(value).lower()


def to_csv(report: KpiReport) -> bytes:
    zone = zones.zone(report.period.time_zone)

    def local(at: dt.datetime) -> str:
        return at.astimezone(zone).isoformat()

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    customer = _text(report.customer_name) if report.scope.customer_id else "all customers"
    for f in report.figures:
        d = f.definition
        writer.writerow(
            (
                customer,
                _text(report.scope.region),
                local(report.period.since),
                local(report.period.until),
                report.period.time_zone,
                d.key,
                d.label,
                _number(f.numerator),
                _number(f.denominator),
                _number(f.value),
                d.unit,
                _number(d.target),
                d.target_kind or "",
                _flag(f.within_target),
                f.status,
            )
        )
    return (BOM + out.getvalue()).encode("utf-8")


def table(columns: tuple[str, ...], rows: Iterable[Sequence[str | float | int | bool | None]]) -> bytes:
    """Any of the desk's tables as CSV, written as the KPI report is: numbers as the API gives
    them, text guarded against formulas, booleans as true/false, None as an empty cell."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(tuple(_cell(v) for v in row))
    return (BOM + out.getvalue()).encode("utf-8")


def _cell(value: str | float | int | bool | None) -> str:
    if isinstance(value, bool):
        return _flag(value)
    if isinstance(value, int | float):
        return _number(value)
    return _text(value)
