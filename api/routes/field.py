"""Engineers' positions (with consent) and SLA compliance reports."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
from litestar import delete, get, post
from litestar.params import FromQuery, JSONBody

from api.auth import DESK
from api.params import CurrentActor, InstantQuery, Now, Session
from api.schemas.work_orders import PositionsIn, PositionsOut
from core.identity.roles import Role
from dispatch.engineers import positions
from dispatch.sla import reports

ENGINEERS = frozenset({Role.ENGINEER})


class ConsentOut(msgspec.Struct):
    engineer_id: uuid.UUID
    granted_at: dt.datetime
    withdrawn_at: dt.datetime | None


class ComplianceOut(msgspec.Struct):
    measure: str
    clocks: int
    met: int
    breached: int
    customer_excused: int
    running: int
    raw_compliance: float | None
    contractual_compliance: float | None


@post(
    "/api/engineers/me/position-consent",
    roles=ENGINEERS,
    tags=["engineers"],
    status_code=200,
    summary="Consent to position tracking while on shift",
)
async def grant_consent(now: Now, session: Session, actor: CurrentActor) -> ConsentOut:
    consent = await positions.set_consent(session, actor, now, granted=True)
    return ConsentOut(consent.engineer_id, consent.granted_at, consent.withdrawn_at)


@delete(
    "/api/engineers/me/position-consent",
    roles=ENGINEERS,
    tags=["engineers"],
    status_code=200,
    summary="Withdraw consent: no more positions are accepted",
)
async def withdraw_consent(now: Now, session: Session, actor: CurrentActor) -> ConsentOut:
    consent = await positions.set_consent(session, actor, now, granted=False)
    return ConsentOut(consent.engineer_id, consent.granted_at, consent.withdrawn_at)


@post(
    "/api/engineers/me/positions",
    roles=ENGINEERS,
    tags=["engineers"],
    status_code=200,
    summary="Report positions (batched); off-shift ones are dropped, GCJ-02/BD-09 converted to WGS-84",
)
async def report_positions(
    now: Now, session: Session, actor: CurrentActor, data: JSONBody[PositionsIn]
) -> PositionsOut:
    fixes = [positions.Fix(p.at, p.point.lonlat, p.accuracy_m, p.datum) for p in data.positions]
    accepted, ignored = await positions.record(session, actor, now, fixes)
    return PositionsOut(accepted=accepted, ignored_off_shift=ignored)


@get(
    "/api/reports/sla-compliance",
    roles=DESK,
    tags=["reports"],
    summary="SLA compliance per target: raw and contractual (customer-excused breaches) side by side",
)
async def sla_compliance(
    now: Now,
    session: Session,
    since: InstantQuery,
    until: InstantQuery,
    customer_id: FromQuery[uuid.UUID | None] = None,
) -> list[ComplianceOut]:
    rows = await reports.compliance(session, now, since=since, until=until, customer_id=customer_id)
    return [
        ComplianceOut(
            r.measure.value, r.clocks, r.met, r.breached, r.excused, r.running, r.raw, r.contractual
        )
        for r in rows
    ]


ROUTES = [grant_consent, withdraw_consent, report_positions, sla_compliance]
