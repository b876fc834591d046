"""Reservations for work orders and visits, and the parts used on them."""

from __future__ import annotations

import uuid
from datetime import timedelta

from litestar import post
from litestar.params import FromPath, JSONBody

from api.auth import DESK, ENGINEERS, WAREHOUSE
from api.params import CurrentActor, Now, Session
from api.routes.inventory.naming import named
from api.schemas.common import out
from api.schemas.inventory.ledger import MoveOut
from api.schemas.inventory.reservations import ConsumptionIn, ReservationIn, ReservationOut
from dispatch.flows import order_parts
from inventory import reservations
from inventory.names import names_for


@post(
    "/api/stock/reservations",
    roles=WAREHOUSE | DESK,
    tags=["stock"],
    summary="Reserve parts for a work order or visit",
)
async def reserve(
    now: Now, session: Session, actor: CurrentActor, data: JSONBody[ReservationIn]
) -> ReservationOut:
    held = await order_parts.reserve_for(
        session,
        actor,
        now,
        item_id=data.item_id,
        location_id=data.location_id,
        quantity=data.quantity,
        work_order_id=data.work_order_id,
        visit_id=data.visit_id,
        hold=timedelta(hours=data.hold_hours),
    )
    return out(ReservationOut, held)


@post(
    "/api/stock/reservations/{reservation_id:uuid}/release",
    roles=WAREHOUSE | DESK,
    tags=["stock"],
    summary="Release a reservation",
)
async def release(
    now: Now,
    session: Session,
    actor: CurrentActor,
    reservation_id: FromPath[uuid.UUID],
) -> ReservationOut:
    return out(ReservationOut, await reservations.release(session, actor, now, reservation_id))


@post("/api/stock/consumptions", roles=ENGINEERS, tags=["stock"], summary="Parts I used on a work order")
async def consume(
    now: Now, session: Session, actor: CurrentActor, data: JSONBody[ConsumptionIn]
) -> list[MoveOut]:
    lines = await order_parts.consume_on_order(
        session,
        actor,
        now,
        item_id=data.item_id,
        quantity=data.quantity,
        work_order_id=data.work_order_id,
        visit_id=data.visit_id,
        reservation_id=data.reservation_id,
        from_device=data.from_device,
        at=data.at,
    )
    names = await names_for(session, lines)
    return [named(MoveOut, m, names) for m in lines]


ROUTES = [reserve, release, consume]
