"""Shipments in transit."""

from __future__ import annotations

import uuid

from litestar import get, post
from litestar.params import FromPath, FromQuery, JSONBody

from api.auth import STAFF_ROLES, WAREHOUSE
from api.params import CurrentActor, Cursor, Limit, Now, Session
from api.routes.inventory.naming import named
from api.schemas.inventory.fields import VersionIn
from api.schemas.inventory.shipments import ShipmentIn, ShipmentLineOut, ShipmentOut, ShipmentPage
from dispatch.flows.destinations import shipment_destination
from inventory import shipments
from inventory.models import Location
from inventory.names import names_for
from inventory.paging import page_of


async def _shipments_out(session: Session, transits: list[Location]) -> list[ShipmentOut]:
    held = await shipments.contents(session, [t.id for t in transits])
    lines = {
        t.id: [ShipmentLineOut(item_id=k, quantity=v) for k, v in held.get(t.id, {}).items()]
        for t in transits
    }
    names = await names_for(session, [*transits, *(line for group in lines.values() for line in group)])
    return [
        named(
            ShipmentOut,
            t,
            names,
            contents={str(k): v for k, v in held.get(t.id, {}).items()},
            lines=[named(ShipmentLineOut, line, names) for line in lines[t.id]],
        )
        for t in transits
    ]


@post(
    "/api/stock/shipments",
    roles=WAREHOUSE,
    tags=["stock"],
    summary="Parts in transit by courier or from the manufacturer, with waybill and ETA",
)
async def send_shipment(
    now: Now, session: Session, actor: CurrentActor, data: JSONBody[ShipmentIn]
) -> ShipmentOut:
    destination = await shipment_destination(session, location_id=data.to_location_id, site_id=data.site_id)
    transit = await shipments.send(
        session,
        actor,
        now,
        waybill=data.waybill,
        eta=data.eta,
        destination=destination,
        from_location_id=data.from_location_id,
        lines=[shipments.Line(line.item_id, line.quantity) for line in data.lines],
        unit_ids=data.unit_ids,
    )
    return (await _shipments_out(session, [transit]))[0]


@get(
    "/api/stock/shipments",
    roles=STAFF_ROLES,
    tags=["stock"],
    summary="Shipments still in transit, soonest ETA first, with what they hold",
)
async def list_shipments(
    session: Session,
    destination_id: FromQuery[uuid.UUID | None] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> ShipmentPage:
    found = await shipments.open_shipments(session, destination_id)
    page = page_of(
        session,
        found,
        lambda s: f"{s.eta.isoformat() if s.eta else '~'}/{s.code}",
        limit=limit,
        cursor=cursor,
        purpose="shipments",
    )
    return ShipmentPage(items=await _shipments_out(session, page.items), next_cursor=page.next_cursor)


@post(
    "/api/stock/shipments/{shipment_id:uuid}/arrival",
    roles=WAREHOUSE,
    tags=["stock"],
    summary="The shipment arrived: its contents move to the destination",
)
async def shipment_arrived(
    now: Now,
    session: Session,
    actor: CurrentActor,
    shipment_id: FromPath[uuid.UUID],
    data: JSONBody[VersionIn | None] = None,
) -> ShipmentOut:
    transit = await shipments.arrive(session, actor, now, shipment_id, version=data.version if data else None)
    return (await _shipments_out(session, [transit]))[0]


ROUTES = [send_shipment, list_shipments, shipment_arrived]
