"""CSV exports of the books: balances with names, and ledger lines of a period. UTF-8 with a
byte-order mark, so that Excel shows the Chinese names."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core.identity.models import User
from inventory.ledger import touches_location
from inventory.models import Item, Location, StockBalance, StockMove, Unit
from inventory.queries import BalanceFilter, balance_statement

BOM = "\ufeff"
# An export holds at most this many lines; narrow it by location or period beyond.
MAX_LINES = 100_000


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return (BOM + out.getvalue()).encode("utf-8")


async def balances_csv(session: AsyncSession, where: BalanceFilter) -> bytes:
    stmt = (
        balance_statement(where)
        .with_only_columns(
            Location.code,
            Location.name,
            Location.kind,
            User.display_name,
            Item.sku,
            Item.name,
            StockBalance.on_hand,
            StockBalance.reserved,
        )
        .outerjoin(User, User.id == Location.engineer_id)
        .order_by(Location.code, Item.sku)
        .limit(MAX_LINES)
    )
    rows = (await session.execute(stmt)).all()
    return _csv(
        (
            "location_code",
            "location_name",
            "location_kind",
            "engineer",
            "sku",
            "name",
            "on_hand",
            "reserved",
            "free",
        ),
        (
            (code, name, kind.value, who or "", sku, item, on_hand, reserved, on_hand - reserved)
            for code, name, kind, who, sku, item, on_hand, reserved in rows
        ),
    )


async def moves_csv(
    session: AsyncSession,
    *,
    since: dt.datetime | None,
    until: dt.datetime | None,
    location_id: uuid.UUID | None,
) -> bytes:
    source, target = aliased(Location), aliased(Location)
    stmt = (
        select(
            StockMove.id,
            StockMove.at,
            StockMove.kind,
            Item.sku,
            Item.name,
            StockMove.quantity,
            source.code,
            target.code,
            Unit.serial,
            StockMove.reason,
        )
        .join(Item, Item.id == StockMove.item_id)
        .outerjoin(source, source.id == StockMove.from_location_id)
        .outerjoin(target, target.id == StockMove.to_location_id)
        .outerjoin(Unit, Unit.id == StockMove.unit_id)
        .order_by(StockMove.id)
        .limit(MAX_LINES)
    )
    if since is not None:
        stmt = stmt.where(StockMove.at >= since)
    if until is not None:
        stmt = stmt.where(StockMove.at < until)
    if location_id is not None:
        stmt = stmt.where(touches_location(location_id))
    rows = (await session.execute(stmt)).all()
    return _csv(
        ("id", "at", "kind", "sku", "name", "quantity", "from", "to", "serial", "reason"),
        (
            (i, at.isoformat(), kind.value, sku, name, qty, src or "", dst or "", serial or "", reason or "")
            for i, at, kind, sku, name, qty, src, dst, serial, reason in rows
        ),
    )
