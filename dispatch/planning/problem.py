"""From work orders and engineers to a routing problem, and from a solution back to a plan.

Times in the problem are seconds after the plan's origin (now). Engineers are our
own (the manufacturer's engineers are not ours to route: a joint visit with one
keeps the window they committed to). Each engineer-shift in the horizon is one
vehicle, and so is each standby period of an engineer on call (critical work, and work whose
on-site deadline falls before the next regular shift can reach it);
the running shift starts from the engineer's live position. The dispatcher's
rules kept with sites (access hours, registration lead, whitelisted, barred and preferred
engineers) and engineers (overtime caps, nights away, rest after a call-out) go in as they are.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import times, zones
from core.geo import lonlat
from core.identity.models import User
from core.times import FIRST_YEAR, LAST_YEAR
from core.weekly_hours import laid_over
from dispatch.contracts.models import Measure, Severity
from dispatch.customers.models import Site
from dispatch.engineers.absences import absences_of
from dispatch.engineers.models import EmployerKind, Engineer, EngineerAbsence
from dispatch.engineers.positions import latest_positions
from dispatch.inspections.planning import apply_window as inspection_window
from dispatch.sla.clocks import SEVERITY_WEIGHT
from dispatch.sla.models import SlaClock
from dispatch.work_orders.lifecycle import OPEN
from dispatch.work_orders.models import Visit, VisitKind, VisitStatus, WorkOrder, WorkOrderKind
from inventory import shipments
from inventory.models import Item, Location, LocationKind, Reservation, ReservationStatus, StockBalance
from routing import model as rm
from routing.osrm import OsrmTravelTime
from routing.travel import RUSH_HOURS, CachedTravelTime, HaversineTravelTime, SpeedProfile, TravelTimeProvider

DEADLINE_OF = {
    VisitKind.REPAIR: Measure.ON_SITE,
    VisitKind.INSPECTION: Measure.ON_SITE,
    VisitKind.BACKUP_DELIVERY: Measure.RESTORE,
    VisitKind.SWAP_BACK: Measure.PERMANENT_FIX,
}
LIVE_POSITION_AGE = dt.timedelta(minutes=30)
# The desk's aim for urgent faults: on site this soon after the report. Plans start such work
# as soon as an engineer can be there (the contract's deadline may allow more, up to the next
# business day); lateness is still told against the deadline.
URGENT_ON_SITE_AIM = {Severity.CRITICAL: dt.timedelta(hours=4), Severity.HIGH: dt.timedelta(hours=6)}
# Putting work off to a later shift (tomorrow's, say) while an earlier one has room costs this
# many seconds of travel per hour, times the visit's severity weight: plans keep engineers busy
# today rather than save a little driving by waiting for tomorrow.
LATER_SHIFT_COST_PER_HOUR = 120.0
# How long the next regular shift takes to reach a site once it starts: work whose on-site
# deadline falls before that is a call-out for the engineer on standby, whatever its severity
# (night call-outs go to the on-call engineer); work that can wait for the morning waits.
MORNING_REACH = dt.timedelta(hours=1)
# A job under way is expected to need what is left of its planned time, and at least this share
# of it: one past its estimate is not done the moment the estimate runs out (repair times have a
# long tail), and the next re-plan looks again.
OVERRUN_SHARE = 0.25
# A visit its engineer is driving to or working on: theirs, whatever a plan finds.
STARTED = frozenset({VisitStatus.EN_ROUTE, VisitStatus.ON_SITE})


@dataclass
class PlanInput:
    problem: rm.Problem
    origin: dt.datetime
    visit_versions: dict[str, int]
    names: dict[str, str]
    orders: dict[str, tuple[str, str]]  # visit id -> (work order id, problem number)
    sites: dict[str, tuple[float, float]]  # visit id -> site point
    warehouses: dict[str, str] = field(default_factory=dict)  # warehouse id -> name
    skus: dict[str, list[str]] = field(default_factory=dict)  # visit id -> the SKUs it needs
    # Records whose stored data no model can hold (see `unplannable`): id -> why, for the dispatcher.
    skipped: dict[str, str] = field(default_factory=dict)  # visit id -> reason
    skipped_engineers: dict[str, str] = field(default_factory=dict)  # engineer id -> reason
    display_names: dict[str, str] = field(default_factory=dict)  # engineer id -> 何涛
    # Engineer id -> their absences in the horizon: (start s, end s, kind).
    absences: dict[str, list[tuple[float, float, str]]] = field(default_factory=dict)

    def inputs_hash(self) -> str:
        return hashlib.sha256(json.dumps(self.visit_versions, sort_keys=True).encode()).hexdigest()


def _seconds(origin: dt.datetime, at: dt.datetime) -> float:
    return (at - origin).total_seconds()


def shift_windows(
    engineer: Engineer, origin: dt.datetime, horizon_s: float, *, on_call: bool = False
) -> list[rm.Window]:
    """The engineer's weekly shifts (with `on_call`: their standby periods instead) over the horizon."""
    # bool(): a shift not yet saved holds None until the insert's default.
    spans = [s.span for s in engineer.shifts if bool(s.on_call) == on_call]
    return laid_over(spans, zones.zone(engineer.time_zone), origin, horizon_s)


