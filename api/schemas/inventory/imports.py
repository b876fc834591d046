"""CSV imports: the file, and the report of what it did (or why it did nothing)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from api.schemas.common import Input
from inventory.imports import ImportKind


class ImportIn(Input):
    # The CSV file as text (UTF-8; a leading byte-order mark is ignored). The first line names the
    # columns: items sku,name,kind,model,data_bearing; units serial,sku,location_code,configuration;
    # balances sku,location_code,quantity.
    csv: Annotated[str, msgspec.Meta(min_length=1, max_length=2_000_000)]


class RejectionOut(msgspec.Struct):
    # The file's line (the header is line 1).
    line: int
    reason: str


class ImportOut(msgspec.Struct):
    kind: ImportKind
    rows: int
    # Written: new items, units received, opening balances booked (0 unless `applied`).
    created: int
    # Already on the books as the row says: a second import of the same file changes nothing.
    unchanged: int
    rejected: list[RejectionOut]
    # False when any row was rejected: then nothing at all was written.
    applied: bool
