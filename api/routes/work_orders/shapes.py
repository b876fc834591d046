"""Work orders and visits as the API shows them, from what the services return."""

from __future__ import annotations

import datetime as dt
import operator
from typing import Any

import msgspec

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
from dispatch.work_orders.models import Visit, WorkOrderEvent


def _local(at: dt.datetime | None, tz: str) -> str | None:
    return at.astimezone(zones.zone(tz)).isoformat() if at else None


def visit_out(visit: Visit) -> VisitOut:
    return out(VisitOut, visit, notes=[out(NoteOut, n) for n in visit.notes])


def _event_out(event: WorkOrderEvent) -> EventOut:
    return out(EventOut, event, location=GeoPoint.of(event.location) if event.location is not None else None)


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
        visits=[visit_out(v) for v in order.visits],
        timeline=[_event_out(e) for e in found.timeline],
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