def without(windows: Sequence[rm.Window], away: Sequence[rm.Window]) -> list[rm.Window]:
    """The windows with the periods `away` cut out (what is left of a shift around an absence)."""
    left = list(windows)
    for cut_start, cut_end in away:
        pieces: list[rm.Window] = []
        for start, end in left:
            if cut_end <= start or end <= cut_start:
                pieces.append((start, end))
                continue
            pieces += [(a, b) for a, b in ((start, cut_start), (cut_end, end)) if b > a]
        left = pieces
    return left


def access_windows(site: Site, origin: dt.datetime, horizon_s: float) -> list[rm.Window]:
    """The site's weekly access hours over the horizon (in its time zone)."""
    return laid_over(site.access_spans, zones.zone(site.time_zone), origin, horizon_s)


def visit_windows(site: Site, origin: dt.datetime, horizon_s: float, eta: float | None) -> list[rm.Window]:
    """Hard start windows of a visit at the site: its access hours, from a part's ETA on.

    To the routing model an empty list means "any time": a site whose hours leave no
    start in the horizon gets a window past its end, which no start can meet."""
    windows = access_windows(site, origin, horizon_s) if site.access_windows else None
    if eta is not None:
        after = max(0.0, eta)
        if windows is None:
            windows = [(after, horizon_s)]
        else:
            windows = [(max(start, after), end) for start, end in windows if end >= after]
    if windows is None:
        return []
    return windows or [(horizon_s + 1, horizon_s + 1)]


Stock = dict[str, int]  # SKU -> quantity


def part_token(sku: str, quantity: int) -> str:
    """The routing model knows parts as names held or not: "so many of a SKU" is a name of its own."""
    return sku if quantity <= 1 else f"{sku}×{quantity}"


def _tokens(stock: Stock, wanted: dict[str, set[int]]) -> frozenset[str]:
    """What a van or warehouse can supply, as the tokens the visits ask for."""
    return frozenset(
        part_token(sku, q) for sku, have in stock.items() for q in wanted.get(sku, set()) | {1} if q <= have
    )


async def _van_stock(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, Stock]:
    """What each engineer carries (van or backpack), from the stock ledger's balances."""
    rows = await session.execute(
        select(Location.engineer_id, Item.sku, StockBalance.on_hand)
        .join(StockBalance, StockBalance.location_id == Location.id)
        .join(Item, Item.id == StockBalance.item_id)
        .where(Location.kind == LocationKind.VAN, Location.engineer_id.in_(ids), StockBalance.on_hand > 0)
    )
    held: dict[uuid.UUID, Stock] = {}
    for engineer_id, sku, on_hand in rows:
        if engineer_id is not None:
            held.setdefault(engineer_id, {})[sku] = on_hand
    return held


async def _warehouse_rows(session: AsyncSession) -> tuple[list[Location], dict[str, Stock]]:
    """Warehouses with a position, and what each has free (on hand, not reserved)."""
    places = (
        await session.execute(
            select(Location)
            .where(Location.kind == LocationKind.WAREHOUSE, Location.point.is_not(None))
            .order_by(Location.code)
        )
    ).scalars()
    rows = await session.execute(
        select(StockBalance.location_id, Item.sku, StockBalance.on_hand - StockBalance.reserved)
        .join(Item, Item.id == StockBalance.item_id)
        .join(Location, Location.id == StockBalance.location_id)
        .where(Location.kind == LocationKind.WAREHOUSE, StockBalance.on_hand > StockBalance.reserved)
    )
    free: dict[str, Stock] = {}
    for location_id, sku, quantity in rows:
        free.setdefault(str(location_id), {})[sku] = quantity
    return list(places), free


def _warehouse_models(
    places: Sequence[Location], zone: str, origin: dt.datetime, horizon_s: float
) -> tuple[list[rm.Warehouse], dict[str, str]]:
    """The warehouses with their opening hours (daily, in `zone`); stock comes once visits are known."""
    houses, names = [], {}
    tz = zones.zone(zone)
    for place in places:
        hours = laid_over(place.opening_hours, tz, origin, horizon_s)
        houses.append(rm.Warehouse(str(place.id), lonlat(place.point), frozenset(), hours=hours))
        names[str(place.id)] = place.name
    return houses, names


