"""A day in progress on top of the demo data set, so that a newcomer opening the console sees a
real desk: about sixty open work orders across severities and states — queued, assigned along
each engineer's route, on the way, on site, a customer who postponed, a critical one whose
engineer never came (breached), one waiting for a backup device — the engineers' positions, one
engineer off sick for the day and another in training for the afternoon.

Everything goes through the same services as the API (intake, contacts, visits, assignment,
travel, arrival, pauses, backup requests, positions), so the clocks, timelines and notifications
are what they would be. Deterministic for a given start time; skipped when the database already
has work orders. `make up` runs it (`python -m dispatch.demo_day`); the test databases do not
carry it.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import zones
from core.clock import ManualClock
from core.database import make_engine, make_sessionmaker
from core.geo import lonlat
from core.identity.models import User
from core.identity.roles import Actor, Role
from core.settings import load_settings
from dispatch.contracts.models import Severity
from dispatch.customers.models import Asset, Site
from dispatch.engineers import absences, positions
from dispatch.engineers.models import AbsenceKind, Engineer
from dispatch.flows import backup
from dispatch.planning.problem import engineer_rows
from dispatch.sla.models import PauseReason
from dispatch.work_orders import service, visits
from dispatch.work_orders.models import Channel, VisitKind, WorkOrder

SEED = 20260302
# Models the demo warehouses hold backup units for (see dispatch.demo's catalogue).
BACKED_MODELS = {"PowerEdge R750", "ProLiant DL380 Gen10", "FusionServer 2288H V6"}
ORDERS = 60
SEVERITIES = [Severity.CRITICAL] * 3 + [Severity.HIGH] * 12 + [Severity.MEDIUM] * 30 + [Severity.LOW] * 15
FAULTS = [
    "服务器宕机，业务中断",
    "存储阵列告警，磁盘亮黄灯",
    "核心交换机端口频繁掉线",
    "UPS 电池告警，后备时间不足",
    "数据库主机风扇异常噪音",
    "打印机卡纸，无法出票",
]


@dataclass(frozen=True)
class _Cast:
    desk: Actor
    engineers: list[tuple[Engineer, Actor]]
    places: list[tuple[Site, Asset]]


async def _cast(session: AsyncSession) -> _Cast:
    dispatcher = (await session.execute(select(User).where(User.username == "dispatcher"))).scalar_one()
    engineers = [
        (e, Actor(user_id=e.id, role=Role.ENGINEER, username=username))
        for e, username, _ in await engineer_rows(session, None)
    ]
    places = await session.execute(
        select(Site, Asset).join(Asset, Asset.site_id == Site.id).order_by(Site.name, Asset.serial)
    )
    return _Cast(
        Actor(user_id=dispatcher.id, role=Role.DISPATCHER, username="dispatcher"),
        engineers,
        [(site, unit) for site, unit in places],
    )


async def _report(
    session: AsyncSession,
    cast: _Cast,
    clock: ManualClock,
    rng: random.Random,
    severity: Severity,
    hours_ago: float,
    places: list[tuple[Site, Asset]] | None = None,
) -> WorkOrder:
    site, unit = rng.choice(places or cast.places)
    intake = service.Intake(
        site_id=site.id,
        contact_name="王经理",
        contact_phone=f"1380000{rng.randint(1000, 9999)}",
        fault_description=rng.choice(FAULTS),
        severity=severity,
        channel=rng.choice([Channel.PHONE, Channel.PHONE, Channel.EMAIL, Channel.WEB]),
        asset_id=unit.id,
        reported_at=clock.now() - dt.timedelta(hours=hours_ago),
    )
    return await service.create(session, cast.desk, clock, intake)


async def load_day(session: AsyncSession, now: dt.datetime) -> int:
    """The day in progress as of `now`; 0 when work orders exist already."""
    if await session.scalar(select(func.count(WorkOrder.id))):
        return 0
    rng = random.Random(SEED)
    cast = await _cast(session)
    clock = ManualClock(now)
    severities = rng.sample(SEVERITIES, k=len(SEVERITIES))
    made = 0
    routes: dict[uuid.UUID, dt.datetime] = {}
    away = await _time_away(session, cast, now)
    for n, severity in enumerate(severities[:ORDERS]):
        order = await _report(session, cast, clock, rng, severity, hours_ago=rng.uniform(0.2, 9.0))
        made += 1
        if n % 6 != 5:  # most callers were called back; a few wait for it
            at = order.reported_at + dt.timedelta(minutes=rng.randint(5, 25))
            await service.record_contact(
                session, cast.desk, clock, order.id, person_name="王经理", channel="phone", note=None, at=at
            )
        visit = await visits.create_visit(
            session,
            cast.desk,
            clock,
            order.id,
            visits.VisitPlan(VisitKind.REPAIR, rng.choice([45, 60, 90, 120])),
        )
        if n % 3 == 0:
            continue  # queued: nobody has it yet
        engineer, actor = cast.engineers[n % len(cast.engineers)]
        if (engineer.id, SICK_ALL_DAY) in away:
            continue  # off sick: their visits wait in the queue
        free_at = max(
            routes.get(engineer.id, now - dt.timedelta(minutes=90)),
            order.reported_at + dt.timedelta(minutes=30),
        )
        start = _next_start(engineer, free_at, now, visit.duration_minutes, away.get((engineer.id, TRAINING)))
        if start is None:
            continue
        routes[engineer.id] = start + dt.timedelta(minutes=visit.duration_minutes + 30)
        await visits.assign(
            session,
            cast.desk,
            clock,
            visit.id,
            visit.version,
            engineer_id=engineer.id,
            partner_engineer_id=None,
            planned_start=start,
            pinned=False,
        )
        await _under_way(session, clock, actor, engineer, order, visit.id, start, now)
    await _special_cases(session, cast, clock, rng)
    return made + 3


SICK_ALL_DAY, TRAINING = "sick", "training"
# Who is away on the demo's day (by index in the engineers' list): one ill all day, one in
# training from 13:30 to 17:30.
AWAY = {SICK_ALL_DAY: 12, TRAINING: 4}


async def _time_away(
    session: AsyncSession, cast: _Cast, now: dt.datetime
) -> dict[tuple[uuid.UUID, str], tuple[dt.datetime, dt.datetime]]:
    """The day's absences, recorded by the desk: (engineer, which) -> (start, end)."""
    found = {}
    for which, index in AWAY.items():
        engineer, _ = cast.engineers[index % len(cast.engineers)]
        tz = zones.zone(engineer.time_zone)
        today = now.astimezone(tz).date()
        if which == SICK_ALL_DAY:
            start = dt.datetime.combine(today, dt.time(0), tz)
            end, kind, note = start + dt.timedelta(days=1), AbsenceKind.SICK, "发烧，请假一天"
        else:
            start = dt.datetime.combine(today, dt.time(13, 30), tz)
            end, kind, note = (
                dt.datetime.combine(today, dt.time(17, 30), tz),
                AbsenceKind.TRAINING,
                "UPS 厂商认证培训",
            )
        await absences.create_absence(
            session, cast.desk, engineer.id, starts_at=start, ends_at=end, kind=kind, note=note
        )
        found[(engineer.id, which)] = (start, end)
    return found


