"""CSV import of the books a warehouse brings from its old system: items, serialized units and
opening balances.

Every row is validated first, against the database and the rows above it; one rejected row
rejects the file (a report lists each with its line number and reason) and nothing is written.
A row that is already on the books as it says is `unchanged`, so importing the same file twice
changes nothing the second time. Rows are written through the services (a unit is received, an
opening balance is a `receive` with its reason), so the ledger and the audit log see them.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import field_error
from core.identity.roles import Actor
from inventory import items, ledger
from inventory.models import Item, ItemKind, Location, LocationKind, MoveKind, StockBalance

MAX_ROWS = 5000
OPENING = "opening balance (import)"
SKU = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")
TRUE, FALSE = {"1", "true", "yes", "y", "是"}, {"", "0", "false", "no", "n", "否"}
# Opening balances go where stock is kept.
STOCK_KINDS = frozenset({LocationKind.WAREHOUSE, LocationKind.VAN})


class ImportKind(enum.StrEnum):
    ITEMS = "items"
    UNITS = "units"
    BALANCES = "balances"


COLUMNS = {
    ImportKind.ITEMS: ("sku", "name", "kind", "model", "data_bearing"),
    ImportKind.UNITS: ("serial", "sku", "location_code", "configuration"),
    ImportKind.BALANCES: ("sku", "location_code", "quantity"),
}
REQUIRED = {
    ImportKind.ITEMS: ("sku", "name", "kind"),
    ImportKind.UNITS: ("serial", "sku", "location_code"),
    ImportKind.BALANCES: ("sku", "location_code", "quantity"),
}


REQUIRED_ANY = frozenset({"sku", "name", "kind", "serial", "location_code", "quantity"})


class Rejected(Exception):
    """A row that cannot be imported, and why."""


@dataclass(frozen=True, slots=True)
class Rejection:
    line: int
    reason: str


Write = Callable[[], Coroutine[Any, Any, object]]


@dataclass
class Report:
    kind: ImportKind
    rows: int = 0
    created: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    applied: bool = False


@dataclass
class _Books:
    """What the rows are checked against: the database, plus the rows above in the same file."""

    session: AsyncSession
    items: dict[str, Item | None] = field(default_factory=dict)
    places: dict[str, Location | None] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)

    async def item(self, sku: str) -> Item:
        if sku not in self.items:
            self.items[sku] = (
                await self.session.execute(select(Item).where(Item.sku == sku))
            ).scalar_one_or_none()
        found = self.items[sku]
        if found is None:
            raise Rejected(f"no item with SKU {sku} (import items first)")
        return found

    async def place(self, code: str) -> Location:
        if code not in self.places:
            self.places[code] = (
                await self.session.execute(select(Location).where(Location.code == code))
            ).scalar_one_or_none()
        found = self.places[code]
        if found is None:
            raise Rejected(f"no stock location with code {code}")
        if found.kind not in STOCK_KINDS:
            raise Rejected(f"{code} is a {found.kind.value} location; stock goes to a warehouse or a van")
        return found

    def once(self, key: str, line: int) -> None:
        if key in self.seen:
            raise Rejected(f"{key} is also on line {self.seen[key]}")
        self.seen[key] = line


def _text(row: dict[str, str], name: str, limit: int) -> str:
    value = (row.get(name) or "").strip()
    if name in REQUIRED_ANY and not value:
        raise Rejected(f"{name} is empty")
    if len(value) > limit:
        raise Rejected(f"{name} is longer than {limit} characters")
    return value


def _sku(row: dict[str, str]) -> str:
    sku = _text(row, "sku", 64)
    if not SKU.match(sku):
        raise Rejected(f"SKU {sku!r} may hold only letters, digits, '.', '_' and '-'")
    return sku


async def _item_row(books: _Books, row: dict[str, str], line: int, actor: Actor) -> Write | None:
    sku = _sku(row)
    books.once(f"SKU {sku}", line)
    name, model = _text(row, "name", 200), _text(row, "model", 100) or None
    try:
        kind = ItemKind(_text(row, "kind", 20).lower())
    except ValueError as exc:
        raise Rejected("kind is part or device") from exc
    flag = _text(row, "data_bearing", 10).lower()
    if flag not in TRUE | FALSE:
        raise Rejected("data_bearing is true or false")
    wanted = {"sku": sku, "name": name, "kind": kind, "model": model, "data_bearing": flag in TRUE}
    if sku not in books.items:
        books.items[sku] = (
            await books.session.execute(select(Item).where(Item.sku == sku))
        ).scalar_one_or_none()
    existing = books.items[sku]
    if existing is not None:
        if any(getattr(existing, k) != v for k, v in wanted.items()):
            raise Rejected(f"SKU {sku} exists with other values (name {existing.name})")
        return None
    return lambda: items.create_item(books.session, actor, {**wanted, "version": 1})


async def _unit_row(
    books: _Books, row: dict[str, str], line: int, actor: Actor, now: dt.datetime
) -> Write | None:
    serial = _text(row, "serial", 100)
    books.once(f"serial {serial}", line)
    item, place = await books.item(_sku(row)), await books.place(_text(row, "location_code", 40))
    configuration = _text(row, "configuration", 4000) or None
    if item.kind is not ItemKind.DEVICE:
        raise Rejected(f"{item.sku} is a counted part: import its quantity as a balance")
    existing = await items.unit_by_serial(books.session, serial)
    if existing is not None:
        if existing.item_id != item.id:
            raise Rejected(f"serial {serial} is already a unit of another item")
        return None
    return lambda: items.register_unit(
        books.session,
        actor,
        now,
        item_id=item.id,
        serial=serial,
        location_id=place.id,
        configuration=configuration,
    )


async def _balance_row(
    books: _Books, row: dict[str, str], line: int, actor: Actor, now: dt.datetime
) -> Write | None:
    item, place = await books.item(_sku(row)), await books.place(_text(row, "location_code", 40))
    books.once(f"{item.sku} at {place.code}", line)
    raw = _text(row, "quantity", 10)
    if not raw.isdigit() or not 0 <= int(raw) <= 1_000_000:
        raise Rejected("quantity is a whole number from 0 to 1000000")
    if item.kind is not ItemKind.PART:
        raise Rejected(f"{item.sku} is serialized: import its units")
    balance = await books.session.get(StockBalance, (item.id, place.id))
    on_hand = balance.on_hand if balance is not None else 0
    wanted = int(raw)
    if wanted == on_hand:
        return None
    if wanted < on_hand:
        raise Rejected(f"{place.code} already holds {on_hand} of {item.sku}; correct it by a count")
    movement = ledger.Movement(
        MoveKind.RECEIVE, item.id, wanted - on_hand, to_location_id=place.id, reason=OPENING
    )
    return lambda: ledger.record(books.session, actor, now, movement)


def _rows(kind: ImportKind, text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED[kind] if c not in header]
    if missing:
        raise field_error("csv", f"the first line names the columns; missing: {', '.join(missing)}")
    reader.fieldnames = header
    rows = list(reader)
    if len(rows) > MAX_ROWS:
        raise field_error("csv", f"{len(rows)} rows; import at most {MAX_ROWS} per file")
    return rows


async def run(session: AsyncSession, actor: Actor, now: dt.datetime, kind: ImportKind, text: str) -> Report:
    """Check every row; write them all if none is rejected, else nothing."""
    rows = _rows(kind, text)
    report, books, writes = Report(kind=kind, rows=len(rows)), _Books(session), []
    for line, row in enumerate(rows, start=2):
        try:
            if kind is ImportKind.ITEMS:
                write = await _item_row(books, row, line, actor)
            elif kind is ImportKind.UNITS:
                write = await _unit_row(books, row, line, actor, now)
            else:
                write = await _balance_row(books, row, line, actor, now)
        except Rejected as why:
            report.rejected.append(Rejection(line, str(why)))
            continue
        if write is None:
            report.unchanged += 1
        else:
            writes.append(write)
    if report.rejected:
        return report
    for write in writes:
        await write()
    report.created, report.applied = len(writes), True
    return report