async def _reserved_at_warehouses(
    session: AsyncSession, visit_ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[str, set[str]]]:
    """Visit → warehouse id → SKUs held there for it (by an earlier plan's pick-up, or by hand)."""
    rows = await session.execute(
        select(Reservation.visit_id, Reservation.location_id, Item.sku)
        .join(Item, Item.id == Reservation.item_id)
        .join(Location, Location.id == Reservation.location_id)
        .where(
            Reservation.visit_id.in_(visit_ids),
            Reservation.status == ReservationStatus.ACTIVE,
            Location.kind == LocationKind.WAREHOUSE,
        )
    )
    held: dict[uuid.UUID, dict[str, set[str]]] = {}
    for visit_id, location_id, sku in rows:
        if visit_id is not None:
            held.setdefault(visit_id, {}).setdefault(str(location_id), set()).add(sku)
    return held


async def engineer_rows(
    session: AsyncSession, engineer_ids: list[uuid.UUID] | None
) -> list[tuple[Engineer, str, str]]:
    """Our active engineers (all, or the given ones) with their usernames and display names."""
    stmt = (
        select(Engineer, User.username, User.display_name)
        .join(User, User.id == Engineer.id)
        .where(Engineer.active.is_(True), Engineer.employer_kind == EmployerKind.COMPANY)
        .order_by(User.username)
    )
    if engineer_ids:
        stmt = stmt.where(Engineer.id.in_(engineer_ids))
    return [(engineer, username, shown) for engineer, username, shown in await session.execute(stmt)]


def _engineer_models(
    rows: _Rows, origin: dt.datetime, horizon_s: float
) -> tuple[list[rm.Engineer], dict[str, str], dict[str, str], dict[str, str]]:
    """The engineers as the model knows them, their usernames and display names, and those whose
    record it cannot hold."""
    engineers, names, shown, skipped = [], {}, {}, {}
    # An engineer on site is there, on a shift, in overtime or on a standby call-out alike; a
    # joint job's partner with them.
    on_site = {
        who: lonlat(site.point)
        for visit, _, site in rows.visits
        if visit.status is VisitStatus.ON_SITE
        for who in _crew(visit)
    }
    out_working = {who for visit, _, _ in rows.visits if visit.status in STARTED for who in _crew(visit)}
    for engineer, username, display_name in rows.engineers:
        try:
            away = _away(rows, engineer.id, origin)
            here = on_site.get(engineer.id)
            working = engineer.id in out_working
            engineers.append(_engineer(engineer, origin, horizon_s, rows.live, away, here, working))
        except MODEL_ERRORS as exc:
            skipped[str(engineer.id)] = (
                f"{display_name} ({username}): {CANNOT_MODEL} ({type(exc).__name__}: {exc})"
            )
            continue
        names[str(engineer.id)] = username
        shown[str(engineer.id)] = display_name
    return engineers, names, shown, skipped


def _crew(visit: Visit) -> list[uuid.UUID]:
    """The visit's engineer and partner, those it has."""
    return [who for who in (visit.engineer_id, visit.partner_engineer_id) if who is not None]


def _licence_end(origin: dt.datetime, valid_until: dt.date | None, tz: dt.tzinfo) -> float | None:
    """Seconds after `origin` when a licence runs out (None: it does not in any plan)."""
    if valid_until is None or valid_until.year > LAST_YEAR:
        return None
    if valid_until.year < FIRST_YEAR:
        return -1.0  # long expired
    return _seconds(origin, dt.datetime.combine(valid_until + dt.timedelta(days=1), dt.time(0), tz))


def _away(rows: _Rows, engineer_id: uuid.UUID, origin: dt.datetime) -> list[rm.Window]:
    return [
        (_seconds(origin, a.starts_at), _seconds(origin, a.ends_at))
        for a in rows.absences.get(engineer_id, [])
    ]


