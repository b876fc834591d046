"""Human names beside ids: what a screen shows next to an item, a location, an engineer, a unit.

One query per kind for a whole page of records, never one per row. Engineers are named from
their user account (an engineer's id is their user's id), so inventory still never reads
dispatch's tables.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import User
from inventory.models import Item, Location, Unit

# Attributes of a record that hold a location's id, and the prefix their names take in answers.
LOCATION_FIELDS = (
    "location_id",
    "from_location_id",
    "to_location_id",
    "destination_id",
    "bin_location_id",
    "van_location_id",
)


@dataclass(frozen=True, slots=True)
class Place:
    code: str
    name: str
    kind: str
    engineer_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class Names:
    items: dict[uuid.UUID, Item] = field(default_factory=dict)
    places: dict[uuid.UUID, Place] = field(default_factory=dict)
    people: dict[uuid.UUID, str] = field(default_factory=dict)
    units: dict[uuid.UUID, Unit] = field(default_factory=dict)

    def fields(self, record: Any) -> dict[str, Any]:
        """Every name this record's ids have, under the answer's field names: `item_sku` and
        `item_name` for `item_id`, `<x>_name` (and `_code`, `_kind`) for `<x>_id` of a location,
        `engineer_name`, and `serial` for a `unit_id`."""
        found: dict[str, Any] = {}
        item = self.items.get(getattr(record, "item_id", None))  # type: ignore[arg-type]
        if item is not None:
            found |= {"item_sku": item.sku, "item_name": item.name, "item_model": item.model}
        for attr in LOCATION_FIELDS:
            place = self.places.get(getattr(record, attr, None))  # type: ignore[arg-type]
            if place is None:
                continue
            prefix = attr.removesuffix("_id")
            found |= {
                f"{prefix}_name": place.name,
                f"{prefix}_code": place.code,
                f"{prefix}_kind": place.kind,
            }
            if place.engineer_id is not None and attr in ("location_id", "van_location_id"):
                found.setdefault("engineer_name", self.people.get(place.engineer_id))
        engineer = getattr(record, "engineer_id", None)
        if engineer is not None and engineer in self.people:
            found["engineer_name"] = self.people[engineer]
        unit = self.units.get(getattr(record, "unit_id", None))  # type: ignore[arg-type]
        if unit is not None:
            found["serial"] = unit.serial
            extra = self.items.get(unit.item_id)
            if extra is not None and "item_name" not in found:
                found |= {"item_sku": extra.sku, "item_name": extra.name, "item_model": extra.model}
        return found


def _ids(records: Iterable[Any], *attrs: str) -> set[uuid.UUID]:
    return {v for r in records for a in attrs if isinstance(v := getattr(r, a, None), uuid.UUID)}


async def names_for(session: AsyncSession, records: Iterable[Any]) -> Names:
    """The names of every item, location, engineer and unit these records refer to."""
    records = list(records)
    units = await _by_id(session, Unit, _ids(records, "unit_id"))
    items = await _by_id(session, Item, _ids(records, "item_id") | {u.item_id for u in units.values()})
    place_rows = (
        await session.execute(
            select(Location.id, Location.code, Location.name, Location.kind, Location.engineer_id).where(
                Location.id.in_(_ids(records, *LOCATION_FIELDS))
            )
        )
    ).all()
    places = {r.id: Place(r.code, r.name, str(r.kind.value), r.engineer_id) for r in place_rows}
    people_ids = _ids(records, "engineer_id") | {p.engineer_id for p in places.values() if p.engineer_id}
    rows = await session.execute(select(User.id, User.display_name).where(User.id.in_(people_ids)))
    people: dict[uuid.UUID, str] = {row.id: row.display_name for row in rows}
    return Names(items=items, places=places, people=people, units=units)


async def _by_id(session: AsyncSession, model: type[Any], ids: set[uuid.UUID]) -> dict[uuid.UUID, Any]:
    if not ids:
        return {}
    return {r.id: r for r in (await session.execute(select(model).where(model.id.in_(ids)))).scalars()}
