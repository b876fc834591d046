"""Change capture and pull: what a device learns, in one snapshot, without ever skipping a change.

Capture: every flush that writes a work order, a visit, a note, an attachment, a service report
or an SLA clock adds a `sync_change` row (a changed site or asset, one for each open order there;
a stock move in or out of a van, one for the van; a changed item, one for the catalogue; an ORM
hook, so no service can forget) stamped with the writing transaction's id.

Pull: the unit a device receives is the *work-order document* (the order, its site and asset,
the customer's name and the SLA clocks, the device user's visits on it with their notes and
attachments, the order's service reports with the canonical text and hash to show the
customer) — plus two more, the user's van stock and the parts catalogue, sent at bootstrap and
when they change — always in its current state, or a removal when it left the user's scope.
Sending current state instead of replaying field edits makes duplicates harmless and ordering
irrelevant.

The cursor is a transaction-id position, not a row number: a pull hands out only changes
of transactions older than the oldest one still running (`pg_snapshot_xmin`), so a
transaction that took a lower change id but commits late is delivered by a later pull
rather than skipped. The range [low, high) of a cursor is final once handed out: every
transaction in it has ended.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import msgspec
from sqlalchemy import (
    BigInteger,
    Executable,
    Text,
    bindparam,
    case,
    cast,
    delete,
    event,
    func,
    insert,
    inspect,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.util import identity_key

from completion import signing
from completion.models import ServiceReport
from core.errors import DomainError
from core.geo import lonlat
from core.jsonable import jsonable
from core.pagination import INT64, key_of, seal, unknown_cursor, unseal
from dispatch.customers.models import Asset, Customer, Site
from dispatch.inspections import checklist
from dispatch.inspections.models import ChecklistResult, Inspection
from dispatch.sla.models import SlaClock
from dispatch.work_orders.lifecycle import OPEN, ORDER_NO_NOTES, VISIT_NO_NOTES
from dispatch.work_orders.models import (
    VISITS_SINCE_ORDER_MARGIN,
    Status,
    Visit,
    VisitNote,
    VisitStatus,
    WorkOrder,
    WorkOrderKind,
)
from inventory.models import Item, LocationKind, StockBalance, StockMove
from inventory.models import Location as StockLocation
from offline_sync.models import SyncChange, SyncRetention, VisitAttachment

# Orders a phone no longer carries: every status that is not open (`lifecycle.OPEN`).
CLOSED_ORDERS = tuple(sorted(frozenset(Status) - OPEN))
# What a phone is told of each SLA clock.
CLOCK_FIELDS = ("deadline", "met_at", "breached_at")
ENTITY = "work_order"
# Two more documents per device: the user's van stock and the parts catalogue. Their change
# rows carry the van's location id / the item id in `work_order_id` (the column only groups).
VAN_STOCK, CATALOGUE = "van_stock", "catalogue"


class CursorExpired(DomainError):
    slug = "sync-cursor-expired"
    status = 410
    title = "The change log no longer reaches back to this cursor"


# Capture ------------------------------------------------------------------------------------------


def _current_xact() -> Any:
    return func.pg_current_xact_id().cast(Text).cast(BigInteger)


def _as_uuid(value: Any) -> uuid.UUID | None:
    # A writer may set a foreign key as text (the ORM converts it only when it writes); a
    # missing or malformed one is for the database to refuse, not for this hook.
    if isinstance(value, uuid.UUID) or value is None:
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _visit_orders(session: Session, objs: list[Any]) -> dict[uuid.UUID, uuid.UUID]:
    """The order of each note's or attachment's visit, in at most one query for the whole flush.
    A visit's order never changes: the copy in the identity map (the writer usually locked the
    visit first) saves the round trip."""
    orders: dict[uuid.UUID, uuid.UUID] = {}
    wanted = {v for v in (_as_uuid(obj.visit_id) for obj in objs) if v is not None}
    for visit_id in wanted:
        loaded = session.identity_map.get(identity_key(Visit, visit_id))
        if isinstance(loaded, Visit) and "work_order_id" in loaded.__dict__:
            orders[visit_id] = loaded.work_order_id
    missing = wanted - orders.keys()
    if missing:
        # Through the connection: a query on the session would autoflush inside the flush.
        rows = session.connection().execute(
            select(Visit.id, Visit.work_order_id).where(Visit.id.in_(missing))
        )
        orders.update((r[0], r[1]) for r in rows)
    return orders


def _crew_before_and_after(visit: Visit) -> list[uuid.UUID]:
    from sqlalchemy import inspect

    state = inspect(visit)
    people: set[uuid.UUID] = set()
    for key in ("engineer_id", "partner_engineer_id"):
        hist = state.attrs[key].history
        people.update(v for v in chain(hist.added, hist.deleted, hist.unchanged) if v is not None)
    return sorted(people)


def _open_orders_at(session: Session, obj: Site | Asset) -> list[uuid.UUID]:
    column = WorkOrder.site_id if isinstance(obj, Site) else WorkOrder.asset_id
    return list(
        session.connection()
        .execute(select(WorkOrder.id).where(column == obj.id, WorkOrder.status.not_in(CLOSED_ORDERS)))
        .scalars()
    )


def _clock_moved(clock: SlaClock) -> bool:
    state = inspect(clock)
    return any(state.attrs[name].history.has_changes() for name in CLOCK_FIELDS)


def _vans(session: Session, location_ids: list[uuid.UUID | None]) -> list[tuple[uuid.UUID, uuid.UUID]]:
    ids = [i for i in location_ids if i is not None]
    if not ids:
        return []
    rows = session.connection().execute(
        select(StockLocation.id, StockLocation.engineer_id).where(
            StockLocation.id.in_(ids),
            StockLocation.kind == LocationKind.VAN,
            StockLocation.engineer_id.is_not(None),
        )
    )
    return [(r[0], r[1]) for r in rows if r[1] is not None]


def _row(entity: str, entity_id: uuid.UUID, order_id: uuid.UUID, users: list[uuid.UUID]) -> dict[str, Any]:
    return {
        "xact_id": _current_xact(),
        "entity": entity,
        "entity_id": entity_id,
        "work_order_id": order_id,
        "users": users,
        "at": func.now(),
    }


@event.listens_for(Session, "after_flush")
def _capture(session: Session, _context: Any) -> None:
    rows: dict[tuple[str, uuid.UUID, uuid.UUID], dict[str, Any]] = {}
    visit_orders = _visit_orders(
        session,
        [
            o
            for o in chain(session.new, session.dirty, session.deleted)
            if isinstance(o, VisitNote | VisitAttachment)
        ],
    )
    for obj in chain(session.new, session.dirty, session.deleted):
        if obj in session.dirty and not session.is_modified(obj, include_collections=False):
            continue
        users: list[uuid.UUID] = []
        order_id: uuid.UUID | None
        if isinstance(obj, WorkOrder):
            order_id = obj.id
        elif isinstance(obj, Visit):
            order_id, users = obj.work_order_id, _crew_before_and_after(obj)
        elif isinstance(obj, VisitNote | VisitAttachment):
            visit_id = _as_uuid(obj.visit_id)
            order_id = visit_orders.get(visit_id) if visit_id else None
        elif isinstance(obj, ServiceReport | Inspection):
            order_id = obj.work_order_id
        elif isinstance(obj, ChecklistResult):
            inspection = session.get(Inspection, obj.inspection_id)
            order_id = inspection.work_order_id if inspection else None
        elif isinstance(obj, SlaClock):
            # The deadlines the phone counts down; the watch's predictions and escalations change
            # far more often and are not part of the document.
            if obj not in session.new and not _clock_moved(obj):
                continue
            order_id = obj.work_order_id
        elif isinstance(obj, StockMove) and obj in session.new:
            # A move in or out of an engineer's van changes that engineer's van-stock document.
            for van_id, engineer_id in _vans(session, [obj.from_location_id, obj.to_location_id]):
                rows[(VAN_STOCK, van_id, van_id)] = _row(VAN_STOCK, van_id, van_id, [engineer_id])
            continue
        elif isinstance(obj, Item):
            rows[(CATALOGUE, obj.id, obj.id)] = _row(CATALOGUE, obj.id, obj.id, [])
            continue
        elif isinstance(obj, Site | Asset) and obj not in session.new:
            # A site or asset is part of the document of every open order there: each of them
            # changes, so every phone with a visit on one learns the new address, access
            # notes or asset details.
            for other in _open_orders_at(session, obj):
                rows[(type(obj).__tablename__, obj.id, other)] = _row(
                    type(obj).__tablename__, obj.id, other, []
                )
            continue
        else:
            continue
        if order_id is None:
            continue
        rows[(type(obj).__tablename__, obj.id, order_id)] = _row(
            type(obj).__tablename__, obj.id, order_id, users
        )
    if rows:
        # One multi-row VALUES statement: the SQL expressions (transaction id, now) render per row.
        session.connection().execute(insert(SyncChange).values(list(rows.values())))


# Cursors -------------------------------------------------------------------------------------------


PULL = "sync.pull"


@dataclass(frozen=True)
class Cursor:
    """`low`: every change of a transaction below it was delivered. While a range is being
    paged, `high` is its fixed end and `after` the last (xact, id) handed out. A bootstrap in
    progress pages work orders by id (`boot_after`)."""

    low: int
    high: int | None = None
    after: tuple[int, int] | None = None
    booting: bool = False
    boot_after: str | None = None

    def encode(self, key: bytes) -> str:
        raw = {"l": self.low, "h": self.high, "a": self.after, "b": self.booting, "ba": self.boot_after}
        return seal(key, raw, PULL)

    @classmethod
    def decode(cls, text: str, key: bytes) -> Cursor:
        """A cursor this server handed out (sealed with `key`), or InvalidInput."""
        raw = unseal(key, text, PULL)
        # Sealed, so written by `encode`; the types are checked all the same.
        if not isinstance(raw, dict) or not isinstance(raw.get("b"), bool):
            raise unknown_cursor()
        try:
            after = raw["a"]
            if after is not None and (not isinstance(after, list) or len(after) != 2):
                raise ValueError("not a position pair")
            return cls(
                low=_position(raw["l"]),
                high=None if raw["h"] is None else _position(raw["h"]),
                after=None if after is None else (_position(after[0]), _position(after[1])),
                booting=raw["b"],
                boot_after=None if raw["ba"] is None else str(uuid.UUID(raw["ba"])),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise unknown_cursor() from exc


def _position(value: Any) -> int:
    """A transaction id or change number: a non-negative 64-bit integer."""
    if type(value) is not int or not 0 <= value <= INT64:
        raise ValueError("not a position")
    return value


# Scope and documents ------------------------------------------------------------------------------


def _mine(user_id: Any, visit: Any = Visit) -> Any:
    return or_(visit.engineer_id == user_id, visit.partner_engineer_id == user_id)


def in_scope_visit(user_id: uuid.UUID) -> Any:
    """A visit is on the device while its user is on it, it is not cancelled, and its order is open."""
    return _mine(user_id) & (Visit.status != VisitStatus.CANCELLED)


_open_order = aliased(WorkOrder, name="open_order")


async def scope_order_ids(
    session: AsyncSession, user_id: uuid.UUID, *, after: uuid.UUID | None = None, limit: int | None = None
) -> list[uuid.UUID]:
    # The user's visits as lead and as partner apart, each a range of its own index, and only
    # those written since the oldest open order was (every open order's visits are): the lead's
    # from `ix_visit_engineer_created (engineer_id, created_at) INCLUDE (work_order_id, status)`
    # alone, as many entries as the engineer's visits of the open work's age, where their whole
    # history was read before.
    oldest = select(func.min(_open_order.created_at)).where(_open_order.status.not_in(CLOSED_ORDERS))
    since = oldest.correlate(None).scalar_subquery() - VISITS_SINCE_ORDER_MARGIN
    live = (Visit.status != VisitStatus.CANCELLED) & (Visit.created_at >= since)
    visits = union_all(
        select(Visit.work_order_id).where(Visit.engineer_id == user_id, live),
        select(Visit.work_order_id).where(Visit.partner_engineer_id == user_id, live),
    )
    stmt = (
        select(WorkOrder.id)
        .where(WorkOrder.status.not_in(CLOSED_ORDERS))
        .where(WorkOrder.id.in_(visits))
        .order_by(WorkOrder.id)
    )
    if after is not None:
        stmt = stmt.where(WorkOrder.id > after)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list((await session.execute(stmt)).scalars())


def _point(value: Any) -> dict[str, Any] | None:
    return {"type": "Point", "coordinates": list(lonlat(value))} if value is not None else None


async def documents(
    session: AsyncSession, user_id: uuid.UUID, order_ids: list[uuid.UUID]
) -> list[dict[str, Any]]:
    """Each order's current document for this user, or a removal when it is out of their scope."""
    if not order_ids:
        return []
    orders = {
        o.id: o
        for o in (await session.execute(select(WorkOrder).where(WorkOrder.id.in_(order_ids)))).scalars()
    }
    visits = list(
        (
            await session.execute(
                select(Visit)
                .where(Visit.work_order_id.in_(order_ids), in_scope_visit(user_id))
                .order_by(Visit.created_at, Visit.id)
            )
        ).scalars()
    )
    extras = await _visit_extras(session, [v.id for v in visits])
    reports = await _reports(session, list({v.work_order_id for v in visits}))
    inspections = await checklist.sync_documents(
        session, [o.id for o in orders.values() if o.kind is WorkOrderKind.INSPECTION]
    )
    by_order: dict[uuid.UUID, list[Visit]] = {}
    for v in visits:
        by_order.setdefault(v.work_order_id, []).append(v)
    site_ids = {o.site_id for o in orders.values()}
    asset_ids = {o.asset_id for o in orders.values() if o.asset_id}
    customer_ids = {o.customer_id for o in orders.values()}
    customers = {
        row.id: row.name
        for row in await session.execute(
            select(Customer.id, Customer.name).where(Customer.id.in_(customer_ids))
        )
    }
    sites = {s.id: s for s in (await session.execute(select(Site).where(Site.id.in_(site_ids)))).scalars()}
    assets = (
        {a.id: a for a in (await session.execute(select(Asset).where(Asset.id.in_(asset_ids)))).scalars()}
        if asset_ids
        else {}
    )
    out: list[dict[str, Any]] = []
    for order_id in order_ids:
        order = orders.get(order_id)
        mine = by_order.get(order_id, [])
        if order is None or order.status in CLOSED_ORDERS or not mine:
            out.append({"entity": ENTITY, "id": str(order_id), "op": "remove"})
            continue
        asset = assets.get(order.asset_id) if order.asset_id else None
        data = _order_document(order, sites[order.site_id], asset, [_visit_document(v, extras) for v in mine])
        data["reports"] = reports.get(order_id, [])
        data["customer"] = {"id": str(order.customer_id), "name": customers.get(order.customer_id)}
        data["clocks"] = [
            {"measure": c.measure.value, **{name: jsonable(getattr(c, name)) for name in CLOCK_FIELDS}}
            for c in order.clocks
        ]
        if order_id in inspections:
            data["inspection"] = inspections[order_id]
        out.append({"entity": ENTITY, "id": str(order_id), "op": "upsert", "data": data})
    return out


