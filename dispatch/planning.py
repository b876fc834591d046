"""From work orders and engineers to a routing problem, and from a solution back to a plan.

Times in the problem are seconds after the plan's origin (now). Engineers are our
own (the manufacturer's engineers are not ours to route: a joint visit with one
keeps the window they committed to). Each engineer-shift in the horizon is one
vehicle; the running shift starts from the engineer's live position.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.geo import lonlat
from core.identity.models import User
from dispatch.lifecycle import OPEN
from dispatch.models import EmployerKind, Engineer, Measure, Severity, Site
from dispatch.order_models import Visit, VisitKind, VisitStatus, WorkOrder
from dispatch.positions import latest_positions
from dispatch.sla import SEVERITY_WEIGHT
from inventory import shipments
from inventory.models import Item, Location, LocationKind, StockBalance
from routing import model as rm

DEADLINE_OF = {
    VisitKind.REPAIR: Measure.ON_SITE,
    VisitKind.INSPECTION: Measure.ON_SITE,
    VisitKind.BACKUP_DELIVERY: Measure.RESTORE,
    VisitKind.SWAP_BACK: Measure.PERMANENT_FIX,
}
LIVE_POSITION_AGE = dt.timedelta(minutes=30)


@dataclass
class PlanInput:
    problem: rm.Problem
    origin: dt.datetime
    visit_versions: dict[str, int]
    names: dict[str, str]
    orders: dict[str, tuple[str, str]]  # visit id -> (work order id, problem number)
    sites: dict[str, tuple[float, float]]  # visit id -> site point

    def inputs_hash(self) -> str:
        return hashlib.sha256(json.dumps(self.visit_versions, sort_keys=True).encode()).hexdigest()


def _seconds(origin: dt.datetime, at: dt.datetime) -> float:
    return (at - origin).total_seconds()


def shift_windows(engineer: Engineer, origin: dt.datetime, horizon_s: float) -> list[rm.Window]:
    """The engineer's weekly shifts laid over the horizon, clipped to it."""
    tz = ZoneInfo(engineer.time_zone)
    first = origin.astimezone(tz).date() - dt.timedelta(days=1)
    windows: list[rm.Window] = []
    for offset in range(int(horizon_s // 86400) + 3):
        day = first + dt.timedelta(days=offset)
        for shift in engineer.shifts:
            if shift.weekday != day.weekday():
                continue
            start = _seconds(origin, dt.datetime.combine(day, shift.starts, tz))
            end = _seconds(origin, dt.datetime.combine(day, shift.ends, tz))
            if end > 0 and start < horizon_s:
                windows.append((max(0.0, start), min(horizon_s, end)))
    return sorted(windows)


async def _van_stock(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, frozenset[str]]:
    """The SKUs each engineer carries (van or backpack), from the stock ledger's balances."""
    rows = await session.execute(
        select(Location.engineer_id, Item.sku)
        .join(StockBalance, StockBalance.location_id == Location.id)
        .join(Item, Item.id == StockBalance.item_id)
        .where(Location.kind == LocationKind.VAN, Location.engineer_id.in_(ids), StockBalance.on_hand > 0)
    )
    held: dict[uuid.UUID, set[str]] = {}
    for engineer_id, sku in rows:
        if engineer_id is not None:
            held.setdefault(engineer_id, set()).add(sku)
    return {k: frozenset(v) for k, v in held.items()}


async def _engineers(
    session: AsyncSession, origin: dt.datetime, horizon_s: float, engineer_ids: list[uuid.UUID] | None
) -> tuple[list[rm.Engineer], dict[str, str]]:
    stmt = (
        select(Engineer, User.username)
        .join(User, User.id == Engineer.id)
        .where(Engineer.active.is_(True), Engineer.employer_kind == EmployerKind.COMPANY)
        .order_by(User.username)
    )
    if engineer_ids:
        stmt = stmt.where(Engineer.id.in_(engineer_ids))
    rows = (await session.execute(stmt)).all()
    live = await latest_positions(session, [e.id for e, _ in rows], since=origin - LIVE_POSITION_AGE)
    vans = await _van_stock(session, [e.id for e, _ in rows])
    engineers, names = [], {}
    for engineer, username in rows:
        windows = shift_windows(engineer, origin, horizon_s)
        on_shift_now = any(a <= 0 < b or a == 0 for a, b in windows)
        start = live[engineer.id] if engineer.id in live and on_shift_now else lonlat(engineer.home_base)
        tz = ZoneInfo(engineer.time_zone)
        skills = {
            s.skill: (
                s.level,
                None
                if s.valid_until is None
                else _seconds(
                    origin, dt.datetime.combine(s.valid_until + dt.timedelta(days=1), dt.time(0), tz)
                ),
            )
            for s in engineer.skills
        }
        engineers.append(
            rm.Engineer(
                id=str(engineer.id),
                start=start,
                end=lonlat(engineer.home_base),
                shifts=windows,
                skills=skills,
                on_call=engineer.on_call,
                overtime_cap_s=3 * 3600,
                parts=vans.get(engineer.id, frozenset()),
            )
        )
        names[str(engineer.id)] = username
    return engineers, names


async def build(
    session: AsyncSession, origin: dt.datetime, horizon_s: float, engineer_ids: list[uuid.UUID] | None = None
) -> PlanInput:
    engineers, names = await _engineers(session, origin, horizon_s, engineer_ids)
    manufacturer = set(
        (
            await session.execute(
                select(Engineer.id).where(Engineer.employer_kind == EmployerKind.MANUFACTURER)
            )
        ).scalars()
    )
    rows = (
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
    ).all()
    in_scope = {e.id for e in engineers}
    # Parts on their way to a site (courier, or the manufacturer shipping direct): a visit
    # needing one cannot start before it arrives, and nobody has to carry it there.
    arriving = await shipments.arrivals_at_sites(session, list({site.id for _, _, site in rows}))
    visits, versions, orders, sites = [], {}, {}, {}
    for visit, order, site in rows:
        started = visit.status in {VisitStatus.EN_ROUTE, VisitStatus.ON_SITE}
        if started and str(visit.engineer_id) not in in_scope:
            continue  # someone else's work in progress: not ours to plan
        clock = next(
            (c for c in order.clocks if c.measure is DEADLINE_OF[visit.kind] and c.met_at is None), None
        )
        window = None
        if visit.window_start and visit.window_end:
            window = (_seconds(origin, visit.window_start), _seconds(origin, visit.window_end))
        # With the manufacturer's engineer as partner, only our side is routed, in their window.
        people = 1 if visit.partner_engineer_id in manufacturer else visit.people_needed
        pinned = str(visit.engineer_id) if (visit.pinned or started) and visit.engineer_id else None
        skus = frozenset(str(p["sku"]) for p in visit.required_parts)
        etas = [eta for sku, eta in arriving.get(site.id, {}).items() if sku in skus]
        visits.append(
            rm.Visit(
                id=str(visit.id),
                point=lonlat(site.point),
                duration_s=visit.duration_minutes * 60,
                skills=dict(visit.required_skills),
                parts=skus - arriving.get(site.id, {}).keys(),
                windows=[(max(0.0, _seconds(origin, max(etas))), horizon_s)] if etas and not started else [],
                people_needed=people,
                priority=SEVERITY_WEIGHT[order.severity],
                deadline_s=_seconds(origin, clock.deadline) if clock and clock.deadline else None,
                appointment=window,
                confirmed=visit.window_confirmed and window is not None,
                critical=order.severity is Severity.CRITICAL,
                pinned_engineer=pinned,
                pinned_start_s=_seconds(origin, visit.planned_start)
                if visit.pinned and visit.planned_start
                else None,
                already_started=visit.status is VisitStatus.ON_SITE,
                # The promise in force, for the churn penalty and count of a re-plan.
                current_engineer=str(visit.engineer_id) if visit.engineer_id else None,
                current_start_s=_seconds(origin, visit.planned_start) if visit.planned_start else None,
            )
        )
        versions[str(visit.id)] = visit.version
        orders[str(visit.id)] = (str(order.id), order.problem_number)
        sites[str(visit.id)] = lonlat(site.point)
    problem = rm.Problem(engineers=engineers, visits=visits, horizon_s=horizon_s)
    return PlanInput(problem, origin, versions, names, orders, sites)


def _at(origin: dt.datetime, seconds: float) -> str:
    return (origin + dt.timedelta(seconds=seconds)).isoformat()


def result_of(plan: PlanInput, solution: rm.Solution) -> dict[str, Any]:
    """The plan as a dispatcher reads it: routes with ETAs, reasons, KPIs and map geometry."""
    origin = plan.origin
    engineers = {e.id: e for e in plan.problem.engineers}
    late_ids = {lv.visit_id for lv in solution.late}
    routes, features = [], []
    for route in solution.routes:
        stops = [
            {
                "visit_id": s.visit_id,
                "work_order_id": plan.orders[s.visit_id][0],
                "problem_number": plan.orders[s.visit_id][1],
                "arrival": _at(origin, s.arrival_s),
                "start": _at(origin, s.start_s),
                "end": _at(origin, s.end_s),
                "travel_minutes": round(s.travel_s / 60, 1),
                "late_minutes": round(s.late_s / 60, 1),
            }
            for s in route.stops
        ]
        routes.append(
            {
                "engineer_id": route.engineer_id,
                "username": plan.names.get(route.engineer_id),
                "shift": [_at(origin, route.shift[0]), _at(origin, route.shift[1])],
                "on_call": route.on_call,
                "depart": _at(origin, route.depart_s),
                "return": _at(origin, route.return_s),
                "stops": stops,
                "travel_minutes": round(route.travel_s / 60, 1),
                "overtime_minutes": round(route.overtime_s / 60, 1),
            }
        )
        engineer = engineers[route.engineer_id]
        line = [
            list(engineer.start),
            *[list(plan.sites[s.visit_id]) for s in route.stops],
            list(engineer.end_point),
        ]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": line},
                "properties": {
                    "engineer_id": route.engineer_id,
                    "username": plan.names.get(route.engineer_id),
                    "stops": len(route.stops),
                },
            }
        )
    assigned = solution.assigned_visit_ids
    kpis = {
        "visits": len(plan.problem.visits),
        "assigned": len(assigned),
        "unassigned": len(solution.unassigned),
        "on_time": len(assigned - late_ids),
        "predicted_breaches": len(solution.late),
        "travel_minutes": round(solution.total_travel_s / 60, 1),
        "overtime_minutes": round(sum(r.overtime_s for r in solution.routes) / 60, 1),
        "engineers_used": len({r.engineer_id for r in solution.routes if r.stops}),
        "solve_seconds": round(solution.seconds, 2),
        "status": solution.status,
        "promises_changed": solution.promises_changed,
    }
    return {
        "routes": routes,
        "unassigned": [
            {
                "visit_id": u.visit_id,
                "work_order_id": plan.orders[u.visit_id][0],
                "problem_number": plan.orders[u.visit_id][1],
                "reason": u.reason,
            }
            for u in solution.unassigned
        ],
        "late": [
            {
                "visit_id": lv.visit_id,
                "problem_number": plan.orders[lv.visit_id][1],
                "start": _at(origin, lv.start_s),
                "deadline": _at(origin, lv.deadline_s),
                "late_minutes": round(lv.late_s / 60, 1),
                "reason": lv.reason,
            }
            for lv in solution.late
        ],
        "kpis": kpis,
        "geometry": {"type": "FeatureCollection", "features": features},
    }