def _engineer(
    engineer: Engineer,
    origin: dt.datetime,
    horizon_s: float,
    live: dict[uuid.UUID, tuple[float, float]],
    away: list[rm.Window],
    on_site: tuple[float, float] | None = None,
    working: bool = False,
) -> rm.Engineer:
    # An absence is cut out of the shifts: what is left of a shift around it is a shift of its own.
    windows = without(shift_windows(engineer, origin, horizon_s), away)
    standby = without(shift_windows(engineer, origin, horizon_s, on_call=True), away)
    periods = [*windows, *(standby if engineer.on_call else [])]
    overtime_now = _overtime_now(engineer, origin, periods) if working else None
    if overtime_now is not None:
        windows = [(0.0, 0.0), *windows]
    on_shift_now = overtime_now is not None or any(a <= 0 < b or a == 0 for a, b in periods)
    start = on_site or (
        live[engineer.id] if engineer.id in live and on_shift_now else lonlat(engineer.home_base)
    )
    tz = zones.zone(engineer.time_zone)
    return rm.Engineer(
        id=str(engineer.id),
        start=start,
        end=lonlat(engineer.home_base),
        shifts=windows,
        skills={s.skill: (s.level, _licence_end(origin, s.valid_until, tz)) for s in engineer.skills},
        # The standby periods are the weekly pattern; the engineer's flag says whether
        # they are on the rota at present (rotas go by turns), so it switches them all
        # on or off without editing the week.
        on_call=engineer.on_call,
        on_call_shifts=standby,
        overtime_now_s=overtime_now,
        overtime_cap_s=engineer.overtime_cap_minutes_day * 60,
        overtime_left_month_s=None
        if engineer.overtime_left_month_minutes is None
        else engineer.overtime_left_month_minutes * 60,
        stays_away=engineer.stays_away_overnight,
        rest_after_call_s=engineer.rest_after_call_minutes * 60,
        absences=away,
        # Tokens set once the visits' needs are known (see `build`).
        parts=frozenset(),
    )


def _overtime_now(engineer: Engineer, origin: dt.datetime, periods: list[rm.Window]) -> float | None:
    """The overtime left at `origin` after the regular shift that ended last, when no working
    period runs now (0: none ended within the cap); None while one runs. An engineer driving to a
    job or on site past their shift's end is working that overtime: the plan gives them a period
    from now for it, else their job under way had no period to go on and was planned for
    tomorrow's shift or left out."""
    if any(a <= 0 < b for a, b in periods):
        return None
    cap = engineer.overtime_cap_minutes_day * 60.0
    spans = [s.span for s in engineer.shifts if not s.on_call]
    # Laid over the `cap` seconds before now, a shift that ended in them ends at `cap` less the
    # time since: the overtime it has left.
    ended = laid_over(spans, zones.zone(engineer.time_zone), origin - dt.timedelta(seconds=cap), cap)
    return max((end for _, end in ended), default=0.0)


def _ids(values: list[uuid.UUID]) -> frozenset[str]:
    return frozenset(str(v) for v in values)


async def _done_by(
    session: AsyncSession, order_ids: list[uuid.UUID], manufacturer: set[uuid.UUID]
) -> dict[uuid.UUID, set[str]]:
    """Work order → our engineers who did its finished visits: a follow-up goes to them if it can."""
    rows = await session.execute(
        select(Visit.work_order_id, Visit.engineer_id, Visit.partner_engineer_id).where(
            Visit.work_order_id.in_(order_ids), Visit.status == VisitStatus.DONE
        )
    )
    done: dict[uuid.UUID, set[str]] = {}
    for order_id, *people in rows:
        done.setdefault(order_id, set()).update(
            str(p) for p in people if p is not None and p not in manufacturer
        )
    return done


def travel_provider(origin: dt.datetime, time_zone: str, osrm_url: str = "") -> TravelTimeProvider:
    """Road times from OSRM when configured, else the great-circle estimate; rush hours either way."""
    local = origin.astimezone(zones.zone(time_zone))
    epoch = local.hour * 3600 + local.minute * 60 + local.second
    profile = SpeedProfile(RUSH_HOURS)
    if osrm_url:
        return CachedTravelTime(OsrmTravelTime(osrm_url, speed_profile=profile, epoch_second_of_day=epoch))
    return HaversineTravelTime(profile=profile, epoch_second_of_day=epoch)


# What a visit's stored data may raise when the model is built from it (malformed JSON rules,
# a time PostgreSQL holds but Python cannot subtract): that visit is skipped, with the reason.
MODEL_ERRORS = (ArithmeticError, KeyError, TypeError, ValueError, AttributeError)
CANNOT_MODEL = "its stored data cannot be planned; correct the visit"


def unplannable(visit: Visit, clock: SlaClock | None) -> str | None:
    """Why a visit's stored times keep it out of plans (a window of year 1 is stored as
    -infinity, say), in words a dispatcher can act on; None when they are usable."""
    for label, value in (
        ("window start", visit.window_start),
        ("window end", visit.window_end),
        ("planned start", visit.planned_start),
        ("arrival", visit.arrived_at),
        ("SLA deadline", clock.deadline if clock else None),
    ):
        if value is not None and not times.usable(value):
            return f"its {label} ({value}) is outside {times.SUPPORTED}; correct the visit"
    return None