async def _reports(
    session: AsyncSession, order_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """The orders' service reports, every version, each with the canonical text and hash the phone
    shows the customer and signs offline (`report.sign@1` sends that hash back)."""
    out: dict[uuid.UUID, list[dict[str, Any]]] = {}
    if not order_ids:
        return out
    for r in (
        await session.execute(
            select(ServiceReport)
            .where(ServiceReport.work_order_id.in_(order_ids))
            .order_by(ServiceReport.created_at, ServiceReport.version, ServiceReport.id)
        )
    ).scalars():
        text, digest = await signing.shown(session, r)
        out.setdefault(r.work_order_id, []).append(
            {
                "id": str(r.id),
                "visit_id": str(r.visit_id),
                "form": r.form,
                "version": r.version,
                "supersedes_id": jsonable(r.supersedes_id),
                "status": r.status,
                "revision": r.revision,
                "content": r.content,
                "canonical": text,
                "hash": digest,
                "signed_at": jsonable(r.signed_at),
            }
        )
    return out


@dataclass(frozen=True)
class _VisitExtras:
    """The notes and attachments of the visits in a batch of documents, by visit."""

    notes: dict[uuid.UUID, list[dict[str, Any]]]
    attachments: dict[uuid.UUID, list[dict[str, Any]]]


async def _visit_extras(session: AsyncSession, visit_ids: list[uuid.UUID]) -> _VisitExtras:
    extras = _VisitExtras({}, {})
    if not visit_ids:
        return extras
    for n in (
        await session.execute(
            select(VisitNote).where(VisitNote.visit_id.in_(visit_ids)).order_by(VisitNote.at, VisitNote.id)
        )
    ).scalars():
        extras.notes.setdefault(n.visit_id, []).append(
            {"id": str(n.id), "at": jsonable(n.at), "author_id": str(n.author_id), "body": n.body}
        )
    for a in (
        await session.execute(
            select(VisitAttachment)
            .where(VisitAttachment.visit_id.in_(visit_ids))
            .order_by(VisitAttachment.at, VisitAttachment.id)
        )
    ).scalars():
        extras.attachments.setdefault(a.visit_id, []).append(
            {
                "id": str(a.id),
                "kind": a.kind,
                "sha256": a.blob_sha256,
                "at": jsonable(a.at),
                "caption": a.caption,
                "signer_name": a.signer_name,
            }
        )
    return extras


def _order_document(
    order: WorkOrder, site: Site, asset: Asset | None, visits: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "id": str(order.id),
        "problem_number": order.problem_number,
        "status": order.status.value,
        "severity": order.severity.value,
        "fault_description": order.fault_description,
        "impact_scope": order.impact_scope,
        "contact_name": order.contact_name,
        "contact_phone": order.contact_phone,
        "reported_at": jsonable(order.reported_at),
        "due_at": jsonable(order.due_at),
        "version": order.version,
        "site": {
            "id": str(site.id),
            "name": site.name,
            "address": site.address,
            "point": _point(site.point),
            "time_zone": site.time_zone,
            "access_notes": site.access_notes,
            "no_photography": site.no_photography,
            "region_calendar_id": jsonable(site.region_calendar_id),
        },
        "asset": {
            "id": str(asset.id),
            "model": asset.model,
            "serial": asset.serial,
            "warranty_end": jsonable(asset.warranty_end),
        }
        if asset
        else None,
        "visits": visits,
    }


def _visit_document(v: Visit, extras: _VisitExtras) -> dict[str, Any]:
    return {
        "id": str(v.id),
        "kind": v.kind.value,
        "status": v.status.value,
        "engineer_id": jsonable(v.engineer_id),
        "partner_engineer_id": jsonable(v.partner_engineer_id),
        "planned_start": jsonable(v.planned_start),
        "window_start": jsonable(v.window_start),
        "window_end": jsonable(v.window_end),
        "duration_minutes": v.duration_minutes,
        "en_route_at": jsonable(v.en_route_at),
        "arrived_at": jsonable(v.arrived_at),
        "finished_at": jsonable(v.finished_at),
        "outcome": v.outcome,
        "version": v.version,
        "notes": extras.notes.get(v.id, []),
        "attachments": extras.attachments.get(v.id, []),
    }


# Pull ---------------------------------------------------------------------------------------------


async def van_stock_document(session: AsyncSession, user_id: uuid.UUID) -> dict[str, Any]:
    """What the user's van (or backpack) holds, as the balances show it now."""
    van = (
        await session.execute(
            select(StockLocation)
            .where(StockLocation.kind == LocationKind.VAN, StockLocation.engineer_id == user_id)
            .order_by(StockLocation.code)
            .limit(1)
        )
    ).scalar_one_or_none()
    items: list[dict[str, Any]] = []
    if van is not None:
        rows = await session.execute(
            select(Item.id, Item.sku, Item.name, StockBalance.on_hand, StockBalance.reserved)
            .join(Item, Item.id == StockBalance.item_id)
            .where(StockBalance.location_id == van.id)
            .where((StockBalance.on_hand != 0) | (StockBalance.reserved != 0))
            .order_by(Item.sku)
        )
        items = [
            {"item_id": str(r.id), "sku": r.sku, "name": r.name, "on_hand": r.on_hand, "reserved": r.reserved}
            for r in rows
        ]
    data = {"location_id": str(van.id) if van else None, "items": items}
    return {"entity": VAN_STOCK, "id": VAN_STOCK, "op": "upsert", "data": data}


async def catalogue_document(session: AsyncSession) -> dict[str, Any]:
    """The items and parts catalogue (reference data: small, sent whole when any item changes)."""
    rows = await session.execute(select(Item).order_by(Item.sku))
    items = [
        {"id": str(i.id), "sku": i.sku, "name": i.name, "kind": i.kind.value, "model": i.model}
        for i in rows.scalars()
    ]
    return {"entity": CATALOGUE, "id": CATALOGUE, "op": "upsert", "data": {"items": items}}


# A document or removal as a dict, or a record already encoded as JSON by PostgreSQL.
Change = dict[str, Any] | msgspec.Raw


@dataclass
class PullPage:
    changes: list[Change] = field(default_factory=list)
    cursor: str = ""
    has_more: bool = False
    bootstrap: bool = False


@dataclass(frozen=True)
class Snapshot:
    """The oldest transaction still running when the snapshot was taken (all below have ended),
    and the oldest one whose changes are still kept."""

    xmin: int
    floor: int

    @classmethod
    def of(cls, xmin: Any, floor: Any) -> Snapshot:
        """From the values of `snapshot_columns`."""
        return cls(int(str(xmin)), int(floor or 0))


def snapshot_columns() -> tuple[Any, Any]:
    """What `Snapshot` is read from, to be selected in a snapshot's first statement (alone, or
    beside what else the caller reads in the same round trip)."""
    floor = select(SyncRetention.floor_xact).where(SyncRetention.id == 1).scalar_subquery()
    return func.pg_snapshot_xmin(func.pg_current_snapshot()).cast(Text), floor


async def snapshot_xmin(session: AsyncSession) -> Snapshot:
    return Snapshot.of(*(await session.execute(select(*snapshot_columns()))).one())


async def pull(
    session: AsyncSession,
    user_id: uuid.UUID,
    cursor_text: str | None,
    limit: int,
    *,
    records: bool = False,
    snapshot: Snapshot | None = None,
) -> PullPage:
    """One page of changes for the user's scope. Call inside a REPEATABLE READ transaction whose
    first statement is this one's, or read `snapshot` (`snapshot_columns`) in that first
    statement yourself (the snapshot and its xmin must be the same). With `records`, an order
    whose only changes on the page are new or edited notes gets those notes rather than its
    whole document (see `note_records`)."""
    key = key_of(session)
    snapshot = snapshot or await snapshot_xmin(session)
    xmin, floor = snapshot.xmin, snapshot.floor
    if cursor_text is None:
        cursor = Cursor(low=xmin, booting=True)
    else:
        cursor = Cursor.decode(cursor_text, key)
        if cursor.low < floor:
            raise CursorExpired(
                "Changes this old are no longer kept: pull without a cursor to start again "
                "(your outbox is not affected)"
            )
    if cursor.booting:
        after = uuid.UUID(cursor.boot_after) if cursor.boot_after else None
        ids = await scope_order_ids(session, user_id, after=after, limit=limit + 1)
        more = len(ids) > limit
        ids = ids[:limit]
        page = PullPage(changes=[*await documents(session, user_id, ids)], bootstrap=True)
        if more:
            page.cursor = Cursor(low=cursor.low, booting=True, boot_after=str(ids[-1])).encode(key)
        else:
            page.changes += [await van_stock_document(session, user_id), await catalogue_document(session)]
            page.cursor = Cursor(low=cursor.low).encode(key)
        # After the last bootstrap page, the changes since its snapshot follow.
        page.has_more = True
        return page
    high = cursor.high if cursor.high is not None else max(xmin, cursor.low)
    params: dict[str, Any] = {"user": user_id, "users": [user_id], "low": cursor.low, "high": high}
    params["limit"] = limit + 1
    if cursor.after is not None:
        params["after_xact"], params["after_id"] = cursor.after
    stmt = _page_statement(records=records, after=cursor.after is not None)
    rows = list((await session.execute(stmt, params)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    entities = {r[3] for r in rows}
    order_ids = list(dict.fromkeys(r[2] for r in rows if r[3] not in {VAN_STOCK, CATALOGUE}))
    notes: list[Change] = []
    if records:
        notes, order_ids = note_records(rows, order_ids)
    page = PullPage(changes=[*await documents(session, user_id, order_ids), *notes])
    if VAN_STOCK in entities:
        page.changes.append(await van_stock_document(session, user_id))
    if CATALOGUE in entities:
        page.changes.append(await catalogue_document(session))
    if more:
        last = rows[-1]
        page.cursor = Cursor(low=cursor.low, high=high, after=(int(last[0]), int(last[1]))).encode(key)
        page.has_more = True
    else:
        page.cursor = Cursor(low=high).encode(key)
    return page


NOTE = VisitNote.__tablename__
_note = aliased(VisitNote, name="changed_note")
_note_visit = aliased(Visit, name="changed_note_visit")
_note_order = aliased(WorkOrder, name="changed_note_order")


def _utc_text(column: Any) -> Any:
    """A time as Python's `isoformat()` writes it in UTC (microseconds only when there are any),
    so a note reads the same whether it came as a record or inside its document."""
    utc = func.timezone("UTC", column)
    whole_second = func.date_trunc("second", utc) == utc
    # One formatting per note: formatting was a sixth of the page statement's time.
    return func.to_char(
        utc,
        case((whole_second, 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'), else_='YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'),
    )


@functools.cache
def _page_statement(*, records: bool, after: bool) -> Executable:
    """A page of the change log in the user's scope (`user`, `users`: [user]) in [`low`, `high`)
    after (`after_xact`, `after_id`), at most `limit` rows, in order; with `records`, each with
    its note (`_with_notes`). Built once with its values as parameters: building it for every
    page took longer than PostgreSQL's reading of the page."""
    user = bindparam("user", type_=SyncChange.entity_id.type)
    # The orders of every visit the user was ever on (a visit that left them still tells them),
    # as lead and as partner apart: the lead's from `ix_visit_engineer_work_order` alone, where
    # one bitmap scan of both read a row of each visit in the engineer's whole history.
    crew_orders = union_all(
        select(Visit.work_order_id).where(Visit.engineer_id == user),
        select(Visit.work_order_id).where(Visit.partner_engineer_id == user),
    )
    stmt = (
        select(
            SyncChange.xact_id,
            SyncChange.id,
            SyncChange.work_order_id,
            SyncChange.entity,
            SyncChange.entity_id,
        )
        .where(SyncChange.xact_id >= bindparam("low"), SyncChange.xact_id < bindparam("high"))
        .where(
            or_(
                SyncChange.users.contains(bindparam("users", type_=SyncChange.users.type)),
                SyncChange.work_order_id.in_(crew_orders),
                SyncChange.entity == CATALOGUE,
            )
        )
        .order_by(SyncChange.xact_id, SyncChange.id)
        .limit(bindparam("limit"))
    )
    if after:
        stmt = stmt.where(
            func.row(SyncChange.xact_id, SyncChange.id)
            > func.row(bindparam("after_xact", type_=BigInteger), bindparam("after_id", type_=BigInteger))
        )
    return _with_notes(stmt, user) if records else stmt


def _with_notes(page: Any, user_id: Any) -> Any:
    """The page's change rows (`page`, ordered and limited) with their notes joined on. The rows
    are chosen first and only they are joined: joined before the limit, every change of the range
    was (a page of 1,000 out of 5,000 joined 5,000 notes, visits and orders)."""
    rows = page.subquery("page")
    return (
        select(*rows.c, *_note_columns(user_id))
        .select_from(
            # Outer joins on primary keys: one row per change row still.
            rows.outerjoin(_note, (rows.c.entity == NOTE) & (_note.id == rows.c.entity_id))
            .outerjoin(_note_visit, _note_visit.id == _note.visit_id)
            .outerjoin(_note_order, _note_order.id == _note_visit.work_order_id)
        )
        .order_by(rows.c.xact_id, rows.c.id)
    )


def _note_columns(user_id: Any) -> tuple[Any, ...]:
    """Beside each change row of a note: the note's time and, while its visit is the user's, not
    cancelled and its order open, the record the device gets, as JSON text built by PostgreSQL
    (a page carries thousands; nothing of them is needed in Python but the text)."""
    record = func.json_build_object(
        "entity", NOTE,
        "id", _note.id,
        "op", "upsert",
        "work_order_id", _note_visit.work_order_id,
        "visit_id", _note.visit_id,
        "data", func.json_build_object(
            "id", _note.id, "at", _utc_text(_note.at), "author_id", _note.author_id, "body", _note.body
        ),
    )  # fmt: skip
    # The rule under which the domain takes a note (`lifecycle.takes_notes`), on the user's visit.
    in_scope = (
        _mine(user_id, _note_visit)
        & _note_visit.status.not_in(sorted(VISIT_NO_NOTES))
        & _note_order.status.not_in(sorted(ORDER_NO_NOTES))
    )
    return (_note.at.label("note_at"), case((in_scope, cast(record, Text)), else_=None).label("record"))


def note_records(rows: list[Any], order_ids: list[uuid.UUID]) -> tuple[list[Change], list[uuid.UUID]]:
    """The page's notes as records of their own, for the orders whose only changes on the page
    are notes: the records, and the orders that still need their whole document.

    A page of notes on a few long-running visits otherwise re-sends every note of those visits
    with each page. A record is only sent while its visit is the user's, not cancelled, and its
    order open; anything else (a note gone, a visit or order out of scope) sends the whole
    document, which carries the removal. A device that lacks the document or the visit a record
    names skips it: that document is then still to come in this pull or a later one (the change
    that brought the order or visit into scope is not delivered yet), whole and with the note.

    `rows`: (xact, id, order, entity, entity id, note time, record JSON) by position."""
    notes_only = {r[2] for r in rows if r[3] == NOTE} - {r[2] for r in rows if r[3] != NOTE}
    if not notes_only:
        return [], order_ids
    whole = {r[2] for r in rows if r[3] == NOTE and r[6] is None} & notes_only
    # One record per note (a note changed twice on a page is sent once), in the server's order.
    chosen = {r[4]: r for r in rows if r[2] in notes_only and r[2] not in whole}
    ordered = sorted(chosen.values(), key=lambda r: (r[5], r[4]))
    out: list[Change] = [msgspec.Raw(r[6]) for r in ordered]
    return out, [o for o in order_ids if o not in notes_only or o in whole]


async def prune(session: AsyncSession, older_than: dt.datetime) -> int:
    """Drop change rows written before `older_than`; cursors from before then get 410."""
    newest_old = await session.scalar(select(func.max(SyncChange.xact_id)).where(SyncChange.at < older_than))
    if newest_old is None:
        return 0
    floor = int(newest_old) + 1
    result = await session.execute(delete(SyncChange).where(SyncChange.xact_id < floor))
    stmt = pg_insert(SyncRetention).values(id=1, floor_xact=floor, pruned_at=func.now())
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[SyncRetention.id],
            set_={"floor_xact": func.greatest(SyncRetention.floor_xact, floor), "pruned_at": func.now()},
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
