"""A KPI report for one period and scope, as the caller may see it.

Staff (admin, supervisor, dispatcher) choose any customer or region or all; a customer contact
always gets their own organisation's figures — another organisation's id is not found, like
everywhere else."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from core.identity.roles import Actor
from dispatch.customers.access import customer_scope
from dispatch.customers.models import Customer
from kpis import figures, period
from kpis.figures import Figure
from kpis.period import Period
from kpis.scope import Scope


@dataclass(frozen=True)
class KpiReport:
    period: Period
    scope: Scope
    customer_name: str | None
    computed_at: dt.datetime
    figures: list[Figure]


async def report(
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    *,
    raw_from: str | None,
    raw_to: str | None,
    customer_id: uuid.UUID | None,
    region: str | None,
) -> KpiReport:
    own = customer_scope(actor)
    if own is not None:
        if customer_id is not None and customer_id != own:
            raise NotFound(f"No customer with id {customer_id}")
        customer_id = own
    customer = await session.get(Customer, customer_id) if customer_id is not None else None
    if customer_id is not None and customer is None:
        raise NotFound(f"No customer with id {customer_id}")
    scope = Scope(customer_id=customer_id, region=region)
    span = await period.resolve(session, scope, now, raw_from, raw_to)
    return KpiReport(
        period=span,
        scope=scope,
        customer_name=customer.name if customer else None,
        computed_at=now,
        figures=await figures.compute(session, now, span, scope),
    )