@dataclass
class _Needs:
    """What the visits ask for, gathered while they are modelled (stock becomes tokens after)."""

    by_id: dict[str, rm.Warehouse]
    wanted: dict[str, set[int]] = field(default_factory=dict)  # SKU -> the quantities asked for
    # "held:<visit>" -> what a van needs to do it instead
    held_tokens: dict[str, frozenset[str]] = field(default_factory=dict)
    skus_of: dict[str, list[str]] = field(default_factory=dict)


def _visit_model(
    visit: Visit,
    order: WorkOrder,
    site: Site,
    clock: SlaClock | None,
    *,
    origin: dt.datetime,
    horizon_s: float,
    started: bool,
    manufacturer: set[uuid.UUID],
    coming: dict[str, dt.datetime],
    held: dict[str, set[str]],
    done_by: set[str],
    needs: _Needs,
) -> rm.Visit:
    window = None
    if visit.window_start and visit.window_end:
        window = (_seconds(origin, visit.window_start), _seconds(origin, visit.window_end))
    # With the manufacturer's engineer as partner, only our side is routed, in their window.
    people = 1 if visit.partner_engineer_id in manufacturer else visit.people_needed
    pinned = str(visit.engineer_id) if (visit.pinned or started) and visit.engineer_id else None
    partner = visit.partner_engineer_id if pinned and people > 1 else None
    need = {str(p["sku"]): int(p.get("quantity", 1)) for p in visit.required_parts}
    skus = frozenset(need)
    etas = [eta for sku, eta in coming.items() if sku in skus]
    eta = _seconds(origin, max(etas)) if etas else None
    parts = frozenset(part_token(sku, q) for sku, q in need.items() if sku not in coming)
    for sku, q in need.items():
        needs.wanted.setdefault(sku, set()).add(q)
    for warehouse_id, reserved in held.items():
        if parts and skus <= reserved and warehouse_id in needs.by_id:
            # Held for this visit: a pick-up there is its way, even when
            # nothing of that kind is left free; a van holding it still wins.
            token = f"held:{visit.id}"
            needs.by_id[warehouse_id].stock |= {token}
            needs.held_tokens[token] = parts
            parts = frozenset({token})
            break
    needs.skus_of[str(visit.id)] = sorted(skus)
    allowed = site.allowed_engineer_ids
    return rm.Visit(
        id=str(visit.id),
        point=lonlat(site.point),
        duration_s=_time_left(visit, origin),
        skills=dict(visit.required_skills),
        parts=parts,
        # Work under way already got in: the site's rules on who and when are behind it.
        windows=[] if started else visit_windows(site, origin, horizon_s, eta),
        registration_lead_s=0 if started else site.registration_lead_minutes * 60,
        allowed_engineers=None if started or allowed is None else _ids(allowed),
        barred_engineers=frozenset() if started else _ids(site.barred_engineer_ids),
        preferred_engineers=_ids(site.preferred_engineer_ids) | done_by,
        people_needed=people,
        priority=SEVERITY_WEIGHT[order.severity],
        deadline_s=_seconds(origin, clock.deadline) if clock and clock.deadline else None,
        target_s=_target(order, clock, origin),
        later_shift_cost_per_hour=LATER_SHIFT_COST_PER_HOUR * SEVERITY_WEIGHT[order.severity],
        appointment=window,
        confirmed=visit.window_confirmed and window is not None,
        # Work under way is where its engineer is, on a standby call-out too: it may ride on
        # the standby period (and past a shift's end), as critical work may.
        critical=order.severity is Severity.CRITICAL or started,
        pinned_engineer=pinned,
        pinned_partner=str(partner) if partner else None,
        pinned_start_s=_pinned_start(visit, origin),
        already_started=visit.status is VisitStatus.ON_SITE,
        # The promise in force, for the churn penalty and count of a re-plan.
        current_engineer=str(visit.engineer_id) if visit.engineer_id else None,
        current_start_s=_seconds(origin, visit.planned_start) if visit.planned_start else None,
    )


def _pinned_start(visit: Visit, origin: dt.datetime) -> float | None:
    """A job under way goes on now, before anything else on its engineer's route (else a plan
    would have them leave mid-repair for urgent work and come back, and hand the urgent work to
    someone who cannot be there until the repair is done); a pinned visit keeps its start."""
    if visit.status is VisitStatus.ON_SITE:
        return 0.0
    if visit.pinned and visit.planned_start:
        return _seconds(origin, visit.planned_start)
    return None


