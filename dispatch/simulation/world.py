"""What a simulated week plays on: the demo city's engineers, places and desk, read from the
database once, and the event log every check and report is computed from."""

from __future__ import annotations

import datetime as dt
import math
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.geo import lonlat
from core.identity.models import User
from core.identity.roles import Actor, Role
from dispatch.customers.models import Asset, Site
from dispatch.engineers.models import EmployerKind, Engineer, EngineerShift, EngineerSkill
from dispatch.engineers.service import create_engineer, update_engineer
from dispatch.planning.problem import engineer_rows
from dispatch.simulation.scenario import WEEKEND_FACTOR

# The demo's equipment models and what they are (the skill a repair needs).
CATEGORY = {
    "PowerEdge R750": "server",
    "ProLiant DL380 Gen10": "server",
    "FusionServer 2288H V6": "server",
    "OceanStor 5310": "storage",
    "Unity XT 480": "storage",
    "S5735-L 交换机": "network",
    "CE6881 数据中心交换机": "network",
    "UPS5000-E 不间断电源": "ups_power",
    "LaserJet M607": "printer",
}

Point = tuple[float, float]


@dataclass
class Crew:
    """One engineer in the simulation: where they are and what they are doing until when."""

    engineer: Engineer
    actor: Actor
    point: Point
    visit_id: uuid.UUID | None = None
    phase: str | None = None  # "travel", "site"
    until: dt.datetime | None = None
    # Kilometres driven, minutes travelling and on site.
    km: float = 0.0


@dataclass(frozen=True)
class Place:
    site: Site
    asset: Asset
    category: str
    point: Point


@dataclass
class World:
    desk: Actor
    crews: list[Crew]
    places: list[Place]

    def crew_of(self, engineer_id: uuid.UUID | None) -> Crew | None:
        return next((c for c in self.crews if c.engineer.id == engineer_id), None)


def _secret_hash() -> str:
    # Simulated engineers never sign in: a hash no password matches.
    return "!" + secrets.token_hex(16)


