"""The monthly service report of one customer (月度服务报告): the month's KPIs against their
targets, the work orders reported in the month with their SLA outcome, the breaches with what
was recorded about them, the backup devices lent, and a summary.

The month is the customer's calendar month in the time zone most of their sites use (as the
KPIs' plain dates are). Access is the KPIs': staff choose the customer, a customer contact gets
their own organisation and another's id is not found.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import field_error
from core.identity.roles import Actor
from core.times import FIRST_YEAR, LAST_YEAR, SUPPORTED
from dispatch.contracts.models import Measure
from dispatch.customers.access import customer_scope
from dispatch.customers.models import Site
from dispatch.inspections.compliance import ComplianceLine, compliance
from dispatch.sla.models import SlaClock, SlaPause
from dispatch.work_orders.models import BackupOffer, Visit, WorkOrder, WorkOrderKind
from inventory.models import Loan, Unit
from kpis import service
from kpis.period import Period
from kpis.service import KpiReport

_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


@dataclass(frozen=True)
class OrderLine:
    problem_number: str
    site: str
    severity: str
    status: str
    reported_at: dt.datetime
    on_site_at: dt.datetime | None
    restored_at: dt.datetime | None
    # "met" (every decided clock on time), "breached", "running" (nothing missed yet) or "cancelled".
    sla: str
    # Every breach of the order is the customer's doing (e.g. a declined backup unit).
    excused: bool


@dataclass(frozen=True)
class Breach:
    problem_number: str
    measure: Measure
    deadline: dt.datetime | None
    met_at: dt.datetime | None
    customer_excused: bool
    # What was recorded that explains it: a declined backup device, pauses at the customer's request.
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class LoanLine:
    problem_number: str
    serial: str
    status: str
    opened_at: dt.datetime | None
    return_by: dt.date | None
    returned_at: dt.datetime | None
    signed_by: str | None


@dataclass(frozen=True)
class MonthlyReport:
    month: str
    kpis: KpiReport
    orders: list[OrderLine]
    breaches: list[Breach]
    loans: list[LoanLine]
    # Preventive inspections due in the month, per contract.
    inspections: list[ComplianceLine] = field(default_factory=list)

    @property
    def customer_name(self) -> str:
        return self.kpis.customer_name or ""


def parse_month(raw: str) -> tuple[str, str]:
    """`YYYY-MM` → the first and the last day, as the KPIs' plain dates."""
    found = _MONTH.fullmatch(raw)
    if found is None:
        raise field_error("month", "a month as YYYY-MM")
    year, month = int(found[1]), int(found[2])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise field_error("month", f"a month in {SUPPORTED}")
    first = dt.date(year, month, 1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return first.isoformat(), last.isoformat()


def _sla(clocks: list[SlaClock]) -> str:
    if any(_late(c) for c in clocks):
        return "breached"
    if clocks and all(c.met_at is not None for c in clocks if c.measure is not Measure.PERMANENT_FIX):
        return "met"
    return "running"


def _late(c: SlaClock) -> bool:
    return c.breached_at is not None or (
        c.met_at is not None and c.deadline is not None and c.met_at > c.deadline
    )


async def monthly(
    session: AsyncSession, actor: Actor, now: dt.datetime, *, customer_id: uuid.UUID | None, month: str
) -> MonthlyReport:
    first, last = parse_month(month)
    if customer_id is None and customer_scope(actor) is None:
        raise field_error("customer_id", "the customer the report is for")
    kpis = await service.report(
        session, actor, now, raw_from=first, raw_to=last, customer_id=customer_id, region=None
    )
    assert kpis.scope.customer_id is not None
    orders, breaches = await _orders(session, kpis.scope.customer_id, kpis.period)
    loans = await _loans(session, kpis.scope.customer_id, kpis.period)
    inspections = await compliance(
        session, dt.date.fromisoformat(first), dt.date.fromisoformat(last), customer_id=kpis.scope.customer_id
    )
    return MonthlyReport(
        month=month, kpis=kpis, orders=orders, breaches=breaches, loans=loans, inspections=inspections
    )


@dataclass(frozen=True)
class _Records:
    """What explains the orders' breaches, and when someone first arrived, by order."""

    arrivals: dict[uuid.UUID, dt.datetime | None]
    declined: dict[uuid.UUID, BackupOffer]
    pauses: dict[uuid.UUID, list[SlaPause]]

    def reasons(self, order_id: uuid.UUID, c: SlaClock) -> tuple[str, ...]:
        found: list[str] = []
        offer = self.declined.get(order_id)
        if c.customer_excused and offer is not None:
            found.append(f"declined_backup:{offer.declined_by or ''}:{offer.evidence or ''}")
        found += [f"pause:{p.reason.value}:{p.customer_name}" for p in self.pauses.get(order_id, [])]
        return tuple(found)


async def _records(session: AsyncSession, ids: list[uuid.UUID]) -> _Records:
    arrivals = dict(
        (
            await session.execute(
                select(Visit.work_order_id, func.min(Visit.arrived_at))
                .where(Visit.work_order_id.in_(ids), Visit.arrived_at.is_not(None))
                .group_by(Visit.work_order_id)
            )
        ).all()
    )
    declined = {
        o.work_order_id: o
        for o in await session.scalars(
            select(BackupOffer).where(BackupOffer.work_order_id.in_(ids), BackupOffer.declined)
        )
    }
    pauses: dict[uuid.UUID, list[SlaPause]] = {}
    for pause in await session.scalars(
        select(SlaPause).where(SlaPause.work_order_id.in_(ids)).order_by(SlaPause.started_at)
    ):
        pauses.setdefault(pause.work_order_id, []).append(pause)
    return _Records(arrivals, declined, pauses)


async def _orders(
    session: AsyncSession, customer_id: uuid.UUID, span: Period
) -> tuple[list[OrderLine], list[Breach]]:
    rows = (
        await session.execute(
            select(WorkOrder, Site.name)
            .join(Site, Site.id == WorkOrder.site_id)
            .where(
                WorkOrder.customer_id == customer_id,
                # Inspections are reported per contract below, not as fault orders.
                WorkOrder.kind == WorkOrderKind.REPAIR,
                WorkOrder.reported_at >= span.since,
                WorkOrder.reported_at < span.until,
            )
            .order_by(WorkOrder.reported_at, WorkOrder.problem_number)
        )
    ).all()
    records = await _records(session, [order.id for order, _ in rows])
    orders: list[OrderLine] = []
    breaches: list[Breach] = []
    for order, site_name in rows:
        clocks = list(order.clocks)
        late = [c for c in clocks if _late(c)]
        orders.append(
            OrderLine(
                problem_number=order.problem_number,
                site=site_name,
                severity=order.severity.value,
                status=order.status.value,
                reported_at=order.reported_at,
                on_site_at=records.arrivals.get(order.id),
                restored_at=order.restored_at,
                sla="cancelled" if order.status.value == "cancelled" else _sla(clocks),
                excused=bool(late) and all(c.customer_excused for c in late),
            )
        )
        breaches += [
            Breach(
                order.problem_number,
                c.measure,
                c.deadline,
                c.met_at,
                c.customer_excused,
                records.reasons(order.id, c),
            )
            for c in late
        ]
    return orders, breaches


async def _loans(session: AsyncSession, customer_id: uuid.UUID, span: Period) -> list[LoanLine]:
    """Loans out at any time during the month, for the customer's orders (of any month)."""
    rows = await session.execute(
        select(Loan, Unit.serial, WorkOrder.problem_number)
        .join(Unit, Unit.id == Loan.unit_id)
        .join(WorkOrder, WorkOrder.id == Loan.work_order_id)
        .where(
            WorkOrder.customer_id == customer_id,
            Loan.opened_at.is_not(None),
            Loan.opened_at < span.until,
            or_(Loan.returned_at.is_(None), Loan.returned_at >= span.since),
        )
        .order_by(Loan.opened_at)
    )
    return [
        LoanLine(
            problem_number=number,
            serial=serial,
            status=loan.status.value,
            opened_at=loan.opened_at,
            return_by=loan.return_by,
            returned_at=loan.returned_at,
            signed_by=loan.signed_by,
        )
        for loan, serial, number in rows.all()
    ]