def _next_start(
    engineer: Engineer,
    free_at: dt.datetime | None,
    now: dt.datetime,
    minutes: int,
    away: tuple[dt.datetime, dt.datetime] | None = None,
) -> dt.datetime | None:
    """The engineer's next start today (after what they already have), in their shift and not in
    their time `away`; else the start of their next shift day (within a week)."""
    tz = zones.zone(engineer.time_zone)
    shifts = [s for s in engineer.shifts if not s.on_call]
    earliest = max(free_at or now, now - dt.timedelta(hours=1))
    for day in range(8):
        local_day = (earliest.astimezone(tz) + dt.timedelta(days=day)).date()
        for shift in shifts:
            if shift.weekday != local_day.weekday():
                continue
            opens = dt.datetime.combine(local_day, shift.starts, tz)
            closes = dt.datetime.combine(local_day, shift.ends, tz)
            start = max(opens, earliest)
            start = start.replace(minute=start.minute - start.minute % 15, second=0, microsecond=0)
            if away is not None and start < away[1] and away[0] < start + dt.timedelta(minutes=minutes):
                start = away[1]
            if start + dt.timedelta(minutes=minutes) <= closes:
                return start
    return None


async def _under_way(
    session: AsyncSession,
    clock: ManualClock,
    actor: Actor,
    engineer: Engineer,
    order: WorkOrder,
    visit_id: uuid.UUID,
    start: dt.datetime,
    now: dt.datetime,
) -> None:
    """A visit whose time has come: the engineer is on the way or there, and says where they are."""
    # Leaving 25 minutes ahead: a visit due within that is under way already.
    if start > now + dt.timedelta(minutes=25) or not positions.on_shift(engineer, now):
        return
    site = await session.get(Site, order.site_id)
    assert site is not None
    left = max(min(start - dt.timedelta(minutes=25), now), order.reported_at)
    await visits.start_travel(session, actor, clock, visit_id, at=left)
    await positions.set_consent(session, actor, now, True)
    point = lonlat(site.point)
    if start <= now - dt.timedelta(minutes=10):
        await visits.arrive(session, actor, clock, visit_id, location=point, at=start)
    await positions.record(session, actor, now, [positions.Fix(now, point, 15.0)])


async def _special_cases(session: AsyncSession, cast: _Cast, clock: ManualClock, rng: random.Random) -> None:
    """The cases every desk has: a critical fault nobody reached in time, a customer who asked
    to come back later, a repair that needs a backup device."""
    await _report(session, cast, clock, rng, Severity.CRITICAL, hours_ago=14)  # on site within 12 h: missed
    postponed = await _report(session, cast, clock, rng, Severity.HIGH, hours_ago=2)
    await session.refresh(postponed)
    await service.pause(
        session,
        cast.desk,
        clock,
        postponed.id,
        postponed.version,
        service.PauseEvidence(PauseReason.CUSTOMER_POSTPONED, "李科长", "phone", "CALL-DEMO-0001"),
        until=clock.now() + dt.timedelta(hours=20),
    )
    backed = [(site, unit) for site, unit in cast.places if unit.model in BACKED_MODELS]
    slow = await _report(session, cast, clock, rng, Severity.HIGH, hours_ago=30, places=backed)
    reason = "主板需原厂返修，48 小时内无法修复"
    await backup.request_backup(session, cast.desk, clock, slow.id, reason=reason)


async def load(url: str, now: dt.datetime) -> int:
    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            return await load_day(session, now)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m dispatch.demo_day", description="Load a day in progress")
    parser.parse_args()
    made = asyncio.run(load(load_settings().database_url, dt.datetime.now(dt.UTC)))
    print(f"A day in progress: {made} open work orders" if made else "Work orders present: no demo day added")


if __name__ == "__main__":
    main()
