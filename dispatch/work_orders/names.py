"""People's display names by id: what work-order answers carry beside an engineer's, a note
author's or an event actor's id."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import User
from dispatch.work_orders.models import Visit, WorkOrderEvent


def people_of(visits: Iterable[Visit], events: Iterable[WorkOrderEvent] = ()) -> set[uuid.UUID]:
    """The ids of everyone the visits (with their notes) and events name."""
    ids: set[uuid.UUID | None] = set()
    for visit in visits:
        ids |= {visit.engineer_id, visit.partner_engineer_id}
        ids |= {note.author_id for note in visit.notes}
    ids |= {event.actor_id for event in events}
    return {i for i in ids if i is not None}


async def people_names(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """One query for all of them."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))
    return {row.id: row.display_name for row in rows}
