"""What a dispatcher asks of the work orders: filtered, sorted by deadline, paginated.

A list page is one statement returning plain rows, not ORM objects: building and tracking an
instance per order, clock, visit and note, loaded by a query per relationship, cost more than
everything else a page does.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, replace
from typing import Any

import msgspec
from sqlalchemy import (
    Enum,
    Row,
    Select,
    Text,
    any_,
    cast,
    exists,
    func,
    literal_column,
    or_,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.sqltypes import NullType

from core import audit
from core.geo import BBox
from core.identity.models import User
from core.identity.roles import Actor, Role
from core.pagination import Keyset, Page, keyset_rows, page_bounds
from core.records import like_pattern
from dispatch.contracts.models import Measure, Severity
from dispatch.customers.models import Customer, Site
from dispatch.sla.models import SlaClock, SlaPause
from dispatch.work_orders.models import Status, Visit, VisitKind, VisitNote, VisitStatus, WorkOrder


@dataclass(frozen=True)
class OrderFilter:
    statuses: tuple[Status, ...] = ()
    severities: tuple[Severity, ...] = ()
    customer_id: uuid.UUID | None = None
    engineer_id: uuid.UUID | None = None
    at_risk: bool | None = None
    breached: bool | None = None
    open_only: bool = False
    bbox: BBox | None = None
    q: str | None = None


def _assigned_to(engineer_id: uuid.UUID) -> object:
    return exists().where(
        Visit.work_order_id == WorkOrder.id,
        or_(Visit.engineer_id == engineer_id, Visit.partner_engineer_id == engineer_id),
    )


def _scoped(stmt: Select[Any], actor: Actor) -> Select[Any]:
    if actor.role is Role.CUSTOMER_CONTACT:
        return stmt.where(WorkOrder.customer_id == actor.customer_id)
    if actor.role is Role.ENGINEER:
        assert actor.user_id is not None
        return stmt.where(_assigned_to(actor.user_id))  # type: ignore[arg-type]
    return stmt


def _filtered(stmt: Select[Any], f: OrderFilter, now: dt.datetime) -> Select[Any]:
    if f.statuses:
        stmt = stmt.where(WorkOrder.status.in_(f.statuses))
    if f.open_only:
        stmt = stmt.where(WorkOrder.status.not_in((Status.CLOSED, Status.CANCELLED)))
    if f.severities:
        stmt = stmt.where(WorkOrder.severity.in_(f.severities))
    if f.customer_id:
        stmt = stmt.where(WorkOrder.customer_id == f.customer_id)
    if f.engineer_id:
        stmt = stmt.where(_assigned_to(f.engineer_id))  # type: ignore[arg-type]
    open_clock = (SlaClock.work_order_id == WorkOrder.id, SlaClock.met_at.is_(None))
    if f.at_risk is not None:
        risky = exists().where(*open_clock, SlaClock.at_risk_since.is_not(None))
        stmt = stmt.where(risky if f.at_risk else ~risky)
    if f.breached is not None:
        late = exists().where(
            SlaClock.work_order_id == WorkOrder.id,
            or_(
                SlaClock.breached_at.is_not(None),
                # A restore awaiting only the customer's confirmation is not late.
                SlaClock.met_at.is_(None) & SlaClock.unconfirmed_at.is_(None) & (SlaClock.deadline < now),
            ),
        )
        stmt = stmt.where(late if f.breached else ~late)
    if f.bbox is not None:
        envelope = func.ST_MakeEnvelope(f.bbox.west, f.bbox.south, f.bbox.east, f.bbox.north, 4326)
        stmt = stmt.where(
            exists().where(Site.id == WorkOrder.site_id, func.ST_Covers(envelope, func.geometry(Site.point)))
        )
    return stmt


# A run of digits long enough to be looked up on its own (see `_text_matches`).
_DIGITS = re.compile(r"[0-9]{3,}")


def _indexed_part(q: str) -> str:
    """What the trigram indexes are asked for: the longest run of three or more digits in `q`,
    else `q` itself. The letters and dashes of a serial or number (`SN-`, `WO-`) are in every
    serial and number, so their trigrams' index entries list every order ever stored; the digits
    are what sets one apart (what the desk types is usually the end of a serial)."""
    runs = _DIGITS.findall(q)
    return max(runs, key=len) if runs else q


def _contains(column: Any, q: str) -> Any:
    """`column` contains `q`, ignoring case: the index looks up `_indexed_part(q)`, and the whole
    `q` is checked on the rows it finds (on `column || ''`, which no index serves, so that the
    planner does not hand the whole pattern's trigrams to the index as well)."""
    part = _indexed_part(q)
    if part == q:
        return column.ilike(like_pattern(q))
    return column.ilike(like_pattern(part)) & column.concat("").ilike(like_pattern(q))


def _text_matches(actor: Actor, f: OrderFilter, now: dt.datetime, *, later: bool) -> Any:
    """Orders whose number, asset serial or customer's name contains `f.q`, ignoring case. The
    matches are found first, as an array of ids, and the page is then read by id and sorted:
    otherwise the planner, guessing that a substring matches one order in 200, walks every order
    in deadline order hoping to fill a page early (3 s at a million orders for a serial that
    three orders carry).

    Numbers and serials come from their trigram indexes (see `_contains`). A named customer's
    orders are read per customer from `ix_work_order_customer_due` in the page's order, with the
    page's filters and scope, after the page's cursor (`later`), stopping at the page's size:
    only those can be on the page, where all of that customer's history was read and sorted."""
    assert f.q
    found = aliased(WorkOrder, name="found")
    by_number = select(found.id).where(
        or_(_contains(found.problem_number, f.q), _contains(found.asset_serial, f.q))
    )
    named = select(Customer.id).where(Customer.name.ilike(like_pattern(f.q))).subquery("named")
    limit, after = page_bounds(_ORDER_KEY)
    theirs = _filtered(_scoped(select(WorkOrder.id), actor), replace(f, q=None), now).where(
        WorkOrder.customer_id == named.c.id
    )
    if later:
        theirs = theirs.where(after)
    page = theirs.correlate(named).order_by(*_ORDER_KEY).limit(limit).lateral("theirs")
    by_name = select(page.c.id).select_from(named).join(page, true())
    return WorkOrder.id == any_(func.array(union_all(by_number, by_name).scalar_subquery()))


class ClockView(msgspec.Struct):
    measure: Measure
    target: dict[str, Any]
    started_at: dt.datetime
    deadline: dt.datetime | None
    met_at: dt.datetime | None
    unconfirmed_at: dt.datetime | None
    confirmation: dict[str, Any] | None
    breached_at: dt.datetime | None
    at_risk_since: dt.datetime | None
    customer_excused: bool


class NoteView(msgspec.Struct):
    id: uuid.UUID
    at: dt.datetime
    author_id: uuid.UUID
    author_name: str
    body: str


class VisitView(msgspec.Struct):
    id: uuid.UUID
    work_order_id: uuid.UUID
    kind: VisitKind
    status: VisitStatus
    duration_minutes: int
    required_skills: dict[str, int]
    required_parts: list[dict[str, Any]]
    people_needed: int
    window_start: dt.datetime | None
    window_end: dt.datetime | None
    window_confirmed: bool
    engineer_id: uuid.UUID | None
    partner_engineer_id: uuid.UUID | None
    engineer_name: str | None
    partner_engineer_name: str | None
    planned_start: dt.datetime | None
    pinned: bool
    en_route_at: dt.datetime | None
    arrived_at: dt.datetime | None
    finished_at: dt.datetime | None
    outcome: str | None
    version: int
    notes: list[NoteView]


@dataclass(frozen=True, slots=True)
class OrderRow:
    """A work order of a list page: `order` holds every work order column plus `site_name`,
    `site_address`, `site_time_zone`, `site_lon`, `site_lat` and `paused`."""

    order: Row[Any]
    clocks: list[ClockView]
    visits: list[VisitView]


def _json_object(model: type[Any], view: type[msgspec.Struct], **extra: Any) -> Any:
    """json_build_object of the model's columns named by the view's fields (and `extra`)."""
    pairs: list[Any] = []
    for name in view.__struct_fields__:
        pairs += [literal_column(f"'{name}'"), extra[name] if name in extra else getattr(model, name)]
    return func.json_build_object(*pairs)


def _json_list(element: Any, order: Any, *where: Any) -> Any:
    """The aggregated JSON array of a correlated subquery, '[]' when it has no rows."""
    return (
        select(func.coalesce(func.json_agg(aggregate_order_by(element, order)), literal_column("'[]'::json")))
        .where(*where)
        .scalar_subquery()
    )


def _name_of(user_id: Any) -> Any:
    """The display name of the user with this id, as a correlated scalar subquery."""
    person = aliased(User)
    return select(person.display_name).where(person.id == user_id).scalar_subquery()


_NOTES = _json_list(
    _json_object(VisitNote, NoteView, author_name=_name_of(VisitNote.author_id)),
    VisitNote.at,
    VisitNote.visit_id == Visit.id,
)


def _plain(column: Any) -> Any:
    # asyncpg decodes a row's values by their type: an enum type of ours it knows as text only,
    # and JSON it would decode with the json module (msgspec does it in a fraction of the time).
    return cast(column, Text) if isinstance(column.type, Enum | JSONB) else column


# The clocks as an array of rows (NULL when none): PostgreSQL sends them in binary and asyncpg
# decodes them, where JSON would cost both sides a text form of every timestamp.
_CLOCK_ROWS = (
    select(
        func.array_agg(
            aggregate_order_by(
                func.row(*(_plain(getattr(SlaClock, name)) for name in ClockView.__struct_fields__)),
                SlaClock.measure,
            )
        )
    )
    .where(SlaClock.work_order_id == WorkOrder.id)
    .scalar_subquery()
)
_TARGET = msgspec.json.Decoder(dict[str, Any])
_CONFIRMATION = msgspec.json.Decoder(dict[str, Any] | None)
_TARGET_AT = ClockView.__struct_fields__.index("target")
_CONFIRMATION_AT = ClockView.__struct_fields__.index("confirmation")


def _clock(row: Any) -> ClockView:
    """A clock from its row of `_CLOCK_ROWS`, its JSON columns decoded."""
    clock = ClockView(*row)
    clock.target = _TARGET.decode(row[_TARGET_AT])
    confirmation = row[_CONFIRMATION_AT]
    clock.confirmation = None if confirmation is None else _CONFIRMATION.decode(confirmation)
    return clock


_VISITS_JSON = _json_list(
    _json_object(
        Visit,
        VisitView,
        notes=_NOTES,
        engineer_name=_name_of(Visit.engineer_id),
        partner_engineer_name=_name_of(Visit.partner_engineer_id),
    ),
    Visit.created_at,
    Visit.work_order_id == WorkOrder.id,
)
# Joined under an alias: the filters' own EXISTS over Site must not correlate to it.
_SITE = Site.__table__.alias("order_site")
# A page is one statement: each order with its site, pause, clocks and visits (as JSON text,
# decoded by msgspec straight into the views), instead of a query per relationship and ORM objects
# for all. Timestamps in that JSON carry the session's UTC offset (the engine pins UTC), so they
# decode to the same UTC datetimes the ORM would give.
_ORDER_ROW = (
    *(c for c in WorkOrder.__table__.c),
    _SITE.c.name.label("site_name"),
    _SITE.c.address.label("site_address"),
    _SITE.c.time_zone.label("site_time_zone"),
    func.ST_X(func.geometry(_SITE.c.point)).label("site_lon"),
    func.ST_Y(func.geometry(_SITE.c.point)).label("site_lat"),
    exists().where(SlaPause.work_order_id == WorkOrder.id, SlaPause.ended_at.is_(None)).label("paused"),
    type_coerce(_CLOCK_ROWS, NullType).label("clock_rows"),
    cast(_VISITS_JSON, Text).label("visits_json"),
)
_ORDER_KEY = (WorkOrder.due_at, WorkOrder.id)
_ORDERS = select(*_ORDER_ROW).join(_SITE, _SITE.c.id == WorkOrder.site_id)
# What most requests ask for (every order, as the desk sees them), made once: see `Keyset`.
ALL_ORDERS = Keyset.of(_ORDERS, _ORDER_KEY)
_UNFILTERED = OrderFilter()
_VISITS = msgspec.json.Decoder(list[VisitView])


def orders_keyset(actor: Actor, f: OrderFilter, now: dt.datetime) -> Keyset:
    """The list's statement for this caller and filter, paged by deadline."""
    stmt = _scoped(_ORDERS, actor)
    if stmt is _ORDERS and f == _UNFILTERED:
        return ALL_ORDERS
    stmt = _filtered(stmt, f, now)
    if not f.q:
        return Keyset.of(stmt, _ORDER_KEY)
    # The search's matches stop where the page stops: after the cursor on later pages.
    first = Keyset.of(stmt.where(_text_matches(actor, f, now, later=False)), _ORDER_KEY)
    later = Keyset.of(stmt.where(_text_matches(actor, f, now, later=True)), _ORDER_KEY)
    return Keyset(_ORDER_KEY, first.first, later.later)


async def list_orders(
    session: AsyncSession, actor: Actor, f: OrderFilter, now: dt.datetime, *, limit: int, cursor: str | None
) -> Page[OrderRow]:
    await session.flush()  # the statement below reads tables, not ORM entities: no autoflush
    page = await keyset_rows(session, orders_keyset(actor, f, now), limit=limit, cursor=cursor)
    if actor.is_staff:
        # One audit row for the page (the unit of work writes it), naming every order read.
        audit.note_read(session.sync_session, "work_order.contact", [o.id for o in page.items])
    return Page(
        items=[
            OrderRow(
                row,
                clocks=[_clock(clock) for clock in row.clock_rows or ()],
                visits=_VISITS.decode(row.visits_json),
            )
            for row in page.items
        ],
        next_cursor=page.next_cursor,
    )


async def paused_orders(session: AsyncSession, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    if not ids:
        return set()
    rows = await session.execute(
        select(SlaPause.work_order_id).where(SlaPause.work_order_id.in_(ids), SlaPause.ended_at.is_(None))
    )
    return set(rows.scalars())
