"""Printable sheets of QR labels: one per serialized unit (serial, model, where it is) or per
item/bin (SKU, name, the bin's location). The engineer app scans them: a unit's code reads
`FSD:UNIT:<serial>`, an item's `FSD:ITEM:<sku>`.

A4 sheets of 3 × 8 labels (70 × 37 mm, the common self-adhesive sheet); Chinese names are real
text in the embedded CJK font the service reports use (completion.fonts).
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import segno
from fpdf import FPDF
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from completion.fonts import FAMILY
from core.errors import field_error
from inventory.models import Item, Location, Unit

UNIT_PREFIX = "FSD:UNIT:"
ITEM_PREFIX = "FSD:ITEM:"
# One request prints at most this many labels (ten sheets).
MAX_LABELS = 240
COLUMNS, ROWS = 3, 8
LABEL_W, LABEL_H = 70.0, 37.0
QR_MM = 27.0


@dataclass(frozen=True, slots=True)
class Label:
    code: str
    title: str
    lines: tuple[str, ...]


def _capped(found: Sequence[Label]) -> list[Label]:
    if not found:
        raise field_error("unit_id", "no labels to print: name units, items or a location that holds some")
    if len(found) > MAX_LABELS:
        raise field_error("location_id", f"{len(found)} labels; print at most {MAX_LABELS} at a time")
    return list(found)


async def unit_labels(
    session: AsyncSession, *, unit_ids: Sequence[uuid.UUID], location_id: uuid.UUID | None
) -> list[Label]:
    """Labels of the named units, and of every unit at the location, by serial."""
    stmt = (
        select(Unit.serial, Item.name, Item.model, Location.name)
        .join(Item, Item.id == Unit.item_id)
        .outerjoin(Location, Location.id == Unit.location_id)
        .order_by(Unit.serial)
        .limit(MAX_LABELS + 1)
    )
    if unit_ids and location_id is not None:
        stmt = stmt.where(Unit.id.in_(unit_ids) | (Unit.location_id == location_id))
    elif unit_ids:
        stmt = stmt.where(Unit.id.in_(unit_ids))
    elif location_id is not None:
        stmt = stmt.where(Unit.location_id == location_id)
    else:
        return _capped([])
    rows = (await session.execute(stmt)).all()
    return _capped(
        [
            Label(f"{UNIT_PREFIX}{serial}", serial, (model or name, name if model else "", where or ""))
            for serial, name, model, where in rows
        ]
    )


async def item_labels(
    session: AsyncSession, *, item_ids: Sequence[uuid.UUID], location_id: uuid.UUID | None
) -> list[Label]:
    """Bin labels of the named items, printed for a location when one is given."""
    if not item_ids:
        raise field_error("item_id", "name the items whose bins to label")
    place = await session.get(Location, location_id) if location_id else None
    if location_id is not None and place is None:
        raise field_error("location_id", "no stock location with that id")
    rows = (
        await session.execute(
            select(Item).where(Item.id.in_(item_ids)).order_by(Item.sku).limit(MAX_LABELS + 1)
        )
    ).scalars()
    return _capped(
        [
            Label(
                f"{ITEM_PREFIX}{item.sku}",
                item.sku,
                (item.name, item.model or "", place.name if place else ""),
            )
            for item in rows
        ]
    )


def _qr_png(text: str) -> io.BytesIO:
    png = io.BytesIO()
    segno.make(text, error="m").save(png, kind="png", scale=6, border=2)
    png.seek(0)
    return png


def render(labels: Sequence[Label], *, font: Path, title: str) -> bytes:
    """The labels on A4 sheets, left to right, top to bottom."""
    pdf = FPDF(format="A4")
    pdf.add_font(FAMILY, fname=str(font))
    pdf.set_auto_page_break(auto=False)
    pdf.set_title(title)
    left = (pdf.w - COLUMNS * LABEL_W) / 2
    top = (pdf.h - ROWS * LABEL_H) / 2
    for i, label in enumerate(labels):
        slot = i % (COLUMNS * ROWS)
        if slot == 0:
            pdf.add_page()
        x = left + (slot % COLUMNS) * LABEL_W
        y = top + (slot // COLUMNS) * LABEL_H
        pdf.image(_qr_png(label.code), x=x + 3, y=y + (LABEL_H - QR_MM) / 2, w=QR_MM, h=QR_MM)
        text_x, width = x + QR_MM + 5, LABEL_W - QR_MM - 7
        pdf.set_xy(text_x, y + 5)
        pdf.set_font(FAMILY, size=9)
        pdf.multi_cell(width, 4.5, label.title, new_x="LEFT", new_y="NEXT")
        pdf.set_font(FAMILY, size=7)
        for line in label.lines:
            if line:
                pdf.set_x(text_x)
                pdf.multi_cell(width, 3.6, line[:60], new_x="LEFT", new_y="NEXT")
    return bytes(pdf.output())
