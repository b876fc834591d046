"""A count's lines as the one asking may see them: counting is blind."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.roles import Actor, Role
from inventory.counts import lines_of
from inventory.models import CountStatus, StockCount


@dataclass(frozen=True, slots=True)
class SheetLine:
    item_id: uuid.UUID
    counted: int
    # None while blind: the counting engineer never sees it, warehouse staff once it is submitted.
    book: int | None
    variance: int | None


async def sheet(session: AsyncSession, count: StockCount, actor: Actor) -> list[SheetLine]:
    """Book quantities and variances only for warehouse staff, and only once the count is
    submitted: whoever counts must not see what the books say."""
    blind = actor.role is Role.ENGINEER or count.status is CountStatus.OPEN
    return [
        SheetLine(
            item_id=line.item_id,
            counted=line.counted,
            book=None if blind else line.book,
            variance=None if blind or line.book is None else line.counted - line.book,
        )
        for line in await lines_of(session, count.id)
    ]