def _time_left(visit: Visit, origin: dt.datetime) -> float:
    """The visit's planned time; for a job under way what is left of it at `origin`, and at least
    OVERRUN_SHARE of it."""
    planned = visit.duration_minutes * 60.0
    if visit.status is not VisitStatus.ON_SITE or visit.arrived_at is None:
        return planned
    return max(planned - (origin - visit.arrived_at).total_seconds(), OVERRUN_SHARE * planned)


def _target(order: WorkOrder, clock: SlaClock | None, origin: dt.datetime) -> float | None:
    """When urgent work should be on site by the desk's aim (see URGENT_ON_SITE_AIM): for a
    repair whose on-site clock still runs."""
    aim = URGENT_ON_SITE_AIM.get(order.severity)
    if aim is None or clock is None or clock.measure is not Measure.ON_SITE:
        return None
    return _seconds(origin, order.reported_at + aim)


def mark_call_outs(engineers: Sequence[rm.Engineer], visits: Sequence[rm.Visit]) -> None:
    """Let standby periods take the visits that cannot wait for the next regular shift: those
    whose on-site deadline falls before the first regular shift starting after now, of an
    engineer with the skills, can reach the site (see MORNING_REACH)."""
    reach = MORNING_REACH.total_seconds()
    for visit in visits:
        if visit.critical or visit.deadline_s is None or visit.already_started:
            continue
        starts = [
            lo
            for e in engineers
            if all(name in e.skills and e.skills[name][0] >= level for name, level in visit.skills.items())
            for lo, _ in e.shifts
            if lo > 0
        ]
        if not starts or visit.deadline_s < min(starts) + reach:
            visit.critical = True


@dataclass(frozen=True)
class _Rows:
    """Everything a plan reads from the database, gathered before any of it is translated."""

    engineers: list[tuple[Engineer, str, str]]  # with their usernames and display names
    live: dict[uuid.UUID, tuple[float, float]]  # engineer -> fresh position
    vans: dict[uuid.UUID, Stock]  # engineer -> what they carry
    manufacturer: set[uuid.UUID]  # the manufacturer's engineers (not ours to route)
    visits: list[tuple[Visit, WorkOrder, Site]]  # open visits, oldest first
    arriving: dict[uuid.UUID, dict[str, dt.datetime]]  # site -> SKU -> ETA of parts on their way
    warehouses: list[Location]
    free: dict[str, Stock]  # warehouse id -> free stock
    held: dict[uuid.UUID, dict[str, set[str]]]  # visit -> warehouse id -> SKUs held for it
    done_by: dict[uuid.UUID, set[str]]  # work order -> our engineers who did its finished visits
    absences: dict[uuid.UUID, list[EngineerAbsence]] = field(default_factory=dict)  # still to end


async def load(session: AsyncSession, origin: dt.datetime, engineer_ids: list[uuid.UUID] | None) -> _Rows:
    """Read what a plan starting at `origin` needs: engineers, open visits, stock and parts."""
    engineers = await engineer_rows(session, engineer_ids)
    engineer_ids_ = [e.id for e, _, _ in engineers]
    manufacturer = set(
        (
            await session.execute(
                select(Engineer.id).where(Engineer.employer_kind == EmployerKind.MANUFACTURER)
            )
        ).scalars()
    )
    visits = [
        (visit, order, site)
        for visit, order, site in (
            await session.execute(
                select(Visit, WorkOrder, Site)
                .join(WorkOrder, WorkOrder.id == Visit.work_order_id)
                .join(Site, Site.id == WorkOrder.site_id)
                .where(
                    WorkOrder.status.in_(OPEN),
                    Visit.status.in_(
                        [VisitStatus.PLANNED, VisitStatus.ASSIGNED, VisitStatus.EN_ROUTE, VisitStatus.ON_SITE]
                    ),
                )
                .order_by(Visit.created_at, Visit.id)
            )
        )
    ]
    warehouses, free = await _warehouse_rows(session)
    return _Rows(
        engineers=engineers,
        live=await latest_positions(session, engineer_ids_, since=origin - LIVE_POSITION_AGE),
        vans=await _van_stock(session, engineer_ids_),
        manufacturer=manufacturer,
        visits=visits,
        arriving=await shipments.arrivals_at_sites(session, list({site.id for _, _, site in visits})),
        warehouses=warehouses,
        free=free,
        held=await _reserved_at_warehouses(session, [visit.id for visit, _, _ in visits]),
        done_by=await _done_by(session, list({order.id for _, order, _ in visits}), manufacturer),
        absences=await absences_of(session, engineer_ids_, origin),
    )


async def build(
    session: AsyncSession,
    origin: dt.datetime,
    horizon_s: float,
    engineer_ids: list[uuid.UUID] | None = None,
    *,
    osrm_url: str = "",
) -> PlanInput:
    return translate(await load(session, origin, engineer_ids), origin, horizon_s, osrm_url=osrm_url)


