"""Printable QR label sheets (PDF) for units and for item bins."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated

from litestar import Response, get
from litestar.params import FromQuery, QueryParameter

from api.auth import WAREHOUSE
from api.params import Session
from completion import fonts, rendering
from inventory import labels

Ids = Annotated[list[uuid.UUID], QueryParameter(max_items=labels.MAX_LABELS)]


def _pdf(body: bytes, name: str) -> Response[bytes]:
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}.pdf"'},
    )


@get(
    "/api/stock/labels/units.pdf",
    roles=WAREHOUSE,
    tags=["stock"],
    media_type="application/pdf",
    summary="QR labels of units (serial, model, location; code FSD:UNIT:<serial>): by id and/or location",
)
async def unit_labels(
    session: Session,
    unit_id: FromQuery[Ids | None] = None,
    location_id: FromQuery[uuid.UUID | None] = None,
) -> Response[bytes]:
    found = await labels.unit_labels(session, unit_ids=unit_id or [], location_id=location_id)
    font = fonts.font_path(rendering.of(session).font)
    # Embedding the CJK font costs CPU: off the event loop.
    body = await asyncio.to_thread(labels.render, found, font=font, title="设备标签")
    return _pdf(body, "unit-labels")


@get(
    "/api/stock/labels/items.pdf",
    roles=WAREHOUSE,
    tags=["stock"],
    media_type="application/pdf",
    summary="QR bin labels of items (SKU, name; code FSD:ITEM:<sku>), for a location when given",
)
async def item_labels(
    session: Session,
    item_id: FromQuery[Ids | None] = None,
    location_id: FromQuery[uuid.UUID | None] = None,
) -> Response[bytes]:
    found = await labels.item_labels(session, item_ids=item_id or [], location_id=location_id)
    font = fonts.font_path(rendering.of(session).font)
    body = await asyncio.to_thread(labels.render, found, font=font, title="货位标签")
    return _pdf(body, "bin-labels")


ROUTES = [unit_labels, item_labels]