async def hire(session: AsyncSession, desk: Actor, wanted: int) -> None:
    """More engineers than the demo city has (for a bigger simulated team): each a copy of one of
    the demo's own engineers (skills, shifts) living a little way from them, created through the
    engineers service."""
    ours = [e for e, _, _ in await engineer_rows(session, None) if e.employer_kind is EmployerKind.COMPANY]
    for n in range(len(ours), wanted):
        model = ours[n % len(ours)]
        user = User(
            id=uuid.uuid5(model.id, f"sim-{n}"),
            username=f"sim{n + 1:03d}",
            display_name=f"模拟工程师{n + 1:03d}",
            role=Role.ENGINEER,
            password_hash=_secret_hash(),
        )
        session.add(user)
        await session.flush()
        lon, lat = lonlat(model.home_base)
        shift = 0.01 * ((n // len(ours)) % 5 - 2)
        await create_engineer(
            session,
            desk,
            {"id": user.id, "employer_kind": EmployerKind.COMPANY, "employer_name": model.employer_name,
             "time_zone": model.time_zone, "on_call": model.on_call},
            (lon + shift, lat - shift),
            [EngineerSkill(skill=s.skill, level=s.level, valid_until=s.valid_until) for s in model.skills],
            [
                EngineerShift(weekday=s.weekday, starts=s.starts, ends=s.ends, on_call=s.on_call)
                for s in model.shifts
            ],
        )  # fmt: skip


async def load_world(session: AsyncSession, engineers: int, roster: str = "forecast") -> World:
    """The desk, the first `engineers` of our own engineers (by user name; hired when the demo
    has fewer) and every place with an asset of a known model. With the "forecast" roster the
    team also keeps a weekend rota staffed for the weekend's expected faults, with "weekend" one
    of WEEKEND_PER_SKILL engineers per skill (see `weekend_rota`); "lean" is the demo's roster as
    it is."""
    boss = (await session.execute(select(User).where(User.username == "admin"))).scalar_one()
    admin = Actor(user_id=boss.id, role=Role.ADMIN, username="admin")
    await hire(session, admin, engineers)
    dispatcher = (await session.execute(select(User).where(User.username == "dispatcher"))).scalar_one()
    crews = [
        Crew(e, Actor(user_id=e.id, role=Role.ENGINEER, username=username), lonlat(e.home_base))
        for e, username, _ in await engineer_rows(session, None)
        if e.employer_kind is EmployerKind.COMPANY
    ]
    crews.sort(key=lambda c: c.actor.username)
    # The rest of the demo's engineers are not in the simulated team: made inactive, so that no
    # plan, insertion or at-risk prediction counts on them.
    for crew in crews[engineers:]:
        await update_engineer(
            session, admin, crew.engineer.id, crew.engineer.version, {"active": False}, None, None, None
        )
    rows = await session.execute(
        select(Site, Asset).join(Asset, Asset.site_id == Site.id).order_by(Site.name, Asset.serial)
    )
    places = [Place(s, a, CATEGORY[a.model], lonlat(s.point)) for s, a in rows if a.model in CATEGORY]
    categories = {p.category for p in places}
    # Faults fall on places evenly: a kind of equipment's share of the places is its share of them.
    shares = {c: sum(p.category == c for p in places) / len(places) for c in categories}
    per_share = STANDBY_SHARE if roster == "forecast" else None
    await cover_standby(session, admin, crews[:engineers], shares, per_share)
    if roster == "forecast":
        team = crews[:engineers]
        per_day = forecast_day_shift(team, WEEKEND_FACTOR)
        await weekend_rota(session, admin, team, shares, per_day, STANDBY_SHARE)
    elif roster == "weekend":
        await weekend_rota(session, admin, crews[:engineers], shares)
    return World(
        Actor(user_id=dispatcher.id, role=Role.DISPATCHER, username="dispatcher"), crews[:engineers], places
    )


def _standby_skills(crew: Crew) -> set[str]:
    if not (crew.engineer.on_call and any(s.on_call for s in crew.engineer.shifts)):
        return set()
    return _valid_skills(crew)


def _valid_skills(crew: Crew) -> set[str]:
    # Licences valid for a year at least: the simulated weeks lie within it.
    return {s.skill for s in crew.engineer.skills if s.valid_until is None or s.valid_until >= FAR_ENOUGH}


async def _add_shifts(
    session: AsyncSession, admin: Actor, crew: Crew, extra: list[EngineerShift], *, on_call: bool
) -> None:
    """The crew's engineer keeps their shifts and gets `extra` too (on the standby rota with
    `on_call`), through the engineers service."""
    engineer = crew.engineer
    shifts = [
        EngineerShift(weekday=s.weekday, starts=s.starts, ends=s.ends, on_call=s.on_call)
        for s in engineer.shifts
    ] + extra
    changes = {"on_call": True} if on_call else {}
    crew.engineer = await update_engineer(
        session, admin, engineer.id, engineer.version, changes, None, None, shifts
    )


# A licence valid until then counts for standby cover (the simulated weeks are in 2026).
FAR_ENOUGH = dt.date(2027, 1, 1)
STANDBY_NIGHT = (dt.time(18, 0), dt.time(8, 0))


# The forecast rota: one engineer on standby with a skill for each quarter (or part of one) of the
# equipment that needs it. With one standby engineer per skill, the server engineer on standby
# (a third of the faults are servers) took a night's server call-outs one after another, and the
# evening's high faults passed 12 h waiting for him.
STANDBY_SHARE = 0.25


def _rota_first(crew: Crew) -> tuple[bool, str]:
    """Who stands by first: engineers already on the standby rota, then by user name."""
    return (not crew.engineer.on_call, crew.actor.username)


def _standby_wanted(share: float, per_share: float | None) -> int:
    return 1 if per_share is None else max(1, math.ceil(share / per_share - 1e-9))


async def cover_standby(
    session: AsyncSession,
    admin: Actor,
    crews: list[Crew],
    shares: dict[str, float],
    per_share: float | None = None,
) -> None:
    """Night call-outs need someone on standby with the skill: for each kind of equipment the
    places hold (`shares`: its share of them), one engineer on standby who can repair it (the
    demo's three have no electrician's licence), and with `per_share` one for each `per_share` of
    the places or part of it; those missing are the first engineers with the skill (on the rota
    first), who get standby nights after their working days through the engineers service. A
    team without a standby rota (a small test team) is left without one."""
    if not any(_standby_skills(c) for c in crews):
        return
    for category, share in sorted(shares.items()):
        wanted = _standby_wanted(share, per_share)
        missing = wanted - sum(category in _standby_skills(c) for c in crews)
        able = sorted(
            (c for c in crews if not _standby_skills(c) and category in _valid_skills(c)),
            key=_rota_first,
        )
        for crew in able[: max(0, missing)]:
            days = sorted({s.weekday for s in crew.engineer.shifts if not s.on_call})
            nights = [
                EngineerShift(weekday=d, starts=STANDBY_NIGHT[0], ends=STANDBY_NIGHT[1], on_call=True)
                for d in days
            ]
            await _add_shifts(session, admin, crew, nights, on_call=True)


# The weekend rota: at least this many engineers with each skill work the day on Saturday and on
# Sunday (with standby the night after), so that a 7x24 fault reported at the weekend has someone
# to go. The "forecast" rota also staffs each weekend day for its expected faults: the weekday
# day shift times the day's expected share of a weekday's faults (scenario.WEEKEND_FACTOR).
WEEKEND_PER_SKILL = 2
WEEKEND_DAY = (dt.time(8, 30), dt.time(17, 30))
ROSTERS = ("forecast", "weekend", "lean")


def _works(crew: Crew, weekday: int) -> bool:
    return any(s.weekday == weekday and not s.on_call for s in crew.engineer.shifts)


def _standby_on(crew: Crew, weekday: int) -> bool:
    return crew.engineer.on_call and any(s.weekday == weekday and s.on_call for s in crew.engineer.shifts)


def _weekend_load(crew: Crew, added: dict[uuid.UUID, set[int]]) -> int:
    return sum(1 for d in (5, 6) if _works(crew, d)) + len(added.get(crew.engineer.id, ()))


def forecast_day_shift(crews: list[Crew], share: float) -> int:
    """Engineers a weekend day needs for its forecast: the busiest weekday's day shift times the
    day's expected share of a weekday's faults, rounded up."""
    weekday_shift = max(sum(1 for c in crews if _works(c, d)) for d in range(5))
    return math.ceil(weekday_shift * share - 1e-9)


async def weekend_rota(
    session: AsyncSession,
    admin: Actor,
    crews: list[Crew],
    shares: dict[str, float],
    per_day: int = 0,
    per_share: float | None = None,
) -> None:
    """The roster of a company that sells 7x24 contracts: on Saturday and on Sunday at least
    WEEKEND_PER_SKILL engineers with each kind of equipment's skill, and `per_day` in all, work a
    day shift, and one with each skill (with `per_share`, as many as `cover_standby` wants) is on
    standby the night after. Those added to a weekend day are the ones with the fewest weekend
    days so far (then by user name), through the engineers service. A small team (fewer than
    ten: the tests' hand-made ones) keeps its roster as it is."""
    if len(crews) < 10:
        return
    days: dict[uuid.UUID, set[int]] = {}
    nights: dict[uuid.UUID, set[int]] = {}
    categories = set(shares)
    wanted = {c: _standby_wanted(share, per_share) for c, share in shares.items()}
    for weekday in (5, 6):
        on_duty = [c for c in crews if _works(c, weekday)]
        for category in sorted(categories):
            skilled = [c for c in on_duty if category in _valid_skills(c)]
            while len(skilled) < WEEKEND_PER_SKILL:
                able = [c for c in crews if c not in on_duty and category in _valid_skills(c)]
                if not able:
                    break
                crew = min(able, key=lambda c: (_weekend_load(c, days), c.actor.username))
                days.setdefault(crew.engineer.id, set()).add(weekday)
                on_duty.append(crew)
                skilled.append(crew)
        _fill_day(crews, on_duty, days, weekday, per_day)
        _standby_nights(crews, on_duty, nights, weekday, wanted)
    for crew in crews:
        extra = [
            EngineerShift(weekday=d, starts=WEEKEND_DAY[0], ends=WEEKEND_DAY[1], on_call=False)
            for d in sorted(days.get(crew.engineer.id, ()))
        ] + [
            EngineerShift(weekday=d, starts=STANDBY_NIGHT[0], ends=STANDBY_NIGHT[1], on_call=True)
            for d in sorted(nights.get(crew.engineer.id, ()))
        ]
        if extra:
            await _add_shifts(session, admin, crew, extra, on_call=crew.engineer.id in nights)


def _fill_day(
    crews: list[Crew], on_duty: list[Crew], days: dict[uuid.UUID, set[int]], weekday: int, per_day: int
) -> None:
    """More engineers on the weekend day until `per_day` work it: each time one with the skill
    fewest on duty have (the forecast's faults spread over the skills like the places' equipment),
    then the fewest weekend days, then by user name."""
    while len(on_duty) < per_day:
        able = [c for c in crews if c not in on_duty]
        if not able:
            return

        def thinnest(crew: Crew) -> int:
            counts = (sum(1 for c in on_duty if k in _valid_skills(c)) for k in _valid_skills(crew))
            return min(counts, default=99)

        crew = min(able, key=lambda c: (thinnest(c), _weekend_load(c, days), c.actor.username))
        days.setdefault(crew.engineer.id, set()).add(weekday)
        on_duty.append(crew)


def _standby_nights(
    crews: list[Crew],
    on_duty: list[Crew],
    nights: dict[uuid.UUID, set[int]],
    weekday: int,
    wanted: dict[str, int],
) -> None:
    """For each skill fewer on standby that night have than `wanted`: the day's engineers with it
    (the standby rota's first)."""
    for category, count in sorted(wanted.items()):
        standby = [c for c in crews if _standby_on(c, weekday) or weekday in nights.get(c.engineer.id, ())]
        skilled = sorted(
            (c for c in on_duty if category in _valid_skills(c) and c not in standby),
            key=_rota_first,
        )
        missing = count - sum(category in _valid_skills(c) for c in standby)
        for crew in skilled[: max(0, missing)]:
            nights.setdefault(crew.engineer.id, set()).add(weekday)


@dataclass
class EventLog:
    """What happened, in simulated time order, named by labels that do not depend on random ids
    (fault number, visit number, user name), so that two runs of one seed can be compared."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    labels: dict[uuid.UUID, str] = field(default_factory=dict)
    # Visits labelled so far per fault (a count, not a scan of every label: weeks of 300 engineers).
    per_fault: dict[int, int] = field(default_factory=dict)

    def label(self, visit_id: uuid.UUID, fault: int) -> str:
        if visit_id not in self.labels:
            self.per_fault[fault] = self.per_fault.get(fault, 0) + 1
            self.labels[visit_id] = f"F{fault}.{self.per_fault[fault]}"
        return self.labels[visit_id]

    def add(self, at: dt.datetime, event: str, **data: Any) -> None:
        self.rows.append({"at": at.isoformat(), "event": event, **data})