def translate(rows: _Rows, origin: dt.datetime, horizon_s: float, *, osrm_url: str = "") -> PlanInput:
    """The routing problem of what `load` read (no database here)."""
    engineers, names, display_names, skipped_engineers = _engineer_models(rows, origin, horizon_s)
    # Rush hours and warehouse hours run on the clock of where the work is.
    zone_counts = Counter(site.time_zone for _, _, site in rows.visits)
    zone = zone_counts.most_common(1)[0][0] if zone_counts else zones.DEFAULT_TIME_ZONE
    warehouses, warehouse_names = _warehouse_models(rows.warehouses, zone, origin, horizon_s)
    needs = _Needs(by_id={w.id: w for w in warehouses})
    modelled = _visit_models(rows, {e.id for e in engineers}, origin, horizon_s, needs)
    mark_call_outs(engineers, modelled.visits)
    for house in warehouses:
        house.stock |= _tokens(rows.free.get(house.id, {}), needs.wanted)
    for engineer in engineers:
        engineer.parts = _tokens(rows.vans.get(uuid.UUID(engineer.id), {}), needs.wanted)
        engineer.parts |= {t for t, parts in needs.held_tokens.items() if parts <= engineer.parts}
    problem = rm.Problem(
        engineers=engineers,
        visits=modelled.visits,
        horizon_s=horizon_s,
        warehouses=warehouses,
        travel=travel_provider(origin, zone, osrm_url),
    )
    return PlanInput(
        problem,
        origin,
        modelled.versions,
        names,
        modelled.orders,
        modelled.sites,
        warehouse_names,
        needs.skus_of,
        modelled.skipped,
        skipped_engineers,
        display_names,
        {
            str(engineer_id): [
                (_seconds(origin, a.starts_at), _seconds(origin, a.ends_at), a.kind.value) for a in away
            ]
            for engineer_id, away in rows.absences.items()
        },
    )


