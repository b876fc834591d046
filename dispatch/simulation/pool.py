"""The simulated company's pool of backup devices: the demo's stock holds backups for the server
and switch models only (about eight of each), none for storage arrays, printers or UPSs. A company
that sells backup devices with its 7x24 contracts holds some for every model it services; the
pool is a scenario setting, the same for every policy, received into the warehouses through the
inventory services."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.roles import Actor
from inventory import items
from inventory.models import Location, LocationKind, Unit, UnitState


async def lendable(session: AsyncSession, model: str) -> int:
    """Units that may stand in for `model` now: available, the company's own."""
    compatible = await items.compatible_items(session, model)
    count = await session.scalar(
        select(func.count(Unit.id)).where(
            Unit.item_id.in_(compatible), Unit.state == UnitState.AVAILABLE, Unit.customer_owned.is_(False)
        )
    )
    return int(count or 0)


async def stock_backups(
    session: AsyncSession, actor: Actor, now: dt.datetime, models: list[str], per_model: int
) -> dict[str, tuple[int, int]]:
    """Top each customer model's lendable backups up to `per_model`, units of the model itself,
    spread over the warehouses in turn. Returns, per model, the units there were and those added."""
    warehouses = list(
        (
            await session.execute(
                select(Location).where(Location.kind == LocationKind.WAREHOUSE).order_by(Location.code)
            )
        ).scalars()
    )
    stocked: dict[str, tuple[int, int]] = {}
    for m, model in enumerate(sorted(set(models))):
        had = await lendable(session, model)
        wanted = max(0, per_model - had)
        if wanted and warehouses:
            item = await items.device_item_for_model(session, model)
            for n in range(wanted):
                await items.register_unit(
                    session,
                    actor,
                    now,
                    item_id=item.id,
                    serial=f"SIM-BK{m + 1:02d}-{n + 1:04d}",
                    location_id=warehouses[n % len(warehouses)].id,
                    configuration="标准备机配置",
                )
        stocked[model] = (had, wanted if warehouses else 0)
    return stocked
