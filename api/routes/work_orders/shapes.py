"""Work orders and visits as the API shows them, from what the services return."""

from __future__ import annotations

import datetime as dt
import operator
import uuid
from collections.abc import Mapping
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.common import GeoPoint, out
from api.schemas.work_orders import (
    ClockOut,
    EventOut,
    NoteOut,
    RestoreConfirmationOut,
    SiteBrief,
    VisitOut,
    WorkOrderOut,
)
from core import zones
from dispatch.sla.clocks import state_of
from dispatch.work_orders import details, queries
from dispatch.work_orders.models import Visit, VisitNote, WorkOrderEvent
from dispatch.work_orders.names import people_names, people_of


def _local(at: dt.datetime | None, tz: str) -> str | None:
    return at.astimezone(zones.zone(tz)).isoformat() if at else None


def visit_out(visit: Visit, names: Mapping[uuid.UUID, str]) -> VisitOut:
    """A visit with the display names of its engineers and note authors (from `names`)."""
    return out(
        VisitOut,
        visit,
        engineer_name=names.get(visit.engineer_id) if visit.engineer_id else None,
        partner_engineer_name=names.get(visit.partner_engineer_id) if visit.partner_engineer_id else None,
        notes=[note_out(n, names) for n in visit.notes],
    )


def note_out(note: VisitNote, names: Mapping[uuid.UUID, str]) -> NoteOut:
    # A note's author is a foreign key: the name is there unless the caller left it out.
    return out(NoteOut, note, author_name=names.get(note.author_id, ""))


async def visits_out(session: AsyncSession, visits: list[Visit]) -> list[VisitOut]:
    """Visits as shown, their people's names read in one query."""
    names = await people_names(session, people_of(visits))
    return [visit_out(v, names) for v in visits]


async def one_visit_out(session: AsyncSession, visit: Visit) -> VisitOut:
    return (await visits_out(session, [visit]))[0]


def _event_out(event: WorkOrderEvent, names: Mapping[uuid.UUID, str]) -> EventOut:
    return out(
        EventOut,
        event,
        actor_name=names.get(event.actor_id) if event.actor_id else None,
        location=GeoPoint.of(event.location) if event.location is not None else None,
    )


def _clock_out(c: Any, now: dt.datetime, paused: bool, tz: str) -> ClockOut:
    """A clock as shown, from an `SlaClock` or a row of its columns."""
    return ClockOut(
        measure=c.measure,
        state=state_of(c, now, paused),
        started_at=c.started_at,
        deadline=c.deadline,
        deadline_local=_local(c.deadline, tz),
        remaining_seconds=(
            (c.deadline - now).total_seconds()
            if c.deadline and c.met_at is None and c.unconfirmed_at is None
            else None
        ),
        met_at=c.met_at,
        breached_at=c.breached_at,
        customer_excused=c.customer_excused,
        target=c.target,
        unconfirmed_at=c.unconfirmed_at,
        confirmation=_confirmation(c.confirmation),
    )


def _confirmation(stored: dict[str, Any] | None) -> RestoreConfirmationOut | None:
    return None if stored is None else msgspec.convert(stored, RestoreConfirmationOut)


def render(found: details.OrderDetail, now: dt.datetime) -> WorkOrderOut:
    """One work order as shown, with its timeline."""
    order, site = found.order, found.site
    return out(
        WorkOrderOut,
        order,
        site=SiteBrief(
            id=site.id,
            name=site.name,
            address=site.address,
            point=GeoPoint.of(site.point),
            time_zone=site.time_zone,
        ),
        reported_at_local=_local(order.reported_at, site.time_zone),
        clocks=[_clock_out(c, now, found.paused, site.time_zone) for c in order.clocks],
        visits=[visit_out(v, found.names) for v in order.visits],
        timeline=[_event_out(e, found.names) for e in found.timeline],
    )


# What a list row copies as is; the rest `render_rows` builds.
_BUILT = frozenset({"site", "reported_at_local", "clocks", "visits", "timeline"})
_COPIED = tuple(name for name in WorkOrderOut.__struct_fields__ if name not in _BUILT)
_copied = operator.itemgetter(*_COPIED)


def _visit_row(v: queries.VisitView) -> VisitOut:
    return msgspec.convert(v, VisitOut, from_attributes=True)


def render_rows(rows: list[queries.OrderRow], now: dt.datetime) -> list[WorkOrderOut]:
    """What `render` shows, from the rows of `queries.list_orders` (no ORM objects, no queries).
    Written out rather than through `_clock_out` and `out`: a page builds some 250 clocks."""
    rendered = []
    for row in rows:
        order = row.order
        name = order.site_time_zone
        tz = zones.zone(name)
        paused = order.paused
        clocks = []
        views: list[Any] = row.clocks  # `state_of` reads a clock's columns, of a model or a view
        for c in views:
            deadline = c.deadline
            clocks.append(
                ClockOut(
                    measure=c.measure,
                    state=state_of(c, now, paused),
                    started_at=c.started_at,
                    deadline=deadline,
                    deadline_local=deadline.astimezone(tz).isoformat() if deadline else None,
                    remaining_seconds=(
                        (deadline - now).total_seconds()
                        if deadline and c.met_at is None and c.unconfirmed_at is None
                        else None
                    ),
                    met_at=c.met_at,
                    breached_at=c.breached_at,
                    customer_excused=c.customer_excused,
                    target=c.target,
                    unconfirmed_at=c.unconfirmed_at,
                    confirmation=_confirmation(c.confirmation),
                )
            )
        rendered.append(
            WorkOrderOut(
                # by key: a third of the cost of attribute access on a row
                **dict(zip(_COPIED, _copied(order._mapping), strict=True)),
                site=SiteBrief(
                    id=order.site_id,
                    name=order.site_name,
                    address=order.site_address,
                    point=GeoPoint(type="Point", coordinates=(order.site_lon, order.site_lat)),
                    time_zone=name,
                ),
                reported_at_local=order.reported_at.astimezone(tz).isoformat(),
                clocks=clocks,
                visits=[_visit_row(v) for v in row.visits] if row.visits else [],
                timeline=None,
            )
        )
    return rendered
