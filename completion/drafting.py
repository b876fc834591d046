"""The report's draft, from what the visit recorded (online or through sync): the order, the
customer, site and asset, every engineer's arrival and departure, notes, photos, parts consumed
and swapped with their serials, backup units lent; and the fields the engineer edits until the
customer signs."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import User
from dispatch.customers.models import Customer, Site
from dispatch.inspections import checklist
from dispatch.work_orders.models import Visit, VisitKind, WorkOrder, WorkOrderEvent
from inventory.models import Item, Loan, MoveKind, PartSwap, StockMove, Unit
from offline_sync.models import SyncBlob, VisitAttachment

TITLES = {"fault": "故障处理单", "inspection": "巡检报告单"}
RESULTS = ("restored", "temporary_fix", "backup_installed", "not_fixed")
# What the engineer may change in a draft; everything else is what the visit recorded.
EDITABLE = frozenset(
    {
        "diagnosis",
        "actions_taken",
        "configuration_backup",
        "result",
        "follow_up_needed",
        "billable",
        "customer_remarks",
        "on_site_contact",
    }
)


def _iso(at: dt.datetime | None) -> str | None:
    return at.isoformat() if at else None


async def _names(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {row.id: row.display_name for row in rows}


async def _engineers(session: AsyncSession, order: WorkOrder) -> list[dict[str, Any]]:
    """Each engineer on each visit that reached the site (joint visits: both), in order."""
    visits = sorted((v for v in order.visits if v.arrived_at), key=lambda v: (v.arrived_at, str(v.id)))
    people = {e for v in visits for e in (v.engineer_id, v.partner_engineer_id) if e}
    names = await _names(session, people)
    return [
        {
            "engineer_id": str(engineer),
            "name": names.get(engineer, ""),
            "visit_id": str(v.id),
            "arrived_at": _iso(v.arrived_at),
            "departed_at": _iso(v.finished_at),
        }
        for v in visits
        for engineer in (v.engineer_id, v.partner_engineer_id)
        if engineer
    ]


async def _photos(session: AsyncSession, order: WorkOrder) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(VisitAttachment)
        .where(VisitAttachment.visit_id.in_([v.id for v in order.visits]), VisitAttachment.kind == "photo")
        .order_by(VisitAttachment.at, VisitAttachment.id)
    )
    return [
        {"id": str(a.id), "sha256": a.blob_sha256, "caption": a.caption, "at": _iso(a.at)}
        for a in rows.scalars()
    ]


async def _parts(session: AsyncSession, order: WorkOrder) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(StockMove.at, StockMove.quantity, Item.sku, Item.name, Unit.serial)
        .join(Item, Item.id == StockMove.item_id)
        .outerjoin(Unit, Unit.id == StockMove.unit_id)
        .where(StockMove.work_order_id == order.id, StockMove.kind == MoveKind.CONSUME)
        .order_by(StockMove.at, StockMove.id)
    )
    return [
        {"sku": r.sku, "name": r.name, "quantity": r.quantity, "serial": r.serial, "at": _iso(r.at)}
        for r in rows
    ]


async def _swaps(session: AsyncSession, order: WorkOrder) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(PartSwap, Item.sku, Item.name)
        .join(Item, Item.id == PartSwap.item_id)
        .where(PartSwap.work_order_id == order.id)
        .order_by(PartSwap.at, PartSwap.id)
    )
    return [
        {
            "sku": sku,
            "name": name,
            "installed_serial": swap.installed_serial,
            "removed_serial": swap.removed_serial,
            "disposition": swap.disposition.value,
            "at": _iso(swap.at),
        }
        for swap, sku, name in rows
    ]


async def _backups(session: AsyncSession, order: WorkOrder) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(Loan, Unit.serial)
        .join(Unit, Unit.id == Loan.unit_id)
        .where(Loan.work_order_id == order.id, Loan.opened_at.is_not(None))
        .order_by(Loan.opened_at, Loan.id)
    )
    return [
        {
            "loan_id": str(loan.id),
            "serial": serial,
            "status": loan.status.value,
            "signed_by": loan.signed_by,
            "return_by": loan.return_by.isoformat() if loan.return_by else None,
            "installed_at": _iso(loan.opened_at),
            "returned_at": _iso(loan.returned_at),
        }
        for loan, serial in rows
    ]


async def _degraded(session: AsyncSession, order: WorkOrder) -> bool:
    found = await session.scalar(
        select(WorkOrderEvent.id)
        .where(
            WorkOrderEvent.work_order_id == order.id,
            WorkOrderEvent.kind == "severity_change",
            WorkOrderEvent.data["cause"].astext == "restored_degraded",
        )
        .limit(1)
    )
    return found is not None


def _result(visit: Visit, degraded: bool) -> str | None:
    if visit.outcome == "resolved":
        return "temporary_fix" if degraded else "restored"
    if visit.outcome == "backup_installed":
        return "backup_installed"
    if visit.outcome == "follow_up":
        return "not_fixed"
    return None


async def recorded(session: AsyncSession, order: WorkOrder, visit: Visit) -> dict[str, Any]:
    """The facts the visit (and the order's other visits) recorded, as report fields."""
    customer = await session.get(Customer, order.customer_id)
    site = await session.get(Site, order.site_id)
    assert customer is not None
    assert site is not None
    notes = [{"at": _iso(n.at), "body": n.body} for v in order.visits for n in v.notes]
    return {
        "problem_number": order.problem_number,
        "archive_id": order.archive_id,
        "customer": {"name": customer.name, "customer_number": customer.customer_number},
        "site": {"name": site.name, "address": site.address, "time_zone": site.time_zone},
        "asset": {"model": order.asset_model, "serial": order.asset_serial},
        "fault_reported": order.fault_description,
        "reported_at": _iso(order.reported_at),
        "engineers": await _engineers(session, order),
        "notes": sorted(notes, key=lambda n: n["at"] or ""),
        "photos": await _photos(session, order),
        "parts_consumed": await _parts(session, order),
        "part_swaps": await _swaps(session, order),
        "backup_units": await _backups(session, order),
        **await _checklist(session, order, visit),
    }


async def _checklist(session: AsyncSession, order: WorkOrder, visit: Visit) -> dict[str, Any]:
    """An inspection report (巡检报告单) lists every asset's checklist answers and the repairs raised."""
    if visit.kind is not VisitKind.INSPECTION:
        return {}
    rows = await checklist.report_rows(session, order.id)
    return {} if rows is None else {"checklist": rows}


async def draft_content(session: AsyncSession, order: WorkOrder, visit: Visit) -> dict[str, Any]:
    facts = await recorded(session, order, visit)
    result = _result(visit, await _degraded(session, order))
    return {
        **facts,
        "on_site_contact": {"name": order.contact_name, "phone": order.contact_phone},
        "diagnosis": "",
        # The engineer's notes are where the actions were written down on site: a starting point.
        "actions_taken": "\n".join(n["body"] for n in facts["notes"]),
        "configuration_backup": {"done": None, "where": None},
        "result": result,
        "follow_up_needed": result in (None, "not_fixed", "temporary_fix"),
        "billable": order.billable,
        "customer_remarks": "",
    }


def form_of(visit: Visit) -> str:
    return "inspection" if visit.kind is VisitKind.INSPECTION else "fault"


async def document(session: AsyncSession, report: Any) -> dict[str, Any]:
    """What is signed: the report's identity and fields, each photo by the SHA-256 of the bytes
    stored now (so that a replaced image shows), in canonical-ready shape."""
    photos = []
    for photo in report.content.get("photos", []):
        attachment = await session.get(VisitAttachment, uuid.UUID(photo["id"]))
        blob = await session.get(SyncBlob, attachment.blob_sha256) if attachment else None
        photos.append({**photo, "sha256": hashlib.sha256(blob.data).hexdigest() if blob else None})
    return {
        **report.content,
        "photos": photos,
        "form": report.form,
        "title": TITLES[report.form],
        "report_id": str(report.id),
        "version": report.version,
        "supersedes_id": str(report.supersedes_id) if report.supersedes_id else None,
        "work_order_id": str(report.work_order_id),
        "visit_id": str(report.visit_id),
    }