@dataclass
class _Modelled:
    visits: list[rm.Visit] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)
    orders: dict[str, tuple[str, str]] = field(default_factory=dict)
    sites: dict[str, tuple[float, float]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def _visit_models(
    rows: _Rows, in_scope: set[str], origin: dt.datetime, horizon_s: float, needs: _Needs
) -> _Modelled:
    """The open visits as the model knows them; one it cannot hold is listed as skipped."""
    out = _Modelled()
    for visit, order, site in rows.visits:
        started = visit.status in STARTED
        if started and str(visit.engineer_id) not in in_scope:
            continue  # someone else's work in progress: not ours to plan
        out.orders[str(visit.id)] = (str(order.id), order.problem_number)
        clock = next(
            (c for c in order.clocks if c.measure is DEADLINE_OF[visit.kind] and c.met_at is None), None
        )
        why = unplannable(visit, clock)
        if why is None:
            try:
                modelled = _visit_model(
                    visit,
                    order,
                    site,
                    clock,
                    origin=origin,
                    horizon_s=horizon_s,
                    started=started,
                    manufacturer=rows.manufacturer,
                    # Parts on their way to a site (courier, or the manufacturer shipping direct): a
                    # visit needing one cannot start before it arrives, and nobody has to carry it there.
                    coming=rows.arriving.get(site.id, {}),
                    held=rows.held.get(visit.id, {}),
                    done_by=rows.done_by.get(order.id, set()),
                    needs=needs,
                )
            except MODEL_ERRORS as exc:
                why = f"{CANNOT_MODEL} ({type(exc).__name__}: {exc})"
        if why is not None:
            # One record the model cannot hold is listed, not allowed to fail the whole plan.
            out.skipped[str(visit.id)] = why
            continue
        if order.kind is WorkOrderKind.INSPECTION and visit.window_start and visit.window_end:
            if _seconds(origin, visit.window_start) >= horizon_s:
                del out.orders[str(visit.id)]
                continue  # not due within this plan: a later one takes it
            inspection_window(
                modelled, _seconds(origin, visit.window_start), _seconds(origin, visit.window_end)
            )
        out.visits.append(modelled)
        out.versions[str(visit.id)] = visit.version
        out.sites[str(visit.id)] = modelled.point
    return out


def _at(origin: dt.datetime, seconds: float) -> str:
    return (origin + dt.timedelta(seconds=seconds)).isoformat()


def result_of(plan: PlanInput, solution: rm.Solution) -> dict[str, Any]:
    """The plan as a dispatcher reads it: routes with ETAs, reasons, KPIs and map geometry."""
    engineers = {e.id: e for e in plan.problem.engineers}
    return {
        "routes": [_route(plan, route, engineers[route.engineer_id]) for route in solution.routes],
        "unassigned": [_unassigned(plan, u.visit_id, u.reason) for u in solution.unassigned]
        + [_unassigned(plan, visit_id, reason) for visit_id, reason in plan.skipped.items()],
        # Every engineer the plan covered, with a route or without.
        "engineer_ids": sorted(e.id for e in plan.problem.engineers),
        # Engineers whose stored record the model could not hold (they got no route).
        "engineers_skipped": [
            {"engineer_id": engineer_id, "reason": reason}
            for engineer_id, reason in plan.skipped_engineers.items()
        ],
        "late": [
            {
                "visit_id": lv.visit_id,
                "problem_number": plan.orders[lv.visit_id][1],
                "start": _at(plan.origin, lv.start_s),
                "deadline": _at(plan.origin, lv.deadline_s),
                "late_minutes": round(lv.late_s / 60, 1),
                "reason": lv.reason,
            }
            for lv in solution.late
        ],
        "kpis": _kpis(plan, solution),
        "geometry": {
            "type": "FeatureCollection",
            "features": [_line(plan, route, engineers[route.engineer_id]) for route in solution.routes],
        },
    }


def _stop(plan: PlanInput, stop: rm.Stop, van: frozenset[str]) -> dict[str, Any]:
    origin = plan.origin
    pickup = (
        {
            "warehouse_id": stop.warehouse_id,
            "warehouse": plan.warehouses.get(stop.warehouse_id or ""),
            # Parts held for the visit stand in the problem as one token.
            "parts": [sku for sku in plan.skus.get(stop.visit_id, []) if sku not in van],
        }
        if stop.kind == "pickup"
        else {}
    )
    return {
        "kind": stop.kind,
        "visit_id": stop.visit_id,
        "work_order_id": plan.orders[stop.visit_id][0],
        "problem_number": plan.orders[stop.visit_id][1],
        "arrival": _at(origin, stop.arrival_s),
        "start": _at(origin, stop.start_s),
        "end": _at(origin, stop.end_s),
        "travel_minutes": round(stop.travel_s / 60, 1),
        "late_minutes": round(stop.late_s / 60, 1),
        **pickup,
    }


def _route(plan: PlanInput, route: rm.Route, engineer: rm.Engineer) -> dict[str, Any]:
    origin = plan.origin
    return {
        "engineer_id": route.engineer_id,
        "username": plan.names.get(route.engineer_id),
        "engineer_name": plan.display_names.get(route.engineer_id),
        "shift": [_at(origin, route.shift[0]), _at(origin, route.shift[1])],
        "on_call": route.on_call,
        "depart": _at(origin, route.depart_s),
        "return": _at(origin, route.return_s),
        "stops": [_stop(plan, s, engineer.parts) for s in route.stops],
        "travel_minutes": round(route.travel_s / 60, 1),
        "overtime_minutes": round(route.overtime_s / 60, 1),
    }


def _line(plan: PlanInput, route: rm.Route, engineer: rm.Engineer) -> dict[str, Any]:
    """The route on the map: from the engineer's start through every stop to where they end."""
    line = [
        list(engineer.start),
        *[list(s.point or plan.sites[s.visit_id]) for s in route.stops],
        list(engineer.end_point),
    ]
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": line},
        "properties": {
            "engineer_id": route.engineer_id,
            "username": plan.names.get(route.engineer_id),
            "engineer_name": plan.display_names.get(route.engineer_id),
            "stops": sum(1 for s in route.stops if s.is_visit),
        },
    }


def _unassigned(plan: PlanInput, visit_id: str, reason: str) -> dict[str, Any]:
    return {
        "visit_id": visit_id,
        "work_order_id": plan.orders[visit_id][0],
        "problem_number": plan.orders[visit_id][1],
        "reason": reason,
    }


def _kpis(plan: PlanInput, solution: rm.Solution) -> dict[str, Any]:
    assigned = solution.assigned_visit_ids
    late_ids = {lv.visit_id for lv in solution.late}
    return {
        "visits": len(plan.problem.visits) + len(plan.skipped),
        "assigned": len(assigned),
        "unassigned": len(solution.unassigned) + len(plan.skipped),
        "on_time": len(assigned - late_ids),
        "predicted_breaches": len(solution.late),
        "travel_minutes": round(solution.total_travel_s / 60, 1),
        "overtime_minutes": round(sum(r.overtime_s for r in solution.routes) / 60, 1),
        "engineers_used": len({r.engineer_id for r in solution.routes if r.stops}),
        "solve_seconds": round(solution.seconds, 2),
        "status": solution.status,
        "promises_changed": solution.promises_changed,
    }
