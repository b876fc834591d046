"""Shipments in transit."""

from __future__ import annotations

import uuid

from litestar import get, post
from litestar.params import FromPath, FromQuery, JSONBody

from api.auth import STAFF_ROLES, WAREHOUSE
from api.params import CurrentActor, Now, Session
from api.schemas.common import out
from api.schemas.inventory.shipments import ShipmentIn, ShipmentOut
from dispatch.flows.destinations import shipment_destination
from inventory import shipments
from inventory.models import Location


async def _shipment_out(session: Session, transit: Location) -> ShipmentOut:
    held = (await shipments.contents(session, [transit.id])).get(transit.id, {})
    return out(ShipmentOut, transit, contents={str(k): v for k, v in held.items()})


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
    return await _shipment_out(session, transit)


@get("/api/stock/shipments", roles=STAFF_ROLES, tags=["stock"], summary="Shipments still in transit")
async def list_shipments(
    session: Session, destination_id: FromQuery[uuid.UUID | None] = None
) -> list[ShipmentOut]:
    return [await _shipment_out(session, s) for s in await shipments.open_shipments(session, destination_id)]


@post(
    "/api/stock/shipments/{shipment_id:uuid}/arrival",
    roles=WAREHOUSE,
    tags=["stock"],
    summary="The shipment arrived: its contents move to the destination",
)
async def shipment_arrived(
    now: Now, session: Session, actor: CurrentActor, shipment_id: FromPath[uuid.UUID]
) -> ShipmentOut:
    transit = await shipments.arrive(session, actor, now, shipment_id)
    return await _shipment_out(session, transit)


ROUTES = [send_shipment, list_shipments, shipment_arrived]
